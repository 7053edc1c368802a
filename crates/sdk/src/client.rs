//! [`Client`]: builds, signs (TC3-HMAC-SHA256), sends and decodes API 3.0 calls.
//!
//! What goes on the wire is what the official SDKs send (protocol.md §1–§2): `POST /` with a
//! compact JSON body and `Content-Type: application/json` (or `GET /?…` with flattened
//! parameters), the `X-TC-*` common headers, and an `Authorization` header over
//! `content-type;host`. The credential scope names the product given to the call, not one
//! guessed from the endpoint, so any endpoint (a proxy, tclocal on `127.0.0.1`) works.
//!
//! Answers are read the way the Go SDK reads them (`http/response.go`): a `Response.Error`
//! in the body is an API error whatever the HTTP status; anything else that is not HTTP 200
//! with a `{"Response": {…, "RequestId"}}` envelope is a decoding error.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tclocal_sign::tc3;
use tclocal_wire::Language;
use tclocal_wire::clock::{Clock, SystemClock};
use tclocal_wire::envelope::{self, ParseError};
use tclocal_wire::ids::{RequestIds, UuidRequestIds};

use crate::credentials::{Credential, DefaultCredentials, ProvideCredentials};
use crate::error::{
    ApiError, Code, DecodeError, DecodeKind, Error, Result, TransportError, TransportKind,
};
use crate::flatten;
use crate::retry::{self, Jitter, RetryPolicy, SystemJitter};

/// The value of `X-TC-RequestClient`.
const REQUEST_CLIENT: &str = concat!("SDK_RUST_TCLOCAL_", env!("CARGO_PKG_VERSION"));

/// The HTTP method calls are sent with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpMethod {
    /// `POST /` with a JSON body: every action, any size up to 10 MB (the default).
    #[default]
    Post,
    /// `GET /?…` with flattened parameters: small requests only (the query is limited to 32 KB).
    Get,
}

impl HttpMethod {
    /// `POST` or `GET`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Post => "POST",
            HttpMethod::Get => "GET",
        }
    }
}

/// An endpoint: the URL requests go to and the `Host` they carry (and sign).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    /// `scheme://host[:port]/`.
    base: String,
    /// `host[:port]`, exactly as the `Host` header carries it.
    host: String,
}

impl Endpoint {
    /// Accepts `host`, `host:port`, `http://host:port`, `https://host` (with or without a
    /// trailing `/`); without a scheme, `https`.
    fn parse(text: &str) -> Result<Endpoint> {
        let text = text.trim();
        let invalid = |why: &str| Error::Invalid(format!("endpoint {text:?}: {why}"));
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_owned(), text),
        };
        if scheme != "http" && scheme != "https" {
            return Err(invalid("the scheme must be http or https"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return Err(invalid(
                "expected [http://|https://]host[:port]; API 3.0 has no path",
            ));
        }
        let url = reqwest::Url::parse(&format!("{scheme}://{authority}/"))
            .map_err(|e| invalid(&e.to_string()))?;
        let host = url.host_str().ok_or_else(|| invalid("no host"))?;
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Endpoint {
            base: url.to_string(),
            host,
        })
    }
}

/// A signed request, ready to send: what [`Client::prepare`] returns, for inspection and tests.
#[derive(Clone)]
pub struct PreparedRequest {
    method: HttpMethod,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    canonical_request: String,
    string_to_sign: String,
}

impl PreparedRequest {
    /// The HTTP method.
    #[must_use]
    pub fn method(&self) -> HttpMethod {
        self.method
    }

    /// The full URL, query string included.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers, in the order they are sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// One header by name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes (empty for `GET`).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The canonical request that was signed.
    #[must_use]
    pub fn canonical_request(&self) -> &str {
        &self.canonical_request
    }

    /// The string to sign.
    #[must_use]
    pub fn string_to_sign(&self) -> &str {
        &self.string_to_sign
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The session token is a secret; everything else here is public or derived.
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    if *k == "X-TC-Token" {
                        "***"
                    } else {
                        v.as_str()
                    },
                )
            })
            .collect();
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The body of a call before signing.
enum Payload {
    /// Parameters, serialised as the method demands.
    Params(Map<String, Value>),
    /// A JSON body given as bytes, sent as is.
    Json(Vec<u8>),
}

/// An API 3.0 client. Cheap to clone: clones share the connection pool and settings.
///
/// ```
/// use std::time::Duration;
/// use tclocal_sdk::{Client, Credential, Language, RetryPolicy};
///
/// let client = Client::builder()
///     .credentials(Credential::new("AKIDtclocalDevelopmentKey00000000000", "tclocalDevelopmentSecretKey00000"))
///     .endpoint("http://127.0.0.1:4570")
///     .region("ap-guangzhou")
///     .language(Language::EnUs)
///     .timeout(Duration::from_secs(10))
///     .retry(RetryPolicy::standard())
///     .build()?;
/// # let _ = client;
/// # Ok::<(), tclocal_sdk::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Option<Endpoint>,
    root_domain: String,
    region: Option<String>,
    language: Option<Language>,
    method: HttpMethod,
    unsigned_payload: bool,
    credentials: Arc<dyn ProvideCredentials>,
    retry: RetryPolicy,
    jitter: Arc<dyn Jitter>,
    clock: Arc<dyn Clock>,
    tokens: Arc<dyn RequestIds>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("endpoint", &i.endpoint.as_ref().map(|e| &e.base))
            .field("root_domain", &i.root_domain)
            .field("region", &i.region)
            .field("language", &i.language)
            .field("method", &i.method)
            .field("credentials", &i.credentials)
            .field("retry", &i.retry)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]; every setting has a default.
pub struct ClientBuilder {
    endpoint: Option<String>,
    root_domain: String,
    region: Option<String>,
    language: Option<Language>,
    method: HttpMethod,
    unsigned_payload: bool,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    retry: RetryPolicy,
    jitter: Arc<dyn Jitter>,
    clock: Arc<dyn Clock>,
    tokens: Arc<dyn RequestIds>,
    timeout: Duration,
    connect_timeout: Duration,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            endpoint: None,
            root_domain: "tencentcloudapi.com".to_owned(),
            region: None,
            language: None,
            method: HttpMethod::Post,
            unsigned_payload: false,
            credentials: None,
            retry: RetryPolicy::none(),
            jitter: Arc::new(SystemJitter),
            clock: Arc::new(SystemClock::new()),
            tokens: Arc::new(UuidRequestIds),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl ClientBuilder {
    /// One endpoint for every product, e.g. `http://127.0.0.1:4570` for tclocal. Without a
    /// scheme, `https`. Default: `https://<service>.<root domain>` per call.
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The domain under which default endpoints are formed (default `tencentcloudapi.com`;
    /// `intl.tencentcloudapi.com` for the international site's nearest region).
    #[must_use]
    pub fn root_domain(mut self, domain: impl Into<String>) -> Self {
        self.root_domain = domain.into();
        self
    }

    /// The region (`X-TC-Region`); leave it unset for products that have none.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The language of error messages and localised fields (`X-TC-Language`); the service's
    /// default (`zh-CN`) when unset.
    #[must_use]
    pub fn language(mut self, language: Language) -> Self {
        self.language = Some(language);
        self
    }

    /// `POST` (default) or `GET`.
    #[must_use]
    pub fn method(mut self, method: HttpMethod) -> Self {
        self.method = method;
        self
    }

    /// Sign `UNSIGNED-PAYLOAD` instead of the body's hash (`X-TC-Content-SHA256`).
    #[must_use]
    pub fn unsigned_payload(mut self, yes: bool) -> Self {
        self.unsigned_payload = yes;
        self
    }

    /// Where keys come from. Default: [`DefaultCredentials`] (environment, then tccli profile).
    #[must_use]
    pub fn credentials(self, provider: impl ProvideCredentials) -> Self {
        self.credentials_arc(Arc::new(provider))
    }

    /// As [`ClientBuilder::credentials`], with a shared provider.
    #[must_use]
    pub fn credentials_arc(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.credentials = Some(provider);
        self
    }

    /// Retries (default: none). See [`RetryPolicy`].
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The randomness of retry jitter (tests pin it).
    #[must_use]
    pub fn jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.jitter = jitter;
        self
    }

    /// The clock that stamps `X-TC-Timestamp` (tests pin it).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The source of `ClientToken` values filled in for retries (tests pin it).
    #[must_use]
    pub fn client_tokens(mut self, tokens: Arc<dyn RequestIds>) -> Self {
        self.tokens = tokens;
        self
    }

    /// The longest one attempt may take, connection included (default 60 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest a connection may take to open (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a malformed endpoint or when the HTTP stack cannot start.
    pub fn build(self) -> Result<Client> {
        let endpoint = self.endpoint.as_deref().map(Endpoint::parse).transpose()?;
        // No proxy from the environment: a call goes where the endpoint says, so a
        // loopback emulator is never reached through (or leaked to) a proxy.
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                root_domain: self.root_domain,
                region: self.region,
                language: self.language,
                method: self.method,
                unsigned_payload: self.unsigned_payload,
                credentials: self
                    .credentials
                    .unwrap_or_else(|| Arc::new(DefaultCredentials::new())),
                retry: self.retry,
                jitter: self.jitter,
                clock: self.clock,
                tokens: self.tokens,
            }),
        })
    }
}

impl Client {
    /// Starts a builder.
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The region calls are sent for.
    #[must_use]
    pub fn region(&self) -> Option<&str> {
        self.inner.region.as_deref()
    }

    /// Calls any action with JSON parameters and returns the `Response` object (the action's
    /// fields, then `RequestId`).
    ///
    /// `params` must be a JSON object (or `null` for none). When retries are on and the
    /// action is one whose request has a `ClientToken` (known for the typed products), a
    /// missing `ClientToken` is filled in once, so every attempt carries the same one.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn call(
        &self,
        service: &str,
        version: &str,
        action: &str,
        params: Value,
    ) -> Result<Value> {
        let params = match params {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(Error::Invalid(format!(
                    "parameters must be a JSON object, not {}",
                    json_kind(&other)
                )));
            }
        };
        let has_token = crate::has_client_token(service, version, action);
        let (request_id, mut fields) = self
            .execute(service, version, action, params, has_token)
            .await?;
        fields.insert("RequestId".to_owned(), Value::String(request_id));
        Ok(Value::Object(fields))
    }

    /// Calls an action with a request type and decodes the answer into a response type;
    /// what the generated product methods use.
    pub(crate) async fn call_typed<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        service: &str,
        version: &str,
        action: &str,
        request: &Req,
        has_client_token: bool,
    ) -> Result<Resp> {
        let params = match serde_json::to_value(request) {
            Ok(Value::Object(m)) => m,
            Ok(other) => {
                return Err(Error::Invalid(format!(
                    "a request serialised to {}, not an object",
                    json_kind(&other)
                )));
            }
            Err(e) => return Err(Error::Invalid(format!("cannot serialise the request: {e}"))),
        };
        let (request_id, mut fields) = self
            .execute(service, version, action, params, has_client_token)
            .await?;
        fields.insert("RequestId".to_owned(), Value::String(request_id.clone()));
        serde_json::from_value(Value::Object(fields)).map_err(|e| {
            Error::Decode(
                DecodeError::new(DecodeKind::Shape, b"")
                    .with_request_id(request_id)
                    .with_source(e),
            )
        })
    }

    /// Builds and signs the request [`Client::call`] would send first, without sending it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use serde_json::json;
    /// use tclocal_sdk::{Client, Credential};
    /// use tclocal_wire::clock::ManualClock;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tclocal_sdk::Error> {
    /// let client = Client::builder()
    ///     .credentials(Credential::new("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"))
    ///     .region("ap-guangzhou")
    ///     .clock(Arc::new(ManualClock::at(1_551_113_065)))
    ///     .build()?;
    /// let req = client
    ///     .prepare("cvm", "2017-03-12", "DescribeInstances",
    ///         json!({"Limit": 1, "Filters": [{"Values": ["未命名"], "Name": "instance-name"}]}))
    ///     .await?;
    /// assert_eq!(req.url(), "https://cvm.tencentcloudapi.com/");
    /// assert_eq!(req.header("X-TC-Timestamp"), Some("1551113065"));
    /// assert!(req.header("Authorization").unwrap().ends_with(
    ///     "Signature=024dc09760376e08599efbec5b4308222599fed5bc1758190a52c1dc485a7faf"));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] for parameters that are not an object; [`Error::Credentials`].
    pub async fn prepare(
        &self,
        service: &str,
        version: &str,
        action: &str,
        params: Value,
    ) -> Result<PreparedRequest> {
        let params = match params {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(Error::Invalid(format!(
                    "parameters must be a JSON object, not {}",
                    json_kind(&other)
                )));
            }
        };
        let credential = self.credential().await?;
        self.sign(
            service,
            version,
            action,
            &Payload::Params(params),
            &credential,
        )
    }

    /// Builds and signs a `POST` whose JSON body is given as bytes, sent exactly as given
    /// (the signature covers those bytes).
    ///
    /// # Errors
    /// [`Error::Credentials`].
    pub async fn prepare_json(
        &self,
        service: &str,
        version: &str,
        action: &str,
        body: Vec<u8>,
    ) -> Result<PreparedRequest> {
        let credential = self.credential().await?;
        self.sign(service, version, action, &Payload::Json(body), &credential)
    }

    async fn credential(&self) -> Result<Credential> {
        Ok(self.inner.credentials.credential().await?)
    }

    fn endpoint_for(&self, service: &str) -> Result<Endpoint> {
        match &self.inner.endpoint {
            Some(e) => Ok(e.clone()),
            None => Endpoint::parse(&format!("https://{service}.{}", self.inner.root_domain)),
        }
    }

    fn sign(
        &self,
        service: &str,
        version: &str,
        action: &str,
        payload: &Payload,
        credential: &Credential,
    ) -> Result<PreparedRequest> {
        let inner = &self.inner;
        let endpoint = self.endpoint_for(service)?;
        let (method, url, query, content_type, body) = match (payload, inner.method) {
            (Payload::Params(params), HttpMethod::Get) => {
                let q = flatten::query(params);
                let url = if q.is_empty() {
                    endpoint.base.clone()
                } else {
                    format!("{}?{q}", endpoint.base)
                };
                let parsed = reqwest::Url::parse(&url)
                    .map_err(|e| Error::Invalid(format!("cannot form the URL: {e}")))?;
                // Sign the query exactly as it will appear on the request line.
                let query = parsed.query().unwrap_or("").to_owned();
                (
                    HttpMethod::Get,
                    parsed.to_string(),
                    query,
                    "application/x-www-form-urlencoded",
                    Vec::new(),
                )
            }
            (Payload::Params(params), HttpMethod::Post) => {
                let body = serde_json::to_vec(params)
                    .map_err(|e| Error::Invalid(format!("cannot serialise parameters: {e}")))?;
                (
                    HttpMethod::Post,
                    endpoint.base.clone(),
                    String::new(),
                    "application/json",
                    body,
                )
            }
            (Payload::Json(bytes), _) => (
                HttpMethod::Post,
                endpoint.base.clone(),
                String::new(),
                "application/json",
                bytes.clone(),
            ),
        };
        let timestamp = inner.clock.now_unix();
        let signed = tc3::sign(
            &tc3::SignInput {
                method: method.as_str(),
                host: &endpoint.host,
                query: &query,
                content_type,
                payload: &body,
                unsigned_payload: inner.unsigned_payload,
                timestamp,
                service,
                secret_id: credential.secret_id(),
            },
            credential.secret_key(),
        );
        let mut headers: Vec<(&'static str, String)> = vec![
            ("Content-Type", content_type.to_owned()),
            ("Host", endpoint.host.clone()),
            ("X-TC-Action", action.to_owned()),
            ("X-TC-RequestClient", REQUEST_CLIENT.to_owned()),
            ("X-TC-Timestamp", timestamp.to_string()),
            ("X-TC-Version", version.to_owned()),
        ];
        if inner.unsigned_payload {
            headers.push(("X-TC-Content-SHA256", tc3::UNSIGNED_PAYLOAD.to_owned()));
        }
        if let Some(region) = &inner.region {
            headers.push(("X-TC-Region", region.clone()));
        }
        if let Some(token) = credential.token() {
            headers.push(("X-TC-Token", token.expose().to_owned()));
        }
        if let Some(language) = inner.language {
            headers.push(("X-TC-Language", language.as_str().to_owned()));
        }
        headers.push(("Authorization", signed.authorization));
        Ok(PreparedRequest {
            method,
            url,
            headers,
            body,
            canonical_request: signed.canonical_request,
            string_to_sign: signed.string_to_sign,
        })
    }

    /// Sends a call, retrying as the policy allows; returns `RequestId` and the fields.
    async fn execute(
        &self,
        service: &str,
        version: &str,
        action: &str,
        mut params: Map<String, Value>,
        has_client_token: bool,
    ) -> Result<(String, Map<String, Value>)> {
        let policy = &self.inner.retry;
        if policy.is_enabled() && has_client_token {
            let missing = match params.get("ClientToken") {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(_) => false,
            };
            if missing {
                // One token for every attempt: that is what makes the retry idempotent.
                params.insert(
                    "ClientToken".to_owned(),
                    Value::String(self.inner.tokens.next_id()),
                );
            }
        }
        let idempotent = matches!(params.get("ClientToken"), Some(Value::String(s)) if !s.is_empty())
            || retry::is_read_only(action);
        let payload = Payload::Params(params);
        let mut retry = 0;
        loop {
            let credential = self.credential().await?;
            let prepared = self.sign(service, version, action, &payload, &credential)?;
            let result = self.send(&prepared).await;
            let retryable = match &result {
                Ok(_) => false,
                Err(Error::Api(e)) => e.code.is_rate_limit(),
                Err(Error::Transport(t)) => {
                    t.kind() == TransportKind::Connect || idempotent || policy.unsafe_network()
                }
                Err(_) => false,
            };
            if !retryable || retry >= policy.retries() {
                return result;
            }
            let delay = policy.backoff(retry, self.inner.jitter.unit());
            if let Err(e) = &result {
                tracing::debug!(
                    service,
                    action,
                    retry = retry + 1,
                    of = policy.retries(),
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error = %e,
                    "retrying"
                );
            }
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    /// Sends one signed request and reads its answer.
    async fn send(&self, prepared: &PreparedRequest) -> Result<(String, Map<String, Value>)> {
        let method = match prepared.method {
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Get => reqwest::Method::GET,
        };
        let mut request = self.inner.http.request(method, &prepared.url);
        for (name, value) in &prepared.headers {
            request = request.header(*name, value);
        }
        if prepared.method == HttpMethod::Post {
            request = request.body(prepared.body.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport(&e, format!("{} {}", prepared.method.as_str(), prepared.url)))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| {
            transport(
                &e,
                format!(
                    "reading the answer to {} {}",
                    prepared.method.as_str(),
                    prepared.url
                ),
            )
        })?;
        interpret(status, &body)
    }
}

fn transport(e: &reqwest::Error, what: String) -> Error {
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    // reqwest's own message names the URL only; the cause (refused, reset, TLS) is deeper.
    let mut chain = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cause {
        chain.push(c.to_string());
        cause = c.source();
    }
    chain.dedup();
    let detail = if chain.is_empty() {
        e.to_string()
    } else {
        chain.join(": ")
    };
    Error::Transport(TransportError::new(kind, what, detail))
}

/// Turns an HTTP answer into the fields of a success or the error it carries.
fn interpret(status: u16, body: &[u8]) -> Result<(String, Map<String, Value>)> {
    match envelope::parse(body) {
        Ok(parsed) => match parsed.outcome {
            Err(wire) => Err(Error::Api(ApiError {
                code: Code::parse(&wire.code),
                message: wire.message,
                request_id: parsed.request_id,
            })),
            Ok(fields) if status == 200 => Ok((parsed.request_id, fields)),
            Ok(_) => Err(Error::Decode(
                DecodeError::new(DecodeKind::HttpStatus(status), body)
                    .with_request_id(parsed.request_id),
            )),
        },
        Err(_) if status != 200 => Err(Error::Decode(DecodeError::new(
            DecodeKind::HttpStatus(status),
            body,
        ))),
        Err(ParseError::Json(e)) => Err(Error::Decode(
            DecodeError::new(DecodeKind::NotJson, body).with_source(e),
        )),
        Err(ParseError::Shape(why)) => Err(Error::Decode(
            DecodeError::new(DecodeKind::NotEnvelope, body).with_source(why),
        )),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_like_the_sdks_accept_them() {
        let e = Endpoint::parse("http://127.0.0.1:4570").unwrap();
        assert_eq!(e.base, "http://127.0.0.1:4570/");
        assert_eq!(e.host, "127.0.0.1:4570");
        let e = Endpoint::parse("cvm.tencentcloudapi.com").unwrap();
        assert_eq!(e.base, "https://cvm.tencentcloudapi.com/");
        assert_eq!(e.host, "cvm.tencentcloudapi.com");
        let e = Endpoint::parse("HTTP://LocalHost:4570/").unwrap();
        assert_eq!(e.host, "localhost:4570");
        // A default port is not part of the Host the HTTP stack sends, so it is not signed.
        assert_eq!(Endpoint::parse("https://h:443").unwrap().host, "h");
        assert_eq!(
            Endpoint::parse("http://[::1]:4570").unwrap().host,
            "[::1]:4570"
        );
        for bad in [
            "",
            "ftp://h",
            "http://",
            "http://h/path",
            "h?x",
            "http://u@h",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn interpret_separates_api_errors_from_bad_answers() {
        let ok = br#"{"Response": {"TotalCount": 0, "RequestId": "r"}}"#;
        let (id, fields) = interpret(200, ok).unwrap();
        assert_eq!(id, "r");
        assert_eq!(fields["TotalCount"], 0);

        let err = br#"{"Response": {"Error": {"Code": "InternalError", "Message": "m"}, "RequestId": "r"}}"#;
        // An error envelope is an API error whatever the status (the Go SDK's rule).
        for status in [200, 500] {
            let Err(Error::Api(e)) = interpret(status, err) else {
                panic!("expected an API error")
            };
            assert_eq!(
                e.code,
                Code::Common(tclocal_wire::CommonCode::InternalError)
            );
            assert_eq!(e.request_id, "r");
        }
        let kind = |status, body: &[u8]| match interpret(status, body) {
            Err(Error::Decode(d)) => d.kind(),
            other => panic!("expected a decode error, got {other:?}"),
        };
        assert_eq!(kind(200, b"<html>"), DecodeKind::NotJson);
        assert_eq!(kind(200, b"{}"), DecodeKind::NotEnvelope);
        assert_eq!(
            kind(502, b"<html>bad gateway</html>"),
            DecodeKind::HttpStatus(502)
        );
        assert_eq!(kind(503, ok), DecodeKind::HttpStatus(503));
    }
}

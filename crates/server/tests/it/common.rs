//! Test harness: a server on a free loopback port with a pinned clock, request builders that
//! sign with `tclocal-sign`, and a raw HTTP/1.1 client that sends exactly the bytes it is
//! given.

#![allow(dead_code)] // Each test module uses a different part of the harness.

use std::net::SocketAddr;
use std::sync::Arc;

use tclocal_server::app::Deps;
use tclocal_server::{App, Config};
use tclocal_services::Product;
use tclocal_services::identity::{DEV_SECRET_ID, DEV_SECRET_KEY};
use tclocal_sign::{SecretKey, tc3, v1};
use tclocal_wire::clock::ManualClock;
use tclocal_wire::envelope::{self, Parsed};
use tclocal_wire::ids::{SeqResourceIds, UuidRequestIds};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// The pinned server time: 2023-11-14T22:13:20Z.
pub(crate) const NOW: i64 = 1_700_000_000;

/// A running server.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    /// Wall-clock time: what request timestamps are checked against.
    pub(crate) clock: Arc<ManualClock>,
    /// Emulated time: what resource lifecycles follow.
    pub(crate) emulated: Arc<ManualClock>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    pub(crate) async fn start() -> Server {
        Server::start_with(Config::for_tests(), Vec::new()).await
    }

    pub(crate) async fn start_with(config: Config, replacements: Vec<Arc<dyn Product>>) -> Server {
        let clock = Arc::new(ManualClock::at(NOW));
        let emulated = Arc::new(ManualClock::at(NOW));
        let deps = Deps {
            wall: clock.clone(),
            emulated: emulated.clone(),
            request_ids: Arc::new(UuidRequestIds),
            resource_ids: Arc::new(SeqResourceIds::default()),
            replacements,
        };
        let app = App::build_with(&config, deps).await.expect("app builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        tokio::spawn(tclocal_server::serve::serve(listener, app, async {
            let _ = rx.await;
        }));
        Server {
            addr,
            clock,
            emulated,
            stop: Some(tx),
        }
    }

    /// The Host value the Python SDK sends for `HttpProfile(endpoint="127.0.0.1:PORT")`.
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Sends a signed call and returns the answer.
    pub(crate) async fn call(&self, call: &Call) -> RawResponse {
        send(self.addr, &call.to_bytes(&self.host())).await
    }

    /// Sends a raw request.
    pub(crate) async fn raw(&self, bytes: &[u8]) -> RawResponse {
        send(self.addr, bytes).await
    }

    /// A control-plane request (`/_tclocal/…`): the HTTP status and the JSON body (null when
    /// the body is not JSON).
    pub(crate) async fn control(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let resp = self.raw(req.as_bytes()).await;
        let json = serde_json::from_slice(&resp.body).unwrap_or(serde_json::Value::Null);
        (resp.status, json)
    }
}

/// A TC3 request, signed as the SDKs sign it unless told otherwise.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) method: &'static str,
    pub(crate) host: Option<String>,
    pub(crate) signed_host: Option<String>,
    pub(crate) content_type: String,
    pub(crate) action: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) language: Option<String>,
    pub(crate) query: String,
    pub(crate) body: Vec<u8>,
    pub(crate) secret_id: String,
    pub(crate) secret_key: String,
    pub(crate) timestamp: i64,
    pub(crate) scope_service: String,
    pub(crate) unsigned_payload: bool,
    pub(crate) authorization: Option<String>,
    pub(crate) extra_headers: Vec<(String, String)>,
}

impl Call {
    /// `POST` JSON to CVM in ap-guangzhou with the development key.
    pub(crate) fn tc3(action: &str, body: &str) -> Call {
        Call {
            method: "POST",
            host: None,
            signed_host: None,
            content_type: "application/json".into(),
            action: Some(action.into()),
            version: Some("2017-03-12".into()),
            region: Some("ap-guangzhou".into()),
            language: None,
            query: String::new(),
            body: body.as_bytes().to_vec(),
            secret_id: DEV_SECRET_ID.into(),
            secret_key: DEV_SECRET_KEY.into(),
            timestamp: NOW,
            scope_service: "cvm".into(),
            unsigned_payload: false,
            authorization: None,
            extra_headers: Vec::new(),
        }
    }

    /// `GET` with the parameters in the query string.
    pub(crate) fn tc3_get(action: &str, query: &str) -> Call {
        Call {
            method: "GET",
            content_type: "application/x-www-form-urlencoded".into(),
            query: query.into(),
            body: Vec::new(),
            ..Call::tc3(action, "")
        }
    }

    pub(crate) fn with(mut self, f: impl FnOnce(&mut Call)) -> Call {
        f(&mut self);
        self
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Call {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// The request bytes. `default_host` is used when no Host is set.
    pub(crate) fn to_bytes(&self, default_host: &str) -> Vec<u8> {
        let host = self.host.clone().unwrap_or_else(|| default_host.to_owned());
        let signed_host = self.signed_host.clone().unwrap_or_else(|| host.clone());
        let authorization = self.authorization.clone().unwrap_or_else(|| {
            tc3::sign(
                &tc3::SignInput {
                    method: self.method,
                    host: &signed_host,
                    query: &self.query,
                    content_type: &self.content_type,
                    payload: &self.body,
                    unsigned_payload: self.unsigned_payload,
                    timestamp: self.timestamp,
                    service: &self.scope_service,
                    secret_id: &self.secret_id,
                },
                &SecretKey::new(self.secret_key.clone()),
            )
            .authorization
        });
        let mut headers = vec![
            ("Host".to_owned(), host),
            ("Content-Type".to_owned(), self.content_type.clone()),
            ("Authorization".to_owned(), authorization),
            ("X-TC-Timestamp".to_owned(), self.timestamp.to_string()),
        ];
        let optional = [
            ("X-TC-Action", &self.action),
            ("X-TC-Version", &self.version),
            ("X-TC-Region", &self.region),
            ("X-TC-Language", &self.language),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                headers.push((name.to_owned(), v.clone()));
            }
        }
        if self.unsigned_payload {
            headers.push(("X-TC-Content-SHA256".into(), "UNSIGNED-PAYLOAD".into()));
        }
        headers.extend(self.extra_headers.iter().cloned());
        let target = if self.query.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{}", self.query)
        };
        raw_request(self.method, &target, &headers, &self.body)
    }
}

/// A v1 (HmacSHA1 / HmacSHA256) request.
#[derive(Clone, Debug)]
pub(crate) struct V1Call {
    pub(crate) method: &'static str,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) secret_key: String,
    pub(crate) signature_method: Option<&'static str>,
}

impl V1Call {
    pub(crate) fn new(method: &'static str, action: &str, business: &[(&str, &str)]) -> V1Call {
        let mut params: Vec<(String, String)> = business
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for (k, v) in [
            ("Action", action),
            ("Version", "2017-03-12"),
            ("Region", "ap-guangzhou"),
            ("Nonce", "11886"),
            ("SecretId", DEV_SECRET_ID),
        ] {
            params.push((k.to_owned(), v.to_owned()));
        }
        params.push(("Timestamp".into(), NOW.to_string()));
        V1Call {
            method,
            params,
            secret_key: DEV_SECRET_KEY.into(),
            signature_method: Some("HmacSHA256"),
        }
    }

    pub(crate) fn set(mut self, key: &str, value: Option<&str>) -> V1Call {
        self.params.retain(|(k, _)| k != key);
        if let Some(v) = value {
            self.params.push((key.to_owned(), v.to_owned()));
        }
        self
    }

    pub(crate) fn to_bytes(&self, host: &str) -> Vec<u8> {
        let mut params = self.params.clone();
        if let Some(m) = self.signature_method {
            params.push(("SignatureMethod".into(), m.into()));
        }
        let refs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sts = v1::string_to_sign(self.method, host, "/", &refs);
        let method = v1::SignatureMethod::parse(self.signature_method)
            .unwrap_or(v1::SignatureMethod::HmacSha1);
        let signature = v1::sign(&SecretKey::new(self.secret_key.clone()), method, &sts);
        params.push(("Signature".into(), signature));
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        if self.method == "GET" {
            raw_request(
                "GET",
                &format!("/?{encoded}"),
                &[
                    ("Host".into(), host.to_owned()),
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                ],
                b"",
            )
        } else {
            raw_request(
                "POST",
                "/",
                &[
                    ("Host".into(), host.to_owned()),
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                ],
                encoded.as_bytes(),
            )
        }
    }
}

/// Serialises an HTTP/1.1 request with `Connection: close` and a Content-Length.
pub(crate) fn raw_request(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}

/// An HTTP answer as received.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The parsed envelope; panics with the body when it is not one.
    pub(crate) fn envelope(&self) -> Parsed {
        envelope::parse(&self.body).unwrap_or_else(|e| {
            panic!(
                "not an envelope ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts an API answer (200, exact content type, UUID v4 RequestId) and returns the
    /// error code, or None on success.
    pub(crate) fn api_code(&self) -> Option<String> {
        assert_eq!(self.status, 200, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("application/json"));
        let env = self.envelope();
        let id = uuid::Uuid::parse_str(&env.request_id).expect("RequestId is a UUID");
        assert_eq!(id.get_version_num(), 4);
        env.outcome.err().map(|e| e.code)
    }

    pub(crate) fn message(&self) -> String {
        self.envelope().outcome.unwrap_err().message
    }

    pub(crate) fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        self.envelope()
            .outcome
            .unwrap_or_else(|e| panic!("expected success, got {e:?}"))
    }
}

/// Writes `bytes`, reads until the server closes, parses one response.
pub(crate) async fn send(addr: SocketAddr, bytes: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer (and close) before reading a large body: ignore write errors.
    let _ = stream.write_all(bytes).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut buf),
    )
    .await;
    parse_response(&buf)
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", String::from_utf8_lossy(&buf)))
}

/// Parses one response from the front of `buf`; returns it and the rest.
pub(crate) fn parse_one(buf: &[u8]) -> Option<(RawResponse, &[u8])> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(buf.len() - end - 4);
    let body_start = end + 4;
    let body = buf.get(body_start..body_start + len)?.to_vec();
    Some((
        RawResponse {
            status,
            headers,
            body,
        },
        &buf[body_start + len..],
    ))
}

fn parse_response(buf: &[u8]) -> Option<RawResponse> {
    parse_one(buf).map(|(r, _)| r)
}

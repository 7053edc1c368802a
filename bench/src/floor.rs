//! The floor: the least a server can do for one API request and still be honest about it.
//!
//! It runs on the same stack as tclocal (tokio's multi-thread runtime, hyper HTTP/1.1,
//! `TCP_NODELAY`), reads the whole body, checks the timestamp skew and the SecretId, derives
//! the TC3 signing key and verifies the signature with `tclocal-sign` (the same functions
//! tclocal calls), then answers a fixed `DescribeInstancesStatus` body. Whatever tclocal does
//! beyond this (routing, parameter validation, the product, the journal, the answer's JSON)
//! is what separates its throughput from the floor's.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tclocal_sign::SecretKey;
use tclocal_sign::tc3::{VerifyInput, parse_authorization, signing_key, verify};
use tokio::net::TcpListener;

use crate::api::{SECRET_ID, SECRET_KEY, unix_now};

/// The fixed answer: an empty DescribeInstancesStatus.
const OK_BODY: &[u8] = br#"{"Response":{"TotalCount":0,"InstanceStatusSet":[],"RequestId":"00000000-0000-4000-8000-000000000000"}}"#;

fn failure(code: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"floor"}},"RequestId":"00000000-0000-4000-8000-000000000000"}}}}"#
    ))
}

/// Checks one request the way tclocal's gateway does (minus everything after the signature).
fn check(
    parts: &http::request::Parts,
    body: &[u8],
    secret: &SecretKey,
) -> Result<(), &'static str> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header(AUTHORIZATION.as_str()).ok_or("MissingParameter")?;
    let timestamp: i64 = header("x-tc-timestamp")
        .and_then(|t| t.trim().parse().ok())
        .ok_or("MissingParameter")?;
    let auth =
        parse_authorization(authorization).map_err(|_| "AuthFailure.InvalidAuthorization")?;
    if unix_now().abs_diff(timestamp) > 300 {
        return Err("AuthFailure.SignatureExpire");
    }
    if auth.secret_id != SECRET_ID {
        return Err("AuthFailure.SecretIdNotFound");
    }
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let input = VerifyInput {
        method: parts.method.as_str(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        payload: body,
        unsigned_payload: header("x-tc-content-sha256") == Some("UNSIGNED-PAYLOAD"),
        timestamp,
        authorization: &auth,
    };
    let key = signing_key(secret, auth.date, auth.service);
    verify(&input, &key).map_err(|_| "AuthFailure.SignatureFailure")?;
    Ok(())
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(answer(failure("InvalidRequest"))),
    };
    static SECRET: LazyLock<SecretKey> = LazyLock::new(|| SecretKey::new(SECRET_KEY));
    let out = match check(&parts, &body, &SECRET) {
        Ok(()) => Bytes::from_static(OK_BODY),
        Err(code) => failure(code),
    };
    Ok(answer(out))
}

fn answer(body: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Serves until the process is killed.
pub(crate) async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service_fn(handle));
            let _ = conn.await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Api;

    /// The floor accepts what the load generator signs and refuses a tampered body.
    #[test]
    fn verifies_the_load_generators_signature() {
        let api = Api::Tc3 {
            host: "127.0.0.1:9".to_owned(),
        };
        let body = Bytes::from_static(br#"{"Limit":20}"#);
        let sig = api.sign(&body, unix_now());
        let req = api.request("DescribeInstancesStatus", body.clone(), &sig);
        let (parts, _) = req.into_parts();
        let secret = SecretKey::new(SECRET_KEY);
        assert_eq!(check(&parts, &body, &secret), Ok(()));
        assert_eq!(
            check(&parts, br#"{"Limit":21}"#, &secret),
            Err("AuthFailure.SignatureFailure")
        );
    }
}

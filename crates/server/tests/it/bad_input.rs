//! Hostile and malformed input: always an enveloped answer with a RequestId, never a crash,
//! a hang or a non-API status.

use proptest::prelude::*;

use crate::common::{Call, NOW, Server, parse_one, raw_request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn code(resp: &crate::common::RawResponse) -> String {
    resp.api_code().unwrap_or_else(|| "ok".into())
}

/// Methods other than GET and POST are UnsupportedProtocol, enveloped.
#[tokio::test]
async fn other_methods_are_unsupported_protocol() {
    let server = Server::start().await;
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "FOO"] {
        let bytes = raw_request(method, "/", &[("Host".into(), server.host())], b"");
        let resp = server.raw(&bytes).await;
        assert_eq!(code(&resp), "UnsupportedProtocol", "{method}");
    }
}

/// Bodies over 10 MB and queries over 32 KB are RequestSizeLimitExceeded.
#[tokio::test]
async fn oversized_requests_are_request_size_limit_exceeded() {
    let server = Server::start().await;
    let big = vec![b' '; 10 * 1024 * 1024 + 1];
    let call = Call::tc3("DescribeZones", "").with(|c| c.body = big);
    assert_eq!(code(&server.call(&call).await), "RequestSizeLimitExceeded");
    let query = format!("Pad={}", "x".repeat(33 * 1024));
    let get = Call::tc3_get("DescribeZones", &query);
    assert_eq!(code(&server.call(&get).await), "RequestSizeLimitExceeded");
}

/// A 100 KB header block gets an enveloped error, not hyper's bare 431.
#[tokio::test]
async fn huge_headers_get_an_enveloped_error() {
    let server = Server::start().await;
    let call = Call::tc3("DescribeZones", "{}").header("X-Pad", &"y".repeat(100 * 1024));
    assert_eq!(code(&server.call(&call).await), "RequestSizeLimitExceeded");
    let mut many = Call::tc3("DescribeZones", "{}");
    for i in 0..300 {
        many = many.header(&format!("X-Many-{i}"), "v");
    }
    assert_eq!(
        code(&server.call(&many).await),
        "ok",
        "300 small headers are fine"
    );
}

/// Duplicated single-valued headers make the request ambiguous: InvalidParameter.
#[tokio::test]
async fn duplicated_headers_are_invalid_parameter() {
    let server = Server::start().await;
    for name in [
        "X-TC-Action",
        "Authorization",
        "X-TC-Region",
        "Content-Type",
    ] {
        let call = Call::tc3("DescribeZones", "{}").header(name, "DescribeRegions");
        assert_eq!(
            code(&server.call(&call).await),
            "InvalidParameter",
            "{name}"
        );
    }
}

/// No Host header at all: the signed `host` header is absent, which the answer names.
#[tokio::test]
async fn missing_host_is_answered() {
    let server = Server::start().await;
    let bytes = Call::tc3("DescribeZones", "{}").to_bytes(&server.host());
    let text = String::from_utf8(bytes).unwrap();
    let without_host: String = text
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("Host:"))
        .collect();
    let resp = server.raw(without_host.as_bytes()).await;
    assert_eq!(code(&resp), "AuthFailure.InvalidAuthorization");
    assert!(resp.message().contains("`host`"), "{}", resp.message());
}

/// Non-ASCII bytes in headers and garbage Authorization values are enveloped errors.
#[tokio::test]
async fn non_ascii_header_bytes_are_answered() {
    let server = Server::start().await;
    let mut bytes =
        b"POST / HTTP/1.1\r\nHost: h\r\nX-TC-Action: Desc\xffribe\r\nAuthorization: \xfe\xfd\r\n"
            .to_vec();
    bytes.extend_from_slice(b"Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    let resp = server.raw(&bytes).await;
    assert_eq!(code(&resp), "InvalidParameter");
}

/// Errors do not break keep-alive: one connection serves an error then a success.
#[tokio::test]
async fn connection_survives_errors() {
    let server = Server::start().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let first = b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n".to_vec();
    let second = Call::tc3("DescribeZones", "{}").to_bytes(&server.host());
    stream.write_all(&first).await.unwrap();
    stream.write_all(&second).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    let (a, rest) = parse_one(&buf).expect("first answer");
    let (b, _) = parse_one(rest).expect("second answer");
    assert_eq!(code(&a), "UnsupportedProtocol");
    assert_eq!(code(&b), "ok");
}

/// A client that sends half a body and stops is dropped without an answer or a crash, and
/// the server keeps serving others.
#[tokio::test]
async fn truncated_body_does_not_wedge_the_server() {
    let server = Server::start().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: h\r\nX-TC-Action: DescribeZones\r\nContent-Length: 100\r\n\r\n{\"Li")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut buf),
    )
    .await;
    if let Some((resp, _)) = parse_one(&buf) {
        assert_eq!(resp.status, 200, "an answer, if any, is enveloped");
        resp.envelope();
    }
    assert_eq!(
        code(&server.call(&Call::tc3("DescribeZones", "{}")).await),
        "ok"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Arbitrary header values and bodies always get a 200 envelope.
    #[test]
    fn arbitrary_requests_always_get_an_envelope(
        auth in "[ -~]{0,120}",
        action in "[A-Za-z0-9.]{0,20}",
        ts in proptest::option::of("[0-9a-z-]{0,12}"),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        get in any::<bool>(),
        query in "[A-Za-z0-9.=&%]{0,60}",
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let server = Server::start().await;
            let mut headers = vec![
                ("Host".to_owned(), server.host()),
                ("Authorization".to_owned(), auth.clone()),
                ("X-TC-Action".to_owned(), action.clone()),
                ("X-TC-Version".to_owned(), "2017-03-12".to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ];
            headers.push(("X-TC-Timestamp".to_owned(), ts.clone().unwrap_or_else(|| NOW.to_string())));
            let target = if query.is_empty() { "/".to_owned() } else { format!("/?{query}") };
            let bytes = raw_request(if get { "GET" } else { "POST" }, &target, &headers, &body);
            let resp = server.raw(&bytes).await;
            assert_eq!(resp.status, 200);
            assert_eq!(resp.header("content-type"), Some("application/json"));
            let _ = resp.envelope();
        });
    }
}

//! The envelope: shape, status, content type and RequestId of every answer.

use serde_json::json;

use crate::common::{Call, Server};

/// The seeds' example: DescribeInstancesStatus for a user with no instances.
#[tokio::test]
async fn seed_example_describe_instances_status_returns_empty_set() {
    let server = Server::start().await;
    let resp = server
        .call(&Call::tc3("DescribeInstancesStatus", "{}"))
        .await;
    assert_eq!(resp.api_code(), None);
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    let request_id = body["Response"]["RequestId"].clone();
    assert_eq!(
        body,
        json!({"Response": {"TotalCount": 0, "InstanceStatusSet": [], "RequestId": request_id}})
    );
    // RequestId comes last, as in the seeds.
    let text = String::from_utf8(resp.body).unwrap();
    assert!(text.find("RequestId").unwrap() > text.find("InstanceStatusSet").unwrap());
}

/// Success and error alike are HTTP 200 with `Content-Type: application/json` exactly.
#[tokio::test]
async fn errors_are_http_200_with_exact_json_content_type() {
    let server = Server::start().await;
    let bad = Call::tc3("DescribeZones", "{}").with(|c| c.secret_key = "wrong".into());
    let resp = server.call(&bad).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(
        resp.api_code().as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    assert_eq!(
        resp.message(),
        "请求签名验证失败，请检查您的签名计算是否正确。",
        "zh-CN is the default language"
    );
}

/// Every answer gets its own RequestId.
#[tokio::test]
async fn request_ids_are_unique_per_request() {
    let server = Server::start().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let resp = server.call(&Call::tc3("DescribeZones", "{}")).await;
        assert_eq!(resp.api_code(), None);
        assert!(seen.insert(resp.envelope().request_id));
    }
}

/// The Node SDK reads `X-TC-TraceId` from the answer; the server echoes the request's.
#[tokio::test]
async fn trace_id_is_echoed() {
    let server = Server::start().await;
    let resp = server
        .call(&Call::tc3("DescribeZones", "{}").header("X-TC-TraceId", "trace-123"))
        .await;
    assert_eq!(resp.header("x-tc-traceid"), Some("trace-123"));
}

/// A panic inside a product is `InternalError` with a RequestId, and the server keeps serving.
#[tokio::test]
async fn a_panicking_handler_becomes_internal_error() {
    use std::sync::Arc;
    struct Exploding;
    #[async_trait::async_trait]
    impl tclocal_services::Product for Exploding {
        fn name(&self) -> &'static str {
            "cvm"
        }
        fn regions(&self) -> tclocal_services::RegionScope {
            tclocal_services::RegionScope::Regional(&["ap-guangzhou"])
        }
        fn emulates(&self, _: &str, _: &str) -> bool {
            true
        }
        async fn call(
            &self,
            cx: &tclocal_wire::context::RequestContext,
            _: serde_json::Map<String, serde_json::Value>,
        ) -> tclocal_wire::ApiResult<tclocal_services::Reply> {
            if cx.action == "DescribeZones" {
                panic!("boom");
            }
            Err(tclocal_wire::ApiError::internal(
                "store unavailable: /secret/path",
            ))
        }
    }
    let server = Server::start_with(
        tclocal_server::Config::for_tests(),
        vec![Arc::new(Exploding)],
    )
    .await;
    let resp = server.call(&Call::tc3("DescribeZones", "{}")).await;
    assert_eq!(resp.api_code().as_deref(), Some("InternalError"));
    let resp = server.call(&Call::tc3("DescribeRegions", "{}")).await;
    assert_eq!(resp.api_code().as_deref(), Some("InternalError"));
    assert!(
        !resp.message().contains("secret"),
        "internal details stay in the log"
    );
    let again = server.call(&Call::tc3("DescribeZones", "{}")).await;
    assert_eq!(again.status, 200);
}

/// The router answers in process too (no socket), with the same envelope.
#[tokio::test]
async fn router_serves_in_process() {
    use tower::ServiceExt;
    let app = tclocal_server::App::build(&tclocal_server::Config::for_tests())
        .await
        .unwrap();
    let req = http::Request::builder()
        .method("DELETE")
        .uri("/")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.router().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let parsed = tclocal_wire::envelope::parse(&body).unwrap();
    assert_eq!(parsed.outcome.unwrap_err().code, "UnsupportedProtocol");
}

/// The control plane reports health and readiness with plain HTTP statuses.
#[tokio::test]
async fn health_and_ready_answer_200() {
    let server = Server::start().await;
    for path in ["/_tclocal/health", "/_tclocal/ready"] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let resp = server.raw(req.as_bytes()).await;
        assert_eq!(resp.status, 200, "{path}");
    }
    let resp = server
        .raw(b"GET /_tclocal/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(resp.status, 404);
}

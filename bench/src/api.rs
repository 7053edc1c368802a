//! The requests the load generator sends: TC3-signed JSON calls for tclocal and the floor,
//! and EC2 query-form calls for moto.
//!
//! Signing: a request whose body never changes (every read benchmark) is signed once per
//! wall-clock second by each connection and reused within that second, so the server verifies
//! a signature that is always current while the load generator spends almost nothing on
//! signing. A request whose body changes (TerminateInstances names the instance just made) is
//! signed fresh. Either way the server does its full verification on every request.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request};
use http_body_util::Full;
use tclocal_sign::SecretKey;
use tclocal_sign::tc3::{SignInput, sign};

/// The development key tclocal gives the default account (README, "Development credentials");
/// the bench passes it explicitly to every server it starts.
pub(crate) const SECRET_ID: &str = "AKIDtclocalDevelopmentKey00000000000";
/// Its secret half.
pub(crate) const SECRET_KEY: &str = "tclocalDevelopmentSecretKey00000";

/// CVM's only version.
const CVM_VERSION: &str = "2017-03-12";
/// The region every tclocal request names.
pub(crate) const REGION: &str = "ap-guangzhou";

/// Wall-clock seconds: what `X-TC-Timestamp` carries.
pub(crate) fn unix_now() -> i64 {
    // The bench is a client: it must read the real clock, which the server checks against.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub(crate) enum Api {
    /// TC3-HMAC-SHA256 signed JSON, the way the official SDKs call (tclocal and the floor).
    Tc3 {
        /// The `Host` header value (`127.0.0.1:PORT`).
        host: String,
    },
    /// EC2 query API as a form POST (moto). moto checks no signature; the Authorization header
    /// only carries the SigV4 credential scope moto routes by (`ec2`, `us-east-1`).
    Moto {
        /// The `Host` header value.
        host: String,
    },
}

/// The pieces of a signed TC3 request that change with the timestamp.
#[derive(Debug, Clone)]
pub(crate) struct Signature {
    /// The second it was made for.
    pub(crate) timestamp: i64,
    timestamp_header: HeaderValue,
    authorization: HeaderValue,
}

impl Api {
    /// Signs `body` for `timestamp` (TC3 only; moto requests carry a fixed header).
    pub(crate) fn sign(&self, body: &[u8], timestamp: i64) -> Signature {
        let authorization = match self {
            Api::Tc3 { host } => {
                let signed = sign(
                    &SignInput {
                        method: "POST",
                        host,
                        query: "",
                        content_type: "application/json",
                        payload: body,
                        unsigned_payload: false,
                        timestamp,
                        service: "cvm",
                        secret_id: SECRET_ID,
                    },
                    &SecretKey::new(SECRET_KEY),
                );
                HeaderValue::try_from(signed.authorization).expect("an Authorization is ASCII")
            }
            Api::Moto { .. } => HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ec2/aws4_request, \
                 SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            ),
        };
        Signature {
            timestamp,
            timestamp_header: HeaderValue::from(timestamp),
            authorization,
        }
    }

    /// One request: `action` with `body` (JSON for TC3, the form for moto, which names its
    /// action inside the body), carrying `signature`.
    pub(crate) fn request(
        &self,
        action: &'static str,
        body: Bytes,
        signature: &Signature,
    ) -> Request<Full<Bytes>> {
        let (host, content_type) = match self {
            Api::Tc3 { host } => (host, "application/json"),
            Api::Moto { host } => (host, "application/x-www-form-urlencoded; charset=utf-8"),
        };
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(HOST, host.as_str())
            .header(CONTENT_TYPE, content_type)
            .header(AUTHORIZATION, signature.authorization.clone());
        if let Api::Tc3 { .. } = self {
            builder = builder
                .header("x-tc-action", action)
                .header("x-tc-version", CVM_VERSION)
                .header("x-tc-region", REGION)
                .header("x-tc-timestamp", signature.timestamp_header.clone());
        }
        builder
            .body(Full::new(body))
            .expect("the request parts are valid")
    }

    /// Whether an HTTP 200 answer is a success of the API (not an error envelope).
    pub(crate) fn succeeded(&self, status: http::StatusCode, body: &[u8]) -> bool {
        if status != http::StatusCode::OK {
            return false;
        }
        match self {
            // Every tclocal answer is HTTP 200; an error is `{"Response":{"Error":…`.
            Api::Tc3 { .. } => {
                body.starts_with(b"{\"Response\":{")
                    && !body.starts_with(b"{\"Response\":{\"Error\"")
            }
            // moto answers errors with 4xx and `<Errors>`.
            Api::Moto { .. } => true,
        }
    }

    /// The body of RunInstances for one instance.
    pub(crate) fn run_one(&self) -> (&'static str, Bytes) {
        match self {
            Api::Tc3 { .. } => (
                "RunInstances",
                Bytes::from_static(
                    br#"{"Placement":{"Zone":"ap-guangzhou-3"},"ImageId":"img-zsxdft8i","InstanceType":"S5.MEDIUM2","InstanceCount":1}"#,
                ),
            ),
            Api::Moto { .. } => (
                "RunInstances",
                Bytes::from_static(MOTO_RUN_ONE.as_bytes()),
            ),
        }
    }

    /// The body of TerminateInstances for one instance.
    pub(crate) fn terminate(&self, id: &str) -> (&'static str, Bytes) {
        match self {
            Api::Tc3 { .. } => (
                "TerminateInstances",
                Bytes::from(format!(r#"{{"InstanceIds":["{id}"]}}"#)),
            ),
            Api::Moto { .. } => (
                "TerminateInstances",
                Bytes::from(format!(
                    "Action=TerminateInstances&Version=2016-11-15&InstanceId.1={id}"
                )),
            ),
        }
    }

    /// The instance ids a RunInstances answer lists.
    pub(crate) fn instance_ids(&self, body: &[u8]) -> Vec<String> {
        match self {
            Api::Tc3 { .. } => serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| {
                    v["Response"]["InstanceIdSet"].as_array().map(|a| {
                        a.iter()
                            .filter_map(|i| i.as_str().map(str::to_owned))
                            .collect()
                    })
                })
                .unwrap_or_default(),
            Api::Moto { .. } => {
                let text = String::from_utf8_lossy(body);
                text.split("<instanceId>")
                    .skip(1)
                    .filter_map(|rest| {
                        rest.split_once("</instanceId>")
                            .map(|(id, _)| id.to_owned())
                    })
                    .collect()
            }
        }
    }
}

/// moto's RunInstances for one instance (an AMI moto ships, so no "unknown AMI" warning path).
const MOTO_RUN_ONE: &str = "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro&MinCount=1&MaxCount=1";

/// moto's RunInstances for `count` instances.
pub(crate) fn moto_run_many(count: usize) -> Bytes {
    Bytes::from(format!(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro&MinCount={count}&MaxCount={count}"
    ))
}

/// moto's DescribeInstanceStatus for these instances (moto has no MaxResults paging for it:
/// naming 20 ids gives the same 20-entry answer as tclocal's `Limit: 20`).
pub(crate) fn moto_describe_status(ids: &[String]) -> Bytes {
    let mut body = String::from("Action=DescribeInstanceStatus&Version=2016-11-15");
    for (i, id) in ids.iter().enumerate() {
        body.push_str(&format!("&InstanceId.{}={id}", i + 1));
    }
    Bytes::from(body)
}

/// tclocal's RunInstances for `count` instances in `zone`, tagged `team=<team>`.
pub(crate) fn tc3_run_many(count: usize, zone: &str, team: usize) -> Bytes {
    Bytes::from(format!(
        r#"{{"Placement":{{"Zone":"{zone}"}},"ImageId":"img-zsxdft8i","InstanceType":"S5.MEDIUM2","InstanceCount":{count},"TagSpecification":[{{"ResourceType":"instance","Tags":[{{"Key":"team","Value":"team-{team}"}}]}}]}}"#
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signed request carries what tclocal's gateway reads: action, version, region, a
    /// current timestamp and a TC3 Authorization for the development key.
    #[test]
    fn tc3_requests_carry_the_common_headers() {
        let api = Api::Tc3 {
            host: "127.0.0.1:1".to_owned(),
        };
        let body = Bytes::from_static(b"{}");
        let sig = api.sign(&body, 1_700_000_000);
        let req = api.request("DescribeInstancesStatus", body, &sig);
        let h = req.headers();
        assert_eq!(h["x-tc-action"], "DescribeInstancesStatus");
        assert_eq!(h["x-tc-timestamp"], "1700000000");
        let auth = h[AUTHORIZATION].to_str().unwrap();
        assert!(auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDtclocalDevelopmentKey00000000000/2023-11-14/cvm/tc3_request"));
    }

    /// Instance ids come out of both answer formats.
    #[test]
    fn instance_ids_from_answers() {
        let tc3 = Api::Tc3 {
            host: String::new(),
        };
        let body = br#"{"Response":{"InstanceIdSet":["ins-1","ins-2"],"RequestId":"r"}}"#;
        assert_eq!(tc3.instance_ids(body), ["ins-1", "ins-2"]);
        let moto = Api::Moto {
            host: String::new(),
        };
        let xml = b"<a><instanceId>i-1</instanceId><x/><instanceId>i-2</instanceId></a>";
        assert_eq!(moto.instance_ids(xml), ["i-1", "i-2"]);
        assert!(tc3.succeeded(http::StatusCode::OK, body));
        assert!(!tc3.succeeded(
            http::StatusCode::OK,
            br#"{"Response":{"Error":{"Code":"X"},"RequestId":"r"}}"#
        ));
    }
}

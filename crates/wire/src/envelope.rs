//! The `{"Response": {…, "RequestId": …}}` envelope, for success and error alike.
//!
//! Every API answer has this shape (seeds: "Response and its RequestId are common fields and
//! are always returned"). `RequestId` goes last, after the action's own fields, as the
//! cloud's examples show.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

/// Serialises a successful answer: the action's fields, then `RequestId`.
#[must_use]
pub fn success(fields: &Map<String, Value>, request_id: &str) -> Vec<u8> {
    serde_json::to_vec(&Outer(Inner::Success { fields, request_id }))
        .expect("a JSON map always serialises")
}

/// Serialises a failed answer: `Error.Code`, `Error.Message`, then `RequestId`.
#[must_use]
pub fn error(code: &str, message: &str, request_id: &str) -> Vec<u8> {
    serde_json::to_vec(&Outer(Inner::Error {
        code,
        message,
        request_id,
    }))
    .expect("strings always serialise")
}

struct Outer<'a>(Inner<'a>);

enum Inner<'a> {
    Success {
        fields: &'a Map<String, Value>,
        request_id: &'a str,
    },
    Error {
        code: &'a str,
        message: &'a str,
        request_id: &'a str,
    },
}

impl Serialize for Outer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("Response", &self.0)?;
        m.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl Serialize for Inner<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Inner::Success { fields, request_id } => {
                let mut m = s.serialize_map(Some(fields.len() + 1))?;
                for (k, v) in *fields {
                    // A handler never sets RequestId itself; the envelope owns it.
                    if k != "RequestId" {
                        m.serialize_entry(k, v)?;
                    }
                }
                m.serialize_entry("RequestId", request_id)?;
                m.end()
            }
            Inner::Error {
                code,
                message,
                request_id,
            } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("Error", &ErrorBody { code, message })?;
                m.serialize_entry("RequestId", request_id)?;
                m.end()
            }
        }
    }
}

/// A parsed answer, for clients and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// `Response.RequestId`.
    pub request_id: String,
    /// The action's fields, or the error.
    pub outcome: Result<Map<String, Value>, WireError>,
}

/// `Response.Error` of a failed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// `Error.Code`.
    pub code: String,
    /// `Error.Message`.
    pub message: String,
}

/// The body is not an API envelope.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON at all.
    #[error("response is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not `{"Response": {…, "RequestId": "…"}}`.
    #[error("response is not an API envelope: {0}")]
    Shape(&'static str),
}

/// Parses an envelope.
///
/// # Errors
/// When the body is not JSON or lacks `Response` / `RequestId`.
pub fn parse(body: &[u8]) -> Result<Parsed, ParseError> {
    let mut v: Value = serde_json::from_slice(body)?;
    let Some(Value::Object(mut resp)) = v.get_mut("Response").map(Value::take) else {
        return Err(ParseError::Shape("no Response object"));
    };
    let Some(Value::String(request_id)) = resp.remove("RequestId") else {
        return Err(ParseError::Shape("no RequestId string"));
    };
    let outcome = match resp.remove("Error") {
        Some(Value::Object(e)) => {
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            Err(WireError {
                code: text("Code"),
                message: text("Message"),
            })
        }
        Some(_) => return Err(ParseError::Shape("Error is not an object")),
        None => Ok(resp),
    };
    Ok(Parsed {
        request_id,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_puts_request_id_last() {
        let Value::Object(fields) = json!({"TotalCount": 0, "InstanceStatusSet": []}) else {
            unreachable!()
        };
        let body = success(&fields, "b5b41468-520d-4192-b42f-595cc34b6c1c");
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"Response":{"TotalCount":0,"InstanceStatusSet":[],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}"#
        );
    }

    #[test]
    fn error_has_code_message_and_request_id() {
        let body = error("AuthFailure.SignatureFailure", "m \"q\"", "ed93f3cb");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "m \"q\""}, "RequestId": "ed93f3cb"}})
        );
        let p = parse(&body).unwrap();
        assert_eq!(p.request_id, "ed93f3cb");
        assert_eq!(p.outcome.unwrap_err().code, "AuthFailure.SignatureFailure");
    }

    #[test]
    fn parse_rejects_non_envelopes() {
        assert!(parse(b"nope").is_err());
        assert!(parse(b"{}").is_err());
        assert!(parse(br#"{"Response": {}}"#).is_err());
        assert!(parse(br#"{"Response": {"RequestId": "x", "Error": 1}}"#).is_err());
    }
}

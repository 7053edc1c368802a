//! The `{"Response": {…, "RequestId": …}}` envelope, for success and error alike.
//!
//! Every API answer has this shape (seeds: "Response and its RequestId are common fields and
//! are always returned"). `RequestId` goes last, after the action's own fields, as the
//! cloud's examples show.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

/// A successful answer's fields: a JSON object, or one already serialised.
///
/// A product builds most answers as a [`Map`]. A hot answer (a page of instances) can be
/// serialised straight from the product's own state with [`Reply::serialize`] instead,
/// which skips building, serialising and dropping a tree of values per entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Fields as values.
    Fields(Map<String, Value>),
    /// A JSON object already serialised; only [`Reply::serialize`] makes one.
    Serialized(Serialized),
}

/// The envelope's opening, which a serialised reply is written after.
const OPENING: &[u8] = b"{\"Response\":";

/// A JSON object serialised after the envelope's opening (`{"Response":{"A":1}`), so that
/// [`success`] finishes the answer in the same buffer: no copy of the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Serialized {
    buf: Vec<u8>,
}

impl Serialized {
    /// The text between the object's braces (`"A":1,"B":[]`).
    #[must_use]
    pub fn members(&self) -> &str {
        let object = &self.buf[OPENING.len() + 1..self.buf.len() - 1];
        // Checked to be UTF-8 when made.
        std::str::from_utf8(object).unwrap_or_default()
    }
}

impl Reply {
    /// The fields of `value`, which serialises as a JSON object (a struct or a map).
    ///
    /// # Errors
    /// When `value` does not serialise as an object, or names `RequestId` (the envelope's).
    pub fn serialize<T: Serialize>(value: &T) -> Result<Reply, serde_json::Error> {
        // A page of 20 statuses is about 1 KB: one allocation for it and the envelope.
        let mut buf = Vec::with_capacity(2048);
        buf.extend_from_slice(OPENING);
        serde_json::to_writer(&mut buf, value)?;
        let text = std::str::from_utf8(&buf[OPENING.len()..])
            .map_err(|_| serde::ser::Error::custom("serde_json wrote UTF-8"))?;
        if !(text.starts_with('{') && text.ends_with('}')) {
            return Err(serde::ser::Error::custom("a reply is a JSON object"));
        }
        if text.contains("\"RequestId\":") {
            // Only a key can contain that exact text: in a string value the quotes are escaped.
            return Err(serde::ser::Error::custom(
                "RequestId belongs to the envelope",
            ));
        }
        Ok(Reply::Serialized(Serialized { buf }))
    }

    /// An answer written member by member straight into the envelope's buffer: the fastest
    /// way to answer, for the hottest reads. [`Members`] writes only static keys, strings,
    /// numbers and arrays of objects, so the result is a JSON object by construction.
    pub fn write(members: impl FnOnce(&mut Members<'_>)) -> Reply {
        let mut buf = Vec::with_capacity(2048);
        buf.extend_from_slice(OPENING);
        buf.push(b'{');
        members(&mut Members {
            out: &mut buf,
            first: true,
        });
        buf.push(b'}');
        Reply::Serialized(Serialized { buf })
    }

    /// The fields as values (tests and tools; parses a serialised reply).
    #[must_use]
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            Reply::Fields(map) => map,
            Reply::Serialized(s) => match serde_json::from_slice(&s.buf[OPENING.len()..]) {
                Ok(Value::Object(map)) => map,
                _ => unreachable!("Reply::serialize makes only JSON objects"),
            },
        }
    }
}

/// The members of one JSON object being written (see [`Reply::write`]).
#[derive(Debug)]
pub struct Members<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Members<'_> {
    #[inline]
    fn key(&mut self, key: &'static str) {
        debug_assert!(
            key != "RequestId" && !key.bytes().any(needs_escape),
            "{key} cannot be a member's key"
        );
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// `"key":"value"`.
    #[inline]
    pub fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        write_json_str(self.out, value);
    }

    /// `"key":value`.
    pub fn u64(&mut self, key: &'static str, value: u64) {
        self.key(key);
        // Writing a number to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, &value);
    }

    /// `"key":[{…},{…}]`, one object per item, written by `each`.
    pub fn objects<T>(
        &mut self,
        key: &'static str,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut Members<'_>, T),
    ) {
        self.key(key);
        self.out.push(b'[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.push(b'{');
            each(
                &mut Members {
                    out: self.out,
                    first: true,
                },
                item,
            );
            self.out.push(b'}');
        }
        self.out.push(b']');
    }
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `value` as a JSON string. Ids and states need no escaping and are copied whole; anything
/// else goes through serde_json.
fn write_json_str(out: &mut Vec<u8>, value: &str) {
    if value.bytes().any(needs_escape) {
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, value);
    } else {
        out.reserve(value.len() + 2);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
}

impl From<Map<String, Value>> for Reply {
    fn from(map: Map<String, Value>) -> Reply {
        Reply::Fields(map)
    }
}

impl Default for Reply {
    fn default() -> Reply {
        Reply::Fields(Map::new())
    }
}

/// Serialises a successful answer: the action's fields, then `RequestId`.
#[must_use]
pub fn success(reply: Reply, request_id: &str) -> Vec<u8> {
    match reply {
        Reply::Fields(fields) => serde_json::to_vec(&Outer(Inner::Success {
            fields: &fields,
            request_id,
        }))
        .expect("a JSON map always serialises"),
        Reply::Serialized(s) => {
            let empty = s.buf.len() == OPENING.len() + 2;
            let mut out = s.buf;
            out.pop(); // the object's closing brace
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(b"\"RequestId\":");
            serde_json::to_writer(&mut out, request_id).expect("a string always serialises");
            out.extend_from_slice(b"}}");
            out
        }
    }
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
        let body = success(
            Reply::Fields(fields),
            "b5b41468-520d-4192-b42f-595cc34b6c1c",
        );
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"Response":{"TotalCount":0,"InstanceStatusSet":[],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}"#
        );
    }

    /// A serialised reply makes the same bytes as the same fields as values, and parses back.
    #[test]
    fn serialized_replies_match_field_replies() {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Page<'a> {
            total_count: usize,
            instance_status_set: Vec<(&'a str, &'a str)>,
            note: &'a str,
        }
        let page = Page {
            total_count: 2,
            instance_status_set: vec![("ins-1", "RUNNING"), ("ins-2", "a \"quoted\" \u{1F600}")],
            note: "\"RequestId\":",
        };
        let reply = Reply::serialize(&page).unwrap();
        let Value::Object(fields) = serde_json::to_value(&page).unwrap() else {
            unreachable!()
        };
        assert_eq!(
            success(reply.clone(), "rid"),
            success(Reply::Fields(fields.clone()), "rid")
        );
        let Reply::Serialized(s) = &reply else {
            panic!("not serialised")
        };
        assert!(
            s.members().starts_with("\"TotalCount\":2,"),
            "{}",
            s.members()
        );
        assert_eq!(reply.into_map(), fields);
        let empty = Reply::serialize(&serde_json::Map::new()).unwrap();
        assert_eq!(success(empty, "r"), br#"{"Response":{"RequestId":"r"}}"#);
    }

    /// A written reply is the same bytes as the same data serialised by serde_json.
    #[test]
    fn written_replies_match_serialized_ones() {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Item<'a> {
            id: &'a str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Page<'a> {
            total: u64,
            set: Vec<Item<'a>>,
            note: &'a str,
        }
        let ids = ["ins-1", "a \"q\" \\ \n \u{1}", "\u{1F600}", ""];
        let page = Page {
            total: 12_345,
            set: ids.iter().map(|id| Item { id }).collect(),
            note: "end",
        };
        let written = Reply::write(|m| {
            m.u64("Total", page.total);
            m.objects("Set", &page.set, |m, i| m.str("Id", i.id));
            m.str("Note", page.note);
        });
        assert_eq!(written, Reply::serialize(&page).unwrap());
        assert_eq!(
            success(Reply::write(|_| {}), "r"),
            br#"{"Response":{"RequestId":"r"}}"#
        );
    }

    proptest::proptest! {
        /// Any string is written as serde_json writes it.
        #[test]
        fn written_strings_match_serde_json(s in ".*") {
            let mut out = Vec::new();
            write_json_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }
    }

    /// Only an object can be a reply, and it cannot carry the envelope's RequestId.
    #[test]
    fn serialized_replies_refuse_non_objects_and_request_id() {
        assert!(Reply::serialize(&vec![1, 2]).is_err());
        assert!(Reply::serialize(&"text").is_err());
        assert!(Reply::serialize(&json!({"RequestId": "x"})).is_err());
        assert!(Reply::serialize(&json!({"A": {"RequestId": "x"}})).is_err());
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

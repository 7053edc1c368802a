//! Rendering a spec as diff-friendly JSON.
//!
//! serde_json's pretty printer spreads every member over six lines, which makes the files
//! large and their diffs noisy. Here each action, member and error code takes exactly one
//! line (an action's own error codes follow it, one per line), so a model update shows up as
//! the lines of the members that changed.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

use crate::convert::{Action, Spec};

/// Compact JSON with a space after `:` and `,`: `{"name": "Limit", "type": "int"}`.
struct Spaced;

impl Formatter for Spaced {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

pub(crate) fn inline<T: Serialize + ?Sized>(value: &T) -> String {
    let mut buf = Vec::new();
    value
        .serialize(&mut Serializer::with_formatter(&mut buf, Spaced))
        .expect("serialising to memory cannot fail");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}

/// Writes `items` as the body of a block, one per line, commas between.
fn lines<I: ExactSizeIterator<Item = String>>(out: &mut String, indent: &str, items: I) {
    let n = items.len();
    for (i, item) in items.enumerate() {
        out.push_str(indent);
        out.push_str(&item);
        if i + 1 < n {
            out.push(',');
        }
        out.push('\n');
    }
}

/// An action on one line; its error codes, when it has some, one per line after it:
/// `{"input": "A", "output": "B", "errors": [` … `]}`.
fn action_text(action: &Action) -> String {
    if action.errors.is_empty() {
        return inline(action);
    }
    let mut head = inline(&Action {
        errors: Vec::new(),
        ..action.clone()
    });
    head.pop(); // the closing brace
    let mut out = format!("{head}, \"errors\": [\n");
    lines(&mut out, "      ", action.errors.iter().map(inline));
    out.push_str("    ]}");
    out
}

/// The file text of a spec: valid JSON, the same value as serialising `spec` directly.
pub(crate) fn render(spec: &Spec) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("{\n");
    out.push_str(&format!("  \"service\": {},\n", inline(&spec.service)));
    out.push_str(&format!("  \"version\": {},\n", inline(&spec.version)));
    out.push_str(&format!("  \"source\": {},\n", inline(&spec.source)));

    if spec.actions.is_empty() {
        out.push_str("  \"actions\": {},\n");
    } else {
        out.push_str("  \"actions\": {\n");
        let n = spec.actions.len();
        for (i, (name, action)) in spec.actions.iter().enumerate() {
            let comma = if i + 1 < n { "," } else { "" };
            out.push_str(&format!(
                "    {}: {}{comma}\n",
                inline(name),
                action_text(action)
            ));
        }
        out.push_str("  },\n");
    }

    if spec.objects.is_empty() {
        out.push_str("  \"objects\": {},\n");
    } else {
        out.push_str("  \"objects\": {\n");
        let n = spec.objects.len();
        for (i, (name, members)) in spec.objects.iter().enumerate() {
            let comma = if i + 1 < n { "," } else { "" };
            if members.is_empty() {
                out.push_str(&format!("    {}: []{comma}\n", inline(name)));
            } else {
                out.push_str(&format!("    {}: [\n", inline(name)));
                lines(&mut out, "      ", members.iter().map(inline));
                out.push_str(&format!("    ]{comma}\n"));
            }
        }
        out.push_str("  },\n");
    }

    if spec.errors.is_empty() {
        out.push_str("  \"errors\": []\n");
    } else {
        out.push_str("  \"errors\": [\n");
        lines(&mut out, "    ", spec.errors.iter().map(inline));
        out.push_str("  ]\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::convert::{Member, Source};

    fn member(name: &str, required: bool) -> Member {
        Member {
            name: name.to_owned(),
            kind: "string".to_owned(),
            member: "string".to_owned(),
            required,
            output_required: false,
            nullable: false,
            disabled: false,
        }
    }

    fn spec() -> Spec {
        let mut actions = BTreeMap::new();
        actions.insert(
            "DescribeThings".to_owned(),
            Action {
                status: Some("online".to_owned()),
                input: "DescribeThingsRequest".to_owned(),
                output: "DescribeThingsResponse".to_owned(),
                skip_sign: false,
                rate_limit: None,
                errors: vec![],
            },
        );
        actions.insert(
            "RunThing".to_owned(),
            Action {
                status: None,
                input: "DescribeThingsRequest".to_owned(),
                output: "DescribeThingsResponse".to_owned(),
                skip_sign: false,
                rate_limit: None,
                errors: vec!["A.B".to_owned(), "In\"valid".to_owned()],
            },
        );
        let mut objects = BTreeMap::new();
        objects.insert("DescribeThingsRequest".to_owned(), vec![]);
        objects.insert(
            "DescribeThingsResponse".to_owned(),
            vec![member("Quote\"d", true), member("RequestId", false)],
        );
        Spec {
            service: "thing".to_owned(),
            version: "2020-01-02".to_owned(),
            source: Source {
                tccli: Some("1.2.3".to_owned()),
                sdk: None,
                go_sdk: Some("example.com/thing v1.0.0".to_owned()),
            },
            actions,
            objects,
            errors: vec!["A.B".to_owned(), "C".to_owned()],
        }
    }

    #[test]
    fn rendering_is_the_same_json_value() {
        let s = spec();
        let text = render(&s);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, serde_json::to_value(&s).unwrap());
    }

    #[test]
    fn one_item_per_line() {
        let text = render(&spec());
        let expected = r#"{
  "service": "thing",
  "version": "2020-01-02",
  "source": {"tccli": "1.2.3", "sdk": null, "go_sdk": "example.com/thing v1.0.0"},
  "actions": {
    "DescribeThings": {"status": "online", "input": "DescribeThingsRequest", "output": "DescribeThingsResponse"},
    "RunThing": {"input": "DescribeThingsRequest", "output": "DescribeThingsResponse", "errors": [
      "A.B",
      "In\"valid"
    ]}
  },
  "objects": {
    "DescribeThingsRequest": [],
    "DescribeThingsResponse": [
      {"name": "Quote\"d", "type": "string", "member": "string", "required": true},
      {"name": "RequestId", "type": "string", "member": "string"}
    ]
  },
  "errors": [
    "A.B",
    "C"
  ]
}
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn empty_collections_stay_valid() {
        let mut s = spec();
        s.actions.clear();
        s.objects.clear();
        s.errors.clear();
        s.source.go_sdk = None;
        let text = render(&s);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, serde_json::to_value(&s).unwrap());
        assert!(text.contains("\"errors\": []"));
        assert!(!text.contains("go_sdk"));
    }

    #[test]
    fn an_action_with_codes_is_the_same_json_value() {
        let mut s = spec();
        s.actions.remove("DescribeThings");
        let text = render(&s);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, serde_json::to_value(&s).unwrap());
        assert_eq!(parsed["actions"]["RunThing"]["errors"][1], "In\"valid");
    }
}

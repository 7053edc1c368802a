//! `codegen`: writes the SDK's typed product code from the spec data.
//!
//! For each product listed in [`TARGETS`], `specs/<service>/<version>.json` becomes
//! `crates/sdk/src/<service>/generated.rs`: one request and one response struct per action,
//! the data structures they use, and one async method per action on the product handle
//! (`crates/sdk/src/<service>/mod.rs`, hand-written). The output is run through `rustfmt`
//! with the repository's settings, so `cargo fmt` leaves it alone, and is committed;
//! `codegen --check` (and the test below) fail when regenerating would change it.
//!
//! Typing rules:
//! * Every member of a structure reachable from a request is an `Option`, left out when
//!   `None`: the caller sets what it needs and the service checks the rest.
//! * In structures only answers use, a member the model marks always present and not
//!   nullable is a plain value (a `null` or missing one decodes as its default); the others
//!   are `Option`s.
//! * `int64` → `i64`, `uint64` → `u64`, `float`/`double` → `f64`, dates and binary → `String`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use tclocal_wire::spec::{Kind, Member, ServiceSpec};

/// The products the SDK has typed code for: (service, version, handle type).
pub(crate) const TARGETS: &[(&str, &str, &str)] = &[("cvm", "2017-03-12", "Cvm")];

/// One generated file: where it goes and what it holds.
pub(crate) struct Output {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
}

/// Renders every target (formatted), relative to the repository root `repo`.
pub(crate) fn render_all(repo: &Path) -> Result<Vec<Output>> {
    let mut out = Vec::new();
    for (service, version, handle) in TARGETS {
        let spec_rel = format!("specs/{service}/{version}.json");
        let json = std::fs::read_to_string(repo.join(&spec_rel))
            .with_context(|| format!("reading {spec_rel}"))?;
        let spec = ServiceSpec::from_json(&json).with_context(|| format!("parsing {spec_rel}"))?;
        let text = render(&spec, &spec_rel, handle)?;
        out.push(Output {
            path: repo.join(format!("crates/sdk/src/{service}/generated.rs")),
            text: rustfmt(repo, &text)?,
        });
    }
    Ok(out)
}

/// Writes the generated files, or with `check` only compares them; returns one line per file.
pub(crate) fn run(repo: &Path, check: bool) -> Result<Vec<String>> {
    let mut report = Vec::new();
    let mut stale = Vec::new();
    for o in render_all(repo)? {
        let current = std::fs::read_to_string(&o.path).unwrap_or_default();
        let rel = o
            .path
            .strip_prefix(repo)
            .unwrap_or(&o.path)
            .display()
            .to_string();
        if current == o.text {
            report.push(format!("{rel}: up to date"));
        } else if check {
            stale.push(rel);
        } else {
            std::fs::write(&o.path, &o.text).with_context(|| format!("writing {rel}"))?;
            report.push(format!("{rel}: written"));
        }
    }
    if !stale.is_empty() {
        bail!(
            "generated code is stale: {}; run `cargo run -p xtask -- codegen`",
            stale.join(", ")
        );
    }
    Ok(report)
}

fn rustfmt(repo: &Path, text: &str) -> Result<String> {
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut child = Command::new(rustfmt)
        .args(["--edition", "2024", "--emit", "stdout", "--config-path"])
        .arg(repo.join("rustfmt.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    child
        .stdin
        .take()
        .context("rustfmt stdin")?
        .write_all(text.as_bytes())
        .context("writing to rustfmt")?;
    let out = child.wait_with_output().context("waiting for rustfmt")?;
    if !out.status.success() {
        bail!(
            "rustfmt rejected the generated code: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).context("rustfmt output is not UTF-8")
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names the generated module itself uses.
const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Serialize",
    "Deserialize",
];

/// `DescribeInstancesStatus` → `describe_instances_status`, `GPUInfo` → `gpu_info`,
/// `IPv6Addresses` → `ipv6_addresses`, `CPU` → `cpu`.
pub(crate) fn snake_case(name: &str) -> String {
    // "IPv4"/"IPv6" would otherwise split as "i_pv6".
    let name = name.replace("IPv", "Ipv");
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn ident(name: &str) -> String {
    let s = snake_case(name);
    if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

fn is_primitive(member: &str) -> bool {
    matches!(
        member,
        "string"
            | "int64"
            | "uint64"
            | "bool"
            | "float"
            | "double"
            | "datetime"
            | "datetime_iso"
            | "date"
            | "binary"
    )
}

fn scalar_type(member: &str) -> Result<&'static str> {
    Ok(match member {
        "string" | "datetime" | "datetime_iso" | "date" | "binary" => "String",
        "int64" => "i64",
        "uint64" => "u64",
        "bool" => "bool",
        "float" | "double" => "f64",
        other => bail!("unknown primitive type {other:?}"),
    })
}

/// The Rust type of a member, without the outer `Option`.
fn member_type(m: &Member) -> Result<String> {
    let element = if is_primitive(&m.member) {
        scalar_type(&m.member)?.to_owned()
    } else {
        m.member.clone()
    };
    Ok(match m.kind {
        Kind::List => format!("Vec<{element}>"),
        _ => element,
    })
}

fn reachable(spec: &ServiceSpec, roots: impl Iterator<Item = String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        for m in spec.object(&name).unwrap_or_default() {
            if !is_primitive(&m.member) {
                todo.push(m.member.clone());
            }
        }
    }
    seen
}

/// Fails on a structure that contains itself through non-list members (it would need a Box).
fn check_acyclic(spec: &ServiceSpec) -> Result<()> {
    fn visit<'a>(
        spec: &'a ServiceSpec,
        name: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Result<()> {
        if done.contains(name) {
            return Ok(());
        }
        if path.contains(&name) {
            bail!("structure cycle {} -> {name}", path.join(" -> "));
        }
        path.push(name);
        for m in spec.object(name).unwrap_or_default() {
            if m.kind == Kind::Object {
                visit(spec, &m.member, path, done)?;
            }
        }
        path.pop();
        done.insert(name);
        Ok(())
    }
    let mut done = BTreeSet::new();
    for name in spec.objects.keys() {
        visit(spec, name, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}

fn member_doc(m: &Member, plain: bool) -> String {
    let mut notes = Vec::new();
    match m.member.as_str() {
        "datetime_iso" => notes.push("ISO 8601 time".to_owned()),
        "datetime" => notes.push("`YYYY-MM-DD hh:mm:ss`".to_owned()),
        "date" => notes.push("`YYYY-MM-DD`".to_owned()),
        "binary" => notes.push("binary content".to_owned()),
        _ => {}
    }
    if m.required {
        notes.push("required".to_owned());
    }
    if m.nullable && !plain {
        notes.push("may be null".to_owned());
    }
    if m.disabled {
        notes.push("hidden in the published model".to_owned());
    }
    if notes.is_empty() {
        format!("`{}`.", m.name)
    } else {
        format!("`{}` ({}).", m.name, notes.join("; "))
    }
}

/// Renders one product's generated module (unformatted).
pub(crate) fn render(spec: &ServiceSpec, spec_rel: &str, handle: &str) -> Result<String> {
    check_acyclic(spec)?;
    let service = &spec.service;
    let version = &spec.version;
    let input_side = reachable(spec, spec.actions.values().map(|a| a.input.clone()));
    let request_of: BTreeMap<&str, &str> = spec
        .actions
        .iter()
        .map(|(name, a)| (a.input.as_str(), name.as_str()))
        .collect();
    let response_of: BTreeMap<&str, &str> = spec
        .actions
        .iter()
        .map(|(name, a)| (a.output.as_str(), name.as_str()))
        .collect();
    for name in spec.objects.keys() {
        if RESERVED_TYPES.contains(&name.as_str()) || name == handle {
            bail!("structure name {name} clashes with a name the generated code uses");
        }
    }

    let mut o = String::new();
    writeln!(
        o,
        "//! @generated by `cargo run -p xtask -- codegen` from {spec_rel}; do not edit"
    )?;
    writeln!(o, "//!")?;
    writeln!(
        o,
        "//! {} {version}: one request and one response type per action, the structures they use,",
        service.to_uppercase()
    )?;
    writeln!(
        o,
        "//! and one method per action on [`{handle}`]. Field docs give the wire name."
    )?;
    writeln!(o)?;
    writeln!(o, "use serde::{{Deserialize, Serialize}};")?;
    writeln!(o)?;
    writeln!(o, "use super::{handle};")?;
    writeln!(o, "use crate::error::Result;")?;
    writeln!(o)?;
    writeln!(
        o,
        "/// The product's short name: the service of the TC3 credential scope."
    )?;
    writeln!(o, "pub const SERVICE: &str = {service:?};")?;
    writeln!(o, "/// The API version these types follow.")?;
    writeln!(o, "pub const VERSION: &str = {version:?};")?;
    let token_actions: Vec<&str> = spec
        .actions
        .iter()
        .filter(|(_, a)| {
            spec.object(&a.input)
                .is_some_and(|ms| ms.iter().any(|m| m.name == "ClientToken"))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    writeln!(
        o,
        "/// The actions whose request has a `ClientToken`, filled in when retries are on."
    )?;
    writeln!(
        o,
        "pub const CLIENT_TOKEN_ACTIONS: &[&str] = &{token_actions:?};"
    )?;
    writeln!(o)?;

    // Methods.
    writeln!(o, "impl {handle} {{")?;
    let mut methods = BTreeSet::new();
    for (i, (name, action)) in spec.actions.iter().enumerate() {
        if i > 0 {
            writeln!(o)?;
        }
        let method = ident(name);
        if !methods.insert(method.clone()) {
            bail!("two actions map to the method name {method}");
        }
        let has_token = token_actions.contains(&name.as_str());
        writeln!(
            o,
            "/// `{name}`: <https://console.cloud.tencent.com/api/explorer?Product={service}&Version={version}&Action={name}>"
        )?;
        if action.status != tclocal_wire::spec::ActionStatus::Online {
            writeln!(o, "///")?;
            writeln!(o, "/// The model marks this action {:?}.", action.status)?;
        }
        writeln!(o, "///")?;
        writeln!(o, "/// # Errors")?;
        writeln!(o, "/// See [`crate::Error`].")?;
        writeln!(
            o,
            "pub async fn {method}(&self, request: &{}) -> Result<{}> {{",
            action.input, action.output
        )?;
        writeln!(
            o,
            "self.client.call_typed(SERVICE, VERSION, {name:?}, request, {has_token}).await"
        )?;
        writeln!(o, "}}")?;
    }
    writeln!(o, "}}")?;

    // Structures.
    for (name, members) in &spec.objects {
        writeln!(o)?;
        let input = input_side.contains(name);
        if let Some(action) = request_of.get(name.as_str()) {
            writeln!(o, "/// Request of [`{handle}::{}`].", ident(action))?;
        } else if let Some(action) = response_of.get(name.as_str()) {
            writeln!(o, "/// Response of [`{handle}::{}`].", ident(action))?;
        } else {
            writeln!(o, "/// `{name}`.")?;
        }
        let redacted = members.iter().any(|m| is_secret(&m.name));
        if redacted {
            writeln!(
                o,
                "#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]"
            )?;
        } else {
            writeln!(
                o,
                "#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]"
            )?;
        }
        writeln!(o, "pub struct {name} {{")?;
        let mut fields = BTreeSet::new();
        for m in members {
            let field = ident(&m.name);
            if !fields.insert(field.clone()) {
                bail!("{name}: two members map to the field name {field}");
            }
            let ty = member_type(m)?;
            if !input && m.name == "RequestId" {
                writeln!(
                    o,
                    "/// `RequestId`: the answer's id, to quote when asking about a call."
                )?;
                writeln!(o, "#[serde(rename = \"RequestId\", default)]")?;
                writeln!(o, "pub request_id: String,")?;
                continue;
            }
            let plain = !input && m.output_required && !m.nullable;
            writeln!(o, "/// {}", member_doc(m, plain))?;
            if plain {
                writeln!(
                    o,
                    "#[serde(rename = {:?}, default, deserialize_with = \"crate::de::null_as_default\")]",
                    m.name
                )?;
                writeln!(o, "pub {field}: {ty},")?;
            } else {
                writeln!(
                    o,
                    "#[serde(rename = {:?}, default, skip_serializing_if = \"Option::is_none\")]",
                    m.name
                )?;
                writeln!(o, "pub {field}: Option<{ty}>,")?;
            }
        }
        writeln!(o, "}}")?;
        if redacted {
            write_redacted_debug(&mut o, name, members, input)?;
        }
    }
    Ok(o)
}

/// Whether a member holds a secret (a password, a private key), which `Debug` must not print.
fn is_secret(member: &str) -> bool {
    member.ends_with("Password") || member.ends_with("PrivateKey")
}

/// `Debug` for a structure with secret members: like the derived one, with each secret shown
/// as `***` (or `None` when absent), so logging a request or an answer leaks none.
fn write_redacted_debug(
    o: &mut String,
    name: &str,
    members: &[tclocal_wire::spec::Member],
    input: bool,
) -> Result<()> {
    writeln!(o)?;
    writeln!(o, "impl std::fmt::Debug for {name} {{")?;
    writeln!(
        o,
        "fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{"
    )?;
    writeln!(o, "f.debug_struct({name:?})")?;
    for m in members {
        let field = ident(&m.name);
        let shown = field.trim_start_matches("r#");
        let plain = !input && m.output_required && !m.nullable;
        if is_secret(&m.name) && plain {
            writeln!(o, ".field({shown:?}, &crate::Redacted)")?;
        } else if is_secret(&m.name) {
            writeln!(
                o,
                ".field({shown:?}, &self.{field}.as_ref().map(|_| crate::Redacted))"
            )?;
        } else {
            writeln!(o, ".field({shown:?}, &self.{field})")?;
        }
    }
    writeln!(o, ".finish()")?;
    writeln!(o, "}}")?;
    writeln!(o, "}}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms_and_digits() {
        for (from, to) in [
            ("DescribeInstancesStatus", "describe_instances_status"),
            ("CPU", "cpu"),
            ("GPUInfo", "gpu_info"),
            ("IPv6Addresses", "ipv6_addresses"),
            ("PublicIPv6Addresses", "public_ipv6_addresses"),
            ("InstanceId", "instance_id"),
            ("Ipv6AddressCount", "ipv6_address_count"),
            ("RunInstances", "run_instances"),
            ("DataDisk2", "data_disk2"),
        ] {
            assert_eq!(snake_case(from), to, "{from}");
        }
        assert_eq!(ident("Type"), "r#type");
    }

    #[test]
    fn render_types_requests_as_options_and_answers_as_values() {
        let spec = ServiceSpec::from_json(
            r#"{"service": "demo", "version": "2020-01-01",
                "actions": {"Get": {"input": "GetRequest", "output": "GetResponse"}},
                "objects": {
                  "GetRequest": [{"name": "ClientToken", "type": "string", "member": "string", "required": true}],
                  "GetResponse": [
                    {"name": "Items", "type": "list", "member": "Item", "output_required": true},
                    {"name": "Note", "type": "string", "member": "string", "output_required": true, "nullable": true},
                    {"name": "RequestId", "type": "string", "member": "string"}],
                  "Item": [{"name": "Type", "type": "int", "member": "uint64", "output_required": true}]
                }}"#,
        )
        .unwrap();
        let code = render(&spec, "specs/demo/2020-01-01.json", "Demo").unwrap();
        assert!(code.starts_with("//! @generated by"));
        assert!(code.contains("pub const CLIENT_TOKEN_ACTIONS: &[&str] = &[\"Get\"];"));
        assert!(code.contains("pub client_token: Option<String>,"));
        assert!(code.contains("pub items: Vec<Item>,"));
        assert!(code.contains("pub note: Option<String>,"));
        assert!(code.contains("pub r#type: u64,"));
        assert!(code.contains("pub request_id: String,"));
        assert!(
            code.contains("pub async fn get(&self, request: &GetRequest) -> Result<GetResponse>")
        );
    }

    /// A structure with a secret member gets a `Debug` that shows the secret as `***`.
    #[test]
    fn secret_members_are_redacted_in_debug() {
        let spec = ServiceSpec::from_json(
            r#"{"service": "demo", "version": "2020-01-01", "actions": {},
                "objects": {
                  "Login": [{"name": "Password", "type": "string", "member": "string"},
                            {"name": "User", "type": "string", "member": "string"}],
                  "Plain": [{"name": "User", "type": "string", "member": "string"}],
                  "Issued": [{"name": "PrivateKey", "type": "string", "member": "string", "output_required": true}]
                }}"#,
        )
        .unwrap();
        let code = render(&spec, "specs/demo/2020-01-01.json", "Demo").unwrap();
        let login = &code[code.find("pub struct Login").unwrap()..];
        assert!(login.contains("impl std::fmt::Debug for Login"), "{code}");
        assert!(login.contains(".map(|_| crate::Redacted)"), "{code}");
        assert!(login.contains(".field(\"user\", &self.user)"), "{code}");
        let derives: Vec<&str> = code
            .lines()
            .filter(|l| l.starts_with("#[derive("))
            .collect();
        assert_eq!(
            derives.iter().filter(|l| l.contains("Debug")).count(),
            1,
            "{code}"
        );
        assert!(!code.contains("impl std::fmt::Debug for Plain"), "{code}");
        // A member always present in an answer is a plain field, shown as `***` outright.
        let issued = &code[code.find("impl std::fmt::Debug for Issued").unwrap()..];
        assert!(
            issued.contains(".field(\"private_key\", &crate::Redacted)"),
            "{code}"
        );
    }

    #[test]
    fn cycles_and_clashes_are_refused() {
        let cyclic = ServiceSpec::from_json(
            r#"{"service": "d", "version": "v", "actions": {},
                "objects": {"A": [{"name": "B", "type": "object", "member": "B"}],
                            "B": [{"name": "A", "type": "object", "member": "A"}]}}"#,
        )
        .unwrap();
        assert!(render(&cyclic, "x", "D").is_err());
        let clash = ServiceSpec::from_json(
            r#"{"service": "d", "version": "v", "actions": {}, "objects": {"Result": []}}"#,
        )
        .unwrap();
        assert!(render(&clash, "x", "D").is_err());
    }

    /// The committed generated files are exactly what the generator writes today.
    #[test]
    fn committed_generated_code_is_up_to_date() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        run(repo, true).unwrap();
    }
}

//! CAM policy documents (version 2.0) and their evaluation.
//!
//! This module is pure: it parses documents and decides requests, with no I/O and no clock
//! (the caller passes the current time in [`Request::now_unix`]).
//!
//! # Syntax
//!
//! ```json
//! {"version": "2.0",
//!  "statement": [{"effect": "allow",
//!                 "action": ["name/cvm:Describe*"],
//!                 "resource": ["qcs::cvm:ap-guangzhou:uin/100000000001:instance/*"],
//!                 "condition": {"ip_equal": {"qcs:ip": ["10.0.0.0/8"]}}}]}
//! ```
//!
//! - Element names are lower case (`version`, `statement`, `effect`, `action`, `resource`,
//!   `condition`, `principal`); any other element is rejected. `version` must be `"2.0"`.
//! - `effect` is `allow` or `deny`. `action` and `resource` are a string or a list of strings.
//!   `principal` is accepted (role trust policies) and ignored here; a statement that has a
//!   `principal` may leave out `resource`.
//! - An action is `*` or `service:Action`, optionally prefixed `name/`; `*` and `?` are
//!   wildcards anywhere. Actions compare case-insensitively (`cvm:describe*` covers
//!   `cvm:DescribeInstances`). A feature-set action (`permid/…`) is accepted but grants
//!   nothing: tclocal does not model feature sets.
//! - A resource is `*` or the six-segment `qcs:project:service:region:account:resource`. An
//!   empty project, region or account segment matches any value (`qcs::cvm::uin/1:instance/*`
//!   covers every region); otherwise each segment is a glob. The service segment compares
//!   case-insensitively, the others exactly. Region short names of older documents (`bj`,
//!   `gz`, `sh`, …) equal their long ids. A request resource is matched literally: the
//!   request resource `qcs::cvm:ap-guangzhou:uin/1:*` (an action without resource-level
//!   permissions) is covered by `*` or `qcs::cvm::uin/1:*`, not by `…:instance/*`.
//! - `condition` maps operators to `{key: value | [values]}`. Operators: `string_equal`,
//!   `string_not_equal`, `string_equal_ignore_case`, `string_not_equal_ignore_case`,
//!   `string_like`, `string_not_like`, `numeric_{equal,not_equal,less_than,less_than_equal,
//!   greater_than,greater_than_equal}`, `date_{…same…}`, `bool_equal`, `binary_equal`,
//!   `ip_equal`, `ip_not_equal`, `null_equal`; each may end in `_if_exist` and start with
//!   `for_any_value:` or `for_all_value:`. An unknown operator is rejected at parse time.
//!   Several operators, and several keys under one operator, must all hold (AND); several
//!   values of one key are alternatives (OR; NOR for the negated operators).
//! - Context keys known here: `qcs:ip` (the client address; values are addresses or CIDR
//!   blocks, v4 or v6), `qcs:current_time` (ISO 8601, UTC unless an offset is given),
//!   `mfa` (`"1"`/`"0"`, the key of CAM's own MFA policies; `qcs:mfa` is tclocal's alias,
//!   and `bool_equal` takes `true`/`false`), `<service>:region` (e.g. `cvm:region`) and
//!   `qcs:region` (tclocal's alias). Any other key (e.g. `qcs:resource_tag`) is absent.
//! - An absent key makes a condition false, except for the negated operators, `…_if_exist`,
//!   `for_all_value:` and `null_equal: true`, which hold (the documented `_if_exist` meaning;
//!   the rest follows the common IAM convention, as the CAM pages say nothing).
//!
//! # Evaluation
//!
//! Each request resource is decided on its own: a matching `deny` statement in any policy
//! is an explicit deny; otherwise a matching `allow` allows it; otherwise it is implicitly
//! denied. The request is allowed when every resource is. Whether to evaluate at all (root
//! accounts are allowed) and which policies apply (attached, group, role; CAM's general
//! policies such as "querying keys needs MFA") is the caller's business.
//!
//! Sources:
//! - element reference: <https://www.tencentcloud.com/document/product/598/10603>
//! - product syntax pages, e.g. CVM: <https://cloud.tencent.com/document/product/213/10313>
//! - condition keys and operators: <https://www.tencentcloud.com/document/product/598/58420>
//! - condition logic, `_if_exist`, `for_any_value:`:
//!   <https://cloud.tencent.com/document/product/598/73087>
//! - evaluation logic and the MFA general policies (`{"string_equal":{"mfa":"0"}}`):
//!   <https://cloud.tencent.com/document/product/598/10605>
//! - region-less resources match any region: <https://cloud.tencent.com/document/product/598/10607>
//! - error codes: CAM 2019-01-16 `InvalidParameter.*` (see [`PolicyError::code`]).
//!
//! ```
//! use tclocal_services::cam::policy::{self, Decision, Request};
//!
//! let read_only = policy::parse(
//!     r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:Describe*","resource":"*"}]}"#,
//! )?;
//! let resources = ["qcs::cvm:ap-guangzhou:uin/100000000001:*".to_owned()];
//! let mut req = Request {
//!     action: "cvm:DescribeInstances",
//!     resources: &resources,
//!     client_ip: None,
//!     mfa: false,
//!     now_unix: 1_700_000_000,
//!     region: Some("ap-guangzhou"),
//! };
//! assert_eq!(policy::evaluate(&[&read_only], &req), Decision::Allow);
//! req.action = "cvm:RunInstances";
//! assert_eq!(policy::evaluate(&[&read_only], &req), Decision::ImplicitDeny);
//! # Ok::<(), policy::PolicyError>(())
//! ```

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use serde::Deserialize;
use serde_json::{Map, Value};
use tclocal_wire::Language;
use tclocal_wire::catalogue::Localized;

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
}

/// Why a document is not a valid policy. The message says where and what; [`Self::code`]
/// gives the CAM error code that `CreatePolicy` answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, not an object, or an unknown top-level element
    /// (`InvalidParameter.PolicyDocumentError`).
    #[error("{0}")]
    Document(String),
    /// `version` missing or not `"2.0"` (`InvalidParameter.VersionError`).
    #[error("{0}")]
    Version(String),
    /// `statement` missing, empty or malformed (`InvalidParameter.StatementError`).
    #[error("{0}")]
    Statement(String),
    /// `effect` missing or not `allow`/`deny` (`InvalidParameter.EffectError`).
    #[error("{0}")]
    Effect(String),
    /// `action` missing (`InvalidParameter.ActionMiss`).
    #[error("{0}")]
    ActionMissing(String),
    /// `action` malformed (`InvalidParameter.ActionError`).
    #[error("{0}")]
    Action(String),
    /// `resource` missing or not a string or list of strings (`InvalidParameter.ResourceError`).
    #[error("{0}")]
    Resource(String),
    /// A resource neither `*` nor `qcs:…` (`InvalidParameter.ResourceQcsError`).
    #[error("{0}")]
    ResourceQcs(String),
    /// A `qcs:` resource without six segments, a service or a resource part
    /// (`InvalidParameter.ResourceContentError`).
    #[error("{0}")]
    ResourceContent(String),
    /// A resource whose account segment is not `uin/…` or `uid/…`
    /// (`InvalidParameter.ResourceUinError`).
    #[error("{0}")]
    ResourceUin(String),
    /// `principal` malformed (`InvalidParameter.PrincipalError`).
    #[error("{0}")]
    Principal(String),
    /// `condition` not shaped `{operator: {key: value}}` (`InvalidParameter.ConditionError`).
    #[error("{0}")]
    Condition(String),
    /// An unknown condition operator (`InvalidParameter.ConditionTypeError`).
    #[error("{0}")]
    ConditionType(String),
    /// A condition value the operator cannot use, e.g. a bad CIDR block or date
    /// (`InvalidParameter.ConditionContentError`).
    #[error("{0}")]
    ConditionContent(String),
}

impl PolicyError {
    /// The CAM error code for this error, e.g. `InvalidParameter.EffectError`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::Document(_) => "InvalidParameter.PolicyDocumentError",
            PolicyError::Version(_) => "InvalidParameter.VersionError",
            PolicyError::Statement(_) => "InvalidParameter.StatementError",
            PolicyError::Effect(_) => "InvalidParameter.EffectError",
            PolicyError::ActionMissing(_) => "InvalidParameter.ActionMiss",
            PolicyError::Action(_) => "InvalidParameter.ActionError",
            PolicyError::Resource(_) => "InvalidParameter.ResourceError",
            PolicyError::ResourceQcs(_) => "InvalidParameter.ResourceQcsError",
            PolicyError::ResourceContent(_) => "InvalidParameter.ResourceContentError",
            PolicyError::ResourceUin(_) => "InvalidParameter.ResourceUinError",
            PolicyError::Principal(_) => "InvalidParameter.PrincipalError",
            PolicyError::Condition(_) => "InvalidParameter.ConditionError",
            PolicyError::ConditionType(_) => "InvalidParameter.ConditionTypeError",
            PolicyError::ConditionContent(_) => "InvalidParameter.ConditionContentError",
        }
    }
}

/// One call to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `cvm:RunInstances` (a `name/` prefix is ignored).
    pub action: &'a str,
    /// The resources the call touches, six-segment, e.g.
    /// `qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-abcd1234`, or
    /// `qcs::cvm:ap-guangzhou:uin/100000000001:*` for an action without resource-level
    /// permissions. Empty means `*`.
    pub resources: &'a [String],
    /// The client address (`qcs:ip`), when known.
    pub client_ip: Option<IpAddr>,
    /// The credential carries a fresh MFA proof (`mfa`).
    pub mfa: bool,
    /// The current time in Unix seconds (`qcs:current_time`).
    pub now_unix: i64,
    /// The request's region (`cvm:region`, `qcs:region`), when it has one.
    pub region: Option<&'a str>,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Some `allow` statement covers every resource and no `deny` statement matches.
    Allow,
    /// A `deny` statement matches; `statement` is its index within its policy.
    ExplicitDeny {
        /// Index of the denying statement in its policy's `statement` list.
        statement: usize,
    },
    /// Nothing allows the request.
    ImplicitDeny,
}

/// Parses a policy document.
///
/// # Errors
/// A [`PolicyError`] naming the element at fault and what is wrong with it.
pub fn parse(document: &str) -> Result<Policy, PolicyError> {
    let value: Value = serde_json::from_str(document)
        .map_err(|e| PolicyError::Document(format!("the policy document is not JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(PolicyError::Document(
            "the policy document must be a JSON object".to_owned(),
        ));
    };
    for key in top.keys() {
        if key != "version" && key != "statement" {
            return Err(PolicyError::Document(format!(
                "unknown element `{key}`: a policy has `version` and `statement` \
                 (element names are lower case)"
            )));
        }
    }
    match top.get("version") {
        Some(Value::String(v)) if v == "2.0" => {}
        Some(other) => {
            return Err(PolicyError::Version(format!(
                "`version` must be \"2.0\", not {other}"
            )));
        }
        None => return Err(PolicyError::Version("`version` is missing".to_owned())),
    }
    let statements = match top.get("statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect::<Vec<_>>(),
        Some(Value::Array(_)) => {
            return Err(PolicyError::Statement(
                "`statement` must not be empty".to_owned(),
            ));
        }
        Some(one @ Value::Object(_)) => vec![one],
        Some(other) => {
            return Err(PolicyError::Statement(format!(
                "`statement` must be a list of objects, not {}",
                kind(other)
            )));
        }
        None => return Err(PolicyError::Statement("`statement` is missing".to_owned())),
    };
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(i, s)| parse_statement(i, s))
        .collect::<Result<_, _>>()?;
    Ok(Policy { statements })
}

/// Decides `req` against the policies attached to the caller: an explicit deny wins over
/// any allow; otherwise the request is allowed when an `allow` statement covers each of its
/// resources; otherwise it is implicitly denied.
#[must_use]
pub fn evaluate(policies: &[&Policy], req: &Request) -> Decision {
    let action = normalise_action(req.action);
    let service = action.split_once(':').map_or("", |(s, _)| s);
    let ctx = Context { req, service };
    let star = ["*".to_owned()];
    let resources = if req.resources.is_empty() {
        &star[..]
    } else {
        req.resources
    };
    let mut all_allowed = true;
    for resource in resources {
        let mut allowed = false;
        for policy in policies {
            for (i, st) in policy.statements.iter().enumerate() {
                if !st.applies(&action, resource, &ctx) {
                    continue;
                }
                match st.effect {
                    Effect::Deny => return Decision::ExplicitDeny { statement: i },
                    Effect::Allow => allowed = true,
                }
            }
        }
        all_allowed &= allowed;
    }
    if all_allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// True when the request is refused now but would be allowed with an MFA proof: the only
/// allowing statements need `mfa`, or a `deny` applies only for want of it (CAM's own
/// `{"string_equal":{"mfa":"0"}}` pattern). The caller then answers
/// `AuthFailure.MFAFailure` rather than an authorisation error.
#[must_use]
pub fn requires_mfa(policies: &[&Policy], req: &Request) -> bool {
    if req.mfa || evaluate(policies, req) == Decision::Allow {
        return false;
    }
    let with_mfa = Request { mfa: true, ..*req };
    evaluate(policies, &with_mfa) == Decision::Allow
}

// ---------------------------------------------------------------------------------------
// Statements

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    actions: Vec<ActionPattern>,
    resources: Vec<ResourcePattern>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
enum ActionPattern {
    /// A lower-case `service:Action` (or `*`) glob, `name/` removed.
    Api(String),
    /// `permid/…` and other prefixed forms: accepted, never match.
    FeatureSet,
}

#[derive(Debug, Clone)]
enum ResourcePattern {
    Any,
    Qcs(QcsPattern),
}

/// The five segments after `qcs:`; empty project, region or account mean "any".
#[derive(Debug, Clone)]
struct QcsPattern {
    project: String,
    /// Lower case.
    service: String,
    /// Long form (`ap-beijing` for `bj`).
    region: String,
    account: String,
    resource: String,
}

impl Statement {
    fn applies(&self, action: &str, resource: &str, ctx: &Context) -> bool {
        self.actions.iter().any(|a| a.matches(action))
            && self.resources.iter().any(|r| r.matches(resource))
            && self.conditions.iter().all(|c| c.holds(ctx))
    }
}

impl ActionPattern {
    fn matches(&self, action: &str) -> bool {
        match self {
            ActionPattern::Api(p) => glob(p, action),
            ActionPattern::FeatureSet => false,
        }
    }
}

impl ResourcePattern {
    fn matches(&self, resource: &str) -> bool {
        let QcsPattern {
            project,
            service,
            region,
            account,
            resource: rest,
        } = match self {
            ResourcePattern::Any => return true,
            ResourcePattern::Qcs(p) => p,
        };
        let Some([r_project, r_service, r_region, r_account, r_rest]) = split_qcs(resource) else {
            return false;
        };
        (project.is_empty() || glob(project, r_project))
            && glob(service, &r_service.to_lowercase())
            && (region.is_empty() || glob(region, &canonical_region(r_region)))
            && (account.is_empty() || glob(account, r_account))
            && glob(rest, r_rest)
    }
}

/// `qcs:project:service:region:account:resource` → the five segments after `qcs`.
fn split_qcs(s: &str) -> Option<[&str; 5]> {
    let mut it = s.splitn(6, ':');
    if !it.next()?.eq_ignore_ascii_case("qcs") {
        return None;
    }
    Some([it.next()?, it.next()?, it.next()?, it.next()?, it.next()?])
}

fn normalise_action(action: &str) -> String {
    let lower = action.to_lowercase();
    match lower.strip_prefix("name/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// Short region names found in older documents and examples (`qcs::cvm:bj:…`,
/// `"vpc:region": "sh"`), with the ids the API uses.
const REGION_ALIASES: &[(&str, &str)] = &[
    ("bj", "ap-beijing"),
    ("sh", "ap-shanghai"),
    ("gz", "ap-guangzhou"),
    ("cd", "ap-chengdu"),
    ("cq", "ap-chongqing"),
    ("nj", "ap-nanjing"),
    ("hk", "ap-hongkong"),
    ("sg", "ap-singapore"),
    ("kr", "ap-seoul"),
    ("jp", "ap-tokyo"),
    ("th", "ap-bangkok"),
    ("in", "ap-mumbai"),
    ("szjr", "ap-shenzhen-fsi"),
    ("shjr", "ap-shanghai-fsi"),
    ("usw", "na-siliconvalley"),
    ("use", "na-ashburn"),
    ("ca", "na-toronto"),
    ("de", "eu-frankfurt"),
    ("ru", "eu-moscow"),
];

fn canonical_region(region: &str) -> Cow<'_, str> {
    REGION_ALIASES
        .iter()
        .find(|(short, _)| *short == region)
        .map_or(Cow::Borrowed(region), |(_, long)| Cow::Borrowed(*long))
}

/// `*` matches any run of characters (also none), `?` exactly one.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and how much of the text it has swallowed so far.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

// ---------------------------------------------------------------------------------------
// Parsing statements

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn parse_statement(index: usize, value: &Value) -> Result<Statement, PolicyError> {
    let at = format!("statement[{index}]");
    let Value::Object(st) = value else {
        return Err(PolicyError::Statement(format!(
            "{at} must be an object, not {}",
            kind(value)
        )));
    };
    for key in st.keys() {
        if !matches!(
            key.as_str(),
            "effect" | "action" | "resource" | "condition" | "principal"
        ) {
            return Err(PolicyError::Statement(format!(
                "{at}: unknown element `{key}`; a statement has `effect`, `action`, \
                 `resource`, `condition` and `principal` (element names are lower case)"
            )));
        }
    }
    let effect = match st.get("effect") {
        Some(Value::String(e)) if e.eq_ignore_ascii_case("allow") => Effect::Allow,
        Some(Value::String(e)) if e.eq_ignore_ascii_case("deny") => Effect::Deny,
        Some(other) => {
            return Err(PolicyError::Effect(format!(
                "{at}.effect must be \"allow\" or \"deny\", not {other}"
            )));
        }
        None => return Err(PolicyError::Effect(format!("{at}.effect is missing"))),
    };
    if let Some(p) = st.get("principal") {
        check_principal(&at, p)?;
    }
    let Some(actions) = st.get("action") else {
        return Err(PolicyError::ActionMissing(format!(
            "{at}.action is missing"
        )));
    };
    let actions = strings(actions)
        .ok_or_else(|| {
            PolicyError::Action(format!(
                "{at}.action must be a string or a non-empty list of strings"
            ))
        })?
        .into_iter()
        .enumerate()
        .map(|(i, a)| parse_action(&format!("{at}.action[{i}]"), a))
        .collect::<Result<_, _>>()?;
    let resources = match st.get("resource") {
        Some(r) => strings(r)
            .ok_or_else(|| {
                PolicyError::Resource(format!(
                    "{at}.resource must be a string or a non-empty list of strings"
                ))
            })?
            .into_iter()
            .enumerate()
            .map(|(i, r)| parse_resource(&format!("{at}.resource[{i}]"), r))
            .collect::<Result<_, _>>()?,
        // Trust policies name a principal instead of resources.
        None if st.contains_key("principal") => vec![ResourcePattern::Any],
        None => return Err(PolicyError::Resource(format!("{at}.resource is missing"))),
    };
    let conditions = match st.get("condition") {
        Some(c) => parse_conditions(&at, c)?,
        None => Vec::new(),
    };
    Ok(Statement {
        effect,
        actions,
        resources,
        conditions,
    })
}

/// A string, or a non-empty list of strings.
fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(list) if !list.is_empty() => list.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn check_principal(at: &str, p: &Value) -> Result<(), PolicyError> {
    let ok = match p {
        // CAM's general policies write `"principal": "*"` (or `""`).
        Value::String(_) => true,
        Value::Object(m) => !m.is_empty() && m.values().all(|v| strings(v).is_some()),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(PolicyError::Principal(format!(
            "{at}.principal must be \"*\" or an object of string lists, such as \
             {{\"qcs\": [\"qcs::cam::uin/100000000001:root\"]}}"
        )))
    }
}

fn parse_action(at: &str, action: &str) -> Result<ActionPattern, PolicyError> {
    let lower = action.trim().to_lowercase();
    if lower == "*" {
        return Ok(ActionPattern::Api(lower));
    }
    let feature_set = |s: &str| {
        s.split_once('/').is_some_and(|(prefix, rest)| {
            !prefix.is_empty()
                && prefix.chars().all(|c| c.is_ascii_alphabetic())
                && !rest.is_empty()
        })
    };
    let api = match lower.strip_prefix("name/") {
        Some(rest) => rest,
        None if feature_set(&lower) => return Ok(ActionPattern::FeatureSet),
        None => &lower,
    };
    match api.split_once(':') {
        Some((service, name))
            if !service.is_empty()
                && !name.is_empty()
                && !api.contains(char::is_whitespace)
                && !service.contains('/') =>
        {
            Ok(ActionPattern::Api(api.to_owned()))
        }
        _ => Err(PolicyError::Action(format!(
            "{at}: `{action}` is not `*` or `service:Action` (e.g. `cvm:RunInstances`, \
             `name/cvm:Describe*`)"
        ))),
    }
}

fn parse_resource(at: &str, resource: &str) -> Result<ResourcePattern, PolicyError> {
    if resource == "*" {
        return Ok(ResourcePattern::Any);
    }
    let starts_qcs = resource
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("qcs:"));
    if !starts_qcs {
        return Err(PolicyError::ResourceQcs(format!(
            "{at}: `{resource}` is neither `*` nor a `qcs:` resource description"
        )));
    }
    let Some([project, service, region, account, rest]) = split_qcs(resource) else {
        return Err(PolicyError::ResourceContent(format!(
            "{at}: `{resource}` does not have the six segments \
             `qcs:project:service:region:account:resource`"
        )));
    };
    if service.is_empty() || rest.is_empty() {
        return Err(PolicyError::ResourceContent(format!(
            "{at}: `{resource}` has an empty service or resource segment"
        )));
    }
    let account_ok = account.is_empty()
        || account.contains(['*', '?'])
        || account
            .strip_prefix("uin/")
            .or_else(|| account.strip_prefix("uid/"))
            .is_some_and(|id| !id.is_empty());
    if !account_ok {
        return Err(PolicyError::ResourceUin(format!(
            "{at}: the account segment `{account}` of `{resource}` must be `uin/<owner uin>` \
             (or `uid/<appid>`), `*` or empty"
        )));
    }
    Ok(ResourcePattern::Qcs(QcsPattern {
        project: project.to_owned(),
        service: service.to_lowercase(),
        region: canonical_region(region).into_owned(),
        account: account.to_owned(),
        resource: rest.to_owned(),
    }))
}

// ---------------------------------------------------------------------------------------
// Conditions

#[derive(Debug, Clone)]
struct Condition {
    op: Operator,
    key: String,
    values: Values,
}

#[derive(Debug, Clone, Copy)]
struct Operator {
    test: Test,
    /// `string_not_equal` and the like: true when no value matches.
    negated: bool,
    /// `…_if_exist`: true when the key is absent.
    if_exist: bool,
    set: SetQualifier,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    None,
    /// `for_any_value:` — some context value matches.
    Any,
    /// `for_all_value:` — every context value matches (true for none).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    Str { ignore_case: bool },
    Like,
    Num(Order),
    Date(Order),
    Bool,
    Binary,
    Ip,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Order {
    fn holds<T: PartialOrd + Copy>(self, ctx: T, policy: T) -> bool {
        match self {
            Order::Eq => ctx == policy,
            Order::Lt => ctx < policy,
            Order::Le => ctx <= policy,
            Order::Gt => ctx > policy,
            Order::Ge => ctx >= policy,
        }
    }
}

/// The documented operators: name, test, negated.
#[rustfmt::skip]
const OPERATORS: &[(&str, Test, bool)] = &[
    ("string_equal",                 Test::Str { ignore_case: false }, false),
    ("string_not_equal",             Test::Str { ignore_case: false }, true),
    ("string_equal_ignore_case",     Test::Str { ignore_case: true },  false),
    ("string_not_equal_ignore_case", Test::Str { ignore_case: true },  true),
    ("string_like",                  Test::Like,                       false),
    ("string_not_like",              Test::Like,                       true),
    ("numeric_equal",                Test::Num(Order::Eq),             false),
    ("numeric_not_equal",            Test::Num(Order::Eq),             true),
    ("numeric_less_than",            Test::Num(Order::Lt),             false),
    ("numeric_less_than_equal",      Test::Num(Order::Le),             false),
    ("numeric_greater_than",         Test::Num(Order::Gt),             false),
    ("numeric_greater_than_equal",   Test::Num(Order::Ge),             false),
    ("date_equal",                   Test::Date(Order::Eq),            false),
    ("date_not_equal",               Test::Date(Order::Eq),            true),
    ("date_less_than",               Test::Date(Order::Lt),            false),
    ("date_less_than_equal",         Test::Date(Order::Le),            false),
    ("date_greater_than",            Test::Date(Order::Gt),            false),
    ("date_greater_than_equal",      Test::Date(Order::Ge),            false),
    ("bool_equal",                   Test::Bool,                       false),
    ("binary_equal",                 Test::Binary,                     false),
    ("ip_equal",                     Test::Ip,                         false),
    ("ip_not_equal",                 Test::Ip,                         true),
    ("null_equal",                   Test::Null,                       false),
];

fn parse_operator(name: &str) -> Option<Operator> {
    let (set, rest) = if let Some(rest) = name.strip_prefix("for_any_value:") {
        (SetQualifier::Any, rest)
    } else if let Some(rest) = name.strip_prefix("for_all_value:") {
        (SetQualifier::All, rest)
    } else {
        (SetQualifier::None, name)
    };
    let (base, if_exist) = match rest.strip_suffix("_if_exist") {
        Some(base) => (base, true),
        None => (rest, false),
    };
    let &(_, test, negated) = OPERATORS.iter().find(|(n, _, _)| *n == base)?;
    Some(Operator {
        test,
        negated,
        if_exist,
        set,
    })
}

/// Condition values, parsed for their operator's type.
#[derive(Debug, Clone)]
enum Values {
    Str(Vec<String>),
    Num(Vec<f64>),
    Date(Vec<i64>),
    Bool(Vec<bool>),
    Ip(Vec<Cidr>),
}

fn parse_conditions(at: &str, c: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = c else {
        return Err(PolicyError::Condition(format!(
            "{at}.condition must be an object {{\"operator\": {{\"key\": value}}}}, not {}",
            kind(c)
        )));
    };
    let mut out = Vec::new();
    for (name, keys) in ops {
        let Some(op) = parse_operator(name) else {
            return Err(PolicyError::ConditionType(format!(
                "{at}.condition: unknown operator `{name}` (e.g. `string_equal`, `ip_equal`, \
                 `date_less_than`, `bool_equal`, optionally `…_if_exist`)"
            )));
        };
        let keys = match keys {
            Value::Object(m) if !m.is_empty() => m,
            other => {
                return Err(PolicyError::Condition(format!(
                    "{at}.condition.{name} must be a non-empty object {{\"key\": value}}, not {}",
                    kind(other)
                )));
            }
        };
        for (key, value) in keys {
            let where_ = format!("{at}.condition.{name}.{key}");
            let values = parse_values(&where_, op.test, value)?;
            out.push(Condition {
                op,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn parse_values(at: &str, test: Test, value: &Value) -> Result<Values, PolicyError> {
    let scalars: Vec<String> = match value {
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .map(scalar)
            .collect::<Option<_>>()
            .ok_or_else(|| {
                PolicyError::Condition(format!("{at}: values must be strings, numbers or booleans"))
            })?,
        other => vec![scalar(other).ok_or_else(|| {
            PolicyError::Condition(format!(
                "{at}: the value must be a string, number, boolean or a non-empty list of them, \
                 not {}",
                kind(other)
            ))
        })?],
    };
    let bad =
        |what: &str, v: &str| PolicyError::ConditionContent(format!("{at}: `{v}` is not {what}"));
    Ok(match test {
        Test::Str { .. } | Test::Like | Test::Binary => Values::Str(scalars),
        Test::Num(_) => Values::Num(
            scalars
                .iter()
                .map(|v| v.trim().parse::<f64>().map_err(|_| bad("a number", v)))
                .collect::<Result<_, _>>()?,
        ),
        Test::Date(_) => Values::Date(
            scalars
                .iter()
                .map(|v| parse_time(v).ok_or_else(|| bad("an ISO 8601 time", v)))
                .collect::<Result<_, _>>()?,
        ),
        Test::Bool | Test::Null => Values::Bool(
            scalars
                .iter()
                .map(|v| parse_bool(v).ok_or_else(|| bad("`true` or `false`", v)))
                .collect::<Result<_, _>>()?,
        ),
        Test::Ip => Values::Ip(
            scalars
                .iter()
                .map(|v| Cidr::parse(v).ok_or_else(|| bad("an IP address or CIDR block", v)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        t if t.eq_ignore_ascii_case("true") || t == "1" => Some(true),
        t if t.eq_ignore_ascii_case("false") || t == "0" => Some(false),
        _ => None,
    }
}

/// What the request says about the context keys.
struct Context<'r, 'a> {
    req: &'r Request<'a>,
    /// The action's service, lower case (`cvm`).
    service: &'r str,
}

/// One context value.
enum Ctx<'a> {
    Str(Cow<'a, str>),
    Ip(IpAddr),
    Time(i64),
    Bool(bool),
}

impl Context<'_, '_> {
    fn value(&self, key: &str) -> Option<Ctx<'_>> {
        match key {
            "qcs:ip" => self.req.client_ip.map(Ctx::Ip),
            "qcs:current_time" => Some(Ctx::Time(self.req.now_unix)),
            "mfa" | "qcs:mfa" => Some(Ctx::Bool(self.req.mfa)),
            _ if is_region_key(key, self.service) => self
                .req
                .region
                .map(|r| Ctx::Str(Cow::Owned(canonical_region(r).into_owned()))),
            _ => None,
        }
    }
}

fn is_region_key(key: &str, service: &str) -> bool {
    key == "qcs:region"
        || key
            .strip_suffix(":region")
            .is_some_and(|s| !service.is_empty() && s.eq_ignore_ascii_case(service))
}

impl Condition {
    fn holds(&self, ctx: &Context) -> bool {
        let op = self.op;
        let value = ctx.value(&self.key);
        if op.test == Test::Null {
            // `null_equal: true` holds when the key is absent, `false` when present.
            let Values::Bool(want) = &self.values else {
                return false;
            };
            return want.iter().any(|&absent| absent == value.is_none());
        }
        let Some(value) = value else {
            return op.if_exist
                || match op.set {
                    SetQualifier::None => op.negated,
                    SetQualifier::Any => false,
                    SetQualifier::All => true,
                };
        };
        // Context keys here are single-valued, so the set qualifiers reduce to one test.
        let matched = self.matches(&value, &self.key);
        matched != op.negated
    }

    /// True when some policy value matches the context value (the positive form).
    fn matches(&self, v: &Ctx, key: &str) -> bool {
        match (&self.values, self.op.test) {
            (Values::Str(ps), Test::Str { ignore_case }) => ps.iter().any(|p| {
                let p = if key.ends_with(":region") {
                    canonical_region(p)
                } else {
                    Cow::Borrowed(p.as_str())
                };
                match v {
                    Ctx::Str(s) if ignore_case => s.to_lowercase() == p.to_lowercase(),
                    Ctx::Str(s) => *s == p,
                    Ctx::Bool(b) => parse_bool(&p) == Some(*b),
                    Ctx::Ip(ip) => p.parse::<IpAddr>().is_ok_and(|q| q == *ip),
                    Ctx::Time(t) => parse_time(&p) == Some(*t),
                }
            }),
            (Values::Str(ps), Test::Like) => match v {
                Ctx::Str(s) => ps.iter().any(|p| glob(p, s)),
                Ctx::Bool(b) => ps.iter().any(|p| glob(p, if *b { "1" } else { "0" })),
                Ctx::Ip(ip) => ps.iter().any(|p| glob(p, &ip.to_string())),
                Ctx::Time(_) => false,
            },
            (Values::Str(ps), _) => match v {
                Ctx::Str(s) => ps.iter().any(|p| p == s),
                _ => false,
            },
            (Values::Num(ps), Test::Num(order)) => {
                let n = match v {
                    Ctx::Str(s) => s.trim().parse::<f64>().ok(),
                    Ctx::Time(t) => Some(*t as f64),
                    Ctx::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                    Ctx::Ip(_) => None,
                };
                n.is_some_and(|n| ps.iter().any(|&p| order.holds(n, p)))
            }
            (Values::Date(ps), Test::Date(order)) => {
                let t = match v {
                    Ctx::Time(t) => Some(*t),
                    Ctx::Str(s) => parse_time(s),
                    _ => None,
                };
                t.is_some_and(|t| ps.iter().any(|&p| order.holds(t, p)))
            }
            (Values::Bool(ps), _) => {
                let b = match v {
                    Ctx::Bool(b) => Some(*b),
                    Ctx::Str(s) => parse_bool(s),
                    _ => None,
                };
                b.is_some_and(|b| ps.contains(&b))
            }
            (Values::Ip(ps), _) => {
                let ip = match v {
                    Ctx::Ip(ip) => Some(*ip),
                    Ctx::Str(s) => s.parse::<IpAddr>().ok(),
                    _ => None,
                };
                ip.is_some_and(|ip| ps.iter().any(|net| net.contains(ip)))
            }
            // Values are parsed for their operator's type, so no other pairing exists.
            _ => false,
        }
    }
}

/// An address block: `10.0.0.0/8`, `192.168.1.1` (a /32), `2001:db8::/32`. Host bits set in
/// the address are ignored (`10.217.182.3/24` is `10.217.182.0/24`, as the CAM examples use).
#[derive(Debug, Clone, Copy)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen through an IPv6 socket is `::ffff:a.b.c.d`.
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// ISO 8601 to Unix seconds: `2030-01-01`, `2030-01-01T08:00:00Z`, with optional fraction,
/// a `Z` or `±HH:MM` offset (none means UTC, as CAM specifies), and `T` or a space between
/// date and time. A bare integer is taken as Unix seconds.
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 12 {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut i = 10;
    if let Some(sep) = b.get(10) {
        if *sep != b'T' && *sep != b't' && *sep != b' ' {
            return None;
        }
        let (hour, minute) = (num(11, 2)?, num(14, 2)?);
        if b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
            return None;
        }
        i = 16;
        let mut second = 0;
        if b.get(16) == Some(&b':') {
            second = num(17, 2)?;
            if second > 60 {
                return None;
            }
            i = 19;
            if b.get(19) == Some(&b'.') {
                i = 20;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                if i == 20 {
                    return None;
                }
            }
        }
        secs += hour * 3600 + minute * 60 + second;
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') => i += 1,
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1, 2)?;
                let om = if b.get(i + 3) == Some(&b':') {
                    let m = num(i + 4, 2)?;
                    i += 6;
                    m
                } else if b.len() > i + 3 {
                    let m = num(i + 3, 2)?;
                    i += 5;
                    m
                } else {
                    i += 3;
                    0
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let offset = oh * 3600 + om * 60;
                secs += if sign == b'+' { -offset } else { offset };
            }
            Some(_) => return None,
        }
    }
    (i == b.len()).then_some(secs)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------------------------------
// Presets

/// A preset (system, `Type` 2) policy shipped with tclocal. The names follow the cloud's
/// preset policies; ids, times, descriptions and documents are tclocal's own
/// (`data/cam/presets.json`).
#[derive(Debug)]
pub struct Preset {
    /// `PolicyId`, stable across releases (ours, not the cloud's).
    pub id: u64,
    /// `PolicyName`, e.g. `QcloudCVMFullAccess`.
    pub name: String,
    /// `Type`: 2, a preset policy.
    pub policy_type: u64,
    /// `ServiceType`: the product short name, empty for account-wide policies.
    pub service_type: String,
    /// `AddTime`, `YYYY-MM-DD hh:mm:ss`.
    pub add_time: String,
    /// `Description` in Simplified Chinese, the cloud's default language.
    pub description: String,
    /// `Description` in the three languages.
    pub descriptions: Localized,
    /// `PolicyDocument`: the document as compact JSON.
    pub document: String,
    /// The parsed document.
    pub policy: Arc<Policy>,
}

#[derive(Deserialize)]
struct PresetFile {
    presets: Vec<PresetEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PresetEntry {
    policy_id: u64,
    policy_name: String,
    #[serde(rename = "Type")]
    policy_type: u64,
    service_type: String,
    add_time: String,
    description: Localized,
    document: Map<String, Value>,
}

static PRESETS: LazyLock<Vec<Preset>> = LazyLock::new(|| {
    let file: PresetFile = serde_json::from_str(include_str!("../../data/cam/presets.json"))
        .expect("data/cam/presets.json is valid (checked by tests)");
    file.presets
        .into_iter()
        .map(|e| {
            let document = Value::Object(e.document).to_string();
            let policy = parse(&document).unwrap_or_else(|err| {
                panic!(
                    "preset {} does not parse (checked by tests): {err}",
                    e.policy_name
                )
            });
            Preset {
                id: e.policy_id,
                name: e.policy_name,
                policy_type: e.policy_type,
                service_type: e.service_type,
                add_time: e.add_time,
                description: e.description.get(Language::ZhCn).to_owned(),
                descriptions: e.description,
                document,
                policy: Arc::new(policy),
            }
        })
        .collect()
});

/// The preset policies, in catalogue order.
#[must_use]
pub fn presets() -> &'static [Preset] {
    &PRESETS
}

#[cfg(test)]
mod tests {
    use super::*;

    const UIN: &str = "100000000001";

    fn res(s: &str) -> Vec<String> {
        vec![s.to_owned()]
    }

    fn req<'a>(action: &'a str, resources: &'a [String]) -> Request<'a> {
        Request {
            action,
            resources,
            client_ip: None,
            mfa: false,
            now_unix: 1_767_225_600, // 2026-01-01T00:00:00Z
            region: Some("ap-guangzhou"),
        }
    }

    fn policy(statements: &str) -> Policy {
        parse(&format!(
            r#"{{"version":"2.0","statement":[{statements}]}}"#
        ))
        .unwrap_or_else(|e| panic!("{e}: {statements}"))
    }

    fn instance(id: &str) -> Vec<String> {
        res(&format!("qcs::cvm:ap-guangzhou:uin/{UIN}:instance/{id}"))
    }

    /// A plain allow statement allows its action and nothing else.
    #[test]
    fn allow_matches_action() {
        let p = policy(r#"{"effect":"allow","action":"cvm:DescribeInstances","resource":"*"}"#);
        let r = res("*");
        assert_eq!(
            evaluate(&[&p], &req("cvm:DescribeInstances", &r)),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[&p], &req("cvm:RunInstances", &r)),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&[&p], &req("vpc:DescribeInstances", &r)),
            Decision::ImplicitDeny
        );
    }

    /// A deny statement alone is an explicit deny, and names its index.
    #[test]
    fn deny_is_explicit() {
        let p = policy(
            r#"{"effect":"allow","action":"cvm:Describe*","resource":"*"},
               {"effect":"deny","action":"cvm:TerminateInstances","resource":"*"}"#,
        );
        let r = instance("ins-abcd1234");
        assert_eq!(
            evaluate(&[&p], &req("cvm:TerminateInstances", &r)),
            Decision::ExplicitDeny { statement: 1 }
        );
    }

    /// An explicit deny in one policy wins over an allow in another, whatever the order.
    #[test]
    fn explicit_deny_beats_allow() {
        let admin = policy(r#"{"effect":"allow","action":"*","resource":"*"}"#);
        let deny = policy(r#"{"effect":"deny","action":["cvm:RunInstances"],"resource":"*"}"#);
        let r = res(&format!("qcs::cvm:ap-guangzhou:uin/{UIN}:*"));
        let q = req("cvm:RunInstances", &r);
        assert_eq!(
            evaluate(&[&admin, &deny], &q),
            Decision::ExplicitDeny { statement: 0 }
        );
        assert_eq!(
            evaluate(&[&deny, &admin], &q),
            Decision::ExplicitDeny { statement: 0 }
        );
        assert_eq!(evaluate(&[&admin], &q), Decision::Allow);
    }

    /// Nothing attached, or nothing matching, is an implicit deny.
    #[test]
    fn implicit_deny_when_nothing_matches() {
        let r = res("*");
        assert_eq!(
            evaluate(&[], &req("cvm:DescribeInstances", &r)),
            Decision::ImplicitDeny
        );
        let p = policy(r#"{"effect":"allow","action":"cam:*","resource":"*"}"#);
        assert_eq!(
            evaluate(&[&p], &req("cvm:DescribeInstances", &r)),
            Decision::ImplicitDeny
        );
        // A deny for another action does not deny this one.
        let d = policy(r#"{"effect":"deny","action":"cvm:RunInstances","resource":"*"}"#);
        assert_eq!(
            evaluate(&[&d], &req("cvm:DescribeInstances", &r)),
            Decision::ImplicitDeny
        );
    }

    /// `*` and `?` work anywhere in actions; actions compare case-insensitively;
    /// `name/` is optional on both sides.
    #[test]
    fn action_wildcards_and_case() {
        let r = res("*");
        let cases = [
            ("*", "cvm:RunInstances", true),
            ("cvm:*", "cvm:RunInstances", true),
            ("cvm:*", "vpc:CreateVpc", false),
            ("cvm:Describe*", "cvm:DescribeInstances", true),
            ("cvm:Describe*", "cvm:RunInstances", false),
            ("*:Describe*", "vpc:DescribeVpcs", true),
            ("cvm:*Instances", "cvm:StopInstances", true),
            ("cvm:?topInstances", "cvm:StopInstances", true),
            ("cvm:?topInstances", "cvm:StartInstances", false),
            ("name/cvm:RunInstances", "cvm:RunInstances", true),
            ("cvm:runinstances", "CVM:RunInstances", true),
            ("cvm:RunInstances", "name/cvm:RunInstances", true),
            ("permid/1234", "cvm:RunInstances", false),
        ];
        for (pattern, action, expected) in cases {
            let p = policy(&format!(
                r#"{{"effect":"allow","action":"{pattern}","resource":"*"}}"#
            ));
            assert_eq!(
                evaluate(&[&p], &req(action, &r)) == Decision::Allow,
                expected,
                "{pattern} vs {action}"
            );
        }
    }

    /// Resource globs, region-less and account-less patterns, short region names, and the
    /// literal treatment of a request resource ending in `*`.
    #[test]
    fn resource_matching() {
        let ins = format!("qcs::cvm:ap-guangzhou:uin/{UIN}:instance/ins-abcd1234");
        let all = format!("qcs::cvm:ap-guangzhou:uin/{UIN}:*");
        #[rustfmt::skip]
        let cases = [
            ("*", ins.as_str(), true),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-abcd1234", &ins, true),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-zzzz9999", &ins, false),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:instance/*", &ins, true),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:instance/ins-????1234", &ins, true),
            ("qcs::cvm::uin/100000000001:instance/*", &ins, true),
            ("qcs::cvm:::instance/*", &ins, true),
            ("qcs::cvm:ap-shanghai:uin/100000000001:instance/*", &ins, false),
            ("qcs::cvm:ap-*:uin/100000000001:instance/*", &ins, true),
            ("qcs::cvm:gz:uin/100000000001:instance/*", &ins, true),
            ("qcs::cvm:ap-guangzhou:uin/100000000002:instance/*", &ins, false),
            ("qcs::CVM:ap-guangzhou:uin/100000000001:instance/*", &ins, true),
            ("qcs::vpc:ap-guangzhou:uin/100000000001:instance/*", &ins, false),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:volume/*", &ins, false),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:*", &ins, true),
            ("qcs::cvm::uin/100000000001:*", &all, true),
            ("qcs::cvm::uin/100000000001:instance/*", &all, false),
            ("*", &all, true),
            ("qcs::cvm:ap-guangzhou:uin/100000000001:instance/*", "*", false),
            ("qcs::cvm::uin/100000000001:instance/*", "qcs::CVM:gz:uin/100000000001:instance/i", true),
        ];
        for (pattern, resource, expected) in cases {
            let p = policy(&format!(
                r#"{{"effect":"allow","action":"cvm:*","resource":"{pattern}"}}"#
            ));
            let r = res(resource);
            assert_eq!(
                evaluate(&[&p], &req("cvm:StopInstances", &r)) == Decision::Allow,
                expected,
                "{pattern} vs {resource}"
            );
        }
    }

    /// Every resource of a call must be allowed; a deny on any one denies the call.
    #[test]
    fn several_resources() {
        let p = policy(
            r#"{"effect":"allow","action":"cvm:*","resource":"qcs::cvm::uin/100000000001:instance/ins-a*"}"#,
        );
        let both = [instance("ins-a0000001"), instance("ins-a0000002")].concat();
        let mixed = [instance("ins-a0000001"), instance("ins-b0000001")].concat();
        assert_eq!(
            evaluate(&[&p], &req("cvm:StopInstances", &both)),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[&p], &req("cvm:StopInstances", &mixed)),
            Decision::ImplicitDeny
        );
        let d = policy(
            r#"{"effect":"deny","action":"cvm:*","resource":"qcs::cvm::uin/100000000001:instance/ins-a0000002"}"#,
        );
        assert_eq!(
            evaluate(&[&p, &d], &req("cvm:StopInstances", &both)),
            Decision::ExplicitDeny { statement: 0 }
        );
        // No resources at all is `*`.
        let star = policy(r#"{"effect":"allow","action":"cvm:*","resource":"*"}"#);
        assert_eq!(
            evaluate(&[&star], &req("cvm:StopInstances", &[])),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[&p], &req("cvm:StopInstances", &[])),
            Decision::ImplicitDeny
        );
    }

    /// `action` and `resource` as a string and as a list mean the same; a single statement
    /// object is accepted where a list is expected.
    #[test]
    fn string_and_list_forms() {
        let docs = [
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:Describe*","resource":"*"}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["cvm:Describe*"],"resource":["*"]}]}"#,
            r#"{"version":"2.0","statement":{"effect":"allow","action":["vpc:*","cvm:Describe*"],"resource":["qcs::cvm:::*","*"]}}"#,
        ];
        let r = instance("ins-abcd1234");
        for d in docs {
            let p = parse(d).unwrap();
            assert_eq!(
                evaluate(&[&p], &req("cvm:DescribeInstances", &r)),
                Decision::Allow,
                "{d}"
            );
            assert_eq!(
                evaluate(&[&p], &req("cvm:RunInstances", &r)),
                Decision::ImplicitDeny,
                "{d}"
            );
        }
    }

    /// `ip_equal` takes single addresses and CIDR blocks, v4 and v6; `ip_not_equal` is its
    /// negation; an unknown client address fails `ip_equal`.
    #[test]
    fn ip_conditions() {
        let p = policy(
            r#"{"effect":"allow","action":"cvm:*","resource":"*",
                "condition":{"ip_equal":{"qcs:ip":["10.0.0.0/8","192.168.1.1","10.217.182.3/24","2001:db8::/32"]}}}"#,
        );
        let r = res("*");
        let at = |ip: Option<&str>| {
            let mut q = req("cvm:RunInstances", &r);
            q.client_ip = ip.map(|s| s.parse().unwrap());
            evaluate(&[&p], &q)
        };
        assert_eq!(at(Some("10.1.2.3")), Decision::Allow);
        assert_eq!(at(Some("192.168.1.1")), Decision::Allow);
        assert_eq!(at(Some("192.168.1.2")), Decision::ImplicitDeny);
        assert_eq!(at(Some("10.217.182.200")), Decision::Allow);
        assert_eq!(at(Some("11.0.0.1")), Decision::ImplicitDeny);
        assert_eq!(at(Some("2001:db8:1::5")), Decision::Allow);
        assert_eq!(at(Some("2001:db9::5")), Decision::ImplicitDeny);
        assert_eq!(at(Some("::ffff:10.9.9.9")), Decision::Allow);
        assert_eq!(at(None), Decision::ImplicitDeny);

        let deny_outside = policy(
            r#"{"effect":"allow","action":"*","resource":"*"},
               {"effect":"deny","action":"*","resource":"*","condition":{"ip_not_equal":{"qcs:ip":"203.0.113.0/24"}}}"#,
        );
        let mut q = req("cvm:RunInstances", &r);
        q.client_ip = Some("203.0.113.7".parse().unwrap());
        assert_eq!(evaluate(&[&deny_outside], &q), Decision::Allow);
        q.client_ip = Some("198.51.100.7".parse().unwrap());
        assert_eq!(
            evaluate(&[&deny_outside], &q),
            Decision::ExplicitDeny { statement: 1 }
        );
    }

    /// `date_*` operators compare `qcs:current_time` with the caller's clock.
    #[test]
    fn date_conditions() {
        let p = policy(
            r#"{"effect":"allow","action":"cvm:*","resource":"*",
                "condition":{"date_greater_than":{"qcs:current_time":"2026-01-01T00:00:00Z"},
                             "date_less_than":{"qcs:current_time":"2026-01-31T08:00:00+08:00"}}}"#,
        );
        let r = res("*");
        let at = |now: i64| {
            let mut q = req("cvm:RunInstances", &r);
            q.now_unix = now;
            evaluate(&[&p], &q)
        };
        let jan1 = 1_767_225_600;
        assert_eq!(at(jan1), Decision::ImplicitDeny, "greater_than is strict");
        assert_eq!(at(jan1 + 1), Decision::Allow);
        assert_eq!(at(jan1 + 30 * 86_400 - 1), Decision::Allow);
        assert_eq!(at(jan1 + 30 * 86_400), Decision::ImplicitDeny);
        assert_eq!(at(jan1 - 86_400), Decision::ImplicitDeny);
    }

    /// The time parser reads the ISO 8601 forms CAM documents use.
    #[test]
    fn time_parsing() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01 08:00:00+08:00"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T08:00:00+0800"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T00:00:00.123Z"), Some(1_767_225_600));
        assert_eq!(parse_time("2026-01-01T00:00Z"), Some(1_767_225_600));
        assert_eq!(parse_time("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_time("1767225600"), Some(1_767_225_600));
        for bad in [
            "",
            "2026-13-01",
            "2026-02-30",
            "2023-02-29",
            "2026-01-01T24:00:00Z",
            "2026-1-1",
            "2026-01-01T00:00:00Q",
            "2026-01-01T00:00:00.Z",
            "yesterday",
            "2026-01-01T",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    /// The MFA key of CAM's general policies (`mfa`, "1"/"0"), its `qcs:mfa` alias and
    /// `bool_equal`; `requires_mfa` flags calls that MFA alone would let through.
    #[test]
    fn mfa_conditions_and_requires_mfa() {
        let r = instance("ins-abcd1234");
        // Allow-with-MFA form.
        let allow_mfa = policy(
            r#"{"effect":"allow","action":"cvm:Describe*","resource":"*"},
               {"effect":"allow","action":"cvm:TerminateInstances","resource":"*",
                "condition":{"bool_equal":{"qcs:mfa":"true"}}}"#,
        );
        // CAM's own deny-without-MFA form.
        let deny_no_mfa = policy(
            r#"{"effect":"allow","action":"cvm:*","resource":"*"},
               {"effect":"deny","action":"cvm:TerminateInstances","resource":"*",
                "condition":{"string_equal":{"mfa":"0"}}}"#,
        );
        for p in [&allow_mfa, &deny_no_mfa] {
            let mut q = req("cvm:TerminateInstances", &r);
            assert_ne!(evaluate(&[p], &q), Decision::Allow);
            assert!(requires_mfa(&[p], &q));
            q.mfa = true;
            assert_eq!(evaluate(&[p], &q), Decision::Allow);
            assert!(!requires_mfa(&[p], &q));
            // Calls that do not need MFA are unaffected.
            let d = req("cvm:DescribeInstances", &r);
            assert_eq!(evaluate(&[p], &d), Decision::Allow);
            assert!(!requires_mfa(&[p], &d));
        }
        assert_eq!(
            evaluate(&[&deny_no_mfa], &req("cvm:TerminateInstances", &r)),
            Decision::ExplicitDeny { statement: 1 }
        );
        // Denied for another reason: MFA would not help.
        let hard_deny = policy(r#"{"effect":"deny","action":"cvm:*","resource":"*"}"#);
        let q = req("cvm:TerminateInstances", &r);
        assert!(!requires_mfa(&[&allow_mfa, &hard_deny], &q));
        assert!(!requires_mfa(&[], &q));
    }

    /// Region keys, string and null operators, `_if_exist` and the set qualifiers; absent
    /// keys fail positive operators and pass `_if_exist`, negations and `for_all_value:`.
    #[test]
    fn other_conditions() {
        let gz = Some("ap-guangzhou");
        #[rustfmt::skip]
        let cases = [
            (r#"{"string_equal":{"cvm:region":"ap-guangzhou"}}"#, gz, true),
            (r#"{"string_equal":{"cvm:region":["sh","gz"]}}"#, gz, true),
            (r#"{"string_equal":{"cvm:region":"ap-shanghai"}}"#, gz, false),
            (r#"{"string_not_equal":{"qcs:region":"ap-shanghai"}}"#, gz, true),
            (r#"{"string_not_equal":{"qcs:region":["sh","gz"]}}"#, gz, false),
            (r#"{"string_equal_ignore_case":{"qcs:region":"AP-Guangzhou"}}"#, gz, true),
            (r#"{"string_like":{"cvm:region":"ap-guang*"}}"#, gz, true),
            (r#"{"string_like":{"vpc:region":"ap-guang*"}}"#, gz, false),
            (r#"{"string_equal":{"cvm:region":"ap-guangzhou"}}"#, None, false),
            (r#"{"string_equal_if_exist":{"cvm:region":"ap-guangzhou"}}"#, None, true),
            (r#"{"string_equal_if_exist":{"cvm:region":"ap-beijing"}}"#, gz, false),
            (r#"{"string_not_equal":{"cvm:region":"ap-beijing"}}"#, None, true),
            (r#"{"ip_not_equal":{"qcs:ip":"10.0.0.0/8"}}"#, gz, true),
            (r#"{"ip_equal":{"qcs:ip":"0.0.0.0/0"}}"#, gz, false),
            (r#"{"string_equal":{"qcs:resource_tag":"team&dev"}}"#, gz, false),
            (r#"{"for_any_value:string_equal":{"qcs:resource_tag":"a&b"}}"#, gz, false),
            (r#"{"for_all_value:string_equal":{"qcs:resource_tag":"a&b"}}"#, gz, true),
            (r#"{"for_any_value:string_equal":{"cvm:region":"gz"}}"#, gz, true),
            (r#"{"null_equal":{"qcs:resource_tag":"true"}}"#, gz, true),
            (r#"{"null_equal":{"cvm:region":true}}"#, gz, false),
            (r#"{"null_equal":{"cvm:region":false}}"#, gz, true),
            (r#"{"numeric_greater_than":{"qcs:current_time":1000}}"#, gz, true),
            (r#"{"string_equal":{"cvm:region":"gz","qcs:ip":"10.0.0.1"}}"#, gz, false),
            (r#"{"string_equal":{"cvm:region":"gz"},"bool_equal":{"mfa":false}}"#, gz, true),
        ];
        let r = res("*");
        for (condition, region, expected) in cases {
            let p = policy(&format!(
                r#"{{"effect":"allow","action":"cvm:*","resource":"*","condition":{condition}}}"#
            ));
            let mut q = req("cvm:RunInstances", &r);
            q.region = region;
            assert_eq!(
                evaluate(&[&p], &q) == Decision::Allow,
                expected,
                "{condition} in {region:?}"
            );
        }
    }

    /// Malformed documents are rejected with a message that says what is wrong, and the
    /// documented CAM error code.
    #[test]
    fn malformed_documents_are_rejected() {
        let s = |st: &str| format!(r#"{{"version":"2.0","statement":[{st}]}}"#);
        // A statement with `body`, and an allow-all statement with `condition`.
        let st = |body: &str| s(&format!("{{{body}}}"));
        let cond = |c: &str| {
            s(&format!(
                r#"{{"effect":"allow","action":"*","resource":"*","condition":{c}}}"#
            ))
        };
        #[rustfmt::skip]
        let cases: Vec<(String, &str, &str)> = vec![
            ("not json".into(), "PolicyDocumentError", "not JSON"),
            ("[]".into(), "PolicyDocumentError", "JSON object"),
            (r#"{"Version":"2.0","statement":[]}"#.into(), "PolicyDocumentError", "`Version`"),
            (r#"{"statement":[]}"#.into(), "VersionError", "missing"),
            (r#"{"version":"1.0","statement":[]}"#.into(), "VersionError", "\"1.0\""),
            (r#"{"version":"2.0"}"#.into(), "StatementError", "missing"),
            (r#"{"version":"2.0","statement":[]}"#.into(), "StatementError", "empty"),
            (r#"{"version":"2.0","statement":"x"}"#.into(), "StatementError", "a string"),
            (s("1"), "StatementError", "statement[0] must be an object"),
            (st(r#""Effect":"allow","action":"*","resource":"*""#), "StatementError", "`Effect`"),
            (st(r#""action":"*","resource":"*""#), "EffectError", "effect is missing"),
            (st(r#""effect":"permit","action":"*","resource":"*""#), "EffectError", "permit"),
            (st(r#""effect":"allow","resource":"*""#), "ActionMiss", "action is missing"),
            (st(r#""effect":"allow","action":[],"resource":"*""#), "ActionError", "non-empty"),
            (st(r#""effect":"allow","action":[1],"resource":"*""#), "ActionError", "strings"),
            (st(r#""effect":"allow","action":"Run","resource":"*""#), "ActionError", "[0]: `Run`"),
            (st(r#""effect":"allow","action":"cvm:","resource":"*""#), "ActionError", "`cvm:`"),
            (st(r#""effect":"allow","action":"*""#), "ResourceError", "resource is missing"),
            (st(r#""effect":"allow","action":"*","resource":"cvm/1""#), "ResourceQcsError", "cvm/1"),
            (st(r#""effect":"allow","action":"*","resource":"qcs::cvm:gz""#),
                "ResourceContentError", "six segments"),
            (st(r#""effect":"allow","action":"*","resource":"qcs:::gz:uin/1:x""#),
                "ResourceContentError", "empty service"),
            (st(r#""effect":"allow","action":"*","resource":"qcs::cvm:gz:100:ins/*""#),
                "ResourceUinError", "`100`"),
            (st(r#""effect":"allow","action":"*","resource":"*","principal":5"#),
                "PrincipalError", "principal"),
            (cond("[]"), "ConditionError", "must be an object"),
            (cond(r#"{"ip_equal":"x"}"#), "ConditionError", "condition.ip_equal"),
            (cond(r#"{"ip_equal":{"qcs:ip":{}}}"#), "ConditionError", "qcs:ip"),
            (cond(r#"{"IpAddress":{"qcs:ip":"1.2.3.4"}}"#), "ConditionTypeError", "`IpAddress`"),
            (cond(r#"{"ip_equal":{"qcs:ip":"10.0.0.0/33"}}"#), "ConditionContentError", "/33`"),
            (cond(r#"{"date_less_than":{"qcs:current_time":"soon"}}"#),
                "ConditionContentError", "ISO 8601"),
            (cond(r#"{"bool_equal":{"mfa":"maybe"}}"#), "ConditionContentError", "`maybe`"),
        ];
        for (doc, code, needle) in cases {
            let err = parse(&doc).expect_err(&doc);
            assert_eq!(
                err.code(),
                format!("InvalidParameter.{code}"),
                "{doc}: {err}"
            );
            assert!(err.to_string().contains(needle), "{doc}: {err}");
        }
    }

    /// Documents from the CAM pages parse, including a trust policy without `resource`.
    #[test]
    fn documented_examples_parse() {
        for doc in [
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cvm:Describe*","resource":"*"}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["name/cos:*"],"resource":["*"]}]}"#,
            r#"{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"service":["cloudaudit.cloud.tencent.com","cls.cloud.tencent.com"]}}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"name/vpc:AcceptVpcPeeringConnection","resource":"qcs::vpc:sh::pcx/2341","condition":{"string_equal_if_exist":{"vpc:region":"sh"}}}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["cvm:RebootInstances"],"resource":"*","condition":{"for_any_value:string_equal":{"qcs:resource_tag":["部门&研发部"]}}}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"allow","action":"cos:PutObject","resource":"*","condition":{"ip_equal":{"qcs:ip":["10.217.182.3/24","111.21.33.72/24"]}}}]}"#,
            r#"{"version":"2.0","statement":[{"effect":"deny","principal":"*","action":"account:QueryKeyBySecretId","resource":"*","condition":{"string_equal":{"mfa":"0"}}}]}"#,
        ] {
            parse(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
        }
    }

    /// `parse` never panics, on random strings or on mutations of valid documents, and what
    /// it accepts can be evaluated.
    #[test]
    fn parse_never_panics() {
        // xorshift64*: deterministic, so a failure reproduces.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let seeds = [
            r#"{"version":"2.0","statement":[{"effect":"allow","action":["cvm:*"],"resource":"qcs::cvm:ap-guangzhou:uin/1:instance/*","condition":{"ip_equal":{"qcs:ip":"10.0.0.0/8"},"date_less_than":{"qcs:current_time":"2030-01-01T00:00:00+08:00"}}}]}"#,
            r#"{"version":"2.0","statement":{"effect":"deny","action":"*","resource":"*","condition":{"for_all_value:string_equal_if_exist":{"mfa":["0",1,true]}}}}"#,
        ];
        let alphabet: Vec<char> = "{}[]\":,.*?/-+ 0123456789abcdeflnorstuvwxyzTZ:qcs_\\é字\u{0}"
            .chars()
            .collect();
        let resources = res("qcs::cvm:ap-guangzhou:uin/1:instance/ins-1");
        let q = req("cvm:RunInstances", &resources);
        let mut accepted = 0;
        for round in 0..20_000 {
            let doc: String = if round % 2 == 0 {
                let len = usize::try_from(next() % 64).unwrap();
                (0..len)
                    .map(|_| alphabet[usize::try_from(next()).unwrap() % alphabet.len()])
                    .collect()
            } else {
                let mut chars: Vec<char> = seeds[round % 4 / 2].chars().collect();
                for _ in 0..=next() % 4 {
                    let i = usize::try_from(next()).unwrap() % chars.len();
                    let c = alphabet[usize::try_from(next()).unwrap() % alphabet.len()];
                    match next() % 3 {
                        0 => chars[i] = c,
                        1 => chars.insert(i, c),
                        _ => {
                            chars.remove(i);
                        }
                    }
                }
                chars.into_iter().collect()
            };
            if let Ok(p) = parse(&doc) {
                accepted += 1;
                let _ = evaluate(&[&p], &q);
                let _ = requires_mfa(&[&p], &q);
            }
        }
        assert!(
            accepted > 0,
            "the mutations should keep some documents valid"
        );
        for bad in [
            "",
            "{",
            "\"",
            "null",
            "{\"version\":\"2.0\",\"statement\":[[[[]]]]}",
        ] {
            assert!(parse(bad).is_err());
        }
    }

    /// Every preset parses, has a unique id and name, texts in three languages, and a
    /// document that round-trips through `parse`.
    #[test]
    fn presets_parse() {
        let all = presets();
        assert!(all.len() >= 5);
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for p in all {
            assert!(ids.insert(p.id), "{}", p.id);
            assert!(names.insert(p.name.as_str()), "{}", p.name);
            assert_eq!(p.policy_type, 2);
            assert!(parse_time(&p.add_time.replace(' ', "T")).is_some());
            for lang in Language::ALL {
                assert!(!p.descriptions.get(lang).is_empty(), "{} {lang}", p.name);
            }
            assert_eq!(p.description, p.descriptions.get(Language::ZhCn));
            parse(&p.document).unwrap();
            assert!(
                p.document.starts_with(r#"{"version":"2.0""#),
                "{}",
                p.document
            );
        }
        for name in [
            "AdministratorAccess",
            "ReadOnlyAccess",
            "QcloudCVMFullAccess",
            "QcloudCVMReadOnlyAccess",
            "QcloudCamReadOnlyAccess",
        ] {
            assert!(names.contains(name), "{name}");
        }
    }

    /// The presets grant what their names say.
    #[test]
    fn presets_behave() {
        let get = |name: &str| &presets().iter().find(|p| p.name == name).unwrap().policy;
        let r = instance("ins-abcd1234");
        let allows = |p: &Policy, action: &str| evaluate(&[p], &req(action, &r)) == Decision::Allow;
        let cvm_ro = get("QcloudCVMReadOnlyAccess");
        assert!(allows(cvm_ro, "cvm:DescribeInstances"));
        assert!(allows(cvm_ro, "cvm:InquiryPriceRunInstances"));
        assert!(!allows(cvm_ro, "cvm:RunInstances"));
        assert!(!allows(cvm_ro, "cam:ListUsers"));
        let cvm_full = get("QcloudCVMFullAccess");
        assert!(allows(cvm_full, "cvm:TerminateInstances"));
        assert!(!allows(cvm_full, "cam:AddUser"));
        let admin = get("AdministratorAccess");
        assert!(allows(admin, "cam:CreateAccessKey"));
        let ro = get("ReadOnlyAccess");
        assert!(allows(ro, "cam:GetUserAppId"));
        assert!(allows(ro, "vpc:DescribeVpcs"));
        assert!(!allows(ro, "cvm:StopInstances"));
        let cam_ro = get("QcloudCamReadOnlyAccess");
        assert!(allows(cam_ro, "cam:ListUsers"));
        assert!(!allows(cam_ro, "cam:DeleteUser"));
    }
}

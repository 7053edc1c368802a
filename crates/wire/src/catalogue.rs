//! The catalogue of common error codes and message templates.
//!
//! The data lives in `data/errors.json`: every code of the seeds' tables and the other common
//! codes the cloud documents (protocol.md §7), each with a description in `zh-CN`, `en-US` and
//! `ja-JP`, and message templates (`{0}`, `{1}` … are filled in where the error is raised).
//! Where the real cloud's English text is known it is used word for word.
//!
//! [`CommonCode`] is the Rust face of the code list: the wire string comes from one exhaustive
//! `match`, and a test keeps the enum and the data file in step.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::Language;

/// A common error code: one that every product may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommonCode {
    /// `ActionOffline`
    ActionOffline,
    /// `AuthFailure`
    AuthFailure,
    /// `AuthFailure.InvalidAuthorization`
    AuthFailureInvalidAuthorization,
    /// `AuthFailure.InvalidSecretId`
    AuthFailureInvalidSecretId,
    /// `AuthFailure.MFAFailure`
    AuthFailureMFAFailure,
    /// `AuthFailure.SecretIdNotFound`
    AuthFailureSecretIdNotFound,
    /// `AuthFailure.SignatureExpire`
    AuthFailureSignatureExpire,
    /// `AuthFailure.SignatureFailure`
    AuthFailureSignatureFailure,
    /// `AuthFailure.TokenFailure`
    AuthFailureTokenFailure,
    /// `AuthFailure.UnauthorizedOperation`
    AuthFailureUnauthorizedOperation,
    /// `DryRunOperation`
    DryRunOperation,
    /// `FailedOperation`
    FailedOperation,
    /// `InternalError`
    InternalError,
    /// `InvalidAction`
    InvalidAction,
    /// `InvalidParameter`
    InvalidParameter,
    /// `InvalidParameterValue`
    InvalidParameterValue,
    /// `InvalidRequest`
    InvalidRequest,
    /// `IpInBlacklist`
    IpInBlacklist,
    /// `IpNotInWhitelist`
    IpNotInWhitelist,
    /// `LimitExceeded`
    LimitExceeded,
    /// `MissingParameter`
    MissingParameter,
    /// `NoSuchProduct`
    NoSuchProduct,
    /// `NoSuchVersion`
    NoSuchVersion,
    /// `RequestLimitExceeded`
    RequestLimitExceeded,
    /// `RequestLimitExceeded.GlobalRegionUinLimitExceeded`
    RequestLimitExceededGlobalRegionUinLimitExceeded,
    /// `RequestLimitExceeded.IPLimitExceeded`
    RequestLimitExceededIPLimitExceeded,
    /// `RequestLimitExceeded.UinLimitExceeded`
    RequestLimitExceededUinLimitExceeded,
    /// `RequestSizeLimitExceeded`
    RequestSizeLimitExceeded,
    /// `ResourceInUse`
    ResourceInUse,
    /// `ResourceInsufficient`
    ResourceInsufficient,
    /// `ResourceNotFound`
    ResourceNotFound,
    /// `ResourceUnavailable`
    ResourceUnavailable,
    /// `ResponseSizeLimitExceeded`
    ResponseSizeLimitExceeded,
    /// `ServiceUnavailable`
    ServiceUnavailable,
    /// `UnauthorizedOperation`
    UnauthorizedOperation,
    /// `UnknownParameter`
    UnknownParameter,
    /// `UnsupportedOperation`
    UnsupportedOperation,
    /// `UnsupportedProtocol`
    UnsupportedProtocol,
    /// `UnsupportedRegion`
    UnsupportedRegion,
}

impl CommonCode {
    /// Every common code, in catalogue order.
    pub const ALL: [CommonCode; 39] = [
        CommonCode::ActionOffline,
        CommonCode::AuthFailure,
        CommonCode::AuthFailureInvalidAuthorization,
        CommonCode::AuthFailureInvalidSecretId,
        CommonCode::AuthFailureMFAFailure,
        CommonCode::AuthFailureSecretIdNotFound,
        CommonCode::AuthFailureSignatureExpire,
        CommonCode::AuthFailureSignatureFailure,
        CommonCode::AuthFailureTokenFailure,
        CommonCode::AuthFailureUnauthorizedOperation,
        CommonCode::DryRunOperation,
        CommonCode::FailedOperation,
        CommonCode::InternalError,
        CommonCode::InvalidAction,
        CommonCode::InvalidParameter,
        CommonCode::InvalidParameterValue,
        CommonCode::InvalidRequest,
        CommonCode::IpInBlacklist,
        CommonCode::IpNotInWhitelist,
        CommonCode::LimitExceeded,
        CommonCode::MissingParameter,
        CommonCode::NoSuchProduct,
        CommonCode::NoSuchVersion,
        CommonCode::RequestLimitExceeded,
        CommonCode::RequestLimitExceededGlobalRegionUinLimitExceeded,
        CommonCode::RequestLimitExceededIPLimitExceeded,
        CommonCode::RequestLimitExceededUinLimitExceeded,
        CommonCode::RequestSizeLimitExceeded,
        CommonCode::ResourceInUse,
        CommonCode::ResourceInsufficient,
        CommonCode::ResourceNotFound,
        CommonCode::ResourceUnavailable,
        CommonCode::ResponseSizeLimitExceeded,
        CommonCode::ServiceUnavailable,
        CommonCode::UnauthorizedOperation,
        CommonCode::UnknownParameter,
        CommonCode::UnsupportedOperation,
        CommonCode::UnsupportedProtocol,
        CommonCode::UnsupportedRegion,
    ];

    /// The code as it appears in `Response.Error.Code`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CommonCode::ActionOffline => "ActionOffline",
            CommonCode::AuthFailure => "AuthFailure",
            CommonCode::AuthFailureInvalidAuthorization => "AuthFailure.InvalidAuthorization",
            CommonCode::AuthFailureInvalidSecretId => "AuthFailure.InvalidSecretId",
            CommonCode::AuthFailureMFAFailure => "AuthFailure.MFAFailure",
            CommonCode::AuthFailureSecretIdNotFound => "AuthFailure.SecretIdNotFound",
            CommonCode::AuthFailureSignatureExpire => "AuthFailure.SignatureExpire",
            CommonCode::AuthFailureSignatureFailure => "AuthFailure.SignatureFailure",
            CommonCode::AuthFailureTokenFailure => "AuthFailure.TokenFailure",
            CommonCode::AuthFailureUnauthorizedOperation => "AuthFailure.UnauthorizedOperation",
            CommonCode::DryRunOperation => "DryRunOperation",
            CommonCode::FailedOperation => "FailedOperation",
            CommonCode::InternalError => "InternalError",
            CommonCode::InvalidAction => "InvalidAction",
            CommonCode::InvalidParameter => "InvalidParameter",
            CommonCode::InvalidParameterValue => "InvalidParameterValue",
            CommonCode::InvalidRequest => "InvalidRequest",
            CommonCode::IpInBlacklist => "IpInBlacklist",
            CommonCode::IpNotInWhitelist => "IpNotInWhitelist",
            CommonCode::LimitExceeded => "LimitExceeded",
            CommonCode::MissingParameter => "MissingParameter",
            CommonCode::NoSuchProduct => "NoSuchProduct",
            CommonCode::NoSuchVersion => "NoSuchVersion",
            CommonCode::RequestLimitExceeded => "RequestLimitExceeded",
            CommonCode::RequestLimitExceededGlobalRegionUinLimitExceeded => {
                "RequestLimitExceeded.GlobalRegionUinLimitExceeded"
            }
            CommonCode::RequestLimitExceededIPLimitExceeded => {
                "RequestLimitExceeded.IPLimitExceeded"
            }
            CommonCode::RequestLimitExceededUinLimitExceeded => {
                "RequestLimitExceeded.UinLimitExceeded"
            }
            CommonCode::RequestSizeLimitExceeded => "RequestSizeLimitExceeded",
            CommonCode::ResourceInUse => "ResourceInUse",
            CommonCode::ResourceInsufficient => "ResourceInsufficient",
            CommonCode::ResourceNotFound => "ResourceNotFound",
            CommonCode::ResourceUnavailable => "ResourceUnavailable",
            CommonCode::ResponseSizeLimitExceeded => "ResponseSizeLimitExceeded",
            CommonCode::ServiceUnavailable => "ServiceUnavailable",
            CommonCode::UnauthorizedOperation => "UnauthorizedOperation",
            CommonCode::UnknownParameter => "UnknownParameter",
            CommonCode::UnsupportedOperation => "UnsupportedOperation",
            CommonCode::UnsupportedProtocol => "UnsupportedProtocol",
            CommonCode::UnsupportedRegion => "UnsupportedRegion",
        }
    }

    /// Looks a code up by its wire string.
    #[must_use]
    pub fn from_wire(code: &str) -> Option<CommonCode> {
        CommonCode::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The catalogue's description of the code in `lang`.
    #[must_use]
    pub fn description(self, lang: Language) -> &'static str {
        CATALOGUE
            .descriptions
            .get(self.as_str())
            .map_or("", |t| t.get(lang))
    }
}

impl std::fmt::Display for CommonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
/// One text in the three languages.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Localized {
    #[serde(rename = "zh-CN")]
    zh_cn: String,
    #[serde(rename = "en-US")]
    en_us: String,
    #[serde(rename = "ja-JP")]
    ja_jp: String,
}

impl Localized {
    /// The text in `lang`.
    #[must_use]
    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::ZhCn => &self.zh_cn,
            Language::EnUs => &self.en_us,
            Language::JaJp => &self.ja_jp,
        }
    }
}

/// A table of message templates, keyed by name. Products add their own tables in the same
/// format as `data/errors.json`'s `messages`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Templates {
    entries: HashMap<String, Localized>,
}

impl Templates {
    /// Parses a JSON object `{key: {"zh-CN": …, "en-US": …, "ja-JP": …}}`.
    ///
    /// # Errors
    /// When the JSON does not have that shape (a bug in shipped data, caught by tests).
    pub fn from_json(json: &str) -> Result<Templates, serde_json::Error> {
        Ok(Templates {
            entries: serde_json::from_str(json)?,
        })
    }

    /// The template `key` in `lang`, if the table has it.
    #[must_use]
    pub fn get(&self, key: &str, lang: Language) -> Option<&str> {
        self.entries.get(key).map(|t| t.get(lang))
    }

    /// Every key in the table.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Renders `key` in `lang` with `args` in the `{0}`, `{1}` … slots.
    #[must_use]
    pub fn render(&self, key: &str, lang: Language, args: &[String]) -> Option<String> {
        self.get(key, lang).map(|t| fill(t, args))
    }
}

/// Replaces `{n}` with `args[n]`; a slot without an argument stays as written so a missing
/// argument shows up in tests instead of vanishing.
#[must_use]
pub fn fill(template: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let slot = after
            .find('}')
            .and_then(|close| after[..close].parse::<usize>().ok().map(|n| (n, close)));
        match slot {
            Some((n, close)) if n < args.len() => {
                out.push_str(&args[n]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(serde::Deserialize)]
struct CatalogueFile {
    codes: HashMap<String, Localized>,
    messages: Templates,
}

struct Catalogue {
    descriptions: HashMap<String, Localized>,
    messages: Templates,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let file: CatalogueFile = serde_json::from_str(include_str!("../data/errors.json"))
        .expect("data/errors.json is valid (checked by tests)");
    Catalogue {
        descriptions: file.codes,
        messages: file.messages,
    }
});

/// The common message templates (`data/errors.json` → `messages`).
#[must_use]
pub fn common_templates() -> &'static Templates {
    &CATALOGUE.messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The 26 codes of the seeds' common error code table (English, Chinese and Japanese
    /// pages list the same codes), plus the bare `AuthFailure` of the 2018 English page.
    const SEED_CODES: [&str; 27] = [
        "AuthFailure",
        "AuthFailure.InvalidSecretId",
        "AuthFailure.MFAFailure",
        "AuthFailure.SecretIdNotFound",
        "AuthFailure.SignatureExpire",
        "AuthFailure.SignatureFailure",
        "AuthFailure.TokenFailure",
        "AuthFailure.UnauthorizedOperation",
        "DryRunOperation",
        "FailedOperation",
        "InternalError",
        "InvalidAction",
        "InvalidParameter",
        "InvalidParameterValue",
        "LimitExceeded",
        "MissingParameter",
        "NoSuchVersion",
        "RequestLimitExceeded",
        "ResourceInUse",
        "ResourceInsufficient",
        "ResourceNotFound",
        "ResourceUnavailable",
        "UnauthorizedOperation",
        "UnknownParameter",
        "UnsupportedOperation",
        "UnsupportedProtocol",
        "UnsupportedRegion",
    ];

    #[test]
    fn catalogue_has_every_seed_code() {
        for code in SEED_CODES {
            assert!(CommonCode::from_wire(code).is_some(), "{code} missing");
        }
    }

    #[test]
    fn seed_files_list_no_code_the_catalogue_lacks() {
        // The seeds sit beside the checkout in CI and in development; a bare crate checkout
        // has no seeds, and then SEED_CODES above is the check.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let mut seen = 0;
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for line in text.lines() {
                let cell = line.trim().trim_start_matches('|').trim();
                let first = cell.split(['|', ' ']).next().unwrap_or("");
                let looks_like_code = first.len() > 3
                    && first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
                    && first.chars().any(|c| c.is_ascii_lowercase());
                if looks_like_code && SEED_CODES.contains(&first) {
                    seen += 1;
                    assert!(CommonCode::from_wire(first).is_some());
                }
            }
        }
        assert!(seen >= 26, "parsed only {seen} codes from the seeds");
    }

    #[test]
    fn enum_and_data_file_list_the_same_codes() {
        let data: BTreeSet<&str> = CATALOGUE.descriptions.keys().map(String::as_str).collect();
        let code: BTreeSet<&str> = CommonCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(data, code);
    }

    #[test]
    fn every_code_has_a_description_and_a_default_message_in_three_languages() {
        for code in CommonCode::ALL {
            for lang in Language::ALL {
                assert!(!code.description(lang).is_empty(), "{code} {lang}");
            }
            // Bare `AuthFailure` is a family name from the old table; nothing raises it.
            if code == CommonCode::AuthFailure {
                continue;
            }
            for lang in Language::ALL {
                let m = common_templates().get(code.as_str(), lang);
                assert!(m.is_some_and(|m| !m.is_empty()), "{code} {lang}");
            }
        }
    }

    #[test]
    fn templates_use_the_same_slots_in_every_language() {
        let slots = |t: &str| -> BTreeSet<String> {
            t.match_indices('{')
                .filter_map(|(i, _)| {
                    let rest = &t[i + 1..];
                    let close = rest.find('}')?;
                    rest[..close].parse::<usize>().ok().map(|n| n.to_string())
                })
                .collect()
        };
        for key in common_templates().keys() {
            let en = slots(common_templates().get(key, Language::EnUs).unwrap());
            for lang in Language::ALL {
                assert_eq!(
                    slots(common_templates().get(key, lang).unwrap()),
                    en,
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn known_real_messages_are_word_for_word() {
        let t = common_templates();
        assert_eq!(
            t.get("AuthFailure.SignatureFailure", Language::EnUs)
                .unwrap(),
            "The provided credentials could not be validated. Please check your signature is correct."
        );
        assert_eq!(
            t.get("AuthFailure.SignatureFailure", Language::ZhCn)
                .unwrap(),
            "请求签名验证失败，请检查您的签名计算是否正确。"
        );
        assert_eq!(
            t.get("AuthFailure.SignatureExpire", Language::EnUs)
                .unwrap(),
            "The signature is expired, please request again."
        );
        assert_eq!(
            t.render("MissingParameter", Language::EnUs, &["Action".into()])
                .unwrap(),
            "The request is missing a required parameter `Action`."
        );
        assert_eq!(
            t.render(
                "UnknownParameter",
                Language::EnUs,
                &["EngSerViceType".into()]
            )
            .unwrap(),
            "The parameter `EngSerViceType` is not recognized."
        );
    }

    #[test]
    fn fill_keeps_unknown_slots_and_braces() {
        assert_eq!(fill("a {0} b {1} {x}", &["A".into()]), "a A b {1} {x}");
        assert_eq!(fill("{", &[]), "{");
        assert_eq!(fill("{0}{0}", &["z".into()]), "zz");
    }
}

//! [`ApiError`]: the one error type every API failure becomes before it goes on the wire.
//!
//! An error carries its code and a message *template* with arguments, not a rendered string,
//! because the language is a property of the request and the error may be raised far from it.
//! Internal details (the `source`) are kept for the log and never reach the client.

use std::borrow::Cow;
use std::fmt;

use crate::catalogue::{CommonCode, Templates, common_templates};
use crate::lang::Language;

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

/// An API-level failure: answered with HTTP 200 and `Response.Error`.
pub struct ApiError {
    code: Cow<'static, str>,
    templates: &'static Templates,
    key: Cow<'static, str>,
    args: Vec<String>,
    /// A message given as text (fault rules), used in every language.
    text: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ApiError {
    /// An error with a common code and that code's default message.
    #[must_use]
    pub fn new(code: CommonCode) -> ApiError {
        ApiError {
            code: Cow::Borrowed(code.as_str()),
            templates: common_templates(),
            key: Cow::Borrowed(code.as_str()),
            args: Vec::new(),
            text: None,
            source: None,
        }
    }

    /// An error with a common code and the common template `key` (e.g. `InvalidParameter.Type`).
    #[must_use]
    pub fn with_template(code: CommonCode, key: &'static str) -> ApiError {
        ApiError {
            key: Cow::Borrowed(key),
            ..ApiError::new(code)
        }
    }

    /// An error with a product's own code and a template from the product's table.
    #[must_use]
    pub fn product(
        code: impl Into<Cow<'static, str>>,
        templates: &'static Templates,
        key: impl Into<Cow<'static, str>>,
    ) -> ApiError {
        ApiError {
            code: code.into(),
            templates,
            key: key.into(),
            args: Vec::new(),
            text: None,
            source: None,
        }
    }

    /// `InternalError`; the cause is kept for the log only.
    #[must_use]
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::new(CommonCode::InternalError).with_source(source)
    }

    /// Appends one argument for the next `{n}` slot of the template.
    #[must_use]
    pub fn arg(mut self, value: impl fmt::Display) -> ApiError {
        self.args.push(value.to_string());
        self
    }

    /// Replaces the message with fixed text, the same in every language (user-defined
    /// messages, such as a fault rule's).
    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> ApiError {
        self.text = Some(text.into());
        self
    }

    /// The same error under a different (common) code, keeping its message.
    #[must_use]
    pub fn recode(mut self, code: CommonCode) -> ApiError {
        self.code = Cow::Borrowed(code.as_str());
        self
    }

    /// Attaches the underlying cause (logged, never sent).
    #[must_use]
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ApiError {
        self.source = Some(source.into());
        self
    }

    /// The wire code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// True when the code is `code`.
    #[must_use]
    pub fn is(&self, code: CommonCode) -> bool {
        self.code == code.as_str()
    }

    /// The template key (for tests and the journal).
    #[must_use]
    pub fn template_key(&self) -> &str {
        &self.key
    }

    /// The message in `lang`. A template missing from its table falls back to the code's
    /// common description, so an error is never sent without a message.
    #[must_use]
    pub fn message(&self, lang: Language) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        if let Some(m) = self.templates.render(&self.key, lang, &self.args) {
            return m;
        }
        if let Some(m) = common_templates().render(&self.key, lang, &self.args) {
            return m;
        }
        let family = self.code.split('.').next().unwrap_or(&self.code);
        CommonCode::from_wire(&self.code)
            .or_else(|| CommonCode::from_wire(family))
            .map_or_else(|| self.code.to_string(), |c| c.description(lang).to_owned())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("key", &self.key)
            .field("args", &self.args)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message(Language::EnUs))
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_the_requested_language() {
        let e = ApiError::new(CommonCode::MissingParameter).arg("Action");
        assert_eq!(e.code(), "MissingParameter");
        assert_eq!(
            e.message(Language::EnUs),
            "The request is missing a required parameter `Action`."
        );
        assert!(e.message(Language::ZhCn).contains("`Action`"));
        assert!(e.message(Language::JaJp).contains("`Action`"));
    }

    #[test]
    fn internal_error_hides_its_cause() {
        let e = ApiError::internal("disk on fire at /secret/path");
        assert!(e.is(CommonCode::InternalError));
        for lang in Language::ALL {
            assert!(!e.message(lang).contains("secret"));
        }
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn unknown_template_falls_back_to_the_family_description() {
        static EMPTY: std::sync::LazyLock<Templates> = std::sync::LazyLock::new(Templates::default);
        let e = ApiError::product("ResourceNotFound.Nothing", &EMPTY, "nope");
        assert_eq!(e.message(Language::EnUs), "Resource does not exist.");
    }
}

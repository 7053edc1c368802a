//! The language of a request (`X-TC-Language` for TC3, `Language` for v1).
//!
//! The seeds come in Chinese, English and Japanese, so tclocal speaks all three, although
//! the official SDKs only let a caller choose `zh-CN` or `en-US`.

use std::fmt;
use std::str::FromStr;

/// A language tclocal answers in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Language {
    /// Simplified Chinese, the cloud's default.
    #[default]
    ZhCn,
    /// English.
    EnUs,
    /// Japanese.
    JaJp,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 3] = [Language::ZhCn, Language::EnUs, Language::JaJp];

    /// The tag as it appears on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::EnUs => "en-US",
            Language::JaJp => "ja-JP",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tag is not one of `zh-CN`, `en-US`, `ja-JP`.
#[derive(Debug, thiserror::Error)]
#[error("unsupported language {0:?}")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Case-insensitive, and `_` for `-`, because hand-written clients vary here.
        let norm = s.trim().replace('_', "-").to_ascii_lowercase();
        match norm.as_str() {
            "zh-cn" => Ok(Language::ZhCn),
            "en-us" => Ok(Language::EnUs),
            "ja-jp" => Ok(Language::JaJp),
            _ => Err(UnknownLanguage(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_tags_and_rejects_others() {
        assert_eq!("zh-CN".parse::<Language>().unwrap(), Language::ZhCn);
        assert_eq!("en-US".parse::<Language>().unwrap(), Language::EnUs);
        assert_eq!("ja_jp".parse::<Language>().unwrap(), Language::JaJp);
        assert!("fr-FR".parse::<Language>().is_err());
        for l in Language::ALL {
            assert_eq!(l.as_str().parse::<Language>().unwrap(), l);
        }
    }
}

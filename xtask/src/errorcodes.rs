//! Error-code extraction from the Python SDK's `errorcodes.py`.
//!
//! `api.json` carries no error codes; the SDK lists a product's codes as Python constants,
//! each under a comment holding its description. Only the code strings are structure, so
//! this reads the right-hand sides of the assignments and ignores comments entirely.

use std::collections::BTreeSet;

/// The codes assigned in an `errorcodes.py`, sorted (byte order) and without duplicates.
///
/// A line counts when it reads `IDENTIFIER = 'Code'` (or with double quotes); comments,
/// blank lines and anything else are skipped.
pub(crate) fn extract(text: &str) -> Vec<String> {
    let mut codes = BTreeSet::new();
    for line in text.lines() {
        if let Some(code) = assignment(line.trim()) {
            codes.insert(code.to_owned());
        }
    }
    codes.into_iter().collect()
}

/// The quoted code of an `IDENTIFIER = 'Code'` line (single or double quotes), if it is one.
pub(crate) fn assignment(line: &str) -> Option<&str> {
    let (lhs, rhs) = line.split_once('=')?;
    let lhs = lhs.trim();
    if lhs.is_empty() || !lhs.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let rhs = rhs.trim();
    let quote = rhs.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = rhs.strip_prefix(quote)?.strip_suffix(quote)?;
    let valid = !inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    valid.then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = "# -*- coding: utf8 -*-
# Copyright (c) 2017-2025 Tencent. All Rights Reserved.
#
# Licensed under the Apache License, Version 2.0 (the \"License\");


# 角色名鉴权失败
AUTHFAILURE_CAMROLENAMEAUTHENTICATEFAILED = 'AuthFailure.CamRoleNameAuthenticateFailed'

# 该请求账户未通过资格审计。
ACCOUNTQUALIFICATIONRESTRICTIONS = 'AccountQualificationRestrictions'

# 实例不存在 = 'NotACode'
INVALIDINSTANCEID_NOTFOUND = \"InvalidInstanceId.NotFound\"

# 重复
INVALIDINSTANCEID_NOTFOUND_AGAIN = 'InvalidInstanceId.NotFound'
INTERNALERROR_TRADEUNKNOWNERROR = 'InternalError.TradeUnknownError'
";

    #[test]
    fn codes_are_extracted_sorted_and_unique() {
        assert_eq!(
            extract(FIXTURE),
            [
                "AccountQualificationRestrictions",
                "AuthFailure.CamRoleNameAuthenticateFailed",
                "InternalError.TradeUnknownError",
                "InvalidInstanceId.NotFound",
            ]
        );
    }

    #[test]
    fn comments_and_prose_are_ignored() {
        let codes = extract(FIXTURE);
        assert!(codes.iter().all(|c| c.is_ascii()));
        assert!(
            !codes
                .iter()
                .any(|c| c == "NotACode" || c.contains("License"))
        );
        assert!(extract("x = 'has space'\nY = 'unterminated\n = 'NoName'\n").is_empty());
        assert!(extract("").is_empty());
    }
}

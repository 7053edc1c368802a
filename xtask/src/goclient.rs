//! Per-action error codes from the Go SDK's `client.go`.
//!
//! The Go SDK documents, above each action's client method, the codes that action may return:
//!
//! ```text
//! // <prose>
//! //
//! // 可能返回的错误码:
//! //  INVALIDFILTER = "InvalidFilter"
//! //  UNSUPPORTEDOPERATION = "UnsupportedOperation"
//! func (c *Client) DescribeZones(request *DescribeZonesRequest) (...) {
//! ```
//!
//! The same block is repeated above `DescribeZonesWithContext`. Only the structure is read:
//! the marker line, the quoted code strings after it and the name of the function the comment
//! block belongs to. The prose is skipped.

use std::collections::{BTreeMap, BTreeSet};

use crate::errorcodes;

/// The marker line that opens a code list (the generator's English variant is accepted too).
const MARKERS: &[&str] = &["可能返回的错误码", "error code that may be returned"];

/// Action name → its codes (sorted, unique), for every client method documenting a list.
/// `X` and `XWithContext` are the same action; their lists are merged.
pub(crate) fn extract(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Codes of the comment block being read; `None` until its marker line.
    let mut block: Option<BTreeSet<String>> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("//") {
            let comment = comment.trim();
            match &mut block {
                Some(codes) => {
                    if let Some(code) = errorcodes::assignment(comment) {
                        codes.insert(code.to_owned());
                    }
                }
                None if MARKERS.iter().any(|m| comment.starts_with(m)) => {
                    block = Some(BTreeSet::new());
                }
                None => {}
            }
            continue;
        }
        // The first line after the comment block decides whom it documents.
        if let Some(codes) = block.take() {
            if let Some(action) = client_method(line) {
                found.entry(action.to_owned()).or_default().extend(codes);
            }
        }
    }
    found
        .into_iter()
        .filter(|(_, codes)| !codes.is_empty())
        .map(|(action, codes)| (action, codes.into_iter().collect()))
        .collect()
}

/// The action a `func (c *Client) Name(...)` line implements: `Name`, or `X` for the context
/// variant `XWithContext(ctx context.Context, ...)`. `None` for any other line.
fn client_method(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("func (")?;
    let (receiver, rest) = rest.split_once(')')?;
    let receiver_type = receiver.split_whitespace().last()?;
    if receiver_type != "*Client" {
        return None;
    }
    let (name, params) = rest.trim_start().split_once('(')?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let with_context = name
        .strip_suffix("WithContext")
        .filter(|base| !base.is_empty() && params.trim_start().starts_with("ctx context.Context"));
    Some(with_context.unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like the generated `client.go`: prose, the marker, the list, the method, twice
    /// per action; one action without a list; an unrelated function with a list-like comment.
    const FIXTURE: &str = r#"package v20170312

import (
    "context"
)

// 本接口 (DescribeInstancesStatus) 用于查询一个或多个实例的状态。
//
// * 可以根据实例`ID`来查询实例的状态。
// * 如果参数为空，返回当前用户一定数量（Limit所指定的数量，默认为20）的实例状态。
//
// 可能返回的错误码:
//  UNSUPPORTEDOPERATION = "UnsupportedOperation"
//  INVALIDFILTER = "InvalidFilter"
//  INTERNALSERVERERROR = "InternalServerError"
//  INVALIDFILTER = "InvalidFilter"
func (c *Client) DescribeInstancesStatus(request *DescribeInstancesStatusRequest) (response *DescribeInstancesStatusResponse, err error) {
    return c.DescribeInstancesStatusWithContext(context.Background(), request)
}

// DescribeInstancesStatus
// 本接口 (DescribeInstancesStatus) 用于查询一个或多个实例的状态。
//
// 可能返回的错误码:
//  INTERNALSERVERERROR = "InternalServerError"
//  INVALIDINSTANCEID_MALFORMED = "InvalidInstanceId.Malformed"
//  UNSUPPORTEDOPERATION = "UnsupportedOperation"
func (c *Client) DescribeInstancesStatusWithContext(ctx context.Context, request *DescribeInstancesStatusRequest) (response *DescribeInstancesStatusResponse, err error) {
    if request == nil {
        request = NewDescribeInstancesStatusRequest()
    }
    return
}

// 本接口 (DescribeRegions) 用于查询地域信息。示例 A = "NotACode"
func (c *Client) DescribeRegions(request *DescribeRegionsRequest) (response *DescribeRegionsResponse, err error) {
    return c.DescribeRegionsWithContext(context.Background(), request)
}

// DescribeRegions
func (c *Client) DescribeRegionsWithContext(ctx context.Context, request *DescribeRegionsRequest) (response *DescribeRegionsResponse, err error) {
    return
}

// 可能返回的错误码:
//  FAILEDOPERATION = "FailedOperation"
func NewDescribeZonesRequest() (request *DescribeZonesRequest) {
    return
}

// 可能返回的错误码:
//  UNSUPPORTEDOPERATION = "UnsupportedOperation"

func (c *Client) DescribeZones(request *DescribeZonesRequest) (response *DescribeZonesResponse, err error) {
    return
}
"#;

    #[test]
    fn both_blocks_of_an_action_are_merged_sorted_and_unique() {
        let codes = extract(FIXTURE);
        assert_eq!(
            codes["DescribeInstancesStatus"],
            [
                "InternalServerError",
                "InvalidFilter",
                "InvalidInstanceId.Malformed",
                "UnsupportedOperation",
            ]
        );
        assert!(!codes.contains_key("DescribeInstancesStatusWithContext"));
    }

    #[test]
    fn methods_without_a_list_get_nothing() {
        let codes = extract(FIXTURE);
        // No marker: the `A = "NotACode"` prose is not a list.
        assert!(!codes.contains_key("DescribeRegions"));
        // A list above something that is not a client method, or separated from the method
        // by a blank line, belongs to no action.
        assert!(!codes.contains_key("DescribeZones"));
        assert!(!codes.contains_key("NewDescribeZonesRequest"));
        assert_eq!(codes.len(), 1, "{codes:?}");
        assert!(extract("").is_empty());
    }

    #[test]
    fn client_method_names() {
        assert_eq!(
            client_method(
                "func (c *Client) RunInstances(request *RunInstancesRequest) (r, err error) {"
            ),
            Some("RunInstances")
        );
        assert_eq!(
            client_method(
                "func (c *Client) RunInstancesWithContext(ctx context.Context, request *R) (r, err error) {"
            ),
            Some("RunInstances")
        );
        // `WithContext` without a context parameter is the action's own name.
        assert_eq!(
            client_method("func (c *Client) SyncWithContext(request *R) (r, err error) {"),
            Some("SyncWithContext")
        );
        assert_eq!(
            client_method("func NewClient(region string) (*Client, error) {"),
            None
        );
        assert_eq!(client_method("func (r *Request) Init() {"), None);
        assert_eq!(client_method("return c.Send(request, response)"), None);
    }
}

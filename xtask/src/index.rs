//! `specs/index.json`: one line per spec file with its checksum, its action count and the
//! checksums of the inputs it was derived from.
//!
//! Regenerating the specs needs the published packages, which CI does not download. The
//! index lets CI check the committed files without them (`crates/specs` tests: every file is
//! listed, its checksum and action count match, it parses), and lets anyone who re-runs the
//! import see whether their inputs are the ones the committed files came from: same input
//! checksums, same output, since the import is deterministic.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file name, inside the specs directory.
pub(crate) const FILE: &str = "index.json";

/// One spec file's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// sha256 of the spec file as written.
    pub(crate) sha256: String,
    /// Number of actions in it.
    pub(crate) actions: usize,
    /// What it was derived from.
    pub(crate) inputs: Inputs,
}

/// sha256 of each input file read for one spec (as read, before any parsing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Inputs {
    /// tccli `services/<dir>/v<date>/api.json`.
    pub(crate) api_json: String,
    /// Python SDK `tencentcloud/<svc>/v<date>/errorcodes.py`, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) errorcodes_py: Option<String>,
    /// Go SDK `<svc>/v<date>/client.go`, when one was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_go: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    files: BTreeMap<String, Entry>,
}

/// Lowercase hex sha256.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Merges `entries` (path relative to `out` → entry) into `out/index.json`, drops entries
/// whose file is gone, and writes the index when it changed.
pub(crate) fn update(out: &Path, entries: BTreeMap<String, Entry>) -> Result<()> {
    let path = out.join(FILE);
    let old_text = fs::read_to_string(&path).ok();
    let mut index: Index = match &old_text {
        Some(text) => {
            serde_json::from_str(text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Index::default(),
    };
    index.files.extend(entries);
    index.files.retain(|rel, _| out.join(rel).is_file());
    let text = render(&index);
    if old_text.as_deref() != Some(text.as_str()) {
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn render(index: &Index) -> String {
    let mut out = String::from("{\n  \"files\": {");
    let n = index.files.len();
    for (i, (rel, entry)) in index.files.iter().enumerate() {
        let key = serde_json::to_string(rel).expect("a string serialises");
        let value = crate::output::inline(entry);
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&format!("    {key}: {value}"));
        if i + 1 == n {
            out.push_str("\n  ");
        }
    }
    out.push_str("}\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(actions: usize) -> Entry {
        Entry {
            sha256: "ab".to_owned(),
            actions,
            inputs: Inputs {
                api_json: "cd".to_owned(),
                errorcodes_py: None,
                client_go: Some("ef".to_owned()),
            },
        }
    }

    #[test]
    fn one_line_per_file_and_the_same_value() {
        let mut index = Index::default();
        index.files.insert("b/2020-01-01.json".to_owned(), entry(2));
        index.files.insert("a/2020-01-01.json".to_owned(), entry(1));
        let text = render(&index);
        assert_eq!(
            text,
            "{\n  \"files\": {\n    \"a/2020-01-01.json\": {\"sha256\": \"ab\", \"actions\": 1, \
             \"inputs\": {\"api_json\": \"cd\", \"client_go\": \"ef\"}},\n    \
             \"b/2020-01-01.json\": {\"sha256\": \"ab\", \"actions\": 2, \"inputs\": \
             {\"api_json\": \"cd\", \"client_go\": \"ef\"}}\n  }\n}\n"
        );
        let back: Index = serde_json::from_str(&text).unwrap();
        assert_eq!(back.files, index.files);
        let empty = render(&Index::default());
        assert_eq!(empty, "{\n  \"files\": {}\n}\n");
        serde_json::from_str::<Index>(&empty).unwrap();
    }

    #[test]
    fn update_merges_and_forgets_removed_files() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        fs::create_dir_all(out.join("a")).unwrap();
        fs::write(out.join("a/2020-01-01.json"), "{}").unwrap();
        fs::write(out.join("a/2021-01-01.json"), "{}").unwrap();
        let mut first = BTreeMap::new();
        first.insert("a/2020-01-01.json".to_owned(), entry(1));
        first.insert("a/2021-01-01.json".to_owned(), entry(1));
        update(out, first).unwrap();
        fs::remove_file(out.join("a/2021-01-01.json")).unwrap();
        let mut second = BTreeMap::new();
        second.insert("a/2020-01-01.json".to_owned(), entry(3));
        update(out, second).unwrap();
        let index: Index =
            serde_json::from_str(&fs::read_to_string(out.join(FILE)).unwrap()).unwrap();
        assert_eq!(index.files.len(), 1);
        assert_eq!(index.files["a/2020-01-01.json"].actions, 3);
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

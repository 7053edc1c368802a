//! The API models tclocal knows, embedded in the binary.
//!
//! The files under `specs/` (derived from the official published models by
//! `cargo run -p xtask -- import-specs`, see `specs/README.md`): every product version tccli
//! ships, about 300 of them. `build.rs` compresses each file on its own and builds a small
//! index of product versions and action names as constant tables, so:
//!
//! - start-up pays nothing: no table is built, no file decompressed;
//! - routing ([`Registry::products_with_action`]), version and action look-ups
//!   ([`Registry::action_status`], [`Registry::actions`]) read the index only;
//! - a product version's full model ([`Registry::spec`]) is decompressed and parsed on its
//!   first use and kept; products nobody calls cost no memory.
//!
//! [`stub`] answers an action with a deterministic response that follows its output model.

pub mod stub;

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use tclocal_wire::spec::{ActionSpec, ActionStatus, ServiceSpec};

/// A string of the index: (offset, length) in [`index::STRINGS`].
#[derive(Debug, Clone, Copy)]
struct Str(u32, u32);

/// One embedded product version.
#[derive(Debug)]
struct File {
    service: Str,
    version: Str,
    /// (offset, length) of the compressed file in the blob.
    data: (u32, u32),
    /// Length of the decompressed (minified) JSON.
    raw_len: u32,
    /// (first, count) in [`index::FILE_ACTIONS`].
    actions: (u32, u32),
}

mod index {
    use super::{File, Str};
    include!(concat!(env!("OUT_DIR"), "/index.rs"));
}

/// Every file, deflate-compressed, one after the other.
static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/specs.bin"));
/// `Code\tfile,file\n` lines, sorted by code, deflate-compressed.
static ERRORS_BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/errors.bin"));

static PARSED: [OnceLock<ServiceSpec>; index::FILE_COUNT] =
    [const { OnceLock::new() }; index::FILE_COUNT];
static ERRORS: OnceLock<BTreeMap<String, Vec<u16>>> = OnceLock::new();

fn text(s: Str) -> &'static str {
    &index::STRINGS[s.0 as usize..(s.0 + s.1) as usize]
}

fn service_of(i: usize) -> &'static str {
    text(index::FILES[i].service)
}

fn version_of(i: usize) -> &'static str {
    text(index::FILES[i].version)
}

/// The files of `service`: a range of indexes (files are sorted by service, then version).
///
/// Every request routes through here two or three times (host label, credential scope,
/// model), so the ranges are kept in a hash map, built on first use, rather than searched.
fn service_range(service: &str) -> std::ops::Range<usize> {
    type Ranges = HashMap<&'static str, std::ops::Range<usize>, foldhash::fast::FixedState>;
    static RANGES: OnceLock<Ranges> = OnceLock::new();
    RANGES
        .get_or_init(|| {
            let mut ranges = Ranges::default();
            for i in 0..index::FILE_COUNT {
                ranges
                    .entry(service_of(i))
                    .and_modify(|r| r.end = i + 1)
                    .or_insert(i..i + 1);
            }
            ranges
        })
        .get(service)
        .cloned()
        .unwrap_or(0..0)
}

fn file_index(service: &str, version: &str) -> Option<usize> {
    let range = service_range(service);
    let start = range.start;
    index::FILES[range]
        .binary_search_by(|f| text(f.version).cmp(version))
        .ok()
        .map(|i| start + i)
}

/// The actions of file `i`: (action name, status), sorted by name.
fn file_actions(i: usize) -> impl ExactSizeIterator<Item = (&'static str, ActionStatus)> {
    let (first, count) = index::FILES[i].actions;
    index::FILE_ACTIONS[first as usize..(first + count) as usize]
        .iter()
        .map(|(name, status)| (text(index::NAMES[*name as usize]), status_of(*status)))
}

fn status_of(code: u8) -> ActionStatus {
    match code {
        1 => ActionStatus::Deprecated,
        2 => ActionStatus::Offline,
        _ => ActionStatus::Online,
    }
}

/// The product versions that define `action`, as file indexes.
fn files_with_action(action: &str) -> &'static [u16] {
    match index::NAMES.binary_search_by(|n| text(*n).cmp(action)) {
        Ok(i) => {
            let (first, count) = index::NAME_RANGES[i];
            &index::NAME_FILES[first as usize..(first + count) as usize]
        }
        Err(_) => &[],
    }
}

fn inflate(data: &[u8], raw_len: usize, what: &str) -> String {
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(data, raw_len)
        .unwrap_or_else(|e| panic!("embedded {what} does not decompress: {e:?}"));
    assert_eq!(bytes.len(), raw_len, "embedded {what} has the wrong length");
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("embedded {what} is not UTF-8: {e}"))
}

fn parse(i: usize) -> &'static ServiceSpec {
    PARSED[i].get_or_init(|| {
        let f = &index::FILES[i];
        let what = format!("spec {}/{}", service_of(i), version_of(i));
        let (offset, len) = (f.data.0 as usize, f.data.1 as usize);
        let json = inflate(&BLOB[offset..offset + len], f.raw_len as usize, &what);
        ServiceSpec::from_json(&json).unwrap_or_else(|e| panic!("{what} is invalid: {e}"))
    })
}

fn errors_table() -> &'static BTreeMap<String, Vec<u16>> {
    ERRORS.get_or_init(|| {
        let text = inflate(ERRORS_BLOB, index::ERRORS_RAW_LEN, "error-code table");
        text.lines()
            .filter_map(|line| {
                let (code, files) = line.split_once('\t')?;
                let files = files.split(',').filter_map(|f| f.parse().ok()).collect();
                Some((code.to_owned(), files))
            })
            .collect()
    })
}

/// Every embedded product version, and look-ups across them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Registry;

/// The embedded specs.
#[must_use]
pub fn registry() -> Registry {
    Registry
}

/// Sizes of the embedded data, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedSize {
    /// Product versions.
    pub files: usize,
    /// Actions over all product versions.
    pub actions: usize,
    /// The files as minified JSON.
    pub raw_bytes: usize,
    /// The files as embedded (compressed), with the error-code table.
    pub compressed_bytes: usize,
}

impl Registry {
    /// True when a product of that short name is known.
    #[must_use]
    pub fn has_service(self, service: &str) -> bool {
        self.service_name(service).is_some()
    }

    /// The product's short name as a `'static` string, when the product is known.
    #[must_use]
    pub fn service_name(self, service: &str) -> Option<&'static str> {
        let range = service_range(service);
        (!range.is_empty()).then(|| service_of(range.start))
    }

    /// Every product's short name, sorted.
    #[must_use]
    pub fn services(self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = (0..index::FILE_COUNT).map(service_of).collect();
        out.dedup();
        out
    }

    /// The versions of a product, oldest first.
    #[must_use]
    pub fn versions(self, service: &str) -> Vec<&'static str> {
        service_range(service).map(version_of).collect()
    }

    /// The model of one product version, decompressed and parsed on first use.
    #[must_use]
    pub fn spec(self, service: &str, version: &str) -> Option<&'static ServiceSpec> {
        file_index(service, version).map(parse)
    }

    /// True once [`Registry::spec`] has parsed that product version (diagnostics and tests).
    #[must_use]
    pub fn is_loaded(self, service: &str, version: &str) -> bool {
        file_index(service, version).is_some_and(|i| PARSED[i].get().is_some())
    }

    /// The actions of one product version with their status, sorted by name, from the index
    /// (nothing is decompressed).
    #[must_use]
    pub fn actions(
        self,
        service: &str,
        version: &str,
    ) -> Option<Vec<(&'static str, ActionStatus)>> {
        file_index(service, version).map(|i| file_actions(i).collect())
    }

    /// The number of actions of one product version, from the index.
    #[must_use]
    pub fn action_count(self, service: &str, version: &str) -> Option<usize> {
        file_index(service, version).map(|i| index::FILES[i].actions.1 as usize)
    }

    /// The status of an action of one product version, from the index; `None` when the
    /// product version does not define it.
    #[must_use]
    pub fn action_status(self, service: &str, version: &str, action: &str) -> Option<ActionStatus> {
        let i = file_index(service, version)?;
        let (first, count) = index::FILES[i].actions;
        let list = &index::FILE_ACTIONS[first as usize..(first + count) as usize];
        list.binary_search_by(|(name, _)| text(index::NAMES[*name as usize]).cmp(action))
            .ok()
            .map(|at| status_of(list[at].1))
    }

    /// The products that define `action` in `version`, and those that define it in any
    /// version: used to route a request whose host and credential scope name no product.
    /// Reads the index only.
    #[must_use]
    pub fn products_with_action(self, action: &str, version: &str) -> ActionMatches {
        let mut matches = ActionMatches::default();
        for &f in files_with_action(action) {
            let f = usize::from(f);
            let service = service_of(f);
            if version_of(f) == version {
                matches.exact.push(service);
            }
            if matches.any_version.last() != Some(&service) {
                matches.any_version.push(service);
            }
        }
        matches
    }

    /// True when the error-code list of some product (of `service`, when given) has `code`.
    /// The first call decompresses the code table (about 12,000 codes).
    #[must_use]
    pub fn has_error(self, code: &str, service: Option<&str>) -> bool {
        errors_table().get(code).is_some_and(|files| {
            service.is_none_or(|s| files.iter().any(|f| service_of(usize::from(*f)) == s))
        })
    }

    /// Every (product, version) pair, for diagnostics and the control plane.
    #[must_use]
    pub fn all(self) -> BTreeMap<&'static str, Vec<&'static str>> {
        let mut out: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for i in 0..index::FILE_COUNT {
            out.entry(service_of(i)).or_default().push(version_of(i));
        }
        out
    }

    /// An action of a product version.
    #[must_use]
    pub fn action(self, service: &str, version: &str, action: &str) -> Option<&'static ActionSpec> {
        // The index answers "no such action" without decompressing anything.
        self.action_status(service, version, action)?;
        self.spec(service, version)?.actions.get(action)
    }

    /// Sizes of the embedded data.
    #[must_use]
    pub fn embedded_size(self) -> EmbeddedSize {
        EmbeddedSize {
            files: index::FILE_COUNT,
            actions: index::ACTION_COUNT,
            raw_bytes: index::RAW_BYTES,
            compressed_bytes: BLOB.len() + ERRORS_BLOB.len(),
        }
    }
}

/// Result of [`Registry::products_with_action`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ActionMatches {
    /// Products that have the action in the requested version.
    pub exact: Vec<&'static str>,
    /// Products that have the action in some version.
    pub any_version: Vec<&'static str>,
}

#[cfg(test)]
mod tests;

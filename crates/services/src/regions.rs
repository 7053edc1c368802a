//! The regions tclocal knows, with their names in the three languages.
//!
//! A region id the cloud does not know is an invalid value (`InvalidParameterValue`); a known
//! region that a product does not serve is `UnsupportedRegion`. The list lives in
//! `data/regions.json`; each product says which of these it serves.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;
use tclocal_wire::Language;
use tclocal_wire::catalogue::Localized;

/// One region.
#[derive(Debug, Deserialize)]
pub struct Region {
    /// Id, e.g. `ap-guangzhou`.
    pub region: String,
    /// Localised name, e.g. `华南地区(广州)`.
    pub name: Localized,
}

#[derive(Deserialize)]
struct File {
    regions: Vec<Region>,
}

struct Table {
    list: Vec<Region>,
    index: HashMap<String, usize>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let file: File = serde_json::from_str(include_str!("../data/regions.json"))
        .expect("data/regions.json is valid (checked by tests)");
    let index = file
        .regions
        .iter()
        .enumerate()
        .map(|(i, r)| (r.region.clone(), i))
        .collect();
    Table {
        list: file.regions,
        index,
    }
});

/// The region with that id, if the cloud has it.
#[must_use]
pub fn get(id: &str) -> Option<&'static Region> {
    TABLE.index.get(id).map(|&i| &TABLE.list[i])
}

/// Every known region, in catalogue order.
#[must_use]
pub fn all() -> &'static [Region] {
    &TABLE.list
}

impl Region {
    /// The region's name in `lang`.
    #[must_use]
    pub fn name(&self, lang: Language) -> &str {
        self.name.get(lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_have_unique_ids_and_names_in_three_languages() {
        assert_eq!(TABLE.index.len(), all().len());
        for r in all() {
            for lang in Language::ALL {
                assert!(!r.name(lang).is_empty(), "{} {lang}", r.region);
            }
        }
        assert_eq!(
            get("ap-guangzhou").unwrap().name(Language::ZhCn),
            "华南地区(广州)"
        );
        assert!(get("gz").is_none());
    }
}

//! CVM's catalogue data: the zones of each region (`data/cvm/zones.json`).
//!
//! A region is served by CVM when it has zones here; the region list of DescribeRegions and
//! the gateway's `UnsupportedRegion` check both follow from that.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;
use tclocal_wire::catalogue::Localized;

/// One availability zone.
#[derive(Debug, Deserialize)]
pub(crate) struct Zone {
    pub(crate) zone: String,
    pub(crate) zone_id: String,
    pub(crate) state: String,
    pub(crate) name: Localized,
}

#[derive(Deserialize)]
struct File {
    zones: BTreeMap<String, Vec<Zone>>,
}

static ZONES: LazyLock<BTreeMap<String, Vec<Zone>>> = LazyLock::new(|| {
    let file: File = serde_json::from_str(include_str!("../../data/cvm/zones.json"))
        .expect("data/cvm/zones.json is valid (checked by tests)");
    file.zones
});

static REGIONS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut ids: Vec<&'static str> = ZONES.keys().map(String::as_str).collect();
    // Keep the global catalogue's order (mainland China first), as DescribeRegions does.
    ids.sort_by_key(|id| {
        crate::regions::all()
            .iter()
            .position(|r| r.region == *id)
            .unwrap_or(usize::MAX)
    });
    ids
});

/// The regions CVM serves.
pub(crate) fn regions() -> &'static [&'static str] {
    &REGIONS
}

/// The zones of a region (empty when CVM does not serve it).
pub(crate) fn zones(region: &str) -> &'static [Zone] {
    ZONES.get(region).map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cvm_region_is_a_known_region_and_zones_are_named_after_it() {
        for id in regions() {
            assert!(crate::regions::get(id).is_some(), "{id}");
            for z in zones(id) {
                assert!(z.zone.starts_with(&format!("{id}-")), "{}", z.zone);
                assert!(z.zone_id.parse::<u64>().is_ok());
            }
        }
        assert!(zones("na-toronto").is_empty());
        assert!(crate::regions::get("na-toronto").is_some());
    }
}

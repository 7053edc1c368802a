//! CVM's catalogue data, read once from `data/cvm/`:
//!
//! - `zones.json`: the zones of each region. A region is served by CVM when it has zones
//!   here; the region list of DescribeRegions and the gateway's `UnsupportedRegion` check both
//!   follow from that.
//! - `instance_types.json`: instance families (with their names in three languages), their
//!   types (vCPUs, memory in GB, GPUs), and which families each zone sells.
//! - `images.json`: the public images (our own ids, `img-` and 8 lowercase letters or digits).
//!
//! # What each zone sells
//!
//! Our own data, shaped like the real cloud's: every zone sells the general-purpose families
//! S5 and SA2 (AMD) and the memory-optimised M5; newer zones add S6, SA3 (AMD), the
//! compute-optimised C5 and the high-I/O IT5; the GPU families (GN7 with NVIDIA T4, GN10Xp with
//! NVIDIA V100) are sold in a few zones per large region only. Two deliberate gaps make "the
//! zone does not sell that type" reachable:
//!
//! - `ap-guangzhou-3`, the oldest Guangzhou zone, sells no GPU family (nor S6, SA3, IT5): use
//!   `ap-guangzhou-6` (everything) or `ap-guangzhou-4`/`-7` (GN7) for GPU instances.
//! - A type may carry `only_zones`, a subset of the zones selling its family: the largest
//!   sizes `S5.16XLARGE128`, `IT5.16XLARGE256` and `GN10Xp.20XLARGE320` are sold only in
//!   those zones (e.g. `S5.16XLARGE128` in `ap-guangzhou-6`, `ap-shanghai-5`, `ap-beijing-7`,
//!   not in `ap-guangzhou-3` although that zone sells S5).
//!
//! Every public image runs on every type (the images are all x86_64 and every family here is
//! x86_64); an image may list `families` to restrict that, none does today.

use std::collections::{BTreeMap, HashMap};
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

/// Every zone by id, with its region.
static ZONE_INDEX: LazyLock<HashMap<&'static str, (&'static str, &'static Zone)>> =
    LazyLock::new(|| {
        ZONES
            .iter()
            .flat_map(|(region, zones)| {
                zones
                    .iter()
                    .map(move |z| (z.zone.as_str(), (region.as_str(), z)))
            })
            .collect()
    });

/// The regions CVM serves.
pub(crate) fn regions() -> &'static [&'static str] {
    &REGIONS
}

/// The zones of a region (empty when CVM does not serve it).
pub(crate) fn zones(region: &str) -> &'static [Zone] {
    ZONES.get(region).map_or(&[], Vec::as_slice)
}

/// The zone with that id (e.g. `ap-guangzhou-3`) and the region it belongs to.
pub(crate) fn zone(zone: &str) -> Option<(&'static str, &'static Zone)> {
    ZONE_INDEX.get(zone).copied()
}

/// An instance family, e.g. `S5` (`标准型S5`).
#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) family: String,
    pub(crate) name: Localized,
}

/// An instance type, e.g. `S5.LARGE8` (4 vCPUs, 8 GB).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceType {
    #[serde(rename = "type")]
    pub(crate) instance_type: String,
    /// The family id, the part before the dot.
    #[serde(skip)]
    pub(crate) family: String,
    /// vCPUs.
    pub(crate) cpu: i64,
    /// Memory in GB.
    pub(crate) memory: i64,
    /// GPU cards (0 when none).
    #[serde(default)]
    pub(crate) gpu: i64,
    /// Physical GPUs, fractional for shared GPUs (0 when none).
    #[serde(default)]
    pub(crate) gpu_count: f64,
    /// GPU model, e.g. `NVIDIA T4` (empty when none).
    #[serde(default)]
    pub(crate) gpu_type: String,
    /// Memory of one GPU in GB (0 when none).
    #[serde(default)]
    pub(crate) gpu_memory: f64,
    /// FPGA cards (no family here has any).
    #[serde(default)]
    pub(crate) fpga: i64,
    /// When not empty, the only zones that sell this type (each also sells the family).
    #[serde(default)]
    pub(crate) only_zones: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FamilyEntry {
    family: String,
    name: Localized,
    types: Vec<InstanceType>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesFile {
    families: Vec<FamilyEntry>,
    /// Zone id → the families it sells.
    zones: HashMap<String, Vec<String>>,
}

struct Types {
    families: Vec<Family>,
    types: Vec<InstanceType>,
    by_name: HashMap<String, usize>,
    sales: HashMap<String, Vec<String>>,
}

static TYPES: LazyLock<Types> = LazyLock::new(|| {
    let file: TypesFile = serde_json::from_str(include_str!("../../data/cvm/instance_types.json"))
        .expect("data/cvm/instance_types.json is valid (checked by tests)");
    let mut families = Vec::with_capacity(file.families.len());
    let mut types = Vec::new();
    for entry in file.families {
        for mut t in entry.types {
            t.family.clone_from(&entry.family);
            types.push(t);
        }
        families.push(Family {
            family: entry.family,
            name: entry.name,
        });
    }
    let by_name = types
        .iter()
        .enumerate()
        .map(|(i, t)| (t.instance_type.clone(), i))
        .collect();
    Types {
        families,
        types,
        by_name,
        sales: file.zones,
    }
});

/// Every instance family, in catalogue order.
pub(crate) fn families() -> &'static [Family] {
    &TYPES.families
}

/// The instance type with that exact name (`S5.LARGE8`), if the cloud has it.
pub(crate) fn instance_type(name: &str) -> Option<&'static InstanceType> {
    TYPES.by_name.get(name).map(|&i| &TYPES.types[i])
}

/// True when `zone` sells `t`: the zone sells its family and the type is not limited to
/// other zones.
fn sold_in(zone: &str, t: &InstanceType) -> bool {
    TYPES
        .sales
        .get(zone)
        .is_some_and(|fams| fams.contains(&t.family))
        && (t.only_zones.is_empty() || t.only_zones.iter().any(|z| z == zone))
}

/// True when the zone sells that instance type (false for an unknown zone or type).
pub(crate) fn sells(zone: &str, instance_type: &str) -> bool {
    self::instance_type(instance_type).is_some_and(|t| sold_in(zone, t))
}

/// The instance types a zone sells, in catalogue order (none for an unknown zone).
pub(crate) fn types_in_zone(zone: &str) -> impl Iterator<Item = &'static InstanceType> + use<> {
    let zone: Option<&'static str> = TYPES.sales.get_key_value(zone).map(|(k, _)| k.as_str());
    TYPES
        .types
        .iter()
        .filter(move |t| zone.is_some_and(|z| sold_in(z, t)))
}

/// True when `name` has the shape of an instance type: a family (an uppercase letter, then
/// letters and digits, e.g. `S5`, `GN10Xp`), a dot, and a size of uppercase letters and digits
/// (`LARGE8`, `2XLARGE16`). Whether the type exists is a separate question.
pub(crate) fn is_instance_type_name(name: &str) -> bool {
    let Some((family, size)) = name.split_once('.') else {
        return false;
    };
    family.starts_with(|c: char| c.is_ascii_uppercase())
        && family.bytes().all(|b| b.is_ascii_alphanumeric())
        && !size.is_empty()
        && size
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A public image.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Image {
    pub(crate) image_id: String,
    /// e.g. `Ubuntu Server 22.04 LTS 64bit`.
    pub(crate) os_name: String,
    /// e.g. `Ubuntu`, `Windows`.
    pub(crate) platform: String,
    pub(crate) architecture: String,
    /// System disk size the image needs, in GB.
    pub(crate) image_size: i64,
    /// `PUBLIC_IMAGE` for every catalogue image.
    pub(crate) image_type: String,
    /// `NORMAL` for every catalogue image.
    pub(crate) image_state: String,
    pub(crate) is_support_cloudinit: bool,
    /// ISO-8601 UTC, `YYYY-MM-DDThh:mm:ssZ`.
    pub(crate) created_time: String,
    pub(crate) name: Localized,
    pub(crate) description: Localized,
    /// When not empty, the only instance families the image runs on.
    #[serde(default)]
    pub(crate) families: Vec<String>,
}

impl Image {
    /// True for the Windows images (they take no SSH key pairs).
    pub(crate) fn is_windows(&self) -> bool {
        self.platform == "Windows"
    }

    /// True when an instance of type `t` can boot this image.
    pub(crate) fn usable_on(&self, t: &InstanceType) -> bool {
        self.families.is_empty() || self.families.contains(&t.family)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImagesFile {
    images: Vec<Image>,
}

static IMAGES: LazyLock<Vec<Image>> = LazyLock::new(|| {
    let file: ImagesFile = serde_json::from_str(include_str!("../../data/cvm/images.json"))
        .expect("data/cvm/images.json is valid (checked by tests)");
    file.images
});

/// The public image with that id.
pub(crate) fn image(id: &str) -> Option<&'static Image> {
    IMAGES.iter().find(|i| i.image_id == id)
}

/// Every public image, in catalogue order.
pub(crate) fn images() -> &'static [Image] {
    &IMAGES
}

/// True when `id` has the shape of an image id: `img-` and 8 lowercase letters or digits.
pub(crate) fn is_image_id(id: &str) -> bool {
    id.len() == 12
        && id.starts_with("img-")
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use tclocal_wire::Language;

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

    #[test]
    fn zone_lookup_gives_the_region() {
        let (region, z) = zone("ap-guangzhou-3").unwrap();
        assert_eq!(region, "ap-guangzhou");
        assert_eq!(z.zone_id, "100003");
        assert_eq!(zone("ap-shanghai-fsi-2").unwrap().0, "ap-shanghai-fsi");
        assert!(zone("ap-guangzhou-99").is_none());
        assert!(zone("ap-guangzhou").is_none());
        let total: usize = regions().iter().map(|r| zones(r).len()).sum();
        assert_eq!(ZONE_INDEX.len(), total, "zone ids are unique");
    }

    #[test]
    fn families_and_types_are_well_formed_and_unique() {
        let mut fams = HashSet::new();
        for f in families() {
            assert!(
                fams.insert(f.family.as_str()),
                "duplicate family {}",
                f.family
            );
            for lang in Language::ALL {
                let name = f.name.get(lang);
                assert!(name.contains(&f.family), "{} {lang}: {name}", f.family);
            }
        }
        for want in ["S5", "S6", "SA2", "SA3", "M5", "C5", "IT5", "GN7", "GN10Xp"] {
            assert!(fams.contains(want), "{want}");
        }
        assert_eq!(
            TYPES.by_name.len(),
            TYPES.types.len(),
            "type names are unique"
        );
        for t in &TYPES.types {
            let name = &t.instance_type;
            assert!(is_instance_type_name(name), "{name}");
            assert!(name.starts_with(&format!("{}.", t.family)), "{name}");
            assert!(t.cpu > 0 && t.memory > 0, "{name}");
            assert_eq!(t.fpga, 0, "{name}");
            let has_gpu = t.gpu > 0;
            assert_eq!(t.gpu_count > 0.0, has_gpu, "{name}");
            assert_eq!(!t.gpu_type.is_empty(), has_gpu, "{name}");
            assert_eq!(t.gpu_memory > 0.0, has_gpu, "{name}");
            assert_eq!(has_gpu, t.family.starts_with("GN"), "{name}");
            assert!(std::ptr::eq(instance_type(name).unwrap(), t));
        }
        let s5 = instance_type("S5.SMALL1").unwrap();
        assert_eq!((s5.cpu, s5.memory, s5.gpu), (1, 1, 0));
        assert_eq!(s5.family, "S5");
        let gn7 = instance_type("GN7.2XLARGE32").unwrap();
        assert_eq!((gn7.gpu, gn7.gpu_type.as_str()), (1, "NVIDIA T4"));
        let v100 = instance_type("GN10Xp.20XLARGE320").unwrap();
        assert_eq!((v100.gpu, v100.gpu_count, v100.gpu_memory), (8, 8.0, 32.0));
        assert!(instance_type("s5.small1").is_none());
        assert!(instance_type("S5.HUGE1").is_none());
    }

    #[test]
    fn every_zone_sells_known_families_and_every_cvm_zone_sells_something() {
        let fams: HashSet<&str> = families().iter().map(|f| f.family.as_str()).collect();
        for (z, sold) in &TYPES.sales {
            assert!(zone(z).is_some(), "{z} is not a CVM zone");
            assert!(!sold.is_empty(), "{z}");
            for f in sold {
                assert!(fams.contains(f.as_str()), "{z} sells unknown family {f}");
            }
        }
        for r in regions() {
            for z in zones(r) {
                assert!(types_in_zone(&z.zone).next().is_some(), "{}", z.zone);
            }
        }
        for t in &TYPES.types {
            for z in &t.only_zones {
                assert!(
                    TYPES.sales.get(z).is_some_and(|f| f.contains(&t.family)),
                    "{} is limited to {z}, which does not sell {}",
                    t.instance_type,
                    t.family
                );
            }
        }
    }

    #[test]
    fn guangzhou_3_sells_no_gpu_and_big_sizes_are_limited_to_some_zones() {
        assert!(types_in_zone("ap-guangzhou-3").all(|t| t.gpu == 0));
        assert!(!sells("ap-guangzhou-3", "GN7.2XLARGE32"));
        assert!(sells("ap-guangzhou-6", "GN7.2XLARGE32"));
        assert!(sells("ap-guangzhou-6", "GN10Xp.2XLARGE40"));
        // ap-guangzhou-3 sells S5, but not its largest size.
        assert!(sells("ap-guangzhou-3", "S5.MEDIUM4"));
        assert!(!sells("ap-guangzhou-3", "S5.16XLARGE128"));
        assert!(sells("ap-guangzhou-6", "S5.16XLARGE128"));
        assert!(sells("ap-beijing-5", "GN10Xp.10XLARGE160"));
        assert!(!sells("ap-beijing-5", "GN10Xp.20XLARGE320"));
        assert!(!sells("ap-guangzhou-6", "S5.NOPE"));
        assert!(!sells("ap-guangzhou-99", "S5.MEDIUM4"));
        assert_eq!(types_in_zone("ap-guangzhou-99").count(), 0);
        let limited = TYPES.types.iter().filter(|t| !t.only_zones.is_empty());
        assert!(limited.count() >= 1);
        // Types of one zone come in catalogue order, and only sold ones.
        let gz6: Vec<&str> = types_in_zone("ap-guangzhou-6")
            .map(|t| t.instance_type.as_str())
            .collect();
        assert_eq!(gz6.first(), Some(&"S5.SMALL1"));
        assert!(gz6.contains(&"GN10Xp.20XLARGE320"));
        assert!(
            gz6.iter()
                .all(|t| sells("ap-guangzhou-6", t) && instance_type(t).is_some())
        );
    }

    #[test]
    fn instance_type_names_are_recognised() {
        for good in [
            "S5.SMALL1",
            "GN10Xp.2XLARGE40",
            "SA2.MEDIUM4",
            "M5.16XLARGE512",
        ] {
            assert!(is_instance_type_name(good), "{good}");
        }
        for bad in [
            "",
            "S5",
            "S5.",
            ".LARGE8",
            "s5.LARGE8",
            "S5.large8",
            "S5-LARGE8",
            "S5.LARGE.8",
            "5S.LARGE8",
        ] {
            assert!(!is_instance_type_name(bad), "{bad}");
        }
    }

    #[test]
    fn images_are_well_formed_unique_and_named_in_three_languages() {
        let mut ids = HashSet::new();
        assert!(images().len() >= 8);
        for i in images() {
            assert!(is_image_id(&i.image_id), "{}", i.image_id);
            assert!(ids.insert(i.image_id.as_str()), "duplicate {}", i.image_id);
            assert!(std::ptr::eq(image(&i.image_id).unwrap(), i));
            assert_eq!(i.image_type, "PUBLIC_IMAGE");
            assert_eq!(i.image_state, "NORMAL");
            assert_eq!(i.architecture, "x86_64");
            assert!(i.image_size > 0);
            assert!(!i.os_name.is_empty() && !i.platform.is_empty());
            // YYYY-MM-DDThh:mm:ssZ
            let t = i.created_time.as_bytes();
            assert_eq!(t.len(), 20, "{}", i.created_time);
            assert_eq!(
                (t[4], t[7], t[10], t[13], t[16], t[19]),
                (b'-', b'-', b'T', b':', b':', b'Z')
            );
            for lang in Language::ALL {
                assert!(!i.name.get(lang).is_empty(), "{} {lang}", i.image_id);
                assert!(!i.description.get(lang).is_empty(), "{} {lang}", i.image_id);
            }
            for f in &i.families {
                assert!(families().iter().any(|x| &x.family == f), "{f}");
            }
            for t in &TYPES.types {
                assert!(i.usable_on(t), "{} on {}", i.image_id, t.instance_type);
            }
        }
        let platforms: HashSet<&str> = images().iter().map(|i| i.platform.as_str()).collect();
        for p in ["TencentOS", "Ubuntu", "CentOS", "Debian", "Windows"] {
            assert!(platforms.contains(p), "{p}");
        }
        assert!(image("img-00000000").is_none());
    }

    #[test]
    fn an_image_limited_to_families_runs_only_there() {
        let limited = Image {
            families: vec!["S5".into()],
            ..serde_json::from_value::<Image>(serde_json::json!({
                "image_id": "img-aaaaaaaa", "os_name": "x", "platform": "x",
                "architecture": "x86_64", "image_size": 20, "image_type": "PUBLIC_IMAGE",
                "image_state": "NORMAL", "is_support_cloudinit": true,
                "created_time": "2024-01-01T00:00:00Z",
                "name": {"zh-CN": "x", "en-US": "x", "ja-JP": "x"},
                "description": {"zh-CN": "x", "en-US": "x", "ja-JP": "x"}
            }))
            .unwrap()
        };
        assert!(limited.usable_on(instance_type("S5.LARGE8").unwrap()));
        assert!(!limited.usable_on(instance_type("GN7.2XLARGE32").unwrap()));
    }

    #[test]
    fn image_ids_are_recognised() {
        assert!(is_image_id("img-0a1b2c3d"));
        for bad in [
            "",
            "img-",
            "img-ABCDEFGH",
            "img-0a1b2c3",
            "img-0a1b2c3d4",
            "ins-0a1b2c3d",
        ] {
            assert!(!is_image_id(bad), "{bad}");
        }
    }
}

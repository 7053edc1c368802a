//! CVM's read-only catalogue actions: `DescribeInstanceTypeConfigs`, `DescribeImages`,
//! `DescribeInstanceFamilyConfigs` and `DescribeZoneInstanceConfigInfos`. They answer from
//! [`super::catalogue`] and keep no state; the last one also says which types are sold out,
//! which the caller works out from capacity.
//!
//! Filters follow CVM's rules everywhere: at most 10 `Filters`
//! (`InvalidParameterValue.LimitExceeded`), at most 5 `Values` each
//! (`InvalidFilterValue.LimitExceeded`), a name the action does not know is `InvalidFilter`.
//! Values of one filter are alternatives, different filters must all match, and a filter
//! whose `Values` is empty matches nothing.
//!
//! DescribeInstanceTypeConfigs' reference says 1 value per filter; tclocal is lenient there
//! and takes up to 5, as for DescribeInstances, so a client asking for several families or
//! types in one filter gets them (a choice, not observed cloud behaviour).

use serde_json::{Map, Value, json};
use tclocal_wire::context::RequestContext;
use tclocal_wire::{ApiError, ApiResult};

use super::MESSAGES;
use super::catalogue::{self, Image, InstanceType, Zone};
use crate::object;

/// Most `Filters` one request may carry.
const MAX_FILTERS: usize = 10;
/// Most `Values` one filter may carry.
const MAX_FILTER_VALUES: usize = 5;
/// Most `ImageIds` one DescribeImages request may carry.
const MAX_IMAGE_IDS: usize = 100;
/// DescribeImages' page size when `Limit` is absent, and its largest.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// Filters of DescribeInstanceTypeConfigs.
const TYPE_FILTERS: [&str; 3] = ["zone", "instance-family", "instance-type"];

/// Filters of DescribeZoneInstanceConfigInfos.
const QUOTA_FILTERS: [&str; 4] = [
    "zone",
    "instance-family",
    "instance-type",
    "instance-charge-type",
];

/// The charge types tclocal sells every type under (those RunInstances accepts).
const CHARGE_TYPES: [&str; 3] = ["POSTPAID_BY_HOUR", "PREPAID", "SPOTPAID"];

/// Filters of DescribeImages. Public images have no family and no tags, so `image-family`,
/// `tag-key`, `tag-value` and `tag:<key>` are accepted and match none of them.
const IMAGE_FILTERS: [&str; 8] = [
    "image-id",
    "image-type",
    "image-name",
    "platform",
    "instance-type",
    "image-family",
    "tag-key",
    "tag-value",
];

/// A CVM error whose message template is named after its code.
fn error(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

/// One entry of `Filters`.
struct Filter<'a> {
    name: &'a str,
    values: Vec<&'a str>,
}

impl Filter<'_> {
    fn any(&self, value: &str) -> bool {
        self.values.contains(&value)
    }
}

/// `Filters`, checked against the action's filter names (`known`, or a name made of one of
/// `prefixes` and something more, such as `tag:env`) and the count limits.
fn filters<'a>(
    params: &'a Map<String, Value>,
    known: &[&str],
    prefixes: &[&str],
) -> ApiResult<Vec<Filter<'a>>> {
    let list = params
        .get("Filters")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if list.len() > MAX_FILTERS {
        return Err(error("InvalidParameterValue.LimitExceeded")
            .arg("Filters")
            .arg(MAX_FILTERS));
    }
    let mut out = Vec::with_capacity(list.len());
    for f in list {
        let name = f.get("Name").and_then(Value::as_str).unwrap_or_default();
        let known_name = known.contains(&name)
            || prefixes
                .iter()
                .any(|p| name.len() > p.len() && name.starts_with(p));
        if !known_name {
            return Err(error("InvalidFilter").arg(name));
        }
        let values: Vec<&str> = f
            .get("Values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if values.len() > MAX_FILTER_VALUES {
            return Err(error("InvalidFilterValue.LimitExceeded").arg(name));
        }
        out.push(Filter { name, values });
    }
    Ok(out)
}

/// A zone named in a request must exist and belong to the request's region.
fn check_zone(zone: &str, region: &str) -> ApiResult<()> {
    match catalogue::zone(zone) {
        Some((r, _)) if r == region => Ok(()),
        Some(_) => Err(error("InvalidZone.MismatchRegion").arg(zone).arg(region)),
        None => Err(error("InvalidParameterValue.ZoneNotSupported").arg(zone)),
    }
}

/// An instance type named in a request: well-formed, else `InvalidInstanceType.Malformed`.
fn check_type_name(name: &str) -> ApiResult<()> {
    if catalogue::is_instance_type_name(name) {
        Ok(())
    } else {
        Err(error("InvalidInstanceType.Malformed").arg(name))
    }
}

/// An instance type that must exist (DescribeImages' `InstanceType` and `instance-type`).
fn existing_type(name: &str) -> ApiResult<&'static InstanceType> {
    check_type_name(name)?;
    catalogue::instance_type(name)
        .ok_or_else(|| error("InvalidParameterValue.InstanceTypeNotFound").arg(name))
}

/// `DescribeInstanceTypeConfigs`: the types each zone of the request's region sells.
///
/// Filters: `zone` (a zone of this region: another region's zone is
/// `InvalidZone.MismatchRegion`, a zone CVM does not have is
/// `InvalidParameterValue.ZoneNotSupported`), `instance-family` (`S5`), `instance-type`
/// (`S5.LARGE8`; a value not shaped like a type is `InvalidInstanceType.Malformed`, an unknown
/// one matches nothing). No paging: the whole set comes back.
pub(crate) fn describe_instance_type_configs(
    cx: &RequestContext,
    params: &Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    let region = cx.region.as_deref().unwrap_or_default();
    let filters = filters(params, &TYPE_FILTERS, &[])?;
    for f in &filters {
        match f.name {
            "zone" => f.values.iter().try_for_each(|z| check_zone(z, region))?,
            "instance-type" => f.values.iter().try_for_each(|t| check_type_name(t))?,
            _ => {}
        }
    }
    let keep = |zone: &Zone, t: &InstanceType| {
        filters.iter().all(|f| match f.name {
            "zone" => f.any(&zone.zone),
            "instance-family" => f.any(&t.family),
            "instance-type" => f.any(&t.instance_type),
            _ => false,
        })
    };
    let set: Vec<Value> = catalogue::zones(region)
        .iter()
        .flat_map(|z| catalogue::types_in_zone(&z.zone).map(move |t| (z, t)))
        .filter(|(z, t)| keep(z, t))
        .map(|(z, t)| type_config(z, t))
        .collect();
    Ok(object(json!({ "InstanceTypeConfigSet": set })))
}

/// The model's `InstanceTypeConfig`.
fn type_config(zone: &Zone, t: &InstanceType) -> Value {
    json!({
        "Zone": zone.zone,
        "InstanceType": t.instance_type,
        "InstanceFamily": t.family,
        "GPU": t.gpu,
        "CPU": t.cpu,
        "Memory": t.memory,
        "FPGA": t.fpga,
        "GpuCount": t.gpu_count,
        "GpuType": t.gpu_type,
        "GpuMemory": t.gpu_memory,
    })
}

/// `DescribeZoneInstanceConfigInfos`: what each zone of the request's region sells, one item
/// per (zone, type, charge type), with a price and whether it is sold out.
///
/// Filters as DescribeInstanceTypeConfigs (`zone`, `instance-family`, `instance-type`, checked
/// the same way) plus `instance-charge-type` (`POSTPAID_BY_HOUR`, `PREPAID`, `SPOTPAID`; another
/// value matches nothing). `sold_out(zone, type)` says when capacity is used up: such items are
/// `SOLD_OUT` (`WithoutStock`), the others `SELL` (`EnoughStock`).
///
/// Figures the catalogue does not hold are tclocal's own, derived from the type so they stay
/// stable: the hourly price is 0.08 per vCPU + 0.04 per GB + 6 per GPU (monthly: 720 hours at
/// 60 %, spot: 20 % of the hourly price), the bandwidth 0.75 Gbps per vCPU (1.5–25), 6×10k PPS
/// per vCPU (25–600); types have no local disks.
pub(crate) fn describe_zone_instance_config_infos(
    cx: &RequestContext,
    params: &Map<String, Value>,
    sold_out: impl Fn(&str, &str) -> bool,
) -> ApiResult<Map<String, Value>> {
    let region = cx.region.as_deref().unwrap_or_default();
    let filters = filters(params, &QUOTA_FILTERS, &[])?;
    for f in &filters {
        match f.name {
            "zone" => f.values.iter().try_for_each(|z| check_zone(z, region))?,
            "instance-type" => f.values.iter().try_for_each(|t| check_type_name(t))?,
            _ => {}
        }
    }
    let keep = |zone: &Zone, t: &InstanceType, charge: &str| {
        filters.iter().all(|f| match f.name {
            "zone" => f.any(&zone.zone),
            "instance-family" => f.any(&t.family),
            "instance-type" => f.any(&t.instance_type),
            "instance-charge-type" => f.any(charge),
            _ => false,
        })
    };
    let mut set = Vec::new();
    for zone in catalogue::zones(region) {
        for t in catalogue::types_in_zone(&zone.zone) {
            for charge in CHARGE_TYPES {
                if keep(zone, t, charge) {
                    let out = sold_out(&zone.zone, &t.instance_type);
                    set.push(quota_item(cx, zone, t, charge, out));
                }
            }
        }
    }
    Ok(object(json!({ "InstanceTypeQuotaSet": set })))
}

/// Rounded to the cent, as prices are shown.
fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The model's `InstanceTypeQuotaItem`.
#[allow(clippy::cast_precision_loss)] // vCPU, GB and GPU counts are small
fn quota_item(
    cx: &RequestContext,
    zone: &Zone,
    t: &InstanceType,
    charge: &str,
    sold_out: bool,
) -> Value {
    let hourly = cents(0.08 * t.cpu as f64 + 0.04 * t.memory as f64 + 6.0 * t.gpu_count);
    let price = match charge {
        "PREPAID" => {
            let monthly = cents(hourly * 720.0 * 0.6);
            json!({"OriginalPrice": monthly, "DiscountPrice": monthly, "Discount": 100.0,
                   "ChargeUnit": "MONTH"})
        }
        "SPOTPAID" => json!({"UnitPrice": hourly, "UnitPriceDiscount": cents(hourly * 0.2),
                             "Discount": 20.0, "ChargeUnit": "HOUR"}),
        _ => json!({"UnitPrice": hourly, "UnitPriceDiscount": hourly, "Discount": 100.0,
                    "ChargeUnit": "HOUR"}),
    };
    let bandwidth = (t.cpu as f64 * 0.75).clamp(1.5, 25.0);
    let family_name = catalogue::families()
        .iter()
        .find(|f| f.family == t.family)
        .map_or(t.family.as_str(), |f| f.name.get(cx.language));
    let amd = t.family.starts_with("SA");
    let (status, category, reason) = if sold_out {
        let reason = match cx.language {
            tclocal_wire::Language::ZhCn => "该可用区的此实例规格已售罄",
            tclocal_wire::Language::JaJp => "このゾーンではこのインスタンスタイプは売り切れです",
            _ => "This instance type is sold out in this zone",
        };
        ("SOLD_OUT", "WithoutStock", reason)
    } else {
        ("SELL", "EnoughStock", "")
    };
    json!({
        "Zone": zone.zone,
        "InstanceType": t.instance_type,
        "InstanceChargeType": charge,
        "NetworkCard": if bandwidth > 10.0 { 25 } else { 10 },
        "Externals": {},
        "Cpu": t.cpu,
        "Memory": t.memory,
        "InstanceFamily": t.family,
        "TypeName": family_name,
        "LocalDiskTypeList": [],
        "Status": status,
        "Price": price,
        "SoldOutReason": reason,
        "InstanceBandwidth": bandwidth,
        "InstancePps": (t.cpu * 6).clamp(25, 600),
        "StorageBlockAmount": 0,
        "CpuType": if amd { "AMD EPYC" } else { "Intel Xeon" },
        "Gpu": t.gpu,
        "Fpga": t.fpga,
        "Remark": "",
        "GpuCount": t.gpu_count,
        "Frequency": if amd { "2.6GHz/3.3GHz" } else { "2.5GHz/3.1GHz" },
        "StatusCategory": category,
    })
}

/// `DescribeInstanceFamilyConfigs`: the families sold in at least one zone of the request's
/// region, with their names in the request's language.
pub(crate) fn describe_instance_family_configs(cx: &RequestContext) -> Map<String, Value> {
    let zones = catalogue::zones(cx.region.as_deref().unwrap_or_default());
    let set: Vec<Value> = catalogue::families()
        .iter()
        .filter(|f| {
            zones
                .iter()
                .any(|z| catalogue::types_in_zone(&z.zone).any(|t| t.family == f.family))
        })
        .map(|f| {
            json!({
                "InstanceFamilyName": f.name.get(cx.language),
                "InstanceFamily": f.family,
            })
        })
        .collect();
    object(json!({ "InstanceFamilyConfigSet": set }))
}

/// `DescribeImages`: the public images, by id or by filter, a page at a time.
///
/// - `ImageIds` (at most 100, else `InvalidParameterValue.LimitExceeded`; an id not shaped
///   like `img-xxxxxxxx` is `InvalidImageId.Malformed`). Ids that name no image are simply
///   not listed, as the cloud does: `InvalidImageId.NotFound` is not among this action's
///   documented codes. Images come back in the order asked, each once.
/// - `Filters` (not together with `ImageIds`:
///   `InvalidParameter.InvalidParameterCoexistImageIdsFilters`): `image-id` (ids checked as
///   above), `image-type` (`PUBLIC_IMAGE`, …), `image-name` (a part of the name, in any of
///   the three languages), `platform` (`Ubuntu`, …), `instance-type` (images that run on
///   one of those types), and `image-family`, `tag-key`, `tag-value`, `tag:<key>`, which no
///   public image matches.
/// - `InstanceType`: only images that run on that type. A value not shaped like a type is
///   `InvalidInstanceType.Malformed`, an unknown type `InvalidParameterValue.InstanceTypeNotFound`
///   (both documented for this action); the same holds for `instance-type` filter values.
/// - `Offset` (0 or more) and `Limit` (1–100, default 20); a value out of range is
///   `InvalidParameterValue.InvalidParameterValueLimit`, the code this action documents for
///   bad values (it does not document the bare `InvalidParameterValue`).
pub(crate) fn describe_images(
    cx: &RequestContext,
    params: &Map<String, Value>,
) -> ApiResult<Map<String, Value>> {
    let ids: Vec<&str> = params
        .get("ImageIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let has_filters = params
        .get("Filters")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    if !ids.is_empty() && has_filters {
        return Err(error(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
        ));
    }
    if ids.len() > MAX_IMAGE_IDS {
        return Err(error("InvalidParameterValue.LimitExceeded")
            .arg("ImageIds")
            .arg(MAX_IMAGE_IDS));
    }
    check_image_ids(&ids)?;
    let filters = filters(params, &IMAGE_FILTERS, &["tag:"])?;
    // Each `instance-type` filter, resolved to types.
    let mut type_filters: Vec<Vec<&'static InstanceType>> = Vec::new();
    for f in &filters {
        match f.name {
            "image-id" => check_image_ids(&f.values)?,
            "instance-type" => type_filters.push(
                f.values
                    .iter()
                    .map(|t| existing_type(t))
                    .collect::<ApiResult<_>>()?,
            ),
            _ => {}
        }
    }
    let on_type = match params.get("InstanceType").and_then(Value::as_str) {
        Some(name) => Some(existing_type(name)?),
        None => None,
    };
    let (offset, limit) = page(params)?;

    let candidates: Vec<&'static Image> = if ids.is_empty() {
        catalogue::images().iter().collect()
    } else {
        let mut found: Vec<&'static Image> = Vec::with_capacity(ids.len());
        for image in ids.iter().filter_map(|id| catalogue::image(id)) {
            if !found.iter().any(|f| std::ptr::eq(*f, image)) {
                found.push(image);
            }
        }
        found
    };
    let matching: Vec<&'static Image> = candidates
        .into_iter()
        .filter(|i| on_type.is_none_or(|t| i.usable_on(t)))
        .filter(|i| filters.iter().all(|f| image_matches(f, i)))
        .filter(|i| {
            type_filters
                .iter()
                .all(|ts| ts.iter().any(|t| i.usable_on(t)))
        })
        .collect();
    let set: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| image_json(i, cx))
        .collect();
    Ok(object(
        json!({ "ImageSet": set, "TotalCount": matching.len() }),
    ))
}

/// Every id must look like `img-` and 8 lowercase letters or digits.
fn check_image_ids(ids: &[&str]) -> ApiResult<()> {
    match ids.iter().find(|id| !catalogue::is_image_id(id)) {
        Some(bad) => Err(error("InvalidImageId.Malformed").arg(bad)),
        None => Ok(()),
    }
}

/// True when a (checked) DescribeImages filter matches the image. `instance-type` is
/// matched separately, from the resolved types.
fn image_matches(f: &Filter<'_>, image: &Image) -> bool {
    match f.name {
        "image-id" => f.any(&image.image_id),
        "image-type" => f.any(&image.image_type),
        "platform" => f.any(&image.platform),
        "image-name" => f.values.iter().any(|v| {
            tclocal_wire::Language::ALL
                .into_iter()
                .any(|lang| image.name.get(lang).contains(v))
        }),
        "instance-type" => true,
        // image-family, tag-key, tag-value, tag:<key>: public images have none.
        _ => false,
    }
}

/// Offset and Limit of DescribeImages.
fn page(params: &Map<String, Value>) -> ApiResult<(usize, usize)> {
    let out_of_range = |name: &str, key: &'static str, bounds: &[i64]| {
        bounds.iter().fold(
            ApiError::product(
                "InvalidParameterValue.InvalidParameterValueLimit",
                &MESSAGES,
                key,
            )
            .arg(name),
            ApiError::arg,
        )
    };
    let offset = params.get("Offset").and_then(Value::as_i64).unwrap_or(0);
    let Ok(offset) = usize::try_from(offset) else {
        return Err(out_of_range(
            "Offset",
            "InvalidParameterValue.AtLeast",
            &[0],
        ));
    };
    let limit = params
        .get("Limit")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(out_of_range(
            "Limit",
            "InvalidParameterValue.Between",
            &[1, MAX_LIMIT],
        ));
    }
    Ok((offset, usize::try_from(limit).unwrap_or_default()))
}

/// The model's `Image` for a public image. Members that only private or shared images have
/// take their empty value: no creator, no snapshots, no tags, no family.
fn image_json(image: &Image, cx: &RequestContext) -> Value {
    json!({
        "ImageId": image.image_id,
        "OsName": image.os_name,
        "ImageType": image.image_type,
        "CreatedTime": image.created_time,
        "ImageName": image.name.get(cx.language),
        "ImageDescription": image.description.get(cx.language),
        "ImageSize": image.image_size,
        "Architecture": image.architecture,
        "ImageState": image.image_state,
        "Platform": image.platform,
        "ImageCreator": "",
        "ImageSource": "OFFICIAL",
        "SyncPercent": null,
        "IsSupportCloudinit": image.is_support_cloudinit,
        "SnapshotSet": [],
        "Tags": [],
        "LicenseType": "TencentCloud",
        "ImageFamily": "",
        "ImageDeprecated": false,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use tclocal_wire::Language;
    use tclocal_wire::context::Principal;

    fn cx(action: &str, region: &str, language: Language) -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            principal: Principal::root(1, "1").into(),
            service: "cvm".into(),
            version: "2017-03-12".into(),
            action: action.into(),
            region: Some(region.into()),
            language,
            received_at_ms: 0,
        }
    }

    fn types(region: &str, params: Value) -> ApiResult<Vec<Value>> {
        let cx = cx("DescribeInstanceTypeConfigs", region, Language::EnUs);
        let got = describe_instance_type_configs(&cx, &object(params))?;
        Ok(got["InstanceTypeConfigSet"].as_array().unwrap().clone())
    }

    fn images(params: Value) -> ApiResult<Map<String, Value>> {
        describe_images(
            &cx("DescribeImages", "ap-guangzhou", Language::EnUs),
            &object(params),
        )
    }

    fn image_ids(got: &Map<String, Value>) -> Vec<&str> {
        got["ImageSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["ImageId"].as_str().unwrap())
            .collect()
    }

    fn filter(name: &str, values: &[&str]) -> Value {
        json!({"Name": name, "Values": values})
    }

    /// Asserts the error's code and that its message is rendered in every language, every
    /// `{n}` slot filled.
    fn assert_code(result: ApiResult<impl std::fmt::Debug>, code: &str) {
        let e = result.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
        for lang in Language::ALL {
            let m = e.message(lang);
            assert!(!m.is_empty(), "{code} {lang}");
            assert!(
                !(0..4).any(|n| m.contains(&format!("{{{n}}}"))),
                "{code} {lang}: {m}"
            );
            assert_ne!(m, code, "{code} has no template in {lang}");
        }
    }

    /// The members of one model object: `(name, output_required)`.
    fn model_members(object: &str) -> Vec<(String, bool)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../specs/cvm/2017-03-12.json"
        );
        let model: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        model["objects"][object]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap().to_owned(),
                    m["output_required"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }

    /// Every output_required member is present and every member is the model's.
    fn assert_shape(value: &Value, object: &str) {
        let got = value.as_object().unwrap();
        let members = model_members(object);
        for (name, required) in &members {
            assert!(
                !required || got.contains_key(name),
                "{object}.{name} missing"
            );
        }
        for key in got.keys() {
            assert!(
                members.iter().any(|(n, _)| n == key),
                "{object} has no {key}"
            );
        }
    }

    #[test]
    fn type_configs_without_filters_list_every_zone_of_the_region() {
        let set = types("ap-guangzhou", json!({})).unwrap();
        let zones: HashSet<&str> = set.iter().map(|c| c["Zone"].as_str().unwrap()).collect();
        let want: HashSet<&str> = catalogue::zones("ap-guangzhou")
            .iter()
            .map(|z| z.zone.as_str())
            .collect();
        assert_eq!(zones, want);
        let per_zone: usize = catalogue::zones("ap-guangzhou")
            .iter()
            .map(|z| catalogue::types_in_zone(&z.zone).count())
            .sum();
        assert_eq!(set.len(), per_zone);
        for c in &set {
            assert_shape(c, "InstanceTypeConfig");
            let zone = c["Zone"].as_str().unwrap();
            let name = c["InstanceType"].as_str().unwrap();
            assert!(catalogue::sells(zone, name), "{zone} {name}");
        }
        let small = set
            .iter()
            .find(|c| c["Zone"] == "ap-guangzhou-3" && c["InstanceType"] == "S5.SMALL1")
            .unwrap();
        assert_eq!(
            small,
            &json!({"Zone": "ap-guangzhou-3", "InstanceType": "S5.SMALL1",
                "InstanceFamily": "S5", "GPU": 0, "CPU": 1, "Memory": 1, "FPGA": 0,
                "GpuCount": 0.0, "GpuType": "", "GpuMemory": 0.0})
        );
        let gpu = set
            .iter()
            .find(|c| c["InstanceType"] == "GN7.20XLARGE320")
            .unwrap();
        assert_eq!(
            (
                &gpu["GPU"],
                &gpu["GpuCount"],
                &gpu["GpuType"],
                &gpu["GpuMemory"]
            ),
            (&json!(4), &json!(4.0), &json!("NVIDIA T4"), &json!(16.0))
        );
        // Another region answers with its own zones only.
        let sh = types("ap-shanghai", json!({})).unwrap();
        assert!(
            sh.iter()
                .all(|c| c["Zone"].as_str().unwrap().starts_with("ap-shanghai-"))
        );
    }

    #[test]
    fn type_configs_filter_by_zone_family_and_type() {
        let gz3 = types(
            "ap-guangzhou",
            json!({"Filters": [filter("zone", &["ap-guangzhou-3"])]}),
        )
        .unwrap();
        assert!(!gz3.is_empty());
        assert!(gz3.iter().all(|c| c["Zone"] == "ap-guangzhou-3"));
        // ap-guangzhou-3 sells no GPU family.
        let gpu_in_gz3 = types(
            "ap-guangzhou",
            json!({"Filters": [filter("zone", &["ap-guangzhou-3"]),
                filter("instance-family", &["GN7", "GN10Xp"])]}),
        )
        .unwrap();
        assert!(gpu_in_gz3.is_empty());
        let gn7 = types(
            "ap-guangzhou",
            json!({"Filters": [filter("instance-family", &["GN7"])]}),
        )
        .unwrap();
        assert!(!gn7.is_empty());
        assert!(gn7.iter().all(|c| c["InstanceFamily"] == "GN7"));
        assert!(gn7.iter().all(|c| c["Zone"] != "ap-guangzhou-3"));
        // Values of one filter are alternatives.
        let two = types(
            "ap-guangzhou",
            json!({"Filters": [filter("instance-type", &["S5.LARGE8", "M5.LARGE32"])]}),
        )
        .unwrap();
        let names: HashSet<&str> = two
            .iter()
            .map(|c| c["InstanceType"].as_str().unwrap())
            .collect();
        assert_eq!(names, HashSet::from(["S5.LARGE8", "M5.LARGE32"]));
        // A type limited to some zones shows only there.
        let big = types(
            "ap-guangzhou",
            json!({"Filters": [filter("instance-type", &["S5.16XLARGE128"])]}),
        )
        .unwrap();
        let zones: Vec<&str> = big.iter().map(|c| c["Zone"].as_str().unwrap()).collect();
        assert_eq!(zones, ["ap-guangzhou-6"]);
        // Filters combine: all must match.
        let one = types(
            "ap-guangzhou",
            json!({"Filters": [filter("zone", &["ap-guangzhou-6"]),
                filter("instance-family", &["S5"]), filter("instance-type", &["S5.MEDIUM4"])]}),
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["InstanceType"], "S5.MEDIUM4");
        assert_eq!(one[0]["CPU"], 2);
        assert_eq!(one[0]["Memory"], 4);
        // Well-formed but unknown type or family, or an empty Values list: nothing.
        for f in [
            filter("instance-type", &["S5.HUGE1"]),
            filter("instance-family", &["Z9"]),
            filter("zone", &[]),
        ] {
            assert!(
                types("ap-guangzhou", json!({"Filters": [f]}))
                    .unwrap()
                    .is_empty()
            );
        }
        // Five values are fine.
        let five = ["S5", "S6", "SA2", "SA3", "M5"];
        assert!(
            !types(
                "ap-guangzhou",
                json!({"Filters": [filter("instance-family", &five)]})
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn type_configs_reject_bad_filters_and_zones() {
        let eleven: Vec<Value> = (0..11)
            .map(|_| filter("instance-family", &["S5"]))
            .collect();
        let six = ["S5", "S6", "SA2", "SA3", "M5", "C5"];
        let cases = [
            (
                json!({"Filters": eleven}),
                "InvalidParameterValue.LimitExceeded",
            ),
            (
                json!({"Filters": [filter("instance-family", &six)]}),
                "InvalidFilterValue.LimitExceeded",
            ),
            (
                json!({"Filters": [filter("image-id", &["x"])]}),
                "InvalidFilter",
            ),
            (
                json!({"Filters": [filter("Zone", &["ap-guangzhou-3"])]}),
                "InvalidFilter",
            ),
            (
                json!({"Filters": [filter("zone", &["ap-beijing-5"])]}),
                "InvalidZone.MismatchRegion",
            ),
            (
                json!({"Filters": [filter("zone", &["ap-guangzhou-3", "ap-shanghai-2"])]}),
                "InvalidZone.MismatchRegion",
            ),
            (
                json!({"Filters": [filter("zone", &["ap-guangzhou-99"])]}),
                "InvalidParameterValue.ZoneNotSupported",
            ),
            (
                json!({"Filters": [filter("zone", &["na-toronto-1"])]}),
                "InvalidParameterValue.ZoneNotSupported",
            ),
            (
                json!({"Filters": [filter("instance-type", &["s5.large8"])]}),
                "InvalidInstanceType.Malformed",
            ),
        ];
        for (params, code) in cases {
            assert_code(types("ap-guangzhou", params.clone()), code);
        }
        let e = types(
            "ap-guangzhou",
            json!({"Filters": [filter("zone", &["ap-beijing-5"])]}),
        )
        .unwrap_err();
        let m = e.message(Language::EnUs);
        assert!(
            m.contains("ap-beijing-5") && m.contains("ap-guangzhou"),
            "{m}"
        );
    }

    #[test]
    fn family_configs_name_families_in_the_request_language() {
        let mut names = Vec::new();
        for lang in Language::ALL {
            let got = describe_instance_family_configs(&cx(
                "DescribeInstanceFamilyConfigs",
                "ap-guangzhou",
                lang,
            ));
            let set = got["InstanceFamilyConfigSet"].as_array().unwrap();
            for f in set {
                assert_shape(f, "InstanceFamilyConfig");
            }
            let m5 = set.iter().find(|f| f["InstanceFamily"] == "M5").unwrap();
            names.push(m5["InstanceFamilyName"].as_str().unwrap().to_owned());
        }
        assert_eq!(names, ["内存型M5", "Memory Optimized M5", "メモリ型M5"]);
        // São Paulo sells no GPU family, so none is listed there.
        let sp = describe_instance_family_configs(&cx("x", "sa-saopaulo", Language::EnUs));
        let fams: Vec<&str> = sp["InstanceFamilyConfigSet"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["InstanceFamily"].as_str().unwrap())
            .collect();
        assert_eq!(fams, ["S5", "SA2", "M5"]);
    }

    #[test]
    fn images_without_parameters_are_the_first_page_of_the_catalogue() {
        let got = images(json!({})).unwrap();
        let all = catalogue::images();
        assert_eq!(got["TotalCount"], all.len());
        let ids = image_ids(&got);
        let want: Vec<&str> = all.iter().map(|i| i.image_id.as_str()).collect();
        assert_eq!(ids, want);
        for i in got["ImageSet"].as_array().unwrap() {
            assert_shape(i, "Image");
            assert_eq!(i["ImageType"], "PUBLIC_IMAGE");
            assert_eq!(i["ImageState"], "NORMAL");
            assert_eq!(i["Architecture"], "x86_64");
        }
    }

    #[test]
    fn image_names_follow_the_language() {
        let id = catalogue::images()
            .iter()
            .find(|i| i.platform == "Windows")
            .unwrap()
            .image_id
            .as_str();
        let mut names = Vec::new();
        for lang in Language::ALL {
            let got = describe_images(
                &cx("DescribeImages", "ap-guangzhou", lang),
                &object(json!({"ImageIds": [id]})),
            )
            .unwrap();
            names.push(got["ImageSet"][0]["ImageName"].as_str().unwrap().to_owned());
        }
        assert!(names[0].contains("数据中心版"), "{names:?}");
        assert!(names[1].contains("Datacenter"), "{names:?}");
        assert!(names[2].contains("ビット"), "{names:?}");
    }

    #[test]
    fn images_by_id_keep_the_order_asked_and_skip_unknown_ids() {
        let all = catalogue::images();
        let (a, b) = (all[3].image_id.as_str(), all[0].image_id.as_str());
        let got = images(json!({"ImageIds": [a, "img-00000000", b, a]})).unwrap();
        assert_eq!(image_ids(&got), [a, b]);
        assert_eq!(got["TotalCount"], 2);
        let none = images(json!({"ImageIds": ["img-zzzzzzzz"]})).unwrap();
        assert_eq!(none["TotalCount"], 0);
        assert_eq!(none["ImageSet"], json!([]));
        // An empty Filters list next to ImageIds is no filter at all.
        assert!(images(json!({"ImageIds": [a], "Filters": []})).is_ok());
    }

    #[test]
    fn images_filter_by_each_filter() {
        let all = catalogue::images();
        let count = |filters: Value| {
            images(json!({ "Filters": filters })).unwrap()["TotalCount"]
                .as_u64()
                .unwrap()
        };
        let first = all[0].image_id.as_str();
        let got = images(json!({"Filters": [filter("image-id", &[first])]})).unwrap();
        assert_eq!(image_ids(&got), [first]);
        assert_eq!(count(json!([filter("image-type", &["PUBLIC_IMAGE"])])), 8);
        assert_eq!(count(json!([filter("image-type", &["PRIVATE_IMAGE"])])), 0);
        assert_eq!(count(json!([filter("platform", &["Ubuntu"])])), 2);
        assert_eq!(count(json!([filter("platform", &["Ubuntu", "Debian"])])), 3);
        assert_eq!(count(json!([filter("platform", &["ubuntu"])])), 0);
        // image-name: part of the name, in any language.
        assert_eq!(count(json!([filter("image-name", &["22.04"])])), 1);
        assert_eq!(count(json!([filter("image-name", &["数据中心版"])])), 2);
        assert_eq!(count(json!([filter("image-name", &["Datacenter"])])), 2);
        assert_eq!(
            count(json!([filter("image-name", &["Nothing like it"])])),
            0
        );
        // Every public image runs on every type, GPU ones included.
        assert_eq!(
            count(json!([filter("instance-type", &["GN7.2XLARGE32"])])),
            8
        );
        assert_eq!(
            count(json!([filter(
                "instance-type",
                &["S5.SMALL1", "GN10Xp.2XLARGE40"]
            )])),
            8
        );
        for name in ["image-family", "tag-key", "tag-value", "tag:env"] {
            assert_eq!(count(json!([filter(name, &["x"])])), 0, "{name}");
        }
        // Filters combine.
        assert_eq!(
            count(json!([
                filter("platform", &["Windows"]),
                filter("image-name", &["2022"])
            ])),
            1
        );
        assert_eq!(count(json!([filter("platform", &[])])), 0);
        let on_gpu = images(json!({"InstanceType": "GN10Xp.20XLARGE320"})).unwrap();
        assert_eq!(on_gpu["TotalCount"], all.len());
    }

    #[test]
    fn images_page_with_offset_and_limit() {
        let all: Vec<&str> = catalogue::images()
            .iter()
            .map(|i| i.image_id.as_str())
            .collect();
        let got = images(json!({"Offset": 2, "Limit": 3})).unwrap();
        assert_eq!(image_ids(&got), all[2..5]);
        assert_eq!(got["TotalCount"], all.len());
        let tail = images(json!({"Offset": 6, "Limit": 100})).unwrap();
        assert_eq!(image_ids(&tail), all[6..]);
        let past = images(json!({"Offset": 50})).unwrap();
        assert!(image_ids(&past).is_empty());
        assert_eq!(past["TotalCount"], all.len());
        let one = images(json!({"Limit": 1})).unwrap();
        assert_eq!(image_ids(&one), all[..1]);
    }

    #[test]
    fn images_reject_bad_parameters() {
        let id = catalogue::images()[0].image_id.as_str();
        let many: Vec<String> = (0..101).map(|i| format!("img-{i:08}")).collect();
        let eleven: Vec<Value> = (0..11).map(|_| filter("platform", &["Ubuntu"])).collect();
        let six = ["a", "b", "c", "d", "e", "f"];
        let cases = [
            (
                json!({"ImageIds": [id], "Filters": [filter("platform", &["Ubuntu"])]}),
                "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            ),
            (
                json!({"ImageIds": many}),
                "InvalidParameterValue.LimitExceeded",
            ),
            (
                json!({"ImageIds": ["img-ABCDEFGH"]}),
                "InvalidImageId.Malformed",
            ),
            (
                json!({"ImageIds": [id, "ins-0a1b2c3d"]}),
                "InvalidImageId.Malformed",
            ),
            (
                json!({"Filters": eleven}),
                "InvalidParameterValue.LimitExceeded",
            ),
            (
                json!({"Filters": [filter("platform", &six)]}),
                "InvalidFilterValue.LimitExceeded",
            ),
            (
                json!({"Filters": [filter("zone", &["ap-guangzhou-3"])]}),
                "InvalidFilter",
            ),
            (
                json!({"Filters": [filter("tag:", &["x"])]}),
                "InvalidFilter",
            ),
            (
                json!({"Filters": [filter("image-id", &["img-1"])]}),
                "InvalidImageId.Malformed",
            ),
            (
                json!({"Filters": [filter("instance-type", &["S5"])]}),
                "InvalidInstanceType.Malformed",
            ),
            (
                json!({"Filters": [filter("instance-type", &["S5.HUGE1"])]}),
                "InvalidParameterValue.InstanceTypeNotFound",
            ),
            (
                json!({"InstanceType": "s5.large8"}),
                "InvalidInstanceType.Malformed",
            ),
            (json!({"InstanceType": ""}), "InvalidInstanceType.Malformed"),
            (
                json!({"InstanceType": "S9.LARGE8"}),
                "InvalidParameterValue.InstanceTypeNotFound",
            ),
            (
                json!({"Limit": 0}),
                "InvalidParameterValue.InvalidParameterValueLimit",
            ),
            (
                json!({"Limit": 101}),
                "InvalidParameterValue.InvalidParameterValueLimit",
            ),
            (
                json!({"Offset": -1}),
                "InvalidParameterValue.InvalidParameterValueLimit",
            ),
        ];
        for (params, code) in cases {
            assert_code(images(params.clone()), code);
        }
    }

    fn quotas(params: Value, sold_out: impl Fn(&str, &str) -> bool) -> ApiResult<Vec<Value>> {
        let cx = cx(
            "DescribeZoneInstanceConfigInfos",
            "ap-guangzhou",
            Language::EnUs,
        );
        let got = describe_zone_instance_config_infos(&cx, &object(params), sold_out)?;
        Ok(got["InstanceTypeQuotaSet"].as_array().unwrap().clone())
    }

    #[test]
    fn zone_instance_config_infos_are_every_type_of_every_zone_under_each_charge_type() {
        let set = quotas(json!({}), |_, _| false).unwrap();
        let per_zone: usize = catalogue::zones("ap-guangzhou")
            .iter()
            .map(|z| catalogue::types_in_zone(&z.zone).count())
            .sum();
        assert_eq!(set.len(), per_zone * CHARGE_TYPES.len());
        for item in &set {
            assert_shape(item, "InstanceTypeQuotaItem");
            assert_shape(&item["Price"], "ItemPrice");
            assert_eq!(item["Status"], "SELL");
            let t = catalogue::instance_type(item["InstanceType"].as_str().unwrap()).unwrap();
            assert_eq!(item["Cpu"], t.cpu);
            assert_eq!(item["Memory"], t.memory);
            assert!(catalogue::sells(
                item["Zone"].as_str().unwrap(),
                &t.instance_type
            ));
        }
        let s5 = set
            .iter()
            .find(|i| {
                i["InstanceType"] == "S5.MEDIUM4" && i["InstanceChargeType"] == "POSTPAID_BY_HOUR"
            })
            .unwrap();
        // 2 vCPUs, 4 GB: 0.16 + 0.16.
        assert_eq!(s5["Price"]["UnitPrice"], 0.32);
        assert_eq!(s5["TypeName"], "Standard S5");
    }

    #[test]
    fn zone_instance_config_infos_filter_and_mark_sold_out_types() {
        let f = json!({"Filters": [
            filter("zone", &["ap-guangzhou-3"]),
            filter("instance-family", &["S5"]),
            filter("instance-charge-type", &["PREPAID"]),
        ]});
        let set = quotas(f, |zone, t| zone == "ap-guangzhou-3" && t == "S5.LARGE8").unwrap();
        assert_eq!(
            set.len(),
            catalogue::types_in_zone("ap-guangzhou-3")
                .filter(|t| t.family == "S5")
                .count()
        );
        for item in &set {
            assert_eq!(item["Zone"], "ap-guangzhou-3");
            assert_eq!(item["InstanceChargeType"], "PREPAID");
            assert_eq!(item["Price"]["ChargeUnit"], "MONTH");
            let sold = item["InstanceType"] == "S5.LARGE8";
            assert_eq!(item["Status"], if sold { "SOLD_OUT" } else { "SELL" });
            assert_eq!(
                item["StatusCategory"],
                if sold { "WithoutStock" } else { "EnoughStock" }
            );
            assert_eq!(item["SoldOutReason"].as_str().unwrap().is_empty(), !sold);
        }
        let none = quotas(
            json!({"Filters": [filter("instance-charge-type", &["CDHPAID"])]}),
            |_, _| false,
        );
        assert!(none.unwrap().is_empty());
    }

    #[test]
    fn zone_instance_config_infos_reject_bad_filters() {
        assert_code(
            quotas(
                json!({"Filters": [filter("sort-keys", &["cpu"])]}),
                |_, _| false,
            ),
            "InvalidFilter",
        );
        assert_code(
            quotas(
                json!({"Filters": [filter("zone", &["ap-beijing-3"])]}),
                |_, _| false,
            ),
            "InvalidZone.MismatchRegion",
        );
        assert_code(
            quotas(
                json!({"Filters": [filter("zone", &["xx-nowhere-1"])]}),
                |_, _| false,
            ),
            "InvalidParameterValue.ZoneNotSupported",
        );
        assert_code(
            quotas(
                json!({"Filters": [filter("instance-type", &["s5-large"])]}),
                |_, _| false,
            ),
            "InvalidInstanceType.Malformed",
        );
    }
}

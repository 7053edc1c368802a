//! CVM's errors and their wire codes: one exhaustive `match` decides each code (style rule
//! 2), messages come from `data/cvm/messages.json` in three languages.

use tclocal_store::StoreError;
use tclocal_wire::{ApiError, CommonCode};

use super::MESSAGES;
use super::model::State;

/// Why a CVM request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CvmError {
    #[error("instance {0} not found")]
    InstanceNotFound(String),
    #[error("instance id {0} is malformed")]
    InstanceIdMalformed(String),
    #[error("{field} takes at most {max} values")]
    TooManyValues { field: &'static str, max: usize },
    #[error("instance {id} is {state:?}")]
    WrongState { id: String, state: State },
    #[error("instances {0} are protected from termination")]
    Protected(String),
    #[error("{field} must be between {min} and {max}")]
    Range {
        field: &'static str,
        min: i64,
        max: i64,
    },
    #[error("{field} must be {min} or more")]
    AtLeast { field: &'static str, min: i64 },
    #[error("{0} is not a valid value")]
    Invalid(String),
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("MinCount is larger than InstanceCount")]
    MinCount,
    #[error("zone {0} does not exist")]
    ZoneNotSupported(String),
    #[error("zone {zone} is not in region {region}")]
    ZoneMismatchRegion { zone: String, region: String },
    #[error("instance type {0} does not exist")]
    InstanceTypeNotFound(String),
    #[error("instance type {instance_type} does not exist in zone {zone}")]
    ZoneInstanceTypeNotFound { zone: String, instance_type: String },
    #[error("zone {zone} does not sell {instance_type}")]
    TypeNotSold { zone: String, instance_type: String },
    #[error("image id {0} is malformed")]
    ImageIdMalformed(String),
    #[error("image {0} not found")]
    ImageNotFound(String),
    #[error("quota of {quota} instances per region reached ({used} in use, {requested} requested)")]
    Quota {
        quota: u64,
        used: u64,
        requested: u64,
    },
    #[error("{instance_type} in {zone}: {available} left, {requested} requested")]
    Capacity {
        zone: String,
        instance_type: String,
        available: u64,
        requested: u64,
    },
    #[error("{instance_type} in {zone} is sold out")]
    SoldOut { zone: String, instance_type: String },
    #[error("zone {0} is sold out")]
    ZoneSoldOut(String),
    #[error("key pair {0} not found")]
    KeyPairNotFound(String),
    #[error("image {0} is a Windows image, which takes no key pairs")]
    KeyPairWindows(String),
    #[error("tag key {0} is reserved")]
    TagKeyReserved(String),
    #[error("tag key {0} is not allowed")]
    IllegalTagKey(String),
    #[error("tag value {0} is not allowed")]
    IllegalTagValue(String),
    #[error("ClientToken is longer than 64 characters")]
    ClientTokenTooLong,
    #[error("InstanceName is longer than 128 characters")]
    NameTooLong,
    #[error("HostName {0} is not allowed")]
    IllegalHostName(String),
    #[error("StoppedMode STOP_CHARGING needs pay-as-you-go instances")]
    StopChargingNotSupported(String),
    #[error("InstanceIds and Filters cannot be combined")]
    IdsAndFilters,
    #[error("unknown filter {0}")]
    InvalidFilter(String),
    #[error("filter {0} has too many values")]
    FilterValues(String),
    #[error("time {0} is not in the documented format")]
    TimeFormat(String),
    #[error("nothing to modify")]
    NothingToModify,
    #[error("the request would have succeeded")]
    DryRun,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An error already in wire form (key-pair actions build theirs directly).
    #[error("{0}")]
    Api(ApiError),
}

fn cvm(code: &'static str) -> ApiError {
    ApiError::product(code, &MESSAGES, code)
}

impl From<CvmError> for ApiError {
    fn from(err: CvmError) -> ApiError {
        match err {
            CvmError::InstanceNotFound(id) => cvm("InvalidInstanceId.NotFound").arg(id),
            CvmError::InstanceIdMalformed(id) => cvm("InvalidInstanceId.Malformed").arg(id),
            CvmError::TooManyValues { field, max } => cvm("InvalidParameterValue.LimitExceeded")
                .arg(field)
                .arg(max),
            CvmError::WrongState { id, state } => ApiError::product(
                state.code(),
                &MESSAGES,
                "UnsupportedOperation.InstanceState",
            )
            .arg(id)
            .arg(state.as_str()),
            CvmError::Protected(ids) => cvm("UnsupportedOperation.InstancesProtected").arg(ids),
            CvmError::Range { field, min, max } => ApiError::product(
                CommonCode::InvalidParameterValue.as_str(),
                &MESSAGES,
                "InvalidParameterValue.Between",
            )
            .arg(field)
            .arg(min)
            .arg(max),
            CvmError::AtLeast { field, min } => ApiError::product(
                CommonCode::InvalidParameterValue.as_str(),
                &MESSAGES,
                "InvalidParameterValue.AtLeast",
            )
            .arg(field)
            .arg(min),
            CvmError::Invalid(field) => ApiError::new(CommonCode::InvalidParameterValue).arg(field),
            CvmError::Missing(field) => ApiError::new(CommonCode::MissingParameter).arg(field),
            CvmError::MinCount => ApiError::product(
                CommonCode::InvalidParameterValue.as_str(),
                &MESSAGES,
                "InvalidParameterValue.InvalidParameterMinCount",
            ),
            CvmError::ZoneNotSupported(z) => cvm("InvalidParameterValue.ZoneNotSupported").arg(z),
            CvmError::ZoneMismatchRegion { zone, region } => {
                cvm("InvalidZone.MismatchRegion").arg(zone).arg(region)
            }
            CvmError::InstanceTypeNotFound(t) => {
                cvm("InvalidParameterValue.InstanceTypeNotFound").arg(t)
            }
            CvmError::ZoneInstanceTypeNotFound {
                zone,
                instance_type,
            } => cvm("ResourceNotFound.InvalidZoneInstanceType")
                .arg(instance_type)
                .arg(zone),
            CvmError::TypeNotSold {
                zone,
                instance_type,
            } => cvm("ResourceUnavailable.InstanceType")
                .arg(instance_type)
                .arg(zone),
            CvmError::ImageIdMalformed(id) => cvm("InvalidImageId.Malformed").arg(id),
            CvmError::ImageNotFound(id) => cvm("InvalidImageId.NotFound").arg(id),
            CvmError::Quota {
                quota,
                used,
                requested,
            } => cvm("LimitExceeded.InstanceQuota")
                .arg(quota)
                .arg(used)
                .arg(requested),
            CvmError::Capacity {
                zone,
                instance_type,
                available,
                requested,
            } => cvm("ResourceInsufficient.SpecifiedInstanceType")
                .arg(instance_type)
                .arg(zone)
                .arg(available)
                .arg(requested),
            CvmError::SoldOut {
                zone,
                instance_type,
            } => cvm("ResourcesSoldOut.SpecifiedInstanceType")
                .arg(instance_type)
                .arg(zone),
            CvmError::ZoneSoldOut(zone) => {
                cvm("ResourceInsufficient.AvailabilityZoneSoldOut").arg(zone)
            }
            CvmError::KeyPairNotFound(id) => cvm("InvalidParameterValue.KeyPairNotFound").arg(id),
            CvmError::KeyPairWindows(image) => {
                cvm("UnsupportedOperation.KeyPairUnsupportedWindows").arg(image)
            }
            CvmError::TagKeyReserved(k) => cvm("FailedOperation.TagKeyReserved").arg(k),
            CvmError::IllegalTagKey(k) => cvm("FailedOperation.IllegalTagKey").arg(k),
            CvmError::IllegalTagValue(v) => cvm("FailedOperation.IllegalTagValue").arg(v),
            CvmError::ClientTokenTooLong => cvm("InvalidClientToken.TooLong"),
            CvmError::NameTooLong => cvm("InvalidInstanceName.TooLong"),
            CvmError::IllegalHostName(h) => cvm("InvalidParameterValue.IllegalHostName").arg(h),
            CvmError::StopChargingNotSupported(id) => {
                cvm("UnsupportedOperation.StoppedModeStopCharging").arg(id)
            }
            CvmError::IdsAndFilters => ApiError::product(
                CommonCode::InvalidParameter.as_str(),
                &MESSAGES,
                "InvalidParameterCombination",
            ),
            CvmError::InvalidFilter(name) => cvm("InvalidFilter").arg(name),
            CvmError::FilterValues(name) => cvm("InvalidFilterValue.LimitExceeded").arg(name),
            CvmError::TimeFormat(t) => cvm("InvalidParameterValue.InvalidTimeFormat").arg(t),
            CvmError::NothingToModify => ApiError::product(
                CommonCode::MissingParameter.as_str(),
                &MESSAGES,
                "MissingParameter.AtLeastOne",
            ),
            CvmError::DryRun => ApiError::new(CommonCode::DryRunOperation),
            CvmError::Store(e) => ApiError::internal(e),
            CvmError::Api(e) => e,
        }
    }
}

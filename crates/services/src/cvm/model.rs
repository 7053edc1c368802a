//! CVM's persisted records and their wire form.
//!
//! Records are our own format (snake_case, versioned by the store codec); the wire form is
//! the model's `Instance` / `KeyPair` shape, rendered per request because some fields are
//! localised and all of them follow emulated time.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Record version written by this binary.
pub(crate) const VERSION: u16 = 1;

/// An instance state (`Instance.InstanceState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum State {
    Pending,
    LaunchFailed,
    Running,
    Stopped,
    Starting,
    Stopping,
    Rebooting,
    Shutdown,
    Terminating,
}

impl State {
    /// The wire value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Pending => "PENDING",
            State::LaunchFailed => "LAUNCH_FAILED",
            State::Running => "RUNNING",
            State::Stopped => "STOPPED",
            State::Starting => "STARTING",
            State::Stopping => "STOPPING",
            State::Rebooting => "REBOOTING",
            State::Shutdown => "SHUTDOWN",
            State::Terminating => "TERMINATING",
        }
    }

    /// The state's part of `UnsupportedOperation.InstanceState<State>`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            State::Pending => "UnsupportedOperation.InstanceStatePending",
            State::LaunchFailed => "UnsupportedOperation.InstanceStateLaunchFailed",
            State::Running => "UnsupportedOperation.InstanceStateRunning",
            State::Stopped => "UnsupportedOperation.InstanceStateStopped",
            State::Starting => "UnsupportedOperation.InstanceStateStarting",
            State::Stopping => "UnsupportedOperation.InstanceStateStopping",
            State::Rebooting => "UnsupportedOperation.InstanceStateRebooting",
            State::Shutdown => "UnsupportedOperation.InstanceStateShutdown",
            State::Terminating => "UnsupportedOperation.InstanceStateTerminating",
        }
    }

    /// Parses a wire value (for the `instance-state` filter).
    pub(crate) fn parse(s: &str) -> Option<State> {
        [
            State::Pending,
            State::LaunchFailed,
            State::Running,
            State::Stopped,
            State::Starting,
            State::Stopping,
            State::Rebooting,
            State::Shutdown,
            State::Terminating,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A transition in progress: at `at_ms` (emulated time) the instance becomes `to`, or is
/// gone when `to` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Transition {
    pub(crate) to: Option<State>,
    pub(crate) at_ms: i64,
}

/// A disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Disk {
    pub(crate) disk_id: String,
    pub(crate) disk_type: String,
    pub(crate) size_gb: i64,
    #[serde(default)]
    pub(crate) delete_with_instance: bool,
}

/// One instance, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Instance {
    pub(crate) id: String,
    pub(crate) uuid: String,
    pub(crate) zone: String,
    pub(crate) project_id: i64,
    pub(crate) instance_type: String,
    pub(crate) cpu: i64,
    pub(crate) memory: i64,
    pub(crate) image_id: String,
    pub(crate) os_name: String,
    pub(crate) name: String,
    pub(crate) host_name: String,
    pub(crate) charge_type: String,
    pub(crate) renew_flag: String,
    pub(crate) expired_ms: Option<i64>,
    pub(crate) system_disk: Disk,
    pub(crate) data_disks: Vec<Disk>,
    pub(crate) vpc_id: String,
    pub(crate) subnet_id: String,
    pub(crate) private_ip: String,
    pub(crate) public_ip: Option<String>,
    pub(crate) internet_charge_type: String,
    pub(crate) bandwidth_out: i64,
    pub(crate) security_group_ids: Vec<String>,
    pub(crate) key_ids: Vec<String>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) disable_api_termination: bool,
    pub(crate) cam_role_name: Option<String>,
    pub(crate) created_ms: i64,
    pub(crate) seq: u64,
    pub(crate) state: State,
    pub(crate) transition: Option<Transition>,
    pub(crate) stop_charging_mode: String,
    pub(crate) latest_operation: Option<String>,
    pub(crate) latest_operation_state: Option<String>,
    pub(crate) latest_operation_request_id: Option<String>,
    pub(crate) client_token: Option<String>,
    /// The launch ends LAUNCH_FAILED (a zone/type configured to fail launches).
    #[serde(default)]
    pub(crate) launch_fails: bool,
}

/// ISO-8601 UTC with seconds, as CVM writes `CreatedTime`.
pub(crate) fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    time::OffsetDateTime::from_unix_timestamp(secs).map_or_else(
        |_| "1970-01-01T00:00:00Z".to_owned(),
        |t| {
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        },
    )
}

impl Instance {
    /// The model's `Instance` structure.
    pub(crate) fn to_wire(&self) -> Value {
        let disk = |d: &Disk| {
            json!({"DiskType": d.disk_type, "DiskId": d.disk_id, "DiskSize": d.size_gb,
                   "Encrypt": false, "KmsKeyId": ""})
        };
        let data_disks: Vec<Value> = self
            .data_disks
            .iter()
            .map(|d| {
                json!({"DiskSize": d.size_gb, "DiskType": d.disk_type, "DiskId": d.disk_id,
                       "DeleteWithInstance": d.delete_with_instance, "Encrypt": false,
                       "KmsKeyId": null, "ThroughputPerformance": 0})
            })
            .collect();
        let tags: Vec<Value> = self
            .tags
            .iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        json!({
            "Placement": {"Zone": self.zone, "ProjectId": self.project_id, "HostIds": [], "HostId": ""},
            "InstanceId": self.id,
            "InstanceType": self.instance_type,
            "CPU": self.cpu,
            "Memory": self.memory,
            "RestrictState": "NORMAL",
            "InstanceName": self.name,
            "InstanceChargeType": self.charge_type,
            "SystemDisk": disk(&self.system_disk),
            "DataDisks": data_disks,
            "PrivateIpAddresses": [self.private_ip],
            "PublicIpAddresses": self.public_ip.as_ref().map(|ip| vec![ip.clone()]),
            "InternetAccessible": {
                "InternetChargeType": self.internet_charge_type,
                "InternetMaxBandwidthOut": self.bandwidth_out,
                "PublicIpAssigned": self.public_ip.is_some(),
            },
            "VirtualPrivateCloud": {
                "VpcId": self.vpc_id,
                "SubnetId": self.subnet_id,
                "AsVpcGateway": false,
                "PrivateIpAddresses": [self.private_ip],
            },
            "ImageId": self.image_id,
            "RenewFlag": self.renew_flag,
            "CreatedTime": iso8601(self.created_ms),
            "ExpiredTime": self.expired_ms.map_or_else(String::new, iso8601),
            "OsName": self.os_name,
            "SecurityGroupIds": self.security_group_ids,
            "LoginSettings": {"KeyIds": self.key_ids},
            "InstanceState": self.state.as_str(),
            "Tags": tags,
            "StopChargingMode": self.stop_charging_mode,
            "Uuid": self.uuid,
            "LatestOperation": self.latest_operation,
            "LatestOperationState": self.latest_operation_state,
            "LatestOperationRequestId": self.latest_operation_request_id,
            "LatestOperationErrorMsg": null,
            "DisasterRecoverGroupId": "",
            "DisasterRecoverGroupIds": [],
            "IPv6Addresses": null,
            "CamRoleName": self.cam_role_name,
            "HpcClusterId": "",
            "RdmaIpAddresses": null,
            "DedicatedClusterId": "",
            "IsolatedSource": if self.state == State::Shutdown { "MANUAL" } else { "NOTISOLATED" },
            "LicenseType": "TencentCloud",
            "DisableApiTermination": self.disable_api_termination,
            "HostName": self.host_name,
            "DefaultLoginUser": if self.os_name.contains("Windows") { "Administrator" } else { "root" },
            "DefaultLoginPort": if self.os_name.contains("Windows") { 3389 } else { 22 },
        })
    }
}

/// An SSH key pair, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyPair {
    pub(crate) key_id: String,
    pub(crate) name: String,
    pub(crate) project_id: i64,
    pub(crate) public_key: String,
    pub(crate) created_ms: i64,
    pub(crate) tags: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_utc_seconds() {
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn state_codes_name_the_state() {
        for s in [
            "PENDING",
            "RUNNING",
            "STOPPED",
            "SHUTDOWN",
            "TERMINATING",
            "LAUNCH_FAILED",
        ] {
            let st = State::parse(s).unwrap();
            assert_eq!(st.as_str(), s);
            assert!(st.code().starts_with("UnsupportedOperation.InstanceState"));
        }
        assert!(State::parse("running").is_none());
    }
}

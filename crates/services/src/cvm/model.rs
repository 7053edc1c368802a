//! CVM's persisted records and their wire form.
//!
//! Records are our own format (snake_case, versioned by the store codec); the wire form is
//! the model's `Instance` / `KeyPair` shape, rendered per request because some fields are
//! localised and all of them follow emulated time.

use serde::{Deserialize, Serialize};
use tclocal_wire::clock::Iso8601;

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

impl Instance {
    /// The model's `Instance` structure, serialised straight from the record (no tree of
    /// values per answer: `DescribeInstances` writes twenty of these).
    pub(crate) fn wire(&self) -> WireInstance<'_> {
        WireInstance(self)
    }
}

/// The wire form of an [`Instance`] (see [`Instance::wire`]). Member order is the cloud's.
pub(crate) struct WireInstance<'a>(&'a Instance);

/// `Placement`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WirePlacement<'a> {
    zone: &'a str,
    project_id: i64,
    host_ids: [&'a str; 0],
    host_id: &'a str,
}

/// `SystemDisk`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireSystemDisk<'a> {
    disk_type: &'a str,
    disk_id: &'a str,
    disk_size: i64,
    encrypt: bool,
    kms_key_id: &'a str,
}

/// `DataDisk`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireDataDisk<'a> {
    disk_size: i64,
    disk_type: &'a str,
    disk_id: &'a str,
    delete_with_instance: bool,
    encrypt: bool,
    kms_key_id: Option<&'a str>,
    throughput_performance: i64,
}

/// `InternetAccessible`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireInternet<'a> {
    internet_charge_type: &'a str,
    internet_max_bandwidth_out: i64,
    public_ip_assigned: bool,
}

/// `VirtualPrivateCloud`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireVpc<'a> {
    vpc_id: &'a str,
    subnet_id: &'a str,
    as_vpc_gateway: bool,
    private_ip_addresses: [&'a str; 1],
}

/// `LoginSettings` (key ids only: a password is never shown).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireLogin<'a> {
    key_ids: &'a [String],
}

/// `Tag`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireTag<'a> {
    key: &'a str,
    value: &'a str,
}

/// `DataDisks`, written from the records without collecting them.
struct WireDataDisks<'a>(&'a [Disk]);

impl Serialize for WireDataDisks<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|d| WireDataDisk {
            disk_size: d.size_gb,
            disk_type: &d.disk_type,
            disk_id: &d.disk_id,
            delete_with_instance: d.delete_with_instance,
            encrypt: false,
            kms_key_id: None,
            throughput_performance: 0,
        }))
    }
}

/// `Tags`, written from the records without collecting them.
struct WireTags<'a>(&'a [(String, String)]);

impl Serialize for WireTags<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|(key, value)| WireTag { key, value }))
    }
}

impl Serialize for WireInstance<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let i = self.0;
        let none: Option<&str> = None;
        let windows = i.os_name.contains("Windows");
        let mut m = s.serialize_struct("Instance", 48)?;
        m.serialize_field(
            "Placement",
            &WirePlacement {
                zone: &i.zone,
                project_id: i.project_id,
                host_ids: [],
                host_id: "",
            },
        )?;
        m.serialize_field("InstanceId", &i.id)?;
        m.serialize_field("InstanceType", &i.instance_type)?;
        m.serialize_field("CPU", &i.cpu)?;
        m.serialize_field("Memory", &i.memory)?;
        m.serialize_field("RestrictState", "NORMAL")?;
        m.serialize_field("InstanceName", &i.name)?;
        m.serialize_field("InstanceChargeType", &i.charge_type)?;
        m.serialize_field(
            "SystemDisk",
            &WireSystemDisk {
                disk_type: &i.system_disk.disk_type,
                disk_id: &i.system_disk.disk_id,
                disk_size: i.system_disk.size_gb,
                encrypt: false,
                kms_key_id: "",
            },
        )?;
        m.serialize_field("DataDisks", &WireDataDisks(&i.data_disks))?;
        m.serialize_field("PrivateIpAddresses", &[&i.private_ip])?;
        m.serialize_field(
            "PublicIpAddresses",
            &i.public_ip.as_ref().map(std::slice::from_ref),
        )?;
        m.serialize_field(
            "InternetAccessible",
            &WireInternet {
                internet_charge_type: &i.internet_charge_type,
                internet_max_bandwidth_out: i.bandwidth_out,
                public_ip_assigned: i.public_ip.is_some(),
            },
        )?;
        m.serialize_field(
            "VirtualPrivateCloud",
            &WireVpc {
                vpc_id: &i.vpc_id,
                subnet_id: &i.subnet_id,
                as_vpc_gateway: false,
                private_ip_addresses: [&i.private_ip],
            },
        )?;
        m.serialize_field("ImageId", &i.image_id)?;
        m.serialize_field("RenewFlag", &i.renew_flag)?;
        m.serialize_field("CreatedTime", &Iso8601(i.created_ms))?;
        match i.expired_ms {
            Some(ms) => m.serialize_field("ExpiredTime", &Iso8601(ms))?,
            None => m.serialize_field("ExpiredTime", "")?,
        }
        m.serialize_field("OsName", &i.os_name)?;
        m.serialize_field("SecurityGroupIds", &i.security_group_ids)?;
        m.serialize_field(
            "LoginSettings",
            &WireLogin {
                key_ids: &i.key_ids,
            },
        )?;
        m.serialize_field("InstanceState", i.state.as_str())?;
        m.serialize_field("Tags", &WireTags(&i.tags))?;
        m.serialize_field("StopChargingMode", &i.stop_charging_mode)?;
        m.serialize_field("Uuid", &i.uuid)?;
        m.serialize_field("LatestOperation", &i.latest_operation)?;
        m.serialize_field("LatestOperationState", &i.latest_operation_state)?;
        m.serialize_field("LatestOperationRequestId", &i.latest_operation_request_id)?;
        m.serialize_field("LatestOperationErrorMsg", &none)?;
        m.serialize_field("DisasterRecoverGroupId", "")?;
        m.serialize_field("DisasterRecoverGroupIds", &[] as &[&str])?;
        m.serialize_field("IPv6Addresses", &none)?;
        m.serialize_field("CamRoleName", &i.cam_role_name)?;
        m.serialize_field("HpcClusterId", "")?;
        m.serialize_field("RdmaIpAddresses", &none)?;
        m.serialize_field("DedicatedClusterId", "")?;
        m.serialize_field(
            "IsolatedSource",
            if i.state == State::Shutdown {
                "MANUAL"
            } else {
                "NOTISOLATED"
            },
        )?;
        m.serialize_field("LicenseType", "TencentCloud")?;
        m.serialize_field("DisableApiTermination", &i.disable_api_termination)?;
        m.serialize_field("HostName", &i.host_name)?;
        m.serialize_field(
            "DefaultLoginUser",
            if windows { "Administrator" } else { "root" },
        )?;
        m.serialize_field("DefaultLoginPort", &if windows { 3389 } else { 22 })?;
        m.end()
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

    /// Two instances that between them set every optional part of the wire form.
    fn samples() -> [Instance; 2] {
        let disk = |id: &str, size_gb| Disk {
            disk_id: id.to_owned(),
            disk_type: "CLOUD_PREMIUM".to_owned(),
            size_gb,
            delete_with_instance: true,
        };
        let full = Instance {
            id: "ins-00000001".to_owned(),
            uuid: "6f1f5c8e-0000-4000-8000-000000000001".to_owned(),
            zone: "ap-guangzhou-3".to_owned(),
            project_id: 7,
            instance_type: "S5.MEDIUM2".to_owned(),
            cpu: 2,
            memory: 2,
            image_id: "img-zsxdft8i".to_owned(),
            os_name: "TencentOS Server 3.1 (TK4)".to_owned(),
            name: "web \"one\" 一".to_owned(),
            host_name: "web-1".to_owned(),
            charge_type: "PREPAID".to_owned(),
            renew_flag: "NOTIFY_AND_MANUAL_RENEW".to_owned(),
            expired_ms: Some(1_702_592_000_000),
            system_disk: disk("disk-sys", 50),
            data_disks: vec![disk("disk-d1", 100), disk("disk-d2", 200)],
            vpc_id: "vpc-1".to_owned(),
            subnet_id: "subnet-1".to_owned(),
            private_ip: "10.0.0.2".to_owned(),
            public_ip: Some("203.0.113.9".to_owned()),
            internet_charge_type: "TRAFFIC_POSTPAID_BY_HOUR".to_owned(),
            bandwidth_out: 5,
            security_group_ids: vec!["sg-1".to_owned(), "sg-2".to_owned()],
            key_ids: vec!["skey-1".to_owned()],
            tags: vec![("team".to_owned(), "a\tb".to_owned())],
            disable_api_termination: true,
            cam_role_name: Some("role".to_owned()),
            created_ms: 1_700_000_000_999,
            seq: 1,
            state: State::Running,
            transition: None,
            stop_charging_mode: "NOT_APPLICABLE".to_owned(),
            latest_operation: Some("RunInstances".to_owned()),
            latest_operation_state: Some("SUCCESS".to_owned()),
            latest_operation_request_id: Some("req-1".to_owned()),
            client_token: Some("token".to_owned()),
            launch_fails: false,
        };
        let bare = Instance {
            id: "ins-00000002".to_owned(),
            os_name: "Windows Server 2022".to_owned(),
            expired_ms: None,
            data_disks: Vec::new(),
            public_ip: None,
            security_group_ids: Vec::new(),
            key_ids: Vec::new(),
            tags: Vec::new(),
            disable_api_termination: false,
            cam_role_name: None,
            state: State::Shutdown,
            latest_operation: None,
            latest_operation_state: None,
            latest_operation_request_id: None,
            ..full.clone()
        };
        [full, bare]
    }

    /// The wire form, byte for byte (member order included), as the SDK suites were pinned on.
    #[test]
    fn instances_keep_their_wire_form() {
        let [full, bare] = samples();
        let text = |i: &Instance| serde_json::to_string(&i.wire()).unwrap();
        assert_eq!(text(&full), FULL);
        assert_eq!(text(&bare), BARE);
    }

    const FULL: &str = r#"{"Placement":{"Zone":"ap-guangzhou-3","ProjectId":7,"HostIds":[],"HostId":""},"InstanceId":"ins-00000001","InstanceType":"S5.MEDIUM2","CPU":2,"Memory":2,"RestrictState":"NORMAL","InstanceName":"web \"one\" 一","InstanceChargeType":"PREPAID","SystemDisk":{"DiskType":"CLOUD_PREMIUM","DiskId":"disk-sys","DiskSize":50,"Encrypt":false,"KmsKeyId":""},"DataDisks":[{"DiskSize":100,"DiskType":"CLOUD_PREMIUM","DiskId":"disk-d1","DeleteWithInstance":true,"Encrypt":false,"KmsKeyId":null,"ThroughputPerformance":0},{"DiskSize":200,"DiskType":"CLOUD_PREMIUM","DiskId":"disk-d2","DeleteWithInstance":true,"Encrypt":false,"KmsKeyId":null,"ThroughputPerformance":0}],"PrivateIpAddresses":["10.0.0.2"],"PublicIpAddresses":["203.0.113.9"],"InternetAccessible":{"InternetChargeType":"TRAFFIC_POSTPAID_BY_HOUR","InternetMaxBandwidthOut":5,"PublicIpAssigned":true},"VirtualPrivateCloud":{"VpcId":"vpc-1","SubnetId":"subnet-1","AsVpcGateway":false,"PrivateIpAddresses":["10.0.0.2"]},"ImageId":"img-zsxdft8i","RenewFlag":"NOTIFY_AND_MANUAL_RENEW","CreatedTime":"2023-11-14T22:13:20Z","ExpiredTime":"2023-12-14T22:13:20Z","OsName":"TencentOS Server 3.1 (TK4)","SecurityGroupIds":["sg-1","sg-2"],"LoginSettings":{"KeyIds":["skey-1"]},"InstanceState":"RUNNING","Tags":[{"Key":"team","Value":"a\tb"}],"StopChargingMode":"NOT_APPLICABLE","Uuid":"6f1f5c8e-0000-4000-8000-000000000001","LatestOperation":"RunInstances","LatestOperationState":"SUCCESS","LatestOperationRequestId":"req-1","LatestOperationErrorMsg":null,"DisasterRecoverGroupId":"","DisasterRecoverGroupIds":[],"IPv6Addresses":null,"CamRoleName":"role","HpcClusterId":"","RdmaIpAddresses":null,"DedicatedClusterId":"","IsolatedSource":"NOTISOLATED","LicenseType":"TencentCloud","DisableApiTermination":true,"HostName":"web-1","DefaultLoginUser":"root","DefaultLoginPort":22}"#;
    const BARE: &str = r#"{"Placement":{"Zone":"ap-guangzhou-3","ProjectId":7,"HostIds":[],"HostId":""},"InstanceId":"ins-00000002","InstanceType":"S5.MEDIUM2","CPU":2,"Memory":2,"RestrictState":"NORMAL","InstanceName":"web \"one\" 一","InstanceChargeType":"PREPAID","SystemDisk":{"DiskType":"CLOUD_PREMIUM","DiskId":"disk-sys","DiskSize":50,"Encrypt":false,"KmsKeyId":""},"DataDisks":[],"PrivateIpAddresses":["10.0.0.2"],"PublicIpAddresses":null,"InternetAccessible":{"InternetChargeType":"TRAFFIC_POSTPAID_BY_HOUR","InternetMaxBandwidthOut":5,"PublicIpAssigned":false},"VirtualPrivateCloud":{"VpcId":"vpc-1","SubnetId":"subnet-1","AsVpcGateway":false,"PrivateIpAddresses":["10.0.0.2"]},"ImageId":"img-zsxdft8i","RenewFlag":"NOTIFY_AND_MANUAL_RENEW","CreatedTime":"2023-11-14T22:13:20Z","ExpiredTime":"","OsName":"Windows Server 2022","SecurityGroupIds":[],"LoginSettings":{"KeyIds":[]},"InstanceState":"SHUTDOWN","Tags":[],"StopChargingMode":"NOT_APPLICABLE","Uuid":"6f1f5c8e-0000-4000-8000-000000000001","LatestOperation":null,"LatestOperationState":null,"LatestOperationRequestId":null,"LatestOperationErrorMsg":null,"DisasterRecoverGroupId":"","DisasterRecoverGroupIds":[],"IPv6Addresses":null,"CamRoleName":null,"HpcClusterId":"","RdmaIpAddresses":null,"DedicatedClusterId":"","IsolatedSource":"MANUAL","LicenseType":"TencentCloud","DisableApiTermination":false,"HostName":"web-1","DefaultLoginUser":"Administrator","DefaultLoginPort":3389}"#;

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

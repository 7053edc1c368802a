//! Successful calls against an in-process tclocal.

use serde_json::json;
use tclocal_sdk::cvm::{
    CreateKeyPairRequest, DeleteKeyPairsRequest, DescribeImagesRequest,
    DescribeInstanceTypeConfigsRequest, DescribeInstancesRequest, DescribeInstancesStatusRequest,
    DescribeKeyPairsRequest, DescribeRegionsRequest, DescribeZonesRequest, Filter,
    ModifyInstancesAttributeRequest, Placement, RebootInstancesRequest, RunInstancesRequest,
    StartInstancesRequest, StopInstancesRequest, TerminateInstancesRequest,
};
use tclocal_sdk::{HttpMethod, Language};

use crate::common::{Tclocal, quick_retries};

const IMAGE: &str = "img-zsxdft8i";

fn uuid_v4_like(id: &str) -> bool {
    id.len() == 36 && id.as_bytes()[14] == b'4' && id.matches('-').count() == 4
}

/// A typed call decodes the answer, RequestId included.
#[tokio::test]
async fn typed_describe_zones() {
    let tc = Tclocal::start().await;
    let zones = tc
        .client()
        .cvm()
        .describe_zones(&DescribeZonesRequest::default())
        .await
        .unwrap();
    assert!(uuid_v4_like(&zones.request_id), "{}", zones.request_id);
    assert_eq!(zones.total_count, zones.zone_set.len() as u64);
    let z3 = zones
        .zone_set
        .iter()
        .find(|z| z.zone == "ap-guangzhou-3")
        .unwrap();
    assert_eq!(z3.zone_name, "广州三区"); // zh-CN, the cloud's default language
    assert_eq!(z3.zone_state, "AVAILABLE");
}

/// The language setting reaches the service (`X-TC-Language`).
#[tokio::test]
async fn language_is_sent() {
    let tc = Tclocal::start().await;
    let client = tc.builder().language(Language::EnUs).build().unwrap();
    let zones = client
        .cvm()
        .describe_zones(&DescribeZonesRequest::default())
        .await
        .unwrap();
    let z3 = zones
        .zone_set
        .iter()
        .find(|z| z.zone == "ap-guangzhou-3")
        .unwrap();
    assert_eq!(z3.zone_name, "Guangzhou Zone 3");
}

/// An untyped call returns the Response object with RequestId last.
#[tokio::test]
async fn untyped_call_returns_the_response_object() {
    let tc = Tclocal::start().await;
    let v = tc
        .client()
        .call(
            "cvm",
            "2017-03-12",
            "DescribeInstancesStatus",
            json!({"Limit": 5}),
        )
        .await
        .unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["TotalCount", "InstanceStatusSet", "RequestId"]);
    assert_eq!(v["TotalCount"], 0);
    // `null` means no parameters.
    let v = tc
        .client()
        .call(
            "cvm",
            "2017-03-12",
            "DescribeRegions",
            serde_json::Value::Null,
        )
        .await
        .unwrap();
    assert!(v["TotalCount"].as_u64().unwrap() > 0);
}

/// GET with flattened parameters and an unsigned payload are both accepted.
#[tokio::test]
async fn get_and_unsigned_payload() {
    let tc = Tclocal::start().await;
    let get = tc.builder().method(HttpMethod::Get).build().unwrap();
    let request = DescribeInstancesRequest {
        filters: Some(vec![Filter {
            name: Some("instance-name".to_owned()),
            values: Some(vec!["未命名 x".to_owned()]),
        }]),
        limit: Some(1),
        ..Default::default()
    };
    let answer = get.cvm().describe_instances(&request).await.unwrap();
    assert_eq!(answer.total_count, 0);

    let unsigned = tc.builder().unsigned_payload(true).build().unwrap();
    let regions = unsigned
        .cvm()
        .describe_regions(&DescribeRegionsRequest::default())
        .await
        .unwrap();
    assert!(
        regions
            .region_set
            .iter()
            .any(|r| r.region == "ap-guangzhou")
    );
}

/// The catalogue actions decode into their typed responses.
#[tokio::test]
async fn catalogue_actions() {
    let tc = Tclocal::start().await;
    let cvm = tc.client().cvm();
    let images = cvm
        .describe_images(&DescribeImagesRequest::default())
        .await
        .unwrap();
    assert!(images.image_set.iter().any(|i| i.image_id == IMAGE));
    let types = cvm
        .describe_instance_type_configs(&DescribeInstanceTypeConfigsRequest {
            filters: Some(vec![Filter {
                name: Some("zone".to_owned()),
                values: Some(vec!["ap-guangzhou-3".to_owned()]),
            }]),
        })
        .await
        .unwrap();
    assert!(
        types
            .instance_type_config_set
            .iter()
            .any(|t| t.instance_type == "S5.MEDIUM2" && t.cpu == 2)
    );
}

/// A CVM instance through its lifecycle, every step a typed method.
#[tokio::test]
async fn instance_lifecycle() {
    let tc = Tclocal::start().await;
    // Retries on, so RunInstances gets a ClientToken of its own.
    let client = tc.builder().retry(quick_retries(2)).build().unwrap();
    let cvm = client.cvm();
    let run = cvm
        .run_instances(&RunInstancesRequest {
            placement: Some(Placement {
                zone: Some("ap-guangzhou-3".to_owned()),
                ..Default::default()
            }),
            instance_type: Some("S5.MEDIUM2".to_owned()),
            image_id: Some(IMAGE.to_owned()),
            instance_count: Some(2),
            instance_name: Some("sdk-{R:1}".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(run.instance_id_set.len(), 2);
    let ids = run.instance_id_set.clone();

    let described = cvm
        .describe_instances(&DescribeInstancesRequest {
            instance_ids: Some(ids.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(described.total_count, 2);
    let mut names: Vec<&str> = described
        .instance_set
        .iter()
        .map(|i| i.instance_name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["sdk-1", "sdk-2"]);
    assert!(
        described
            .instance_set
            .iter()
            .all(|i| i.instance_state == "RUNNING")
    );

    let one = vec![ids[0].clone()];
    cvm.stop_instances(&StopInstancesRequest {
        instance_ids: Some(one.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    cvm.start_instances(&StartInstancesRequest {
        instance_ids: Some(one.clone()),
    })
    .await
    .unwrap();
    cvm.reboot_instances(&RebootInstancesRequest {
        instance_ids: Some(one.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    cvm.modify_instances_attribute(&ModifyInstancesAttributeRequest {
        instance_ids: Some(one.clone()),
        instance_name: Some("renamed".to_owned()),
        ..Default::default()
    })
    .await
    .unwrap();
    let status = cvm
        .describe_instances_status(&DescribeInstancesStatusRequest {
            instance_ids: Some(one.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(status.instance_status_set[0].instance_id, ids[0]);

    cvm.terminate_instances(&TerminateInstancesRequest {
        instance_ids: Some(ids),
        ..Default::default()
    })
    .await
    .unwrap();
    let after = cvm
        .describe_instances(&DescribeInstancesRequest::default())
        .await
        .unwrap();
    assert_eq!(after.total_count, 0);
}

/// Key pairs: create (the private key kept out of `Debug`), list, delete.
#[tokio::test]
async fn key_pairs() {
    let tc = Tclocal::start().await;
    let cvm = tc.client().cvm();
    let created = cvm
        .create_key_pair(&CreateKeyPairRequest {
            key_name: Some("sdk_key".to_owned()),
            project_id: Some(0),
            ..Default::default()
        })
        .await
        .unwrap();
    let key_id = created.key_pair.key_id.clone();
    assert!(key_id.starts_with("skey-"), "{key_id}");
    assert!(
        created
            .key_pair
            .private_key
            .as_deref()
            .unwrap_or("")
            .contains("PRIVATE KEY")
    );
    // The private key is a secret: Debug of the answer shows that it came, not what it is.
    let shown = format!("{created:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(shown.contains("private_key: Some(***)"), "{shown}");
    assert!(shown.contains(&key_id), "{shown}");
    let listed = cvm
        .describe_key_pairs(&DescribeKeyPairsRequest::default())
        .await
        .unwrap();
    assert!(listed.key_pair_set.iter().any(|k| k.key_id == key_id));
    cvm.delete_key_pairs(&DeleteKeyPairsRequest {
        key_ids: Some(vec![key_id]),
    })
    .await
    .unwrap();
    let listed = cvm
        .describe_key_pairs(&DescribeKeyPairsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total_count, 0);
}

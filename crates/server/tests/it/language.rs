//! Languages: zh-CN by default, en-US and ja-JP on request, `--language` for the default.

use crate::common::{Call, Server, V1Call};
use tclocal_server::Config;
use tclocal_wire::Language;

fn zone3_name(resp: &crate::common::RawResponse) -> String {
    resp.fields()["ZoneSet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["Zone"] == "ap-guangzhou-3")
        .unwrap()["ZoneName"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Zone names and error messages follow X-TC-Language in all three languages.
#[tokio::test]
async fn zone_names_and_messages_follow_the_requested_language() {
    let server = Server::start().await;
    let expected = [
        (None, "广州三区", "缺少必选参数 `Region`。"),
        (Some("zh-CN"), "广州三区", "缺少必选参数 `Region`。"),
        (
            Some("en-US"),
            "Guangzhou Zone 3",
            "The request is missing a required parameter `Region`.",
        ),
        (
            Some("ja-JP"),
            "広州ゾーン3",
            "必須パラメータ `Region` がありません。",
        ),
    ];
    for (lang, zone, message) in expected {
        let call = Call::tc3("DescribeZones", "{}").with(|c| c.language = lang.map(Into::into));
        assert_eq!(zone3_name(&server.call(&call).await), zone, "{lang:?}");
        let missing = call.with(|c| c.region = None);
        assert_eq!(server.call(&missing).await.message(), message, "{lang:?}");
    }
}

/// v1 carries the language as the `Language` parameter.
#[tokio::test]
async fn v1_language_parameter_is_honoured() {
    let server = Server::start().await;
    let call = V1Call::new("GET", "DescribeZones", &[]).set("Language", Some("ja-JP"));
    assert_eq!(
        zone3_name(&server.raw(&call.to_bytes(&server.host())).await),
        "広州ゾーン3"
    );
}

/// An unsupported language is InvalidParameterValue; `--language` sets the default.
#[tokio::test]
async fn language_errors_and_default() {
    let server = Server::start().await;
    let call = Call::tc3("DescribeZones", "{}").with(|c| c.language = Some("fr-FR".into()));
    let resp = server.call(&call).await;
    assert_eq!(resp.api_code().as_deref(), Some("InvalidParameterValue"));
    let config = Config {
        language: Language::EnUs,
        ..Config::for_tests()
    };
    let server = Server::start_with(config, Vec::new()).await;
    let resp = server.call(&Call::tc3("DescribeZones", "{}")).await;
    assert_eq!(zone3_name(&resp), "Guangzhou Zone 3");
}

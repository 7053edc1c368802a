"""zh-CN, en-US and ja-JP: localised fields and error messages follow the request.

The SDK accepts only zh-CN and en-US; ja-JP is set on the profile after construction,
which makes the SDK send `X-TC-Language: ja-JP` (TC3) or `Language=ja-JP` (v1).
"""

import re

import pytest
from tencentcloud.cvm.v20170312 import models

import tcsupport as t

ZONE_NAMES = {"zh-CN": "广州三区", "en-US": "Guangzhou Zone 3", "ja-JP": "広州ゾーン3"}
KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _zone_name(client, zone="ap-guangzhou-3"):
    resp = client.DescribeZones(models.DescribeZonesRequest())
    names = {z.Zone: z.ZoneName for z in resp.ZoneSet}
    assert zone in names, sorted(names)
    return names[zone]


@pytest.mark.parametrize("language", ["zh-CN", "en-US", "ja-JP"])
@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256"])
def test_zone_name_follows_the_request_language(server, recorded, language, sign_method):
    assert _zone_name(t.cvm(server, language=language, sign_method=sign_method)) == ZONE_NAMES[language]
    (req, _), = recorded
    if sign_method == "TC3-HMAC-SHA256":
        assert req.headers["X-TC-Language"] == language
    else:
        assert f"Language={language}" in req.body


def _missing_region_message(server, language):
    err = t.expect_error(
        lambda: t.cvm(server, "", language=language).DescribeInstancesStatus(models.DescribeInstancesStatusRequest()),
        "MissingParameter",
    )
    return err.get_message()


def test_missing_parameter_message_is_localised(server):
    messages = {lang: _missing_region_message(server, lang) for lang in ("zh-CN", "en-US", "ja-JP")}
    assert messages["en-US"] == t.EN_MISSING_REGION
    assert len(set(messages.values())) == 3, messages
    assert HAN.search(messages["zh-CN"]) and not KANA.search(messages["zh-CN"]), messages
    assert KANA.search(messages["ja-JP"]), messages
    for msg in messages.values():
        assert "Region" in msg, messages


def test_signature_failure_message_is_localised(server):
    def message(language):
        return t.expect_error(
            lambda: t.cvm(server, secret_key="z" * 32, language=language).DescribeInstancesStatus(
                models.DescribeInstancesStatusRequest()
            ),
            "AuthFailure.SignatureFailure",
        ).get_message()

    messages = {lang: message(lang) for lang in ("zh-CN", "en-US", "ja-JP")}
    assert len(set(messages.values())) == 3, messages
    assert HAN.search(messages["zh-CN"]) and not KANA.search(messages["zh-CN"]), messages
    assert KANA.search(messages["ja-JP"]), messages


def test_request_without_language_gets_the_servers_default_zh_cn(server, recorded):
    assert _zone_name(t.cvm(server, language=None)) == "广州三区"
    (req, _), = recorded
    assert "X-TC-Language" not in req.headers


def test_request_without_language_gets_the_language_flag_en_us(server_en_us):
    assert _zone_name(t.cvm(server_en_us, language=None)) == "Guangzhou Zone 3"
    assert _missing_region_message(server_en_us, None) == t.EN_MISSING_REGION


def test_request_language_wins_over_the_language_flag(server_en_us):
    assert _zone_name(t.cvm(server_en_us, language="zh-CN")) == "广州三区"
    assert _zone_name(t.cvm(server_en_us, language="ja-JP")) == "広州ゾーン3"


def test_language_env_var_sets_the_default_ja_jp(server_ja_jp_env):
    assert _zone_name(t.cvm(server_ja_jp_env, language=None)) == "広州ゾーン3"
    assert _zone_name(t.cvm(server_ja_jp_env, language=None, sign_method="HmacSHA1")) == "広州ゾーン3"
    assert _zone_name(t.cvm(server_ja_jp_env, language="en-US")) == "Guangzhou Zone 3"

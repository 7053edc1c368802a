"""Shared helpers of the Python compatibility suite.

Everything here talks to 127.0.0.1 only. Clients are the official SDK's
(`tencentcloud-sdk-python-common` / `-cvm`); the raw helpers exist for what an
SDK cannot send (other HTTP methods, garbage Authorization headers, custom
SignedHeaders lists), and they sign exactly as protocol.md §3 describes.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import pytest

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

# Well-known development credentials of tclocal's default account.
DEV_SECRET_ID = "AKIDtclocalDevelopmentKey00000000000"
DEV_SECRET_KEY = "tclocalDevelopmentSecretKey00000"

# Key-shaped (AKID + 32 alphanumerics) but never issued by tclocal.
UNKNOWN_SECRET_ID = "AKID" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"
assert len(UNKNOWN_SECRET_ID) == 36

CVM_VERSION = "2017-03-12"
REGION = "ap-guangzhou"

UUID4_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)

# Real-cloud English messages that protocol.md §7 documents (architecture.md §1.2:
# "use it word for word in en-US").
EN_MISSING_REGION = "The request is missing a required parameter `Region`."


@dataclass
class Server:
    """A running tclocal process."""

    host: str
    port: int
    log_path: str

    @property
    def endpoint(self) -> str:
        """`host:port`, as given to HttpProfile(endpoint=...)."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def log_tail(self, n: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as fh:
                return "".join(fh.readlines()[-n:])
        except OSError:
            return "<no log>"


def control(server: Server, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """A control-plane call (`/_tclocal/...`): (HTTP status, JSON body). Plain urllib.

    body: a JSON object to send (`POST /_tclocal/keys {"uin": ...}`); a POST without one
    sends an empty body."""
    data = json.dumps(body).encode("utf-8") if body is not None else (b"" if method == "POST" else None)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(server.url + path, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def emulated_now_ms(server: Server) -> int:
    """Emulated time (`GET /_tclocal/clock`), in Unix milliseconds."""
    status, body = control(server, "GET", "/_tclocal/clock")
    assert status == 200, body
    return body["now_ms"]


def advance_clock(server: Server, seconds: float) -> int:
    """Moves emulated time forward (`POST /_tclocal/clock/advance?seconds=N`); returns the
    new emulated time in Unix milliseconds. Signatures keep being checked against wall time."""
    status, body = control(server, "POST", f"/_tclocal/clock/advance?seconds={seconds}")
    assert status == 200, body
    return body["now_ms"]


def assert_request_id(request_id) -> None:
    assert isinstance(request_id, str), f"RequestId is not a string: {request_id!r}"
    assert UUID4_RE.match(request_id), f"RequestId is not a lowercase UUID v4: {request_id!r}"


def profile(
    server: Server,
    *,
    method: str = "POST",
    sign_method: str | None = None,
    language: str | None = "zh-CN",
    unsigned_payload: bool = False,
    endpoint: str | None = None,
) -> ClientProfile:
    """A ClientProfile pointed at `server` (plain HTTP).

    language=None sends no X-TC-Language / Language at all (the SDK normally always
    sends one); any other value the SDK refuses (ja-JP) is set after construction,
    which is what the SDK itself would send if it accepted it.
    """
    hp = HttpProfile(
        protocol="http",
        endpoint=endpoint if endpoint is not None else server.endpoint,
        reqMethod=method,
        reqTimeout=15,
    )
    sdk_language = language if language in ("zh-CN", "en-US") else "zh-CN"
    cp = ClientProfile(signMethod=sign_method, httpProfile=hp, language=sdk_language)
    if language not in ("zh-CN", "en-US"):
        cp.language = language
    if unsigned_payload:
        # ClientProfile has no `unsignedPayload` constructor argument (3.1.178): it is a
        # class attribute that users set on the instance.
        cp.unsignedPayload = True
    return cp


def cvm(
    server: Server,
    region: str = REGION,
    *,
    secret_id: str = DEV_SECRET_ID,
    secret_key: str = DEV_SECRET_KEY,
    **profile_kw,
) -> cvm_client.CvmClient:
    cred = credential.Credential(secret_id, secret_key)
    return cvm_client.CvmClient(cred, region, profile(server, **profile_kw))


def common(
    server: Server,
    service: str = "cvm",
    version: str = CVM_VERSION,
    region: str = REGION,
    *,
    secret_id: str = DEV_SECRET_ID,
    secret_key: str = DEV_SECRET_KEY,
    **profile_kw,
) -> CommonClient:
    cred = credential.Credential(secret_id, secret_key)
    return CommonClient(service, version, cred, region, profile(server, **profile_kw))


def expect_error(fn: Callable[[], object], code: str) -> TencentCloudSDKException:
    """Run `fn`, assert it raised the SDK exception with exactly `code`."""
    with pytest.raises(TencentCloudSDKException) as info:
        result = fn()
        # Reached only when nothing was raised: show what came back.
        pytest.fail(f"expected error {code}, call succeeded with {_show(result)}")
    err = info.value
    assert err.get_code() == code, (
        f"expected code {code!r}, got code={err.get_code()!r} "
        f"message={err.get_message()!r} requestId={err.get_request_id()!r}"
    )
    assert isinstance(err.get_message(), str) and err.get_message(), "empty Error.Message"
    assert_request_id(err.get_request_id())
    return err


def _show(result) -> str:
    if hasattr(result, "to_json_string"):
        return result.to_json_string()
    return repr(result)


# --------------------------------------------------------------------------------------
# Raw HTTP (for what no SDK sends)
# --------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict
    body: bytes

    @property
    def content_type(self):
        return self.headers.get("content-type")

    def json(self):
        return json.loads(self.body)


def raw_request(
    server: Server,
    method: str,
    path: str = "/",
    *,
    headers: dict | None = None,
    body: bytes | str | None = None,
) -> RawResponse:
    """One HTTP request with exactly these headers (Host is added only if absent)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=15)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(
            resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        )
    finally:
        conn.close()


def assert_enveloped_error(resp: RawResponse, code: str) -> dict:
    """An API-level error: HTTP 200, exact JSON content type, envelope, code, UUID v4."""
    assert resp.status == 200, f"HTTP {resp.status}: {resp.body!r}"
    assert resp.content_type == "application/json", f"Content-Type {resp.content_type!r}"
    doc = resp.json()
    assert set(doc) == {"Response"}, doc
    r = doc["Response"]
    assert "Error" in r, f"no Error in {doc}"
    assert r["Error"].get("Code") == code, f"expected {code}, got {doc}"
    assert isinstance(r["Error"].get("Message"), str) and r["Error"]["Message"], doc
    assert_request_id(r.get("RequestId"))
    return r


def _hmac256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_headers(
    *,
    host: str,
    action: str,
    body: bytes,
    version: str = CVM_VERSION,
    region: str | None = REGION,
    service: str = "cvm",
    secret_id: str = DEV_SECRET_ID,
    secret_key: str = DEV_SECRET_KEY,
    timestamp: int | None = None,
    content_type: str = "application/json",
    language: str | None = None,
    extra_signed: dict | None = None,
    signed_body: bytes | None = None,
    signed_host: str | None = None,
    scope_date: str | None = None,
) -> dict:
    """TC3-HMAC-SHA256 headers for a POST to `/` (protocol.md §3.1).

    extra_signed: more headers to send and sign (name -> value); like the official
    signing demo, their values are lower-cased in the canonical headers.
    signed_body: sign these bytes instead of `body` (to prove the body is hashed).
    signed_host: sign this host instead of the `host` sent.
    scope_date: put this date in the credential scope instead of the timestamp's.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    date = scope_date or datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")
    headers = {
        "Host": host,
        "Content-Type": content_type,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(ts),
    }
    if region:
        headers["X-TC-Region"] = region
    if language:
        headers["X-TC-Language"] = language
    canon = {"content-type": content_type.lower(), "host": (signed_host or host).lower()}
    for k, v in (extra_signed or {}).items():
        headers[k] = v
        canon[k.lower()] = v.strip().lower()
    names = sorted(canon)
    canonical_headers = "".join(f"{n}:{canon[n]}\n" for n in names)
    signed_headers = ";".join(names)
    payload = body if signed_body is None else signed_body
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            signed_headers,
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(ts),
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    k_date = _hmac256(("TC3" + secret_key).encode("utf-8"), date)
    k_service = _hmac256(k_date, service)
    k_signing = _hmac256(k_service, "tc3_request")
    signature = hmac.new(
        k_signing, string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    headers["Authorization"] = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return headers

"""Transparent mode (`tclocal serve --tls`): unmodified clients, their endpoints left at the
real defaults (`cvm.tencentcloudapi.com`, HTTPS), reach tclocal through `HTTPS_PROXY`.

Every client runs in a child process whose environment is built from nothing: the proxy
(tclocal on 127.0.0.1), the CA bundle, and what the test names. No Tencent Cloud host is
ever resolved or contacted: tclocal is the proxy and answers every tunnel itself, and each
child's `socket.getaddrinfo` refuses every name but loopback (a `sitecustomize`), so a
client that bypassed the proxy would fail at once. Certificate checks are on everywhere.

What the official Python SDK does, found here: it passes `verify=certifi.where()` to
requests, so `REQUESTS_CA_BUNDLE` (and `SSL_CERT_FILE`) never reach it; it trusts tclocal's
CA only when the CA is in certifi's bundle. The SDK tests below put it there in a private
copy of certifi that shadows the installed one (`PYTHONPATH`), which is what
`tclocal ca --pem >> "$(python -m certifi)"` does to a virtual environment; a test pins the
failure without it. Plain `requests` honours `REQUESTS_CA_BUNDLE` and needs nothing else.
tccli uses the SDK, so it needs the same.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import certifi
import pytest

from tcsupport import DEV_SECRET_ID, DEV_SECRET_KEY, Server, assert_request_id, control

REPO = Path(__file__).resolve().parents[2]
TCCLI_REQUIREMENTS = Path(__file__).with_name("tccli-requirements.txt")
LOOPBACK_ONLY = "localhost,127.0.0.1,::1"
CHILD_TIMEOUT_S = 60


def _binary() -> str:
    return os.environ.get("TCLOCAL_BIN") or str(REPO / "target" / "debug" / "tclocal")


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory) -> Path:
    """One CA for the module, made by `tclocal ca` (servers reuse it with --ca-dir)."""
    d = tmp_path_factory.mktemp("tclocal-ca")
    out = subprocess.run([_binary(), "ca", "--ca-dir", str(d)], capture_output=True, text=True, check=True)
    assert str(d.resolve() / "ca.pem") in out.stdout, out.stdout
    return d.resolve()


@pytest.fixture(scope="module")
def certifi_with_ca(ca_dir, tmp_path_factory) -> Path:
    """A directory to put first on PYTHONPATH: certifi, with tclocal's CA appended."""
    shadow = tmp_path_factory.mktemp("certifi-shadow")
    shutil.copytree(Path(certifi.__file__).parent, shadow / "certifi")
    with open(shadow / "certifi" / "cacert.pem", "a", encoding="ascii") as fh:
        fh.write("\n" + (ca_dir / "ca.pem").read_text(encoding="ascii"))
    return shadow


@pytest.fixture
def tls_server(tclocal_serve, ca_dir) -> Server:
    return tclocal_serve("tls", "--tls", "--ca-dir", str(ca_dir))


NO_DNS = """
import socket

_getaddrinfo = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in (None, "localhost", "::1") and not str(name).startswith("127."):
        raise socket.gaierror(socket.EAI_NONAME, f"tclocal-test: no DNS lookup of {name}")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only
"""


@pytest.fixture(scope="module")
def no_dns(tmp_path_factory) -> Path:
    """A directory whose sitecustomize.py makes name lookups of anything but loopback fail."""
    d = tmp_path_factory.mktemp("no-dns")
    (d / "sitecustomize.py").write_text(NO_DNS)
    return d


def _pythonpath(*first: Path) -> str:
    """`first`, then whatever this process was given (the pip --target fallback uses it)."""
    parts = [str(p) for p in first]
    if os.environ.get("PYTHONPATH"):
        parts.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(parts)


def _child_env(home: Path, no_dns: Path, *path_first: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": _pythonpath(no_dns, *path_first),
    }
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, stdin=subprocess.DEVNULL)


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-c", textwrap.dedent(code)], env)


def _proxy(server: Server) -> str:
    return f"http://{server.endpoint}"


SDK_CALL = """
    import json, sys
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client, models

    method, endpoint, action = sys.argv[1:4] if len(sys.argv) > 3 else ("POST", "", "DescribeInstancesStatus")
    http = HttpProfile(reqMethod=method, endpoint=endpoint or None)
    client = cvm_client.CvmClient(credential.Credential({id!r}, {key!r}), "ap-guangzhou", ClientProfile(httpProfile=http))
    request = getattr(models, action + "Request")()
    response = getattr(client, action)(request)
    print(json.dumps({{"endpoint": client._get_endpoint(), "response": json.loads(response.to_json_string())}}))
"""


def _sdk(env: dict[str, str], method: str = "POST", endpoint: str = "", action: str = "DescribeInstancesStatus"):
    code = textwrap.dedent(SDK_CALL.format(id=DEV_SECRET_ID, key=DEV_SECRET_KEY))
    return _run([sys.executable, "-c", code, method, endpoint, action], env)


def _journal(server: Server, request_id: str) -> dict:
    status, entry = control(server, "GET", f"/_tclocal/requests/{request_id}")
    assert status == 200, entry
    return entry


def test_children_cannot_resolve_names(no_dns, tmp_path):
    """The guard is in place (checked without looking anything up)."""
    done = _python("import socket; print(socket.getaddrinfo.__name__)", _child_env(tmp_path, no_dns))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "_loopback_only"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_python_sdk_default_endpoint_reaches_tclocal_through_the_proxy(tls_server, ca_dir, certifi_with_ca, no_dns, tmp_path, method):
    env = _child_env(
        tmp_path,
        no_dns,
        certifi_with_ca,
        HTTPS_PROXY=_proxy(tls_server),
        REQUESTS_CA_BUNDLE=str(ca_dir / "ca.pem"),
    )
    done = _sdk(env, method=method)
    assert done.returncode == 0, done.stderr + tls_server.log_tail()
    out = json.loads(done.stdout)
    assert out["endpoint"] == "cvm.tencentcloudapi.com"
    assert out["response"]["TotalCount"] == 0
    assert out["response"]["InstanceStatusSet"] == []
    assert_request_id(out["response"]["RequestId"])
    entry = _journal(tls_server, out["response"]["RequestId"])
    assert (entry["service"], entry["action"], entry["method"]) == ("cvm", "DescribeInstancesStatus", method)


def test_python_sdk_with_a_regional_endpoint(tls_server, ca_dir, certifi_with_ca, no_dns, tmp_path):
    env = _child_env(
        tmp_path,
        no_dns,
        certifi_with_ca,
        HTTPS_PROXY=_proxy(tls_server),
        REQUESTS_CA_BUNDLE=str(ca_dir / "ca.pem"),
    )
    done = _sdk(env, endpoint="cvm.ap-guangzhou.tencentcloudapi.com", action="DescribeZones")
    assert done.returncode == 0, done.stderr + tls_server.log_tail()
    out = json.loads(done.stdout)
    assert out["endpoint"] == "cvm.ap-guangzhou.tencentcloudapi.com"
    zones = [z["Zone"] for z in out["response"]["ZoneSet"]]
    assert "ap-guangzhou-3" in zones


def test_python_sdk_ignores_requests_ca_bundle(tls_server, ca_dir, no_dns, tmp_path):
    """Pinned SDK behaviour: without the CA in certifi's bundle the SDK refuses tclocal's
    certificate even with REQUESTS_CA_BUNDLE set (it verifies with certifi.where()). If this
    starts passing, the SDK honours the variable and the README can drop the certifi step."""
    env = _child_env(tmp_path, no_dns, HTTPS_PROXY=_proxy(tls_server), REQUESTS_CA_BUNDLE=str(ca_dir / "ca.pem"))
    done = _sdk(env)
    assert done.returncode != 0, done.stdout
    assert "ClientNetworkError" in done.stderr, done.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr, done.stderr


def test_requests_honours_requests_ca_bundle(tls_server, ca_dir, no_dns, tmp_path):
    env = _child_env(tmp_path, no_dns, HTTPS_PROXY=_proxy(tls_server), REQUESTS_CA_BUNDLE=str(ca_dir / "ca.pem"))
    done = _python(
        """
        import requests
        r = requests.get("https://cvm.ap-guangzhou.tencentcloudapi.com/_tclocal/health", timeout=15)
        print(r.status_code, r.text)
        """,
        env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("200 "), done.stdout


def test_connect_outside_tencent_cloud_is_refused(tls_server):
    conn = http.client.HTTPConnection("127.0.0.1", tls_server.port, timeout=10)
    conn.putrequest("CONNECT", "example.com:443", skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", "example.com:443")
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    assert resp.status == 403
    assert "refuses to proxy to example.com:443" in body
    assert "never connects to another host" in body


def test_python_sdk_pointed_outside_tencent_cloud_is_refused_by_the_proxy(tls_server, certifi_with_ca, no_dns, tmp_path):
    env = _child_env(tmp_path, no_dns, certifi_with_ca, HTTPS_PROXY=_proxy(tls_server), NO_PROXY=LOOPBACK_ONLY)
    done = _sdk(env, endpoint="example.com")
    assert done.returncode != 0, done.stdout
    assert "ClientNetworkError" in done.stderr, done.stderr
    assert "403" in done.stderr, done.stderr


def _dotenv(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_tclocal_env_and_ca_print_what_clients_need(tls_server, ca_dir):
    env_out = subprocess.run(
        [_binary(), "env", "--format", "dotenv", "--listen", tls_server.endpoint, "--ca-dir", str(ca_dir), "--region", "ap-shanghai"],
        capture_output=True, text=True, check=True, env={k: v for k, v in os.environ.items() if not k.startswith("TCLOCAL_")},
    ).stdout
    values = _dotenv(env_out)
    bundle = str(ca_dir / "ca.pem")
    assert values["HTTPS_PROXY"] == values["https_proxy"] == values["http_proxy"] == _proxy(tls_server)
    assert values["REQUESTS_CA_BUNDLE"] == values["SSL_CERT_FILE"] == values["NODE_EXTRA_CA_CERTS"] == bundle
    assert values["NO_PROXY"] == LOOPBACK_ONLY
    assert (values["TENCENTCLOUD_SECRET_ID"], values["TENCENTCLOUD_SECRET_KEY"]) == (DEV_SECRET_ID, DEV_SECRET_KEY)
    assert values["TENCENTCLOUD_REGION"] == "ap-shanghai"

    sh = subprocess.run([_binary(), "env", "--ca-dir", str(ca_dir)], capture_output=True, text=True, check=True).stdout
    assert f"export REQUESTS_CA_BUNDLE='{bundle}'" in sh

    ca_out = subprocess.run([_binary(), "ca", "--ca-dir", str(ca_dir)], capture_output=True, text=True, check=True).stdout
    der = ssl.PEM_cert_to_DER_cert((ca_dir / "ca.pem").read_text())
    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert f"certificate  {bundle}" in ca_out
    assert f"sha256       {fingerprint}" in ca_out
    assert (ca_dir / "ca-key.pem").stat().st_mode & 0o777 == 0o600


# --- tccli ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tccli() -> Path:
    """tccli in .cache/tccli (see tccli-requirements.txt); installed when the pins change."""
    target = REPO / ".cache" / "tccli"
    want = hashlib.sha256(TCCLI_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = target / ".compat-stamp"
    if not (stamp.exists() and stamp.read_text().strip() == want):
        shutil.rmtree(target, ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--target", str(target), "-r", str(TCCLI_REQUIREMENTS)],
            capture_output=True, text=True, timeout=600,
        )
        if done.returncode != 0:
            pytest.fail(f"cannot install tccli into {target}:\n{done.stdout}\n{done.stderr}", pytrace=False)
        stamp.write_text(want + "\n")
    return target


def test_tccli_without_endpoint_through_the_proxy(tls_server, ca_dir, certifi_with_ca, no_dns, tccli, tmp_path):
    """`tccli cvm …` with no --endpoint, in the environment `tclocal env` prints (plus
    tclocal's CA in certifi's bundle, which tccli's SDK verifies with)."""
    printed = subprocess.run(
        [_binary(), "env", "--format", "dotenv", "--listen", tls_server.endpoint, "--ca-dir", str(ca_dir)],
        capture_output=True, text=True, check=True, env={k: v for k, v in os.environ.items() if not k.startswith("TCLOCAL_")},
    ).stdout
    env = _child_env(tmp_path, no_dns, **_dotenv(printed))
    env["PYTHONPATH"] = os.pathsep.join([str(no_dns), str(certifi_with_ca), str(tccli)])
    for action, check in [
        ("DescribeZones", lambda r: "ap-guangzhou-3" in [z["Zone"] for z in r["ZoneSet"]]),
        ("DescribeInstancesStatus", lambda r: r["TotalCount"] == 0),
    ]:
        done = _run([sys.executable, str(tccli / "bin" / "tccli"), "cvm", action], env)
        assert done.returncode == 0, f"{action}: {done.stdout}\n{done.stderr}\n{tls_server.log_tail()}"
        answer = json.loads(done.stdout)
        assert check(answer), answer
        assert_request_id(answer["RequestId"])
        entry = _journal(tls_server, answer["RequestId"])
        assert (entry["service"], entry["action"]) == ("cvm", action)

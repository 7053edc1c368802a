"""Fixtures: tclocal processes on free loopback ports, and a response recorder.

The binary is `$TCLOCAL_BIN`, else `<repo>/target/debug/tclocal`. Each server runs
`tclocal serve --ephemeral --listen 127.0.0.1:<free port>` plus its mode flags, is
awaited on `GET /_tclocal/health` (10 s at most) and is stopped at the end of the
session. Its output goes to a log file whose tail is shown when start-up fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tcsupport import Server

REPO = Path(__file__).resolve().parents[2]
HEALTH_TIMEOUT_S = 10.0

# Requests to 127.0.0.1 must never go through a proxy from the environment.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def _binary() -> str:
    path = os.environ.get("TCLOCAL_BIN") or str(REPO / "target" / "debug" / "tclocal")
    if not os.path.isfile(path):
        pytest.exit(f"tclocal binary not found at {path} (build it, or set TCLOCAL_BIN)", returncode=3)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_tclocal/health", timeout=1) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


class _Process:
    def __init__(self, args: list[str], env_extra: dict[str, str], log_dir: Path, name: str):
        # Start from the caller's environment without any TCLOCAL_* setting (a stray
        # TCLOCAL_AUTH=off or TCLOCAL_SECRET_KEY would change what is tested).
        env = {k: v for k, v in os.environ.items() if not k.startswith("TCLOCAL_")}
        env.update(env_extra)
        env.setdefault("RUST_LOG", "info")
        last_error = ""
        for _attempt in range(3):
            port = _free_port()
            log_path = log_dir / f"tclocal-{name}-{port}.log"
            log = open(log_path, "wb")
            # A test that names its own store (a shared PostgreSQL) is not ephemeral.
            store = [] if "--store" in args else ["--ephemeral"]
            cmd = [_binary(), "serve", *store, "--listen", f"127.0.0.1:{port}", *args]
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            deadline = time.monotonic() + HEALTH_TIMEOUT_S
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                if _healthy(port):
                    self.proc, self.log = proc, log
                    self.server = Server("127.0.0.1", port, str(log_path))
                    return
                time.sleep(0.05)
            # Failed: stop it and maybe retry on another port (a port race).
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            log.close()
            last_error = (
                f"`{' '.join(cmd)}` (env {env_extra}) not healthy within {HEALTH_TIMEOUT_S}s, "
                f"exit code {proc.returncode}; log:\n{log_path.read_text(errors='replace')[-4000:]}"
            )
            if "in use" not in last_error.lower():
                break
        pytest.fail(last_error, pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def _log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tclocal-logs")


def _serve(log_dir: Path, name: str, *args: str, env: dict[str, str] | None = None):
    p = _Process(list(args), env or {}, log_dir, name)
    try:
        yield p.server
    finally:
        p.stop()


@pytest.fixture(scope="session")
def server(_log_dir):
    """tclocal with its defaults: --auth strict, --language zh-CN, --max-skew 300."""
    yield from _serve(_log_dir, "default")


@pytest.fixture(scope="session")
def server_auth_off(_log_dir):
    yield from _serve(_log_dir, "auth-off", "--auth", "off")


@pytest.fixture(scope="session")
def server_auth_soft(_log_dir):
    yield from _serve(_log_dir, "auth-soft", "--auth", "soft")


@pytest.fixture(scope="session")
def server_en_us(_log_dir):
    yield from _serve(_log_dir, "en-US", "--language", "en-US")


@pytest.fixture(scope="session")
def server_ja_jp_env(_log_dir):
    """Default language ja-JP, set through the environment variable, not the flag."""
    yield from _serve(_log_dir, "ja-JP-env", env={"TCLOCAL_LANGUAGE": "ja-JP"})


@pytest.fixture(scope="session")
def server_max_skew_60(_log_dir):
    yield from _serve(_log_dir, "max-skew-60", "--max-skew", "60")


@pytest.fixture
def tclocal_serve(_log_dir):
    """Starts tclocal processes with a test's own flags; each is stopped when the test ends.

    `tclocal_serve(name, *flags, env=None)` returns the running `Server` (always
    `--ephemeral` on a free loopback port, like the session servers), so a test that
    changes state (instances, emulated time) starts from nothing and leaves nothing.
    """
    started: list[_Process] = []

    def start(name: str, *args: str, env: dict[str, str] | None = None) -> Server:
        p = _Process(list(args), env or {}, _log_dir, name)
        started.append(p)
        return p.server

    try:
        yield start
    finally:
        for p in started:
            p.stop()


@pytest.fixture
def recorded(monkeypatch):
    """Every (requests.PreparedRequest, requests.Response) the SDK exchanges in this test."""
    from tencentcloud.common.http import request as sdk_request

    exchanges: list = []
    original = sdk_request.ApiRequest.send_request

    def send_request(self, req_inter):
        resp = original(self, req_inter)
        exchanges.append((resp.request, resp))
        return resp

    monkeypatch.setattr(sdk_request.ApiRequest, "send_request", send_request)
    return exchanges

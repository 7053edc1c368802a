#!/usr/bin/env bash
# OpenTofu against a real `tclocal serve --tls` on 127.0.0.1: init, plan, apply, a second plan
# that must show no change, destroy; then tclocal's request journal must hold no error answer.
#
#   scripts/terraform.sh                      # uses target/debug/tclocal (built if missing)
#   TCLOCAL_BIN=path/to/tclocal scripts/terraform.sh
#
# It builds, into .cache/terraform/ (git-ignored), OpenTofu at the pinned version and the
# provider in compat/terraform/provider (tclocal's stand-in for the Tencent Cloud provider, see
# compat/terraform/README.md), with GOPATH, GOMODCACHE and GOCACHE under .cache so rebuilds
# are cached; each is rebuilt only when its pin or source changes. Needs go (1.24+), python3.
# Writes .cache/compat-results/terraform.json and exits non-zero when a check fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TOFU_VERSION="v1.12.6"
TOFU_MODULE="github.com/opentofu/opentofu"
PROVIDER_SRC="compat/terraform/provider"
PROVIDER_ADDR="tencentcloudstack/tencentcloud"
REGION="ap-guangzhou"
DEV_SECRET_ID="AKIDtclocalDevelopmentKey00000000000"
DEV_SECRET_KEY="tclocalDevelopmentSecretKey00000"

CACHE="$ROOT/.cache/terraform"
RESULTS="$ROOT/.cache/compat-results"
mkdir -p "$CACHE/bin" "$CACHE/provider" "$CACHE/logs" "$RESULTS"
export GOPATH="$CACHE/gopath" GOMODCACHE="$CACHE/gopath/pkg/mod" GOCACHE="$CACHE/gocache"
export GOFLAGS="-modcacherw" GOTOOLCHAIN="local"

log() { printf '\n==> %s\n' "$*"; }
now() { date +%s; }

PASSED=0
FAILED=0
CHECKS=()
check() { # check NAME COMMAND...: runs the command, counts and prints the outcome
  local name="$1"; shift
  if "$@"; then
    PASSED=$((PASSED + 1)); CHECKS+=("ok   $name"); echo "ok: $name"
  else
    FAILED=$((FAILED + 1)); CHECKS+=("FAIL $name"); echo "FAIL: $name" >&2
  fi
}

# --- build ------------------------------------------------------------------------------
TOFU="$CACHE/bin/tofu"
PROVIDER_DIR="$CACHE/provider"
PROVIDER_BIN="$PROVIDER_DIR/terraform-provider-tencentcloud"

build_tofu() {
  if [[ -x "$TOFU" && "$(cat "$CACHE/bin/.tofu-version" 2>/dev/null)" == "$TOFU_VERSION release" ]]; then
    return 0
  fi
  log "building OpenTofu $TOFU_VERSION into .cache/terraform (first time: many minutes)"
  local t0 dir; t0=$(now)
  # `go install mod@version` refuses modules whose go.mod has replace directives, as
  # OpenTofu's does: build the downloaded module as the main module instead.
  dir=$(go mod download -json "$TOFU_MODULE@$TOFU_VERSION" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))') || return 1
  # version.dev=no is what release builds set: without it the binary calls itself -dev.
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X $TOFU_MODULE/version.dev=no" \
    -o "$TOFU.tmp" ./cmd/tofu) || return 1
  mv "$TOFU.tmp" "$TOFU" && echo "$TOFU_VERSION release" >"$CACHE/bin/.tofu-version"
  echo "OpenTofu built in $(( $(now) - t0 ))s"
}

provider_hash() {
  python3 - "$PROVIDER_SRC" <<'PY'
import hashlib, pathlib, sys
h = hashlib.sha256()
for p in sorted(pathlib.Path(sys.argv[1]).glob("*")):
    if p.suffix in (".go", ".mod", ".sum"):
        h.update(p.name.encode()); h.update(p.read_bytes())
print(h.hexdigest())
PY
}

build_provider() {
  local want; want="$(provider_hash)"
  if [[ -x "$PROVIDER_BIN" && "$(cat "$PROVIDER_DIR/.source-hash" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  log "building the provider ($PROVIDER_SRC) into .cache/terraform"
  local t0; t0=$(now)
  (cd "$PROVIDER_SRC" && go build -trimpath -o "$PROVIDER_BIN.tmp" .) || return 1
  mv "$PROVIDER_BIN.tmp" "$PROVIDER_BIN" && echo "$want" >"$PROVIDER_DIR/.source-hash"
  echo "provider built in $(( $(now) - t0 ))s"
}

BIN="${TCLOCAL_BIN:-target/debug/tclocal}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
  log "building tclocal"
  cargo build -p tclocal --locked || exit 2
fi

T_BUILD=$(now)
build_tofu || { echo "terraform: OpenTofu could not be built" >&2; exit 2; }
build_provider || { echo "terraform: the provider could not be built" >&2; exit 2; }
T_BUILD=$(( $(now) - T_BUILD ))
TOFU_SHOWN="$(TF_CLI_CONFIG_FILE=/dev/null "$TOFU" version 2>/dev/null | awk '/^OpenTofu/ {print $2}')"
PROVIDER_VERSION="$(cd "$PROVIDER_SRC" && go list -m -f '{{.Version}}' github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/cvm)"

# --- tclocal ----------------------------------------------------------------------------
WORK="$CACHE/work"
rm -rf "$WORK" && mkdir -p "$WORK"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
log "tclocal serve --tls on 127.0.0.1:$PORT"
# Short transitions keep the waits of apply and destroy to seconds.
"$BIN" serve --listen "127.0.0.1:$PORT" --ephemeral --tls --ca-dir "$WORK/ca" \
  --cvm-timings "launch=2,terminate=1" --language en-US >"$WORK/tclocal.log" 2>&1 &
TCLOCAL_PID=$!
stop_tclocal() { kill "$TCLOCAL_PID" 2>/dev/null; wait "$TCLOCAL_PID" 2>/dev/null; }
trap stop_tclocal EXIT
for _ in $(seq 1 100); do
  curl -fsS "$URL/_tclocal/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -fsS "$URL/_tclocal/ready" >/dev/null 2>&1; then
  echo "terraform: tclocal did not become ready" >&2; tail -n 30 "$WORK/tclocal.log" >&2; exit 1
fi

# --- OpenTofu -----------------------------------------------------------------------------
# dev_overrides makes plan/apply use the freshly built binary, but init does not go by it:
# the same binary is also offered as a local filesystem mirror, so init installs it from disk
# and never asks a registry.
MIRROR="$WORK/mirror/registry.opentofu.org/$PROVIDER_ADDR/0.0.1/linux_amd64"
mkdir -p "$MIRROR" && cp "$PROVIDER_BIN" "$MIRROR/terraform-provider-tencentcloud_v0.0.1"
cat >"$WORK/tofu.rc" <<EOF
provider_installation {
  dev_overrides {
    "$PROVIDER_ADDR" = "$PROVIDER_DIR"
  }
  filesystem_mirror {
    path    = "$WORK/mirror"
    include = ["registry.opentofu.org/$PROVIDER_ADDR"]
  }
}
EOF
cp compat/terraform/main.tf "$WORK/"

tofu() {
  (cd "$WORK" && env -u TF_LOG \
    TF_CLI_CONFIG_FILE="$WORK/tofu.rc" TF_DATA_DIR="$WORK/.terraform" TF_IN_AUTOMATION=1 TF_INPUT=0 \
    CHECKPOINT_DISABLE=1 HTTPS_PROXY="$URL" https_proxy="$URL" NO_PROXY="127.0.0.1,localhost" \
    SSL_CERT_FILE="$WORK/ca/ca.pem" TENCENTCLOUD_SECRET_ID="$DEV_SECRET_ID" \
    TENCENTCLOUD_SECRET_KEY="$DEV_SECRET_KEY" TENCENTCLOUD_REGION="$REGION" \
    "$TOFU" "$@" -no-color)
}

api() { # api SERVICE ACTION JSON: a call to tclocal, signed with the development key
  TENCENTCLOUD_SECRET_ID="$DEV_SECRET_ID" TENCENTCLOUD_SECRET_KEY="$DEV_SECRET_KEY" \
    "$BIN" call "$1" "$2" "$3" --region "$REGION" --endpoint "$URL" 2>>"$WORK/calls.log"
}

T_RUN=$(now)
log "tofu init"
check "init" tofu init -input=false
log "tofu plan (changes expected)"
tofu plan -input=false -detailed-exitcode -out="$WORK/plan.bin"; rc=$?
check "first plan has changes (exit 2)" test "$rc" -eq 2
log "tofu apply"
check "apply" tofu apply -input=false -auto-approve "$WORK/plan.bin"
ID="$(tofu output -raw instance_id 2>/dev/null)"
echo "instance: ${ID:-<none>}"

instance_is() { # instance_is STATE: the instance's state in tclocal (GONE when not listed)
  api cvm DescribeInstances "{\"InstanceIds\":[\"$ID\"]}" | python3 -c '
import json, sys
want, tags = sys.argv[1], sys.argv[2] == "tagged"
r = json.load(sys.stdin)
r = r.get("Response", r)
s = r.get("InstanceSet") or []
got = s[0]["InstanceState"] if s else "GONE"
ok = got == want and (not tags or {"Key": "owner", "Value": "tclocal-compat"} in s[0]["Tags"])
print("instance state:", got)
sys.exit(0 if ok else 1)' "$1" "${2:-}"
}
check "instance exists after apply (RUNNING, tagged)" instance_is RUNNING tagged
log "tofu plan (no change expected)"
tofu plan -input=false -detailed-exitcode; rc=$?
check "second plan shows no change (exit 0)" test "$rc" -eq 0
log "tofu destroy"
check "destroy" tofu destroy -input=false -auto-approve
check "instance gone after destroy" instance_is GONE
T_RUN=$(( $(now) - T_RUN ))

# --- journal ------------------------------------------------------------------------------
journal_clean() {
  curl -fsS "$URL/_tclocal/requests?limit=10000" >"$WORK/journal.json" || return 1
  python3 - "$WORK/journal.json" "$ROOT/.cache/compat-results/terraform-calls.txt" <<'PY'
import collections, json, sys
entries = json.load(open(sys.argv[1]))["requests"]
# The script's own checks go through `tclocal call` (its SDK header names tclocal); the list
# is what the provider sent. A null code is a success.
calls = collections.Counter()
bad = []
for e in entries:
    key = (e["service"], e["action"])
    if not str(e.get("client") or "").startswith("SDK_RUST_TCLOCAL"):
        calls[key] += 1
    if e.get("code") is not None:
        bad.append(f'{key[0]}:{key[1]} -> {e["code"]}: {e.get("message")}')
with open(sys.argv[2], "w") as out:
    for (service, action), n in sorted(calls.items()):
        out.write(f"{service}\t{action}\t{n}\n")
print("provider calls (service, action, count), client:", sorted({e.get("client") for e in entries}))
for (service, action), n in sorted(calls.items()):
    print(f"  {service} {action} x{n}")
for b in bad:
    print("error answer:", b, file=sys.stderr)
sys.exit(1 if bad or not calls else 0)
PY
}
check "journal: every call answered with success" journal_clean

log "summary"
printf '%s\n' "${CHECKS[@]}"
echo "build/check of pins: ${T_BUILD}s, cycle: ${T_RUN}s"
# The same result format as the SDK suites (scripts/compat_matrix.py): one test per check.
python3 - "$ROOT" "$PASSED" "$FAILED" <<'PY'
import sys
sys.path.insert(0, sys.argv[1] + "/scripts")
from pathlib import Path
import compat_matrix
passed, failed = int(sys.argv[2]), int(sys.argv[3])
compat_matrix.record(Path(sys.argv[1]), "terraform",
                     {"tests": passed + failed, "passed": passed, "failed": failed, "skipped": 0})
PY
echo "$PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]

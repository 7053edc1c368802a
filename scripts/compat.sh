#!/usr/bin/env bash
# Runs the official-SDK compatibility suites (compat/python, compat/node, compat/go,
# compat/java) against a tclocal binary that the caller has already built.
#
#   scripts/compat.sh                 # uses target/debug/tclocal
#   TCLOCAL_BIN=path/to/tclocal scripts/compat.sh
#   COMPAT_SUITES="go java" scripts/compat.sh   # some suites (python | node | go | java)
#
# Everything it installs goes under .cache/ in the repository (git-ignored): a Python
# virtual environment (or, where `venv` is unavailable, a `pip --target` folder), the npm
# cache, the Go module and build caches (.cache/go) and the Maven repository (.cache/m2);
# node_modules/ lands in compat/node/. Installs are skipped when the pins have not changed
# since the last run. Needs python3, pip, node, npm, go and a JDK 17+ with mvn.
# Exits non-zero if any suite fails (all always run). Each suite's result goes to
# .cache/compat-results/<suite>.json (the python suite also writes tccli.json), which
# scripts/compat_matrix.py turns into README.md's compatibility matrix.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CACHE="$ROOT/.cache"
RESULTS="$CACHE/compat-results"
SUITES="${COMPAT_SUITES:-python node go java}"
mkdir -p "$CACHE" "$RESULTS"

BIN="${TCLOCAL_BIN:-target/debug/tclocal}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
  echo "compat: tclocal binary not found or not executable: $BIN (build it first: cargo build -p tclocal)" >&2
  exit 2
fi
export TCLOCAL_BIN="$BIN"
export PYTHONDONTWRITEBYTECODE=1

log() { printf '\n==> %s\n' "$*"; }

# record SUITE ARGS...: writes .cache/compat-results/SUITE.json (see compat/README.md).
record() { python3 -B scripts/compat_matrix.py record "$@" || echo "compat: could not record the $1 result" >&2; }

hash_of() { python3 -c 'import hashlib,sys; print(hashlib.sha256(b"".join(open(p,"rb").read() for p in sys.argv[1:])).hexdigest())' "$@"; }

# --- Python ---------------------------------------------------------------------------
PY=""
setup_python() {
  local req="compat/python/requirements.txt"
  local want; want="$(hash_of "$req")"
  local venv="$CACHE/venv" target="$CACHE/pydeps"
  export PIP_CACHE_DIR="$CACHE/pip"
  export PIP_DISABLE_PIP_VERSION_CHECK=1

  if [[ -x "$venv/bin/python" && "$(cat "$venv/.compat-stamp" 2>/dev/null)" == "$want" ]]; then
    PY="$venv/bin/python"; return 0
  fi
  if [[ -d "$target" && "$(cat "$target/.compat-stamp" 2>/dev/null)" == "$want" ]]; then
    PY="python3"; export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"; return 0
  fi

  log "python: installing $req into .cache"
  if python3 -m venv --clear "$venv" >/dev/null 2>&1 && [[ -x "$venv/bin/python" ]]; then
    if "$venv/bin/python" -m pip --version >/dev/null 2>&1 \
      && "$venv/bin/python" -m pip install --quiet -r "$req"; then
      echo "$want" >"$venv/.compat-stamp"
      PY="$venv/bin/python"; return 0
    fi
    echo "compat: the virtual environment could not be set up; falling back to pip --target" >&2
    rm -rf "$venv"
  fi
  rm -rf "$target"
  if python3 -m pip install --quiet --target "$target" -r "$req"; then
    echo "$want" >"$target/.compat-stamp"
    PY="python3"; export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"; return 0
  fi
  echo "compat: could not install the Python requirements" >&2
  return 1
}

run_python() {
  local junit="$RESULTS/python.junit.xml" rc
  rm -f "$junit"
  if setup_python; then
    log "python: pytest compat/python (tclocal: $TCLOCAL_BIN)"
    (cd compat/python && "$PY" -m pytest -q --junitxml="$junit")
    rc=$?
  else
    rc=1
  fi
  # tccli's test lives in the Python suite (test_transparent.py); it has its own row.
  record python --junit "$junit" --exclude tccli
  record tccli --junit "$junit" --include tccli
  return $rc
}

# --- Node.js --------------------------------------------------------------------------
run_node() {
  local dir="compat/node"
  rm -f "$RESULTS/node.junit.xml"
  local want; want="$(hash_of "$dir/package.json" "$dir/package-lock.json")"
  export npm_config_cache="$CACHE/npm"
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  if [[ ! -d "$dir/node_modules" || "$(cat "$dir/node_modules/.compat-stamp" 2>/dev/null)" != "$want" ]]; then
    log "node: npm ci in $dir (cache in .cache/npm)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "compat: npm ci failed" >&2; return 1; }
    echo "$want" >"$dir/node_modules/.compat-stamp"
  fi
  log "node: node --test compat/node/test (tclocal: $TCLOCAL_BIN)"
  (cd "$dir" && node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination="$RESULTS/node.junit.xml" test/*.test.js)
}

# --- Go -------------------------------------------------------------------------------------
run_go() {
  local dir="compat/go" out="$RESULTS/go.log" rc
  rm -f "$out"
  command -v go >/dev/null || { echo "compat: go not found on PATH" >&2; record go --go-log "$out"; return 1; }
  export GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build"
  # The toolchain on PATH, never one downloaded for go.mod; go.sum must already hold every sum.
  export GOTOOLCHAIN=local GOFLAGS="-mod=readonly${GOFLAGS:+ $GOFLAGS}"
  local want; want="$(hash_of "$dir/go.mod" "$dir/go.sum")"
  if [[ "$(cat "$CACHE/go/.compat-stamp" 2>/dev/null)" != "$want" ]]; then
    log "go: go mod download in $dir (modules in .cache/go/mod)"
    (cd "$dir" && go mod download) || { echo "compat: go mod download failed" >&2; return 1; }
    echo "$want" >"$CACHE/go/.compat-stamp"
  fi
  log "go: go test compat/go (tclocal: $TCLOCAL_BIN)"
  # -count=1: the cache does not know that the tclocal binary changed.
  (cd "$dir" && go test -count=1 -v ./... 2>&1) | tee "$out"
  rc=${PIPESTATUS[0]}
  record go --go-log "$out"
  return "$rc"
}

# --- Java -----------------------------------------------------------------------------------
run_java() {
  local dir="compat/java" rc
  rm -rf "$dir/target/surefire-reports"
  command -v mvn >/dev/null || { echo "compat: mvn (Maven) not found on PATH" >&2; record java --junit; return 1; }
  local want; want="$(hash_of "$dir/pom.xml")"
  local -a mvn=(mvn -B --no-transfer-progress -Dstyle.color=never "-Dmaven.repo.local=$CACHE/m2" -f "$dir/pom.xml")
  # With the pins unchanged since a run that resolved them, everything is in .cache/m2:
  # offline mode then proves it and skips the registry.
  if [[ "$(cat "$CACHE/m2/.compat-stamp" 2>/dev/null)" == "$want" ]]; then
    mvn+=(--offline)
  else
    log "java: resolving compat/java/pom.xml into .cache/m2"
  fi
  log "java: mvn test in compat/java (tclocal: $TCLOCAL_BIN)"
  "${mvn[@]}" test
  rc=$?
  # A run that got as far as tests has resolved every pin.
  if compgen -G "$dir/target/surefire-reports/TEST-*.xml" >/dev/null; then
    mkdir -p "$CACHE/m2" && echo "$want" >"$CACHE/m2/.compat-stamp"
  fi
  record java --junit "$dir"/target/surefire-reports/TEST-*.xml
  return "$rc"
}

status=0
results=()
for suite in $SUITES; do
  case "$suite" in
    python) run_python; rc=$? ;;
    node) run_node; rc=$?; record node --junit "$RESULTS/node.junit.xml" ;;
    go) run_go; rc=$? ;;
    java) run_java; rc=$? ;;
    *) echo "compat: unknown suite $suite" >&2; rc=2 ;;
  esac
  results+=("$suite=$([[ $rc -eq 0 ]] && echo ok || echo "FAILED($rc)")")
  [[ $rc -eq 0 ]] || status=1
done

log "compat suites: ${results[*]}"
exit "$status"

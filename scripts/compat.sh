#!/usr/bin/env bash
# Runs the official-SDK compatibility suites (compat/python, compat/node) against a
# tclocal binary that the caller has already built.
#
#   scripts/compat.sh                 # uses target/debug/tclocal
#   TCLOCAL_BIN=path/to/tclocal scripts/compat.sh
#   COMPAT_SUITES=python scripts/compat.sh   # only one suite (python | node)
#
# Everything it installs goes under .cache/ in the repository (git-ignored): a Python
# virtual environment (or, where `venv` is unavailable, a `pip --target` folder) and the
# npm cache; node_modules/ lands in compat/node/. Installs are skipped when the pinned
# requirements have not changed since the last run. Needs only python3, pip, node, npm.
# Exits non-zero if either suite fails (both always run).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CACHE="$ROOT/.cache"
SUITES="${COMPAT_SUITES:-python node}"
mkdir -p "$CACHE"

BIN="${TCLOCAL_BIN:-target/debug/tclocal}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
  echo "compat: tclocal binary not found or not executable: $BIN (build it first: cargo build -p tclocal)" >&2
  exit 2
fi
export TCLOCAL_BIN="$BIN"
export PYTHONDONTWRITEBYTECODE=1

log() { printf '\n==> %s\n' "$*"; }

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
  setup_python || return 1
  log "python: pytest compat/python (tclocal: $TCLOCAL_BIN)"
  (cd compat/python && "$PY" -m pytest -q)
}

# --- Node.js --------------------------------------------------------------------------
run_node() {
  local dir="compat/node"
  local want; want="$(hash_of "$dir/package.json" "$dir/package-lock.json")"
  export npm_config_cache="$CACHE/npm"
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  if [[ ! -d "$dir/node_modules" || "$(cat "$dir/node_modules/.compat-stamp" 2>/dev/null)" != "$want" ]]; then
    log "node: npm ci in $dir (cache in .cache/npm)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "compat: npm ci failed" >&2; return 1; }
    echo "$want" >"$dir/node_modules/.compat-stamp"
  fi
  log "node: node --test compat/node/test (tclocal: $TCLOCAL_BIN)"
  (cd "$dir" && node --test test/*.test.js)
}

status=0
results=()
for suite in $SUITES; do
  case "$suite" in
    python) run_python; rc=$? ;;
    node) run_node; rc=$? ;;
    *) echo "compat: unknown suite $suite" >&2; rc=2 ;;
  esac
  results+=("$suite=$([[ $rc -eq 0 ]] && echo ok || echo "FAILED($rc)")")
  [[ $rc -eq 0 ]] || status=1
done

log "compat suites: ${results[*]}"
exit "$status"

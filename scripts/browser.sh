#!/usr/bin/env bash
# Runs the dashboard's browser test (compat/browser) in a real headless Chromium against a
# tclocal binary that the caller has already built.
#
#   scripts/browser.sh                       # uses target/debug/tclocal
#   TCLOCAL_BIN=path/to/tclocal scripts/browser.sh
#   CHROMIUM_BIN=/path/to/chromium scripts/browser.sh
#
# Chromium is Debian's `chromium` package: installed with apt-get when missing (as root, or
# through passwordless sudo). Where it cannot be installed, the test is skipped (exit 0,
# "skipped: …"). playwright-core (pinned in compat/browser/package-lock.json) is installed
# with npm ci, its cache under .cache/npm; node_modules/ lands in compat/browser/. The
# screenshot goes to compat/browser/out/dashboard.png. Exits non-zero if the test fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="compat/browser"
CACHE="$ROOT/.cache"

log() { printf '\n==> %s\n' "$*"; }
skip() { printf '\nbrowser test skipped: %s\n' "$*"; exit 0; }

BIN="${TCLOCAL_BIN:-target/debug/tclocal}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
  echo "browser: tclocal binary not found or not executable: $BIN (build it first: cargo build -p tclocal)" >&2
  exit 2
fi
export TCLOCAL_BIN="$BIN"

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "browser: $tool is required" >&2; exit 2; }
done

mkdir -p "$CACHE"

# --- Chromium ---------------------------------------------------------------------------
find_chromium() {
  if [[ -n "${CHROMIUM_BIN:-}" ]]; then
    [[ -x "$CHROMIUM_BIN" ]] && { echo "$CHROMIUM_BIN"; return 0; }
    return 1
  fi
  command -v chromium 2>/dev/null
}

CHROME="$(find_chromium)"
if [[ -z "$CHROME" ]]; then
  [[ -n "${CHROMIUM_BIN:-}" ]] && { echo "browser: CHROMIUM_BIN=$CHROMIUM_BIN is not executable" >&2; exit 2; }
  command -v apt-get >/dev/null 2>&1 || skip "chromium is not installed and apt-get is not available (install Debian's chromium package, or set CHROMIUM_BIN)"
  if [[ "$(id -u)" -eq 0 ]]; then
    AS_ROOT=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    AS_ROOT=(sudo -n)
  else
    skip "chromium is not installed and apt-get needs root (run: sudo apt-get install chromium)"
  fi
  log "installing Debian's chromium package (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${AS_ROOT[@]}" apt-get update -qq && "${AS_ROOT[@]}" apt-get install -y -qq chromium; } >"$CACHE/apt.log" 2>&1; then
    tail -n 20 "$CACHE/apt.log" >&2
    rm -f "$CACHE/apt.log"
    skip "apt-get could not install chromium (offline, or no Debian repository?)"
  fi
  rm -f "$CACHE/apt.log"
  CHROME="$(command -v chromium 2>/dev/null)"
  [[ -n "$CHROME" ]] || skip "apt-get ran but no chromium executable appeared"
fi
export CHROMIUM_BIN="$CHROME"
echo "browser: $("$CHROME" --version 2>/dev/null | head -n 1) ($CHROME)"

# --- playwright-core --------------------------------------------------------------------
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
want="$(hash_of "$DIR/package.json" "$DIR/package-lock.json")"
export npm_config_cache="$CACHE/npm"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
if [[ ! -d "$DIR/node_modules" || "$(cat "$DIR/node_modules/.browser-stamp" 2>/dev/null)" != "$want" ]]; then
  log "npm ci in $DIR (cache in .cache/npm)"
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error) || { echo "browser: npm ci failed" >&2; exit 1; }
  echo "$want" >"$DIR/node_modules/.browser-stamp"
fi

# --- the test ---------------------------------------------------------------------------
log "node --test $DIR/test (tclocal: $TCLOCAL_BIN)"
(cd "$DIR" && node --test test/*.test.js)
rc=$?
if [[ $rc -eq 0 ]]; then
  echo "browser: ok; screenshot in $DIR/out/dashboard.png"
else
  echo "browser: FAILED ($rc); screenshot (if taken) in $DIR/out/dashboard.png" >&2
fi
exit "$rc"

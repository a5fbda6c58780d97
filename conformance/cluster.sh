# Sourced by conformance/run.sh: the multi-instance mode (TRAMONTANE_INSTANCES > 1).
#
# start_cluster N starts PostgreSQL (scripts/pg-start.sh, unless TRAMONTANE_TEST_DATABASE_URL
# names a running cluster; either way the instances get a fresh database of their own), a
# private redis-server, N `tramontane serve` instances with separate data dirs sharing that
# database and Redis, and cmd/rrproxy (round robin, no sticky sessions) in front of them. It
# exports the same variables as start_server, with TRAMONTANE_URL pointing at the proxy.
# Logs: $TMP/server.log (instance 1), $TMP/server2.log, …, $TMP/redis.log, $TMP/proxy.log.

wait_healthy() { # url pid log
  local _
  for _ in $(seq 1 300); do
    if ! kill -0 "$2" 2>/dev/null; then
      log "server exited during startup; log:"; cat "$3" >&2; exit 1
    fi
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1/healthz" 2>/dev/null)" == "200" ]]; then return 0; fi
    sleep 0.1
  done
  log "server did not answer GET /healthz with 200 within 30s; log:"; cat "$3" >&2; exit 1
}

start_cluster() {
  local n="$1"
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/tramontane-conformance.XXXXXX")"
  local bin="$TMP/tramontane" cfg="$TMP/tramontane.yaml"
  log "building ./cmd/tramontane and ./cmd/rrproxy"
  if ! (cd "$ROOT" && go build -o "$bin" ./cmd/tramontane && go build -o "$TMP/rrproxy" ./cmd/rrproxy); then
    log "build failed"; exit 1
  fi
  start_upstream
  start_mcp
  write_config "$cfg"

  # PostgreSQL: a fresh database in the given or a private cluster.
  local base="${TRAMONTANE_TEST_DATABASE_URL:-}"
  if [[ -z "$base" ]]; then
    eval "$("$ROOT/scripts/pg-start.sh")" || { log "cannot start PostgreSQL"; exit 1; }
    OWN_PG=1
    base="$TRAMONTANE_TEST_DATABASE_URL"
  fi
  local dbname="tramontane_conf_$(openssl rand -hex 4 2>/dev/null || echo $$)"
  if ! psql "$base" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $dbname" >/dev/null; then
    log "cannot create database $dbname"; exit 1
  fi
  local db="${base%%\?*}"
  db="${db%/*}/$dbname"
  [[ "$base" == *\?* ]] && db="$db?${base#*\?}"

  # Redis, on a free loopback port, without persistence.
  local rport
  rport="$(free_port)"
  redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  if ! redis-cli -p "$rport" ping >/dev/null 2>&1; then
    log "redis-server did not start; log:"; cat "$TMP/redis.log" >&2; exit 1
  fi

  # The proxy's port is chosen first: links the instances write into stored content
  # (document citations) name the public URL, the balancer's.
  local pport
  pport="$(free_port)"
  local key i port data logf url backends=()
  key="tr-conf-$(openssl rand -hex 24 2>/dev/null || python3 -c 'import secrets;print(secrets.token_hex(24))')"
  for i in $(seq 1 "$n"); do
    port="$(free_port)"
    data="$TMP/data$i"
    mkdir -p "$data"
    logf="$TMP/server.log"; [[ "$i" -gt 1 ]] && logf="$TMP/server$i.log"
    url="http://127.0.0.1:$port"
    log "starting instance $i on 127.0.0.1:$port (data dir $data, PostgreSQL $dbname, Redis :$rport)"
    env -u TRAMONTANE_SEARXNG_URL -u BRAVE_API_KEY \
        -u TRAMONTANE_IMAGES_URL -u TRAMONTANE_IMAGES_API_KEY -u TRAMONTANE_IMAGES_MODEL \
        -u TRAMONTANE_UPSTREAM_URL -u TRAMONTANE_UPSTREAM_API_KEY -u TRAMONTANE_BLOB_URL \
    TRAMONTANE_ADDR="127.0.0.1:$port" \
    TRAMONTANE_DATA_DIR="$data" \
    TRAMONTANE_DATABASE_URL="$db" \
    TRAMONTANE_REDIS_URL="redis://127.0.0.1:$rport/0" \
    TRAMONTANE_PUBLIC_URL="http://127.0.0.1:$pport" \
    TRAMONTANE_CONFIG="$cfg" \
    TRAMONTANE_BOOTSTRAP_KEY="$key" \
      "$bin" serve >"$logf" 2>&1 &
    CLUSTER_PIDS+=("$!")
    # One at a time: the first one migrates the database.
    wait_healthy "$url" "$!" "$logf"
    backends+=(-backend "$url")
  done

  "$TMP/rrproxy" -addr "127.0.0.1:$pport" -port-file "$TMP/proxy.port" "${backends[@]}" >"$TMP/proxy.log" 2>&1 &
  CLUSTER_PIDS+=("$!")
  for _ in $(seq 1 100); do [[ -s "$TMP/proxy.port" ]] && break; sleep 0.1; done
  if [[ ! -s "$TMP/proxy.port" ]]; then
    log "rrproxy did not start; log:"; cat "$TMP/proxy.log" >&2; exit 1
  fi
  local proxy="http://127.0.0.1:$(tr -d '[:space:]' <"$TMP/proxy.port")"
  log "round-robin proxy on $proxy in front of $n instances"

  local cli=(env TRAMONTANE_CONFIG="$cfg" TRAMONTANE_DATABASE_URL="$db" "$bin" keys)
  local other other_ws rps1
  other="$("${cli[@]}" create --workspace other --name conformance -q | tr -d '[:space:]')"
  other_ws="$("${cli[@]}" list --workspace other | awk 'NR > 1 && $2 == "conformance" { print $4; exit }')"
  rps1="$("${cli[@]}" create --workspace rps1 --name rps1 --rps 1 -q | tr -d '[:space:]')"
  if [[ -z "$other" || -z "$other_ws" || -z "$rps1" ]]; then
    log "tramontane keys create/list failed"; exit 1
  fi
  export TRAMONTANE_URL="$proxy" TRAMONTANE_KEY="$key" TRAMONTANE_OTHER_KEY="$other"
  export TRAMONTANE_OTHER_WORKSPACE_ID="$other_ws" TRAMONTANE_RPS1_KEY="$rps1"
  export TRAMONTANE_INSTANCES="$n"
  check_connectors "$proxy"
}

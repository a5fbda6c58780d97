#!/usr/bin/env bash
# Runs every test: go vet, the Go tests (store suite on SQLite and
# PostgreSQL; blob stores on disk, PostgreSQL and a real S3 server, Redis
# limits, each started by the tests; the reliability suites: crash test, upstream fault matrix,
# isolation sweep, hostile requests, sandbox escapes), the hot-path
# benchmarks once each (no thresholds), short fuzz runs, and the SDK
# conformance suites (official TypeScript and Python SDKs against the real
# binary: one instance on SQLite, then three on PostgreSQL + Redis behind a
# round-robin proxy). Installs what is
# missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
eval "$(scripts/pg-start.sh)"
trap 'scripts/pg-start.sh stop' EXIT

echo "== gofmt"
unformatted=$(gofmt -l cmd internal bench client 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== staticcheck (every package, tests included)"
"$(go env GOPATH)/bin/staticcheck" ./...
echo "== go test"
go test -count=1 ./...
echo "== benchmarks (each once: they must keep compiling and running; figures live in docs/benchmarks.md)"
go test -run='^$' -bench=. -benchtime=1x ./internal/app ./internal/auth ./internal/conversation \
  ./internal/engine ./internal/httpapi ./internal/model/openai ./internal/store/sqlstore
echo "== fuzz (short)"
go test -run='^$' -fuzz=FuzzDecodeAgentRequest -fuzztime=5s ./internal/httpapi
# Every route of the real route table (its seed corpus also runs in go test).
go test -run='^$' -fuzz=FuzzRoutes -fuzztime=25s ./internal/httpapi
echo "== SDK conformance"
conformance/run.sh
echo "== SDK conformance: 3 instances (PostgreSQL + Redis) behind a round-robin proxy"
TRAMONTANE_INSTANCES=3 conformance/run.sh

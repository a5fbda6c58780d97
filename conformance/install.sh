#!/usr/bin/env bash
# Install the SDK conformance suites' dependencies (idempotent).
#   ts/: npm ci from the committed package-lock.json (@mistralai/mistralai pinned to 2.7.0)
#   py/: one venv per supported Python SDK line:
#        py/.venv3 with requirements-3.txt (mistralai[agents]==3.7.0, pytest; 3.x uses httpx2)
#        py/.venv  with requirements.txt   (mistralai[agents]==2.10.1, pytest)
#   mcp/: npm ci of the MCP reference server (@modelcontextprotocol/server-everything), a real
#         MCP server for the connector tests (Go and both SDK suites)
# Usage: conformance/install.sh [ts|py|mcp|all]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WHAT="${1:-all}"

install_ts() {
  echo "== conformance/ts: npm ci"
  (cd "$HERE/ts" && npm ci --no-audit --no-fund --loglevel=error)
}

install_mcp() {
  echo "== conformance/mcp: npm ci"
  (cd "$HERE/mcp" && npm ci --no-audit --no-fund --loglevel=error)
}

venv() { # venv DIR REQUIREMENTS
  local py="${PYTHON:-}"
  if [[ -z "$py" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
  fi
  if [[ ! -x "$HERE/py/$1/bin/python" ]]; then
    "$py" -m venv "$HERE/py/$1"
  fi
  "$HERE/py/$1/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/py/$2"
}

install_py() {
  echo "== conformance/py: venvs + pip install (mistralai 3.x in .venv3, 2.x in .venv)"
  venv .venv3 requirements-3.txt
  venv .venv requirements.txt
}

case "$WHAT" in
  ts) install_ts ;;
  py) install_py ;;
  mcp) install_mcp ;;
  all) install_ts; install_mcp; install_py ;;
  *) echo "usage: $0 [ts|py|mcp|all]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine
# (idempotent): PostgreSQL, Redis and Chromium from Debian's packages, an S3
# server from its Go module, and the SDK conformance
# suites' npm and pip packages. Go, Node and Python must already be there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need_apt+=(postgresql)
# Shared rate limits of several instances (tests start a private server).
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# code_interpreter's sandbox: bubblewrap, prlimit, and Debian's Python with
# the libraries the sandbox offers (not a pyenv or venv interpreter).
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v prlimit >/dev/null 2>&1 || need_apt+=(util-linux)
# The web console's browser tests drive Debian's chromium (chromedp).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium fonts-dejavu-core)
/usr/bin/python3 -c 'import numpy, pandas, matplotlib' >/dev/null 2>&1 ||
  need_apt+=(python3 python3-numpy python3-pandas python3-matplotlib)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: run as root or install: ${need_apt[*]}" >&2
    exit 1
  fi
  echo "== apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# staticcheck, run on every package (pinned; GOPATH/bin).
STATICCHECK_VERSION=v0.8.2
if ! "$(go env GOPATH)/bin/staticcheck" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
  echo "== go install staticcheck@$STATICCHECK_VERSION"
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
# The S3 blob store's tests run against a real S3 server: the Versity S3
# Gateway (Apache-2.0) on its POSIX backend, built from its Go module (pinned;
# GOPATH/bin; about two minutes the first time). Tests start private
# instances (internal/testsvc).
VERSITYGW_VERSION=v1.8.0
stamp="$(go env GOPATH)/bin/.versitygw-version"
if [ ! -x "$(go env GOPATH)/bin/versitygw" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$VERSITYGW_VERSION" ]; then
  echo "== go install versitygw@$VERSITYGW_VERSION"
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  echo "$VERSITYGW_VERSION" >"$stamp"
fi
# The cluster is started by scripts/pg-start.sh, not by the package's service.
conformance/install.sh

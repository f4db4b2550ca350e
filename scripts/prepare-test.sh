#!/usr/bin/env bash
# Prepares what `go test ./...` needs:
# - a Redis server on REDIS_URL's host and port (default 127.0.0.1:6379): started
#   when none answers, after installing Debian's redis-server if it is missing;
# - a PostgreSQL server for the external-Temporal tests (127.0.0.1:5432, user
#   postgres without password, or OZGFLOW_TEST_POSTGRES_URL): started with
#   pg_ctlcluster when installed but down.
# - Debian's chromium for the browser tests: installed with apt-get when missing.
# - axe-core for the browser tests' accessibility checks and @redocly/cli for the
#   lint of the API document (test/openapi): `npm ci` in test/browser and
#   test/openapi (the versions pinned in their package-lock.json) when missing.
# Fails loudly when any of them cannot be had.
set -euo pipefail

url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
hostport="${url#redis://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"
[ "$port" = "$hostport" ] && port=6379

redis_answers() {
  exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply
  IFS= read -r -t 2 reply <&3 || true
  exec 3>&- 3<&-
  [[ "$reply" == +PONG* ]]
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

prepare_postgres() {
  local pg="${OZGFLOW_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
  local pghostport="${pg#*://}"; pghostport="${pghostport#*@}"; pghostport="${pghostport%%/*}"
  local pghost="${pghostport%%:*}" pgport="${pghostport##*:}"
  [ "$pgport" = "$pghostport" ] && pgport=5432
  if (exec 3<>"/dev/tcp/$pghost/$pgport") 2>/dev/null; then
    echo "prepare-test: PostgreSQL answers at $pghost:$pgport"
    return 0
  fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "prepare-test: starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 50); do
      (exec 3<>"/dev/tcp/$pghost/$pgport") 2>/dev/null && { echo "prepare-test: PostgreSQL is up"; return 0; }
      sleep 0.1
    done
  fi
  echo "prepare-test: no PostgreSQL answers at $pghost:$pgport; the external-Temporal tests need one" >&2
  echo "  (set OZGFLOW_TEST_POSTGRES_URL=postgres://user:password@host:port for another server)" >&2
  exit 1
}

prepare_chromium() {
  if command -v chromium >/dev/null; then
    echo "prepare-test: chromium is installed"
    return 0
  fi
  echo "prepare-test: installing chromium with apt-get (browser tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  command -v chromium >/dev/null || { echo "prepare-test: chromium could not be installed" >&2; exit 1; }
}

# npm_ci DIR FILE WHAT: `npm ci` in DIR (the versions pinned in its
# package-lock.json) when DIR/FILE is missing; WHAT says who needs it.
npm_ci() {
  local dir="$1" file="$2" what="$3"
  if [ -e "$dir/$file" ]; then
    echo "prepare-test: $what is installed"
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "prepare-test: installing npm with apt-get ($what)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
  fi
  command -v npm >/dev/null || { echo "prepare-test: npm could not be installed; $what is needed" >&2; exit 1; }
  echo "prepare-test: installing $what with npm ci in $dir"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund) || {
    echo "prepare-test: npm ci failed in $dir; $what is needed (package-lock.json)" >&2; exit 1; }
  [ -e "$dir/$file" ] || {
    echo "prepare-test: $file is missing after npm ci in $dir" >&2; exit 1; }
}

prepare_npm_packages() {
  local root
  root="$(cd "$(dirname "$0")/.." && pwd)"
  npm_ci "$root/test/browser" node_modules/axe-core/axe.min.js "axe-core (browser tests)"
  npm_ci "$root/test/openapi" node_modules/.bin/redocly "@redocly/cli (lint of the API document)"
}

prepare_postgres
prepare_chromium
prepare_npm_packages
if redis_answers; then
  echo "prepare-test: Redis answers at $host:$port"
  exit 0
fi
if ! command -v redis-server >/dev/null; then
  echo "prepare-test: installing redis-server with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
fi
echo "prepare-test: starting redis-server on $host:$port (nothing kept on disk)"
redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
  --logfile /tmp/ozgflow-test-redis.log
for _ in $(seq 1 50); do
  redis_answers && { echo "prepare-test: Redis is up"; exit 0; }
  sleep 0.1
done
echo "prepare-test: Redis did not come up on $host:$port; see /tmp/ozgflow-test-redis.log" >&2
exit 1

#!/usr/bin/env bash
# Prepares what `go test ./...` needs: a Redis server on REDIS_URL's host and port
# (default 127.0.0.1:6379). Starts one when none answers, installing the Debian
# package first if redis-server is missing. Fails loudly when that is not possible.
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

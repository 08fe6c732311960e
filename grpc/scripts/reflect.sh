#!/usr/bin/env bash
# Starts the gRPC server on a free loopback port and calls it with scripts/reflect.py,
# a client that knows the API only through server reflection (v1alpha, as Python's
# grpcio-reflection speaks it). Then stops the server.
#
#   grpc/scripts/reflect.sh                       list, describe, GetEvent, health Check
#   grpc/scripts/reflect.sh call quartet.v1.Ticketing/GetVenue '{"venue_id": 1}'
#
# With arguments, runs `reflect.py 127.0.0.1:PORT ARGS...` instead of the demo.
# Python packages go into a private venv ($REFLECT_VENV, default
# /tmp/quartet-grpc-reflect-venv) from scripts/requirements.txt; run from anywhere.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${REFLECT_VENV:-/tmp/quartet-grpc-reflect-venv}"
wait_s="${REFLECT_WAIT_S:-60}"

if ! "$venv/bin/python" -c 'import grpc, grpc_reflection' 2>/dev/null; then
  echo "== installing grpcio and grpcio-reflection into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
py=("$venv/bin/python" "$here/reflect.py")

cd "$repo"
echo "== building the server" >&2
cargo build --quiet -p grpc

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
target="127.0.0.1:$port"
log="$(mktemp -t quartet-grpc-server.XXXXXX)"
cargo run --quiet -p grpc -- --listen "$target" --events 1000 >"$log" 2>&1 &
server=$!

stop() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    # The drain lasts at most the 10 s shutdown grace; past 20 s, force it.
    for _ in $(seq 200); do
      kill -0 "$server" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server" 2>/dev/null || true
  fi
  wait "$server" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT

echo "== waiting for $target (at most ${wait_s} s)" >&2
if ! "${py[@]}" "$target" wait "$wait_s"; then
  echo "the server did not answer; its log:" >&2
  cat "$log" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  "${py[@]}" "$target" "$@"
  exit
fi

echo "\$ reflect.py $target list"
"${py[@]}" "$target" list
echo
echo "\$ reflect.py $target describe quartet.v1.Ticketing"
"${py[@]}" "$target" describe quartet.v1.Ticketing
echo
echo "\$ reflect.py $target call quartet.v1.Ticketing/GetEvent '{\"event_id\": 1}'"
"${py[@]}" "$target" call quartet.v1.Ticketing/GetEvent '{"event_id": 1}'
echo
echo "\$ reflect.py $target call grpc.health.v1.Health/Check '{\"service\": \"quartet.v1.Ticketing\"}'"
"${py[@]}" "$target" call grpc.health.v1.Health/Check '{"service": "quartet.v1.Ticketing"}'

#!/usr/bin/env bash
# Runs schemathesis (the property-based API tester from PyPI) against the REST server,
# the way a new user would: `schemathesis run http://127.0.0.1:PORT/openapi.json --checks
# all`, through the examples, coverage, fuzzing and stateful phases, on a fresh server
# with the default dataset. Exits with schemathesis's status (0: no failures).
#
# One warning may remain, "Schema validation mismatch" for POST /v1/bookings/{id}/confirm
# (sometimes POST /v1/bookings): generated confirms mostly name another version and get
# 412, generated holds mostly name seats past the venue's capacity and get 400. Both are
# the documented answers, and the explained_rejection check below verifies each one.
# (schemathesis 4.32 reads that warning's switch only globally, and it is useful for the
# other operations, so it stays on.)
#
#   scripts/schemathesis.sh                 # about 3 minutes plus the build
#   MAX_TIME=60 scripts/schemathesis.sh     # a quicker pass
#   SEED=1234 scripts/schemathesis.sh       # replay a run (the seed is printed at the end)
#
# The live availability stream (GET .../availability/stream, Server-Sent Events) is
# excluded: it never ends, which a request/response tester cannot judge; its own tests
# are rest/tests/watch.rs.
#
# Settings (environment):
#   SCHEMATHESIS_VENV  where the private venv lives (default: <target dir>/schemathesis-venv)
#   MAX_TIME           seconds schemathesis may spend; fuzzing and stateful testing repeat
#                      until it is spent (default 180)
#   MAX_EXAMPLES       test cases per operation and phase pass (default 100)
#   SEED               schemathesis's random seed (default: a new one each run)
#   WORKERS            concurrent schemathesis workers (default 2)
#
# Needs python3 with the venv module and network access to PyPI on the first run only.
# Nothing is installed outside the venv; the server binds 127.0.0.1 only.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
MAX_TIME=${MAX_TIME:-180}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
WORKERS=${WORKERS:-2}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
VENV=${SCHEMATHESIS_VENV:-$TARGET_DIR/schemathesis-venv}

# 1. A private venv with the pinned schemathesis (reused while it has that version).
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
    echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
PYTHON="$VENV/bin/python"

# 2. Build the server.
echo "==> building the rest server"
cargo build --quiet -p rest --bin rest
SERVER_BIN="$TARGET_DIR/debug/rest"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/quartet-schemathesis.XXXXXX")
SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        # The server drains for at most 10 s on SIGTERM; give it a little more.
        for _ in $(seq 150); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
cleanup() {
    stop_server
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until GET /healthz answers 200, the server exits, or 60 s pass.
wait_healthy() {
    "$PYTHON" - "$1" "$SERVER_PID" <<'EOF'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)  # the server exited (e.g. the port was taken meanwhile)
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(2)
EOF
}

# 3. Start a fresh server on a free loopback port (another picker may win the port between
#    the probe and the bind: then try another).
PORT=""
for attempt in 1 2 3 4 5; do
    candidate=$(free_port)
    "$SERVER_BIN" --listen "127.0.0.1:$candidate" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    if wait_healthy "http://127.0.0.1:$candidate/healthz"; then
        PORT=$candidate
        break
    fi
    echo "server did not come up on port $candidate (attempt $attempt):" >&2
    tail -n 5 "$WORK/server.log" >&2 || true
    stop_server
done
if [[ -z "$PORT" ]]; then
    echo "could not start the rest server" >&2
    exit 1
fi
echo "==> rest server (pid $SERVER_PID) on 127.0.0.1:$PORT"

# 4. Configuration. Every entry is a place where the server's answer is right and the
#    default expectation of a check does not fit HTTP or what a schema can say; each is
#    as narrow as schemathesis allows, and hooks.py checks the rest of the answer.
cat >"$WORK/schemathesis.toml" <<EOF
hooks = "$WORK/hooks.py"

# A confirm without If-Match answers 428 Precondition Required (RFC 6585, section 3:
# the origin requires the request to be conditional), which the document declares. The
# check's default list has no 428.
[checks.missing_required_header]
expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]

# Schema-valid requests the server rightly refuses for reasons no OpenAPI schema can state
# (the document states them in words): a cursor the server did not issue for this filter,
# \`to\` not after \`from\` (a relation between two parameters), a query of only common
# words, a seat past the venue's capacity (it depends on the event), an Idempotency-Key
# already used for another hold (it depends on history), an e-mail address over 254
# bytes of UTF-8 (JSON Schema's maxLength counts characters). 400 is allowed for these
# three operations only (holdSeats below), and the explained_rejection check in hooks.py
# fails any 400 that names another field or reason.
[[operations]]
include-operation-id = ["listEvents", "searchEvents"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

[[operations]]
include-operation-id = "holdSeats"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A well-formed If-Match naming another version is a failed precondition: 412 (RFC 9110,
# section 13.1.1), never a 2xx. explained_rejection checks the 412 is VERSION_MISMATCH.
[[operations]]
include-operation-id = "confirmBooking"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
EOF

cat >"$WORK/hooks.py" <<'EOF'
"""Keeps the allowances in schemathesis.toml narrow: a schema-valid request may be refused
only for the reasons the document states in words because a schema cannot."""

import json

import schemathesis

MAX_EMAIL_BYTES = 254


def email_over_byte_limit(case):
    """The one shape rule a schema cannot state: the address's length in UTF-8 bytes."""
    body = case.body if isinstance(case.body, dict) else {}
    customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
    email = customer.get("email")
    return isinstance(email, str) and len(email.encode("utf-8", "surrogatepass")) > MAX_EMAIL_BYTES


# operation -> status -> {problem field (or code for 412): (reason fragment, applies to case)}
ALWAYS = lambda case: True
EXPLAINED = {
    "GET /v1/events": {
        400: {"cursor": ("", ALWAYS), "to": ("must be after from", ALWAYS)},
    },
    "GET /v1/events/search": {
        400: {
            "query": ("has no searchable words", ALWAYS),
            "to": ("must be after from", ALWAYS),
        },
    },
    "POST /v1/bookings": {
        400: {
            "seat_ids": ("does not exist", ALWAYS),
            "idempotency_key": ("already used", ALWAYS),
            "customer.email": ("", email_over_byte_limit),
        },
    },
    "POST /v1/bookings/{id}/confirm": {412: {"VERSION_MISMATCH": ("", ALWAYS)}},
}


@schemathesis.check
def explained_rejection(ctx, response, case):
    """A schema-valid request refused with an allowed 400/412 must say why, with a reason
    the document gives for that operation."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    allowed = EXPLAINED.get(case.operation.label, {}).get(response.status_code)
    if allowed is None:
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} without a problem+json body")
    key = problem.get("code") if response.status_code == 412 else problem.get("field")
    reason = str(problem.get("reason") or problem.get("detail") or "")
    fragment, applies = allowed.get(key, (None, None))
    if fragment is None or fragment not in reason or not applies(case):
        raise AssertionError(
            f"schema-valid request refused with {response.status_code} for a reason the "
            f"document does not give: {problem}"
        )
    return None
EOF

# 5. Run it.
echo "==> schemathesis $SCHEMATHESIS_VERSION: --checks all, max ${MAX_TIME}s, ${MAX_EXAMPLES} examples"
args=(
    --config-file "$WORK/schemathesis.toml"
    run "http://127.0.0.1:$PORT/openapi.json"
    --checks all
    --phases examples,coverage,fuzzing,stateful
    --max-examples "$MAX_EXAMPLES"
    --max-time "$MAX_TIME"
    --workers "$WORKERS"
    --generation-database none
    # The availability stream never ends by design (SSE): a request/response tester would
    # wait on it until its timeout. rest/tests/watch.rs checks that route instead.
    --exclude-operation-id watchAvailability
)
if [[ -n "${SEED:-}" ]]; then
    args+=(--seed "$SEED")
fi
started=$SECONDS
status=0
(cd "$WORK" && "$VENV/bin/schemathesis" "${args[@]}") || status=$?
echo "==> schemathesis exited with $status after $((SECONDS - started)) s"

# 6. Stop the server (and show its log if something went wrong).
stop_server
if [[ $status -ne 0 ]]; then
    echo "--- last lines of the server log ---"
    tail -n 20 "$WORK/server.log" || true
fi
exit "$status"

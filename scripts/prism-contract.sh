#!/usr/bin/env bash
# prism-contract.sh — check the requests of our Twilio REST client against
# Twilio's own OpenAPI description, served by a Prism mock on loopback.
#
# Installs Prism and Twilio's OpenAPI description (the npm package
# @twilio-alpha/mcp ships twilio-oai/spec/json/twilio_api_v2010.json) with
# `npm ci` from the committed package-lock.json into ./node_modules (again
# only when the lock file changed), starts `prism mock` on 127.0.0.1, waits
# until it answers, runs TestPrismContract in dispatch/twilioapi against it,
# and stops Prism on exit. Works unattended (CI=true, no stdin, as root).
#
# Usage: scripts/prism-contract.sh [extra go test flags, e.g. -race]
#
# Environment (all optional):
#   PRISM_PORT           first port to try on 127.0.0.1      (4010)
#   PRISM_START_TIMEOUT  seconds to wait for Prism to answer (90)
set -euo pipefail

die() { echo "prism-contract: $*" >&2; exit 1; }

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT="$(git rev-parse --show-toplevel 2>/dev/null)" || die "not inside the hotline git repository"
cd "$ROOT"

PRISM_PORT="${PRISM_PORT:-4010}"
PRISM_START_TIMEOUT="${PRISM_START_TIMEOUT:-90}"
SPEC="$ROOT/node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"
PRISM="$ROOT/node_modules/.bin/prism"

command -v node >/dev/null || die "node is not installed (apt-get install -y nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (apt-get install -y npm)"
command -v go >/dev/null || die "go is not installed"

export CI="${CI:-true}"
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

# --- install (npm ci, once per lock file; a lock keeps concurrent runs apart) --
stamp="$ROOT/node_modules/.hotline-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
exec 9>"$ROOT/.npm-install.lock"
if command -v flock >/dev/null; then
	flock -w 300 9 || die "timed out waiting for another run's npm install"
fi
if [ ! -x "$PRISM" ] || [ ! -r "$SPEC" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	echo "prism-contract: npm ci (Prism and Twilio's OpenAPI description, pinned in package-lock.json)" >&2
	start=$SECONDS
	npm ci --no-audit --no-fund --loglevel=error </dev/null >&2 || die "npm ci failed (is the npm registry reachable?)"
	[ -x "$PRISM" ] || die "npm ci finished but $PRISM is missing"
	[ -r "$SPEC" ] || die "npm ci finished but $SPEC is missing"
	echo "$want" >"$stamp"
	echo "prism-contract: installed in $((SECONDS - start))s" >&2
fi
exec 9>&-
PRISM_VERSION="$(node -p "require('$ROOT/node_modules/@stoplight/prism-cli/package.json').version")"

# --- pick a free port ---------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port="$PRISM_PORT"
while port_busy "$port"; do
	port=$((port + 1))
	[ "$port" -lt $((PRISM_PORT + 50)) ] || die "no free port in $PRISM_PORT..$((PRISM_PORT + 49)) on 127.0.0.1"
done

# --- start Prism ------------------------------------------------------------
log="$(mktemp "${TMPDIR:-/tmp}/prism-contract.XXXXXX.log")"
prism_pid=""
cleanup() {
	local rc=$?
	if [ -n "$prism_pid" ] && kill -0 "$prism_pid" 2>/dev/null; then
		kill "$prism_pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$prism_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$prism_pid" 2>/dev/null || true
		wait "$prism_pid" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] && [ -s "$log" ]; then
		echo "prism-contract: last lines of the Prism log ($log):" >&2
		tail -n 30 "$log" >&2
	else
		rm -f "$log"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# No --errors: in mock mode Prism answers 422 to a request that breaks the
# description with or without it (TestPrismContract checks that it does);
# --errors would also turn Prism's own answers into 500s wherever Twilio's
# examples break Twilio's schema (the list examples' relative *_uri fields
# declared format "uri"), which says nothing about our requests.
"$PRISM" mock -h 127.0.0.1 -p "$port" "$SPEC" </dev/null >"$log" 2>&1 &
prism_pid=$!

# Ready when Prism answers HTTP (any status; / itself is not a route).
http_answers() (
	exec 4<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&4
	line=""
	IFS= read -r -t 5 line <&4 || true
	[[ "$line" == HTTP/* ]]
) 2>/dev/null
start=$SECONDS
until http_answers "$port"; do
	kill -0 "$prism_pid" 2>/dev/null || die "Prism exited before it answered (see the log below)"
	[ $((SECONDS - start)) -lt "$PRISM_START_TIMEOUT" ] ||
		die "Prism did not answer on 127.0.0.1:$port within ${PRISM_START_TIMEOUT}s"
	sleep 0.5
done
echo "prism-contract: Prism $PRISM_VERSION answering on 127.0.0.1:$port after $((SECONDS - start))s" >&2

# --- run the contract test ----------------------------------------------------
out="$(mktemp "${TMPDIR:-/tmp}/prism-contract-go.XXXXXX")"
set +e
HOTLINE_PRISM_URL="http://127.0.0.1:$port" go test -run '^TestPrismContract$' -count=1 -v "$@" ./dispatch/twilioapi/ </dev/null 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -eq 0 ] && ! grep -q -- '--- PASS: TestPrismContract ' "$out"; then
	echo "prism-contract: TestPrismContract did not run and pass (skipped or missing)" >&2
	rc=1
fi
rm -f "$out"
exit "$rc"

# Sourced by the integration tests. Each test gets its own scratch folder,
# its own free ports and a trap that stops whatever it started, so that
# tests run side by side (make -j2 check) and a failure leaves nothing.
set -eu

: "${srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${builddir:=$srcdir}"
TUNNEL="$builddir/tests/tools/kairos-tunnel"
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kairos-$TEST_NAME.XXXXXX")
PIDS=""
AT_CLEANUP=""

# Commands run at the end, last registered first (containers before the
# namespaces they live in).
at_cleanup() {
	AT_CLEANUP="$1; $AT_CLEANUP"
}

cleanup() {
	eval "$AT_CLEANUP" 2>/dev/null || true
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${KEEP_WORK:-}" = 1 ]; then
		echo "# scratch kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT INT TERM

# Nothing may skip under CI: a missing tool there is a failure.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $TEST_NAME cannot run under CI: $*" >&2
		exit 1
	fi
	echo "SKIP: $TEST_NAME: $*" >&2
	exit 77
}

# A build of one side (configure --disable-bridge or --disable-recovery)
# lacks the other: its tests skip, also under CI (a choice, not a missing
# tool). A test that needs only one side says so before sourcing this file:
# KAIROS_SIDES="recovery" (or "bridge", or "" for neither).
for side in ${KAIROS_SIDES-bridge recovery}; do
	if [ -f "$builddir/config.h" ] &&
		! grep -q "^#define KAIROS_BUILD_$(echo "$side" | tr a-z A-Z) 1" "$builddir/config.h"; then
		echo "SKIP: $TEST_NAME: built without the $side side (configure --disable-$side)" >&2
		exit 77
	fi
done

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	for f in "$WORK"/*.log; do
		case "$f" in */relay*.log) continue ;; esac # twisted JSON, seldom the cause
		[ -f "$f" ] || continue
		echo "--- last lines of $(basename "$f"):" >&2
		tail -n 15 "$f" >&2
	done
	exit 1
}

pass() {
	echo "PASS: $TEST_NAME: $*"
}

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (tools/install-deps installs it)"
	done
}

# A port nobody listens on now (the kernel picks it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # PORT [SECONDS]
	local i=0 limit=$((${2:-20} * 10))
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "nothing listens on 127.0.0.1:$1 after ${2:-20} s"
		sleep 0.1
	done
}

wait_log() { # FILE PATTERN [SECONDS]
	wait_log_count "$1" "$2" 1 "${3:-20}"
}

# Until PATTERN has appeared COUNT times in FILE (a second registration...).
wait_log_count() { # FILE PATTERN COUNT SECONDS
	local i=0 limit=$(($4 * 10)) seen
	# A file not written yet counts as none (grep -c prints nothing then).
	while seen=$(grep -c -- "$2" "$1" 2>/dev/null) || true; [ "${seen:-0}" -lt "$3" ]; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || fail "\"$2\" did not appear $3 time(s) in $(basename "$1") within $4 s"
		sleep 0.1
	done
}

bg() { # run a command in the background, remembered for cleanup
	"$@" &
	PIDS="$PIDS $!"
	LAST_PID=$!
}

# The real transit relay on loopback; sets RELAY_PORT and RELAY.
start_relay() {
	need twist3
	RELAY_PORT=$(free_port)
	RELAY="tcp:127.0.0.1:$RELAY_PORT"
	run_relay relay.log
}

# The relay again on the same port, after it was killed.
restart_relay() {
	run_relay relay-restarted.log
}

run_relay() { # LOG
	bg twist3 transitrelay --port="tcp:$RELAY_PORT:interface=127.0.0.1" >"$WORK/$1" 2>&1
	RELAY_PID=$LAST_PID
	wait_port "$RELAY_PORT" 30
}

# A token whose relays are the given ones (never the public default).
new_token() { # FILE RELAY...
	local file=$1 args=""
	shift
	for r in "$@"; do
		args="$args --relay $r"
	done
	# shellcheck disable=SC2086
	"$TUNNEL" new-token $args >"$file" || fail "kairos-tunnel new-token failed"
	chmod 600 "$file"
}

# kairos-tunnel is the bridge's side (libcurl): a build without it has none.
case " ${KAIROS_SIDES-bridge recovery} " in
*" bridge "*) [ -x "$TUNNEL" ] || fail "$TUNNEL is not built (make check builds it)" ;;
esac

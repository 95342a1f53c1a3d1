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
	# Only what is still our child: a process that ended long ago has left
	# its PID free, and with pid_max at 32768 a busy machine (make -j4
	# check) hands it to another process within minutes, once to another
	# test's shell, whose EXIT trap then removed its scratch folder under it.
	for p in $PIDS; do
		[ "$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' ')" = "$$" ] || continue
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

# Microseconds since the epoch (bash's clock, no fork).
now_us() {
	local t=${EPOCHREALTIME//[!0-9]/}
	echo "$((10#$t))"
}

# Every deadline is wall-clock time, and a wait that took more than half of
# its deadline says so on stderr (the test's log): .ci/run prints these
# "slow-wait:" lines at the end, so that the next slow wait is seen before
# it fails.
note_slow_wait() { # START_US SECONDS WHAT
	local took=$(($(now_us) - $1))
	if [ $((took * 2)) -gt $(($2 * 1000000)) ]; then
		printf 'slow-wait: %s waited %d.%01d s of its %s s deadline for %s\n' \
			"$TEST_NAME" $((took / 1000000)) $((took % 1000000 / 100000)) "$2" "$3" >&2
	fi
	return 0
}

# Until COMMAND succeeds (every 0.1 s), for at most SECONDS: the event a test
# needs, never a fixed sleep. Returns 1 at the deadline (the caller fails
# with its own message).
wait_until() { # SECONDS WHAT COMMAND...
	local limit=$1 what=$2 t0
	shift 2
	t0=$(now_us)
	until "$@"; do
		if [ $(($(now_us) - t0)) -ge $((limit * 1000000)) ]; then
			note_slow_wait "$t0" "$limit" "$what (deadline reached)"
			return 1
		fi
		sleep 0.1
	done
	note_slow_wait "$t0" "$limit" "$what"
}

port_open() { # PORT
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() { # PORT [SECONDS]
	wait_until "${2:-120}" "127.0.0.1:$1 to listen" port_open "$1" ||
		fail "nothing listens on 127.0.0.1:$1 after ${2:-120} s"
}

# The default deadlines are for a program's start on a loaded machine:
# python3 (through pyenv's shims here) once took 32 s to print its first
# line under make -j4 check in both builds beside a CPU hog.
wait_log() { # FILE PATTERN [SECONDS]
	wait_log_count "$1" "$2" 1 "${3:-120}"
}

log_count_reached() { # FILE PATTERN COUNT
	local seen
	# A file not written yet counts as none (grep -c prints nothing then).
	seen=$(grep -c -- "$2" "$1" 2>/dev/null) || true
	[ "${seen:-0}" -ge "$3" ]
}

# Until PATTERN has appeared COUNT times in FILE (a second registration...).
wait_log_count() { # FILE PATTERN COUNT SECONDS
	wait_until "$4" "\"$2\" x$3 in $(basename "$1")" log_count_reached "$1" "$2" "$3" ||
		fail "\"$2\" did not appear $3 time(s) in $(basename "$1") within $4 s"
}

# When PID started (clock ticks since boot, field 22 of /proc/PID/stat).
proc_start() { # PID
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo "${20}"
}

# Whether PID has ended: no such process, or a zombie whose threads have
# all exited (its parent has not reaped it yet). A zombie thread-group
# leader with a thread still alive (a core being written) has not ended.
# With START (proc_start before the signal), a process that got the PID
# since (pid_max 32768 wraps within minutes on a busy machine) is not it.
process_gone() { # PID [START]
	[ -e "/proc/$1" ] || return 0
	[ -z "${2:-}" ] || [ "$(proc_start "$1")" = "$2" ] || return 0
	grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null || return 1
	[ "$(grep -s '^Threads:' "/proc/$1/status" | tr -dc 0-9)" -le 1 ] 2>/dev/null
}

# Whether any process has FILE open (a writer not done with it yet).
file_open_anywhere() { # FILE
	find /proc/[0-9]*/fd -maxdepth 1 -lname "$1" 2>/dev/null | grep -q .
}

# Until no process has FILE open any more: what it wrote is complete.
wait_file_closed() { # FILE SECONDS
	local f=$1
	file_closed() { ! file_open_anywhere "$f"; }
	wait_until "$2" "$(basename "$1") to be closed by its writer" file_closed ||
		fail "$(basename "$1") is still open after $2 s"
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
	# twist3 (Python, Twisted) once took 32 s to listen under make -j4
	# check in both builds beside a CPU hog.
	wait_port "$RELAY_PORT" 120
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

# Runs the calling test again inside a network and a mount namespace of its
# own, with a private tmpfs on /run/plymouth: plymouthd's abstract socket and
# its files are kept apart from any other plymouthd. Returns only inside
# (the outer run exits with the inner's status). Needs root and unshare.
enter_plymouth_namespaces() {
	if [ "${KAIROS_IN_NAMESPACES:-}" != 1 ]; then
		local rc=0
		KAIROS_IN_NAMESPACES=1 unshare --net --mount -- bash "$0" "$@" || rc=$?
		exit $rc
	fi
	# Nothing mounted here is seen outside.
	mount --make-rprivate /
	if [ -d /run/plymouth ]; then
		mount -t tmpfs tmpfs /run/plymouth
	else
		mount -t tmpfs tmpfs /run
		mkdir /run/plymouth
	fi
}

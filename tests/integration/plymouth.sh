#!/bin/bash
# plymouth.h against a real plymouthd on a pseudo-terminal (theme "details",
# which prints messages as plain lines): the message with the password
# arrives, the splash is hidden, and the caller's loop is never held up —
# with no plymouthd, with no plymouth client, and with a plymouthd that hangs
# (the client is killed at its deadline). The password never reaches the
# log. Needs root: a network namespace keeps plymouthd's abstract control
# socket apart from any other, a mount namespace gives it a /run/plymouth of
# its own.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (unshare --net --mount, a tmpfs on /run/plymouth)"
need plymouthd plymouth unshare python3 timeout

if [ "${1:-}" != inside ]; then
	rc=0
	unshare --net --mount -- bash "$0" inside || rc=$?
	exit $rc
fi

# Inside the namespaces: nothing mounted here is seen outside.
mount --make-rprivate /
if [ -d /run/plymouth ]; then
	mount -t tmpfs tmpfs /run/plymouth
else
	mount -t tmpfs tmpfs /run
	mkdir /run/plymouth
fi

SHOW="$builddir/tests/tools/plymouth-show"
CAPTURE="$srcdir/tests/integration/pty-capture.py"
PASSWORD="k3yp-4ss-w0rd-$$"

show() { # EXPECTED-EXIT WHAT [OPTIONS]
	local want=$1 what=$2 rc=0 gap
	shift 2
	timeout 30 "$SHOW" --verbose "$@" "$PASSWORD" >"$WORK/show.out" 2>>"$WORK/show.log" || rc=$?
	[ "$rc" = "$want" ] || fail "$what: plymouth-show exited $rc, not $want ($(cat "$WORK/show.out"))"
	gap=$(sed -n 's/.*max-gap-ms=\([0-9]*\).*/\1/p' "$WORK/show.out")
	[ -n "$gap" ] && [ "$gap" -lt 200 ] || fail "$what: the loop was held up for ${gap:-?} ms"
	echo "# $what: $(cat "$WORK/show.out")"
}

bg python3 "$CAPTURE" "$WORK/pty-name" "$WORK/pty.out" 24 80
wait_until 120 "pty-capture.py's terminal" test -s "$WORK/pty-name" || fail "pty-capture.py did not start within 120 s"
PTY=$(cat "$WORK/pty-name")
stty -F "$PTY" rows 24 cols 80

# No plymouthd, then no client at all: quietly nothing, at once.
show 2 "without plymouthd"
show 2 "without a plymouth client" --client /nonexistent/plymouth

bg plymouthd --no-daemon --no-boot-log --tty="$PTY" --ignore-serial-consoles \
	--kernel-command-line="splash plymouth.ignore-udev plymouth.splash=details" >"$WORK/plymouthd.log" 2>&1
PLYMOUTHD=$LAST_PID
# A stopped plymouthd would not die of lib.sh's SIGTERM, and its wait would
# hang: let it go on first, whatever ends the test.
trap 'kill -CONT "$PLYMOUTHD" 2>/dev/null || true; cleanup' EXIT INT TERM
wait_until 60 "plymouthd to answer" plymouth --ping || fail "plymouthd did not answer within 60 s"
# What plymouth-start.service does at boot.
plymouth show-splash || fail "plymouth show-splash failed"

show 0 "with plymouthd"
wait_log "$WORK/pty.out" "Remote recovery: password $PASSWORD. Esc shows the QR code." 60

# A plymouthd that hangs: the client is killed at its deadline, the chain
# stops there, and the loop went on all the while.
kill -STOP "$PLYMOUTHD"
start=$(date +%s%N)
show 1 "with plymouthd stopped" --timeout-ms 1000
took=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$PLYMOUTHD"
[ "$took" -lt 5000 ] || fail "with plymouthd stopped it took $took ms"

plymouth quit || true
plymouthd_gone() { ! plymouth --ping; }
wait_until 60 "plymouthd to quit" plymouthd_gone || fail "plymouthd did not quit within 60 s"
show 2 "after plymouthd quit"

if grep -q -- "$PASSWORD" "$WORK/show.log"; then
	fail "the password is in plymouth.c's log output"
fi
grep -q "plymouthd is not running" "$WORK/show.log" || fail "the debug log says nothing about plymouthd"
pass "message shown on a real plymouthd, splash hidden, nothing blocks without or with a hung plymouthd"

#!/bin/bash
# plymouth.h against a real plymouthd on a pseudo-terminal (theme "details",
# which prints messages as plain lines): the message with the password
# arrives over plymouthd's socket (plymouth-protocol.h; no `plymouth` client
# in $PATH, so none can have carried it in its argv), the splash is hidden,
# and the caller's loop is never held up — with no plymouthd, with a
# plymouthd that hangs (the request is given up at its deadline), with a
# plymouthd that refuses us (NAK: not root) and with something that is not
# plymouthd on the socket. The password never reaches the log. Needs root: a network namespace keeps plymouthd's abstract control
# socket apart from any other, a mount namespace gives it a /run/plymouth of
# its own.
KAIROS_SIDES="recovery"
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (unshare --net --mount, a tmpfs on /run/plymouth)"
need plymouthd plymouth unshare python3 timeout setpriv

enter_plymouth_namespaces

SHOW="$builddir/tests/tools/plymouth-show"
CAPTURE="$srcdir/tests/integration/pty-capture.py"
PASSWORD="k3yp-4ss-w0rd-$$"

show() { # EXPECTED-EXIT WHAT [OPTIONS]; $AS runs it (setpriv ...)
	local want=$1 what=$2 rc=0 gap
	shift 2
	# No plymouth client to be found: everything goes over the socket.
	timeout 30 ${AS:-} env PATH=/nonexistent "$SHOW" --verbose "$@" "$PASSWORD" >"$WORK/show.out" 2>>"$WORK/show.log" || rc=$?
	[ "$rc" = "$want" ] || fail "$what: plymouth-show exited $rc, not $want ($(cat "$WORK/show.out"))"
	gap=$(sed -n 's/.*max-gap-ms=\([0-9]*\).*/\1/p' "$WORK/show.out")
	[ -n "$gap" ] && [ "$gap" -lt 200 ] || fail "$what: the loop was held up for ${gap:-?} ms"
	echo "# $what: $(cat "$WORK/show.out")"
}

bg python3 "$CAPTURE" "$WORK/pty-name" "$WORK/pty.out" 24 80
wait_until 120 "pty-capture.py's terminal" test -s "$WORK/pty-name" || fail "pty-capture.py did not start within 120 s"
PTY=$(cat "$WORK/pty-name")
stty -F "$PTY" rows 24 cols 80

# No plymouthd: quietly nothing, at once.
show 2 "without plymouthd"

# Something else on a socket name: an answer that is not ACK or NAK, then a
# close without any answer. Given up at once, not at the deadline.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(b"\0/kairos-test/not-plymouthd")
s.listen(4)
open(sys.argv[1], "w").close()
for answer in (b"x", b""):
    c, _ = s.accept()
    c.recv(2)
    c.sendall(answer)
    c.close()
' "$WORK/not-plymouthd.ready" &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -e "$WORK/not-plymouthd.ready" ] && break; sleep 0.1; done
show 1 "with a stranger answering garbage" --socket /kairos-test/not-plymouthd
grep -q "Bad message" "$WORK/show.log" || fail "a garbage answer was not taken for one"
show 1 "with a stranger closing at once" --socket /kairos-test/not-plymouthd --timeout-ms 20000
grep -q "no answer to ping" "$WORK/show.log" || fail "a close without an answer was not noticed"

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

# plymouthd answers NAK to anyone but root: that answer is read as a refusal.
AS="setpriv --reuid=65534 --regid=65534 --clear-groups" show 1 "with plymouthd, not as root"
grep -q "Operation not permitted" "$WORK/show.log" || fail "plymouthd's NAK was not read as a refusal"

# A plymouthd that hangs: the request is given up at its deadline, the
# chain stops there, and the loop went on all the while.
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
pass "message shown over a real plymouthd's socket with no client, splash hidden; NAK, garbage and a close read as such; nothing blocks without or with a hung plymouthd"

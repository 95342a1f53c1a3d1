#!/bin/bash
# No secret in any command line (issue 13, f): the daemon runs with a real
# plymouthd on a pseudo-terminal and a console on another, and is made to
# redraw the screen and send plymouth a new message five times
# (`kairos-recovery rotate`). All the while argv-watch.py reads, in a tight
# loop, the command line and environment of the daemon and of every process
# under it (a `plymouth` client living a few milliseconds is read), and
# every tenth pass the command line of every process in /proc. Not one of
# them may hold a password, a token or a secret (hex, either case), old or
# new. The test itself never puts one in an argv either (patterns go to
# grep in a file). Needs root: a network namespace keeps plymouthd's
# abstract socket apart, a mount namespace gives it a /run/plymouth.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (unshare --net --mount, a tmpfs on /run/plymouth)"
need plymouthd plymouth unshare python3 ip

enter_plymouth_namespaces
ip link set lo up
. "$(dirname "$0")/lib-recovery.sh"

CAPTURE="$srcdir/tests/integration/pty-capture.py"
WATCH="$srcdir/tests/integration/argv-watch.py"
ROUNDS=5

pty() { # NAME: a pseudo-terminal whose output goes to $WORK/NAME.out
	bg python3 "$CAPTURE" "$WORK/$1-name" "$WORK/$1.out" 24 80
	for _ in $(seq 50); do [ -s "$WORK/$1-name" ] && break; sleep 0.1; done
	[ -s "$WORK/$1-name" ] || fail "pty-capture.py did not start"
	stty -F "$(cat "$WORK/$1-name")" rows 24 cols 80
}

# Until FILE holds the line in PATTERN-FILE (grep -f: no secret in argv).
wait_has() { # FILE PATTERN-FILE WHAT
	for _ in $(seq 200); do
		grep -q -F -f "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "$3 did not appear within 10 s"
}

# plymouthd on one pty, the daemon's console on another (mounted, in this
# namespace only, on a name of its own in /dev, where consoles are looked up).
pty splash
pty console
CONSOLE="ttyKA$$"
touch "/dev/$CONSOLE" || fail "cannot create /dev/$CONSOLE"
at_cleanup "rm -f /dev/$CONSOLE"
mount --bind "$(cat "$WORK/console-name")" "/dev/$CONSOLE" || fail "cannot mount the pty on /dev/$CONSOLE"
# Lazily: the daemon still holds the console when cleanup runs, and a
# mount point cannot be removed (the file would outlive the namespace).
at_cleanup "umount -l /dev/$CONSOLE"

bg plymouthd --no-daemon --no-boot-log --tty="$(cat "$WORK/splash-name")" --ignore-serial-consoles \
	--kernel-command-line="splash plymouth.ignore-udev plymouth.splash=details" >"$WORK/plymouthd.log" 2>&1
for _ in $(seq 100); do plymouth --ping && break; sleep 0.1; done
plymouth --ping || fail "plymouthd did not answer within 10 s"
plymouth show-splash || fail "plymouth show-splash failed"

# No relay: the screen and plymouth are what this is about.
RELAY_PORT=none RELAY=""
start_recovery "Relay=" "Console=" "Console=$CONSOLE" "Plymouth=yes"
daemon=$RECOVERY_PID
[ "$(readlink "/proc/$daemon/exe")" = "$(readlink -f "$RECOVERY")" ] || fail "process $daemon is not the daemon"

secrets="$WORK/secrets"
note_secrets() { # the current password, token and secret (hex, both cases)
	{
		echo "$PASSWORD"
		cat "$RUN/token"
		"$builddir/tests/tools/session-launch" secret --token-file "$RUN/token"
		"$builddir/tests/tools/session-launch" secret --token-file "$RUN/token" | tr a-f A-F
	} >>"$secrets"
	echo "Remote recovery: password $PASSWORD." >"$WORK/want-splash"
	echo "$PASSWORD" >"$WORK/want-console"
}
note_secrets
wait_has "$WORK/splash.out" "$WORK/want-splash" "the message with the password on plymouth's screen"
wait_has "$WORK/console.out" "$WORK/want-console" "the password on the console"

bg python3 "$WATCH" "$daemon" "$WORK/seen" "$WORK/watch.stop"
WATCHER=$LAST_PID
sleep 0.5
for round in $(seq "$ROUNDS"); do
	RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null 2>"$WORK/rotate.err" ||
		fail "rotate failed: $(cat "$WORK/rotate.err")"
	wait_log_count "$WORK/recovery.log" "Token rotated" "$round" 10
	read_state
	note_secrets
	# Both updated: plymouth has the new password, and so has the console.
	# The daemon hid the splash the first time, and a hidden "details"
	# splash prints nothing; shown again (as Esc does) it prints every
	# message plymouthd got, the new one too, whenever that came.
	plymouth show-splash || fail "plymouth show-splash failed"
	wait_has "$WORK/splash.out" "$WORK/want-splash" "round $round: the message with the new password on plymouth's screen"
	wait_has "$WORK/console.out" "$WORK/want-console" "round $round: the new password on the console"
	sleep 0.3
done
touch "$WORK/watch.stop"
wait "$WATCHER" || fail "argv-watch.py failed"

passes=$(sed -n 's/^# \([0-9]*\) passes.*/\1/p' "$WORK/seen")
[ "${passes:-0}" -ge 100 ] || fail "argv-watch.py made only ${passes:-0} passes"
grep -q "^cmdline $daemon: " "$WORK/seen" || fail "argv-watch.py never read the daemon's command line"
if grep -F -f "$secrets" "$WORK/seen" >"$WORK/leaks"; then
	# Where, and the first characters only: the log is no place for it either.
	fail "a secret in $(wc -l <"$WORK/leaks") command line(s)/environment(s): $(cut -c1-40 "$WORK/leaks" | head -n 3 | tr '\n' '|')"
fi
pass "$ROUNDS rotations shown on the console and through plymouth; $passes passes over the daemon's tree (cmdline, environ) and /proc/*/cmdline: no password, token or secret"

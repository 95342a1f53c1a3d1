#!/bin/bash
# The machine's disk is full, or /run is read-only: kairos-recovery still
# shows the QR code and the password on the console, says clearly what it
# cannot keep, and serves: the token read off the console (its QR code,
# decoded by zbar) and the password on it give a shell through the tunnel
# and through the relay. The runtime directory is, in a mount namespace of
# this test, a 256 KiB tmpfs filled to the last byte, then an empty
# read-only bind mount, then the state of an earlier run made read-only (the
# same secret and password after the restart).
if [ -z "${KAIROS_STORAGE_NS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	KAIROS_STORAGE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (mounts in a mount namespace)"
[ -n "${KAIROS_STORAGE_NS:-}" ] || skip "unshare is not installed"
. "$(dirname "$0")/lib-recovery.sh"
need python3 zbarimg
H2P="$builddir/tests/tools/halfblock-to-png"
CAPTURE="$srcdir/tests/integration/pty-capture.py"
[ -x "$H2P" ] || fail "$H2P is not built"

# The console: a pseudo-terminal, mounted (in this namespace only) on a
# name of its own in /dev, where the daemon looks for consoles.
bg python3 "$CAPTURE" "$WORK/pty-name" "$WORK/console.out" 24 80
wait_until 120 "pty-capture.py's terminal" test -s "$WORK/pty-name" || fail "pty-capture.py did not start within 120 s"
CONSOLE="ttyKF$$"
touch "/dev/$CONSOLE" || fail "cannot create /dev/$CONSOLE"
at_cleanup "rm -f /dev/$CONSOLE"
mount --bind "$(cat "$WORK/pty-name")" "/dev/$CONSOLE" || fail "cannot mount the pseudo-terminal on /dev/$CONSOLE"
at_cleanup "umount /dev/$CONSOLE"

# One run of the daemon on a runtime directory it cannot write; sets TOKEN
# to what zbar read off the console.
# run_case NAME EXPECTED-WARNING...
run_case() {
	local name=$1 screen token png
	shift
	: >"$WORK/console.out"
	start_recovery_daemon "Console=" "Console=$CONSOLE"
	wait_log "$WORK/recovery.log" "Showing the recovery screen on /dev/$CONSOLE" 60
	for w in "$@"; do
		grep -q -- "$w" "$WORK/recovery.log" || fail "$name: the daemon did not warn '$w'"
	done
	# The QR code on the console, read as a camera would.
	wait_until 60 "the password on the console" grep -q "Password" "$WORK/console.out" || true
	screen="$WORK/$name-screen.txt"
	cp "$WORK/console.out" "$screen"
	png="$WORK/$name-screen.png"
	"$H2P" "$screen" "$png" || fail "$name: halfblock-to-png could not draw the console"
	token=$(zbarimg --nodbus --raw -q -Sdisable -Sqrcode.enable "$png" 2>/dev/null | head -n 1) ||
		fail "$name: zbar finds no QR code on the console"
	[ -n "$token" ] || fail "$name: zbar finds no QR code on the console"
	TOKEN=$token
	printf '%s\n' "$token" >"$WORK/$name.token"
	chmod 600 "$WORK/$name.token"
	PASSWORD=$(sed -n 's/.*Password  *\([a-z0-9-]*\).*/\1/p' "$screen" | head -n 1)
	[ -n "$PASSWORD" ] || fail "$name: no password on the console"
	for path in direct relay; do
		if [ $path = direct ]; then
			proxy="$TUNNEL initiate --token-file $WORK/$name.token --no-relay --no-token-addresses --direct 127.0.0.1:$TUNNEL_PORT --timeout 20"
		else
			proxy="$TUNNEL initiate --token-file $WORK/$name.token --no-token-addresses --timeout 20"
		fi
		# First use (the key is new each run); compared with the screen's below.
		out=$(sshpass -p "$PASSWORD" ssh -o UserKnownHostsFile="$WORK/$name.known" -o StrictHostKeyChecking=accept-new \
			-o LogLevel=ERROR -o ConnectTimeout=30 -o ProxyCommand="$proxy" root@recovery "echo $name $path" \
			2>"$WORK/$name-$path.err") || fail "$name: no ssh through the $path tunnel: $(cat "$WORK/$name-$path.err")"
		[ "$out" = "$name $path" ] || fail "$name: through the $path tunnel the shell said '$out'"
	done
	fp=$(ssh-keygen -lf "$WORK/$name.known" | awk '{ print $2 }' | sort -u)
	[ "$(echo "$fp" | wc -l)" = 1 ] || fail "$name: the direct and relay paths showed different host keys: $fp"
	grep -q -- "host key $fp" "$WORK/recovery.log" || fail "$name: ssh saw host key $fp, not the one the daemon shows"
	kill "$RECOVERY_PID"
	wait "$RECOVERY_PID" 2>/dev/null || true
	kill "$RELAY_PID"
	wait "$RELAY_PID" 2>/dev/null || true
	RELAY_PORT= # the next start_recovery_daemon starts a relay of its own
	mv "$WORK/recovery.log" "$WORK/$name-recovery.txt"
}

# 1. Full: a small tmpfs, filled.
export RECOVERY_RUN_DIR="$WORK/full"
mkdir -p "$RECOVERY_RUN_DIR"
mount -t tmpfs -o size=256k,mode=0700 kairos-full "$RECOVERY_RUN_DIR" || fail "cannot mount a tmpfs"
at_cleanup "umount -l $RECOVERY_RUN_DIR"
dd if=/dev/zero of="$RECOVERY_RUN_DIR/filler" bs=4k >/dev/null 2>&1 || true
[ "$(df --output=avail -k "$RECOVERY_RUN_DIR" | tail -n 1 | tr -d ' ')" = 0 ] || fail "the tmpfs is not full"
run_case full "Cannot store the secret in $RECOVERY_RUN_DIR: No space left on device" \
	"Cannot store a host key in $RECOVERY_RUN_DIR: keeping one in memory"
[ ! -e "$RECOVERY_RUN_DIR/token" ] || fail "full: a token file was written"

# 2. Read-only: an empty directory mounted read-only.
export RECOVERY_RUN_DIR="$WORK/ro"
mkdir -p "$RECOVERY_RUN_DIR"
chmod 700 "$RECOVERY_RUN_DIR"
mount --bind -o ro "$RECOVERY_RUN_DIR" "$RECOVERY_RUN_DIR" || fail "cannot mount the directory read-only"
at_cleanup "umount -l $RECOVERY_RUN_DIR"
touch "$RECOVERY_RUN_DIR/x" 2>/dev/null && fail "the read-only directory can be written"
run_case ro "Cannot store the secret in $RECOVERY_RUN_DIR: Read-only file system" \
	"Cannot store a host key in $RECOVERY_RUN_DIR: keeping one in memory"

# 3. /run turned read-only after the daemon wrote its state, and the daemon
# restarted: the same secret and password as before.
export RECOVERY_RUN_DIR="$WORK/kept"
start_recovery_daemon
read_state
first=$PASSWORD
kill "$RECOVERY_PID"
wait "$RECOVERY_PID" 2>/dev/null || true
kill "$RELAY_PID"
wait "$RELAY_PID" 2>/dev/null || true
RELAY_PORT=
mount --bind -o ro "$RECOVERY_RUN_DIR" "$RECOVERY_RUN_DIR" || fail "cannot mount the directory read-only"
at_cleanup "umount -l $RECOVERY_RUN_DIR"
run_case kept "Cannot write $RECOVERY_RUN_DIR/token: Read-only file system"
# (The token's text differs: this test gives the daemon and the relay new
# ports. The secret, and so the password, must not.)
[ "$PASSWORD" = "$first" ] || fail "after a restart on a read-only /run the console shows another password"
grep -q "same token" "$WORK/kept-recovery.txt" || fail "the restarted daemon did not say it kept the token"

pass "disk full, read-only runtime directory, and read-only after the fact (same password): warned, QR code and password on the console, zbar read the token off it, ssh through the direct tunnel and the relay with the host key shown, each time"

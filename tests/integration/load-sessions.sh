#!/bin/bash
# 64 ssh sessions at once through one kairos-bridge and the transit relay:
# each logs in, waits until all 64 are logged in (so that they really run
# at the same time), uploads 1 MiB of random data, runs commands on it
# (sha256sum, cat, rm) and downloads it again. All must complete, byte-exact both ways (the
# server's sha256 and the returned bytes' equal the sent ones); afterwards
# the daemon is back to its idle file descriptors and has no children.
# Prints the time, the throughput and the daemon's peaks (fds, processes,
# memory of the daemon and everything under it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-load.sh"
need sha256sum

N=64
SIZE_KIB=1024
TIME_MAX=$(load_time_bound 150)

start_recovery # the default limits: MaxStartups=10
daemon=$(pgrep -f "$RECOVERY --config $WORK/recovery.conf" | head -n 1)
[ -n "$daemon" ] || fail "cannot find the daemon's process"
BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
port=$(free_port)
bg "$BRIDGE" --token-file "$RUN/token" --listen "127.0.0.1:$port" --relay-only --timeout 120 >"$WORK/bridge.log" 2>&1
wait_log "$WORK/bridge.log" "SSH server reachable" 150
cmd=$(printed_ssh_command "$WORK/bridge.log")
[ -n "$cmd" ] || fail "the bridge printed no ssh command"
# shellcheck disable=SC2086
[ "$(sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes 'echo warm' 2>"$WORK/warm.err")" = warm ] ||
	fail "no first session through the bridge: $(cat "$WORK/warm.err")"
wait_daemon_idle "$daemon" 1000
fds_idle=$(ls "/proc/$daemon/fd" | wc -l)

for i in $(seq $N); do
	head -c $((SIZE_KIB * 1024)) /dev/urandom >"$WORK/data-$i"
done
mkdir -p "$WORK/remote"

one() { # I: one session, its result in rc-I
	local i=$1 r="$WORK/remote/$1"
	# shellcheck disable=SC2086
	sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes -o LogLevel=ERROR -o ConnectTimeout=60 \
		"touch $r.up; for t in \$(seq 3000); do [ \$(ls $WORK/remote | grep -c '\.up\$') -ge $N ] && break; sleep 0.1; done;
		 [ \$(ls $WORK/remote | grep -c '\.up\$') -ge $N ] || { echo not all $N logged in >&2; exit 3; };
		 cat >$r && sha256sum <$r | cut -c1-64 >&2 && cat $r && rm $r" \
		<"$WORK/data-$i" >"$WORK/back-$i" 2>"$WORK/err-$i" && echo 0 >"$WORK/rc-$i" || echo $? >"$WORK/rc-$i"
}

load_sampler_start "$daemon"
t0=$(date +%s.%N)
pids=""
for i in $(seq $N); do
	one "$i" &
	pids="$pids $!"
done
PIDS="$PIDS $pids"
for p in $pids; do
	wait "$p" || true
done
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
load_sampler_stop

failed=0
for i in $(seq $N); do
	sent=$(sha256sum <"$WORK/data-$i" | cut -c1-64)
	if [ "$(cat "$WORK/rc-$i")" != 0 ]; then
		echo "# session $i: ssh exited $(cat "$WORK/rc-$i"): $(head -c 300 "$WORK/err-$i")" >&2
		failed=$((failed + 1))
	elif [ "$(cat "$WORK/err-$i")" != "$sent" ]; then
		echo "# session $i: the server's sha256 is '$(head -c 100 "$WORK/err-$i")', sent $sent" >&2
		failed=$((failed + 1))
	elif [ "$(sha256sum <"$WORK/back-$i" | cut -c1-64)" != "$sent" ]; then
		echo "# session $i: the bytes that came back differ from those sent" >&2
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ] || fail "$failed of $N concurrent sessions failed (see above)"
awk -v t="$took" -v m="$TIME_MAX" 'BEGIN { exit !(t <= m) }' || fail "$N sessions took $took s (at most $TIME_MAX s)"
wait_daemon_idle "$daemon" "$fds_idle"
mib=$((2 * N * SIZE_KIB / 1024))
rate=$(awk -v m="$mib" -v t="$took" 'BEGIN { printf "%.1f", m / t }')
pass "$N sessions through one bridge and the relay, byte-exact both ways: $took s, $mib MiB moved ($rate MiB/s); daemon peaks: $PEAK_FDS fds (idle $fds_idle), $PEAK_PROCS processes, $PEAK_PSS_MIB MiB (PSS) with its sessions; back to idle afterwards"

#!/bin/bash
# 20 kairos-bridge started at the same moment against one daemon, each on
# its own port (10 through the relay only, 10 racing a direct address and
# the relay as by default), then one ssh through each at the same moment, moving
# 256 KiB both ways: every bridge must say "reachable" and every ssh come
# back byte-exact. Once the bridges are stopped the daemon is back to its
# idle file descriptors with no children. Prints the times and the daemon's
# peaks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-load.sh"
need sha256sum

N=20
TIME_MAX=$(load_time_bound 120)

start_recovery
daemon=$(pgrep -f "$RECOVERY --config $WORK/recovery.conf" | head -n 1)
[ -n "$daemon" ] || fail "cannot find the daemon's process"
wait_daemon_idle "$daemon" 1000
fds_idle=$(ls "/proc/$daemon/fd" | wc -l)
BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

load_sampler_start "$daemon"
t0=$(date +%s.%N)
bridges=""
for i in $(seq $N); do
	# the direct path as a port forward would offer it (the token's
	# addresses are this machine's, where the test daemon does not listen)
	mode="--direct 127.0.0.1:$TUNNEL_PORT"
	[ $((i % 2)) = 0 ] && mode=--relay-only
	port=$(free_port)
	"$BRIDGE" --token-file "$RUN/token" --listen "127.0.0.1:$port" $mode --timeout 180 >"$WORK/bridge-$i.log" 2>&1 &
	bridges="$bridges $!"
done
PIDS="$PIDS $bridges"
for i in $(seq $N); do
	wait_log "$WORK/bridge-$i.log" "SSH server reachable" 200
done
reachable=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
relayed=$(grep -l "SSH server reachable at .* (via relay" "$WORK"/bridge-*.log | wc -l)
[ "$relayed" -ge $((N / 2)) ] || fail "only $relayed bridges went through the relay, $((N / 2)) were told to"

for i in $(seq $N); do
	head -c 262144 /dev/urandom >"$WORK/data-$i"
done
t1=$(date +%s.%N)
pids=""
for i in $(seq $N); do
	cmd=$(printed_ssh_command "$WORK/bridge-$i.log")
	[ -n "$cmd" ] || fail "bridge $i printed no ssh command"
	# shellcheck disable=SC2086
	(sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes -o LogLevel=ERROR \
		'sha256sum | cut -c1-64 >&2; echo bridge-done' <"$WORK/data-$i" >"$WORK/out-$i" 2>"$WORK/err-$i" &&
		echo 0 >"$WORK/rc-$i" || echo $? >"$WORK/rc-$i") &
	pids="$pids $!"
done
PIDS="$PIDS $pids"
for p in $pids; do
	wait "$p" || true
done
sessions=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
load_sampler_stop
failed=0
for i in $(seq $N); do
	if [ "$(cat "$WORK/rc-$i")" != 0 ] || [ "$(cat "$WORK/out-$i")" != bridge-done ] ||
		[ "$(cat "$WORK/err-$i")" != "$(sha256sum <"$WORK/data-$i" | cut -c1-64)" ]; then
		echo "# ssh through bridge $i: exit $(cat "$WORK/rc-$i"), '$(head -c 200 "$WORK/out-$i")', $(head -c 300 "$WORK/err-$i")" >&2
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ] || fail "$failed of $N ssh through $N bridges failed (see above)"
total=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
awk -v t="$total" -v m="$TIME_MAX" 'BEGIN { exit !(t <= m) }' || fail "$N bridges and their ssh took $total s (at most $TIME_MAX s)"

for b in $bridges; do
	kill -INT "$b"
done
for b in $bridges; do
	wait "$b" || fail "a bridge did not stop cleanly on SIGINT"
done
wait_daemon_idle "$daemon" "$fds_idle"
pass "$N bridges reachable within $reachable s ($relayed through the relay, the others direct), $N ssh at once done in $sessions s, byte-exact; daemon peaks: $PEAK_FDS fds (idle $fds_idle), $PEAK_PROCS processes, $PEAK_PSS_MIB MiB (PSS); back to idle after the bridges stopped"

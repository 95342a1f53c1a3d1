# Sourced after lib.sh by tests over a long path: tests/tools/delay-forward
# in front of a port, holding each chunk for a one-way delay in each
# direction (this kernel has no netem).
DELAY_FORWARD="$builddir/tests/tools/delay-forward"
[ -x "$DELAY_FORWARD" ] || fail "$DELAY_FORWARD is not built (make check builds it)"

# start_delay_forward ONE-WAY-MS TARGET-PORT [OPTIONS...]: a forwarder on a
# free loopback port (DELAY_LISTEN_PORT if set) to 127.0.0.1:TARGET-PORT (a
# round trip through it costs 2 x ONE-WAY-MS); sets DELAY_PORT, DELAY_PID.
start_delay_forward() {
	local ms=$1 target=$2 pf
	shift 2
	pf="$WORK/delay-forward.$target.$RANDOM"
	bg "$DELAY_FORWARD" --delay "$ms" --port-file "$pf" "$@" "127.0.0.1:${DELAY_LISTEN_PORT:-0}" "127.0.0.1:$target" >/dev/null
	DELAY_PID=$LAST_PID
	wait_until 30 "delay-forward to say its port" test -s "$pf" || fail "delay-forward did not start"
	DELAY_PORT=$(cat "$pf")
}

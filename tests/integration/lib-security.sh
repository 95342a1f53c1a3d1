# Sourced after lib.sh and lib-recovery.sh by the security-*.sh tests: the
# transit relay with tamper-proxy.py in front of it (recording or
# tampering), the daemon behind that proxy, and kairos-bridge.
need python3
BRIDGE="$builddir/kairos-bridge"
[ -x "$BRIDGE" ] || fail "$BRIDGE is not built"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# start_relay_proxy ARGS...: the real relay, and tamper-proxy.py in front of
# it with ARGS (--record DIR, --tamper SEED...); sets PROXY_PORT and
# RECOVERY_RELAY, so that start_recovery puts the daemon behind the proxy.
start_relay_proxy() {
	start_relay
	PROXY_PORT=$(free_port)
	bg python3 "$srcdir/tests/integration/tamper-proxy.py" --listen "$PROXY_PORT" --upstream "$RELAY_PORT" "$@" \
		>"$WORK/proxy.log" 2>&1
	wait_port "$PROXY_PORT"
	RECOVERY_RELAY="tcp:127.0.0.1:$PROXY_PORT"
}

# The channels and the daemon's side as they crossed the wire (recorded by
# the proxy in DIR): sets CHANNELS (4 of them) and DAEMON_SIDE.
read_channels_from_wire() { # DIR
	cat "$1"/*.up 2>/dev/null | grep -a -o 'please relay [0-9a-f]\{64\} for side [0-9a-f]\{16\}' |
		sort -u >"$WORK/wire-requests"
	CHANNELS=$(awk '{ print $3 }' "$WORK/wire-requests" | sort -u)
	DAEMON_SIDE=$(awk '{ print $6 }' "$WORK/wire-requests" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
	[ "$(echo "$CHANNELS" | wc -l)" -ge 4 ] || fail "fewer than 4 channels seen on the wire: $(cat "$WORK/wire-requests")"
}

# kairos-bridge in the background, until it says the machine is reachable
# (or gives up); sets BRIDGE_PID and BRIDGE_PORT. LOG is under $WORK.
start_bridge() { # LOG ARGS...
	local log=$1
	shift
	BRIDGE_PORT=$(free_port)
	bg "$BRIDGE" --listen "127.0.0.1:$BRIDGE_PORT" "$@" >"$WORK/$log" 2>&1
	BRIDGE_PID=$LAST_PID
}

# ssh through the bridge started last, with its known_hosts.
ssh_bridge() { # LOG ARGS...
	local log=$1 cmd
	shift
	cmd=$(printed_ssh_command "$WORK/$log")
	[ -n "$cmd" ] || fail "the bridge printed no ssh command: $(tail -n 3 "$WORK/$log")"
	# shellcheck disable=SC2086
	sshpass -p "$PASSWORD" $cmd -o StrictHostKeyChecking=yes -o ConnectTimeout=30 "$@"
}

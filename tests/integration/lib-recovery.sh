# Sourced after lib.sh by the tests that run kairos-recovery by hand under
# systemd-socket-activate, with a transit relay on loopback: the daemon's
# sockets named "tunnel" and "ssh" as the units pass them.

RECOVERY="$builddir/kairos-recovery"
export TUNNEL
export KAIROS_SESSION_HELPER="$builddir/kairos-recovery-session"
export KAIROS_NOTIFY_HELPER="$builddir/kairos-recovery-notify"

need systemd-socket-activate ssh sshpass
[ -x "$RECOVERY" ] || fail "$RECOVERY is not built"
[ -x "$KAIROS_SESSION_HELPER" ] || fail "$KAIROS_SESSION_HELPER is not built"

# start_recovery [extra recovery.conf lines]: sets TUNNEL_PORT, SSH_PORT,
# RECOVERY_PID, RUN (runtime directory), PASSWORD, KNOWN_HOSTS. A relay
# started before is kept; RECOVERY_RELAY (a proxy in front of it) is the
# daemon's Relay= instead of $RELAY. RECOVERY_WRAPPER runs the daemon (it
# logs to the journal then: RECOVERY_LOG is where the test follows it).
start_recovery() {
	start_recovery_daemon "$@"
	read_state
}

# The same without reading the runtime directory (which a test may have
# made unwritable): sets TUNNEL_PORT, SSH_PORT, RECOVERY_PID and RUN
# ($RECOVERY_RUN_DIR when set, else $WORK/run).
start_recovery_daemon() {
	local log=${RECOVERY_LOG:-$WORK/recovery.log}
	[ -n "${RELAY_PORT:-}" ] || start_relay
	TUNNEL_PORT=$(free_port)
	SSH_PORT=$(free_port)
	RUN="${RECOVERY_RUN_DIR:-$WORK/run}"
	export RUN
	mkdir -p "$RUN"
	chmod 700 "$RUN" 2>/dev/null || true
	{
		echo "[Recovery]"
		echo "Relay=${RECOVERY_RELAY:-$RELAY}"
		echo "Console=null"
		echo "Plymouth=no"
		echo "HostKey="
		echo "AuthorizedKeys="
		for l in "$@"; do echo "$l"; done
	} >"$WORK/recovery.conf"
	RUNTIME_DIRECTORY="$RUN" bg systemd-socket-activate -l "127.0.0.1:$TUNNEL_PORT" -l "127.0.0.1:$SSH_PORT" \
		--fdname=tunnel:ssh -E RUNTIME_DIRECTORY -E KAIROS_SESSION_HELPER -E KAIROS_NOTIFY_HELPER \
		${RECOVERY_NOTIFY_SOCKET:+-E NOTIFY_SOCKET="$RECOVERY_NOTIFY_SOCKET"} \
		${KAIROS_ROTATE_GRACE_SEC:+-E KAIROS_ROTATE_GRACE_SEC="$KAIROS_ROTATE_GRACE_SEC"} \
		${RECOVERY_WRAPPER:-} "$RECOVERY" --config "$WORK/recovery.conf" >"$WORK/recovery.log" 2>&1
	RECOVERY_PID=$LAST_PID
	wait_port "$TUNNEL_PORT" 120
	# systemd-socket-activate starts the program at the first connection.
	(exec 3<>"/dev/tcp/127.0.0.1/$TUNNEL_PORT") 2>/dev/null || true
	wait_log "$log" "kairos-recovery started"
	# "Relay=" as the last Relay line empties the list: nothing to wait for.
	local relays=yes l
	for l in "$@"; do case "$l" in Relay=) relays=no ;; Relay=*) relays=yes ;; esac; done
	[ "$relays" = no ] || wait_log "$log" "waiting for a bridge on 4 slots"
}

read_state() {
	[ -s "$RUN/token" ] || fail "no token in $RUN"
	PASSWORD=$(RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" show | sed -n 's/^Password: *//p')
	[ -n "$PASSWORD" ] || fail "kairos-recovery show printed no password"
	KNOWN_HOSTS="$WORK/known_hosts"
	{
		echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$RUN/host_ed25519_key.pub")"
		echo "kairos-recovery $(cut -d' ' -f1,2 "$RUN/host_ed25519_key.pub")"
	} >"$KNOWN_HOSTS"
}

# SSH options: full host-key checking against the daemon's key.
ssh_plain() { # ssh over the opt-in plain SSH socket
	sshpass -p "$PASSWORD" ssh -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
		-o BatchMode=no -o ConnectTimeout=20 -p "$SSH_PORT" root@127.0.0.1 "$@"
}

# through the encrypted tunnel, direct path (kairos-tunnel as ProxyCommand)
ssh_tunnel() {
	sshpass -p "$PASSWORD" ssh -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
		-o HostKeyAlias=kairos-recovery -o ConnectTimeout=30 \
		-o ProxyCommand="$TUNNEL initiate --token-file $RUN/token --no-relay --no-token-addresses --direct 127.0.0.1:$TUNNEL_PORT --timeout 60" \
		root@recovery "$@"
}

# through the encrypted tunnel, relay path only
ssh_relay() {
	sshpass -p "$PASSWORD" ssh -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
		-o HostKeyAlias=kairos-recovery -o ConnectTimeout=30 \
		-o ProxyCommand="$TUNNEL initiate --token-file $RUN/token --no-token-addresses --timeout 60" \
		root@recovery "$@"
}

# Prints the session helper of the session that runs COMMAND (exactly, as
# pgrep -x -f matches it): the daemon's child above it, through a shell that
# did not exec the command. Waits up to 60 s for it; fails (1) without one.
helper_of() { # DAEMON_PID COMMAND
	local pid parent
	for pid in $(pgrep -x -f "$2"); do
		while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
			parent=$(ps -o ppid= -p "$pid" | tr -d ' ')
			[ "$parent" = "$1" ] && { echo "$pid"; return 0; }
			pid=$parent
		done
	done
	return 1
}
wait_helper_of() { # DAEMON_PID COMMAND
	wait_until 60 "the helper of '$2'" helper_of "$1" "$2"
}

# The ssh command kairos-bridge printed in LOG.
printed_ssh_command() { # LOG
	sed -n 's/^ INFO     \(ssh -p .*\)$/\1/p' "$1"
}

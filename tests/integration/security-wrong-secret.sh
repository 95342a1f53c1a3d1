#!/bin/bash
# No QR code, no entry: a token with another secret gets nowhere on any
# path of the real daemon, through kairos-bridge and OpenSSH: at the relay
# it never pairs (its channels differ), on the direct port the Noise
# handshake fails, on the plain SSH socket its password is refused. After
# kairos-recovery rotate the old token opens nothing on any path either:
# its password is refused, and on the relay and the direct path the machine
# proves, with the old key, that the code was rotated (exit 77, "read the
# new code"); the new one works on every path.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-security.sh"

start_recovery "PlainSSH=yes"

works_everywhere() { # WHAT: the current token on all three paths
	[ "$(ssh_relay 'echo relay ok' 2>"$WORK/ok.err")" = "relay ok" ] || fail "$1: no session through the relay: $(cat "$WORK/ok.err")"
	[ "$(ssh_tunnel 'echo direct ok' 2>"$WORK/ok.err")" = "direct ok" ] || fail "$1: no session on the direct path: $(cat "$WORK/ok.err")"
	[ "$(ssh_plain 'echo plain ok' 2>"$WORK/ok.err")" = "plain ok" ] || fail "$1: no session on the plain SSH socket: $(cat "$WORK/ok.err")"
}

refused_everywhere() { # TOKEN-FILE WHAT [rotated]
	local token=$1 what=$2 rotated=${3:-} rc before opened_before password
	before=$(grep -c "Tunnel from relay" "$WORK/recovery.log" || true)
	opened_before=$(grep -c "Session .* opened" "$WORK/recovery.log" || true)

	rc=0
	timeout 60 "$BRIDGE" --token-file "$token" --relay-only --stdio --timeout 6 </dev/null >"$WORK/out" \
		2>"$WORK/$what-relay.log" || rc=$?
	if [ -n "$rotated" ]; then
		[ "$rc" = 77 ] || fail "$what through the relay: kairos-bridge exited $rc, expected 77 (rotated)"
		grep -q "The token was rotated: read the new code (relay " "$WORK/$what-relay.log" ||
			fail "$what through the relay: $(tail -n 1 "$WORK/$what-relay.log")"
		wait_log "$WORK/recovery.log" "Tunnel from relay .* (old code): the code from before the rotation" 60
	else
		[ "$rc" = 69 ] || fail "$what through the relay: kairos-bridge exited $rc, expected 69 (not reachable)"
		grep -q "not reachable: relay .*: waiting for the recovery machine at the relay" "$WORK/$what-relay.log" ||
			fail "$what through the relay: the bridge did not say it waited at the relay: $(tail -n 1 "$WORK/$what-relay.log")"
		[ "$(grep -c "Tunnel from relay" "$WORK/recovery.log" || true)" = "$before" ] ||
			fail "$what paired with the daemon at the relay"
	fi
	[ ! -s "$WORK/out" ] || fail "$what through the relay: the bridge received bytes"

	rc=0
	timeout 60 "$BRIDGE" --token-file "$token" --direct-only --direct "127.0.0.1:$TUNNEL_PORT" --stdio --timeout 6 \
		</dev/null >"$WORK/out" 2>"$WORK/$what-direct.log" || rc=$?
	[ "$rc" = 77 ] || fail "$what on the direct port: kairos-bridge exited $rc, expected 77 (token rejected)"
	if [ -n "$rotated" ]; then
		grep -q "The token was rotated: read the new code (direct 127.0.0.1:$TUNNEL_PORT" \
			"$WORK/$what-direct.log" || fail "$what on the direct port: $(tail -n 1 "$WORK/$what-direct.log")"
		wait_log "$WORK/recovery.log" "Tunnel from direct 127.0.0.1:[0-9]*: the code from before the rotation" 60
	else
		grep -q "The token was rejected: direct 127.0.0.1:$TUNNEL_PORT: answered, but does not hold this token's secret" \
			"$WORK/$what-direct.log" || fail "$what on the direct port: $(tail -n 1 "$WORK/$what-direct.log")"
		wait_log "$WORK/recovery.log" "Tunnel from direct 127.0.0.1:[0-9]* not established: the peer does not hold this token's secret" 60
	fi
	[ ! -s "$WORK/out" ] || fail "$what on the direct port: the bridge received bytes"

	password=$("$BRIDGE" --token-file "$token" --show-token | sed -n 's/^password: *//p')
	[ -n "$password" ] && [ "$password" != "$PASSWORD" ] || fail "$what: no password of its own"
	rc=0
	timeout 60 sshpass -p "$password" ssh -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
		-o NumberOfPasswordPrompts=1 -p "$SSH_PORT" root@127.0.0.1 'echo in' >"$WORK/out" 2>"$WORK/$what-ssh.err" || rc=$?
	[ "$rc" = 255 ] || fail "$what's password on the plain SSH socket: ssh exited $rc, expected 255"
	grep -q "Permission denied" "$WORK/$what-ssh.err" || fail "$what's password: $(cat "$WORK/$what-ssh.err")"
	[ ! -s "$WORK/out" ] || fail "$what's password reached a shell"
	wait_log "$WORK/recovery.log" "authentication failed (password root) from ssh 127.0.0.1" 60

	[ "$(grep -c "Session .* opened" "$WORK/recovery.log" || true)" = "$opened_before" ] ||
		fail "$what opened a session: $(grep "opened" "$WORK/recovery.log" | tail -n 1)"
}

works_everywhere "the right token"
new_token "$WORK/wrong" "$RELAY"
refused_everywhere "$WORK/wrong" "a wrong token"

cp "$RUN/token" "$WORK/old-token"
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null || fail "kairos-recovery rotate failed"
wait_log "$WORK/recovery.log" "Token rotated" 60
read_state
cmp -s "$RUN/token" "$WORK/old-token" && fail "rotate kept the token"
refused_everywhere "$WORK/old-token" "the old token" rotated
works_everywhere "the rotated token"
pass "a wrong token: never paired at the relay (exit 69), rejected on the direct port (exit 77); after rotate the old one: told 'rotated' on both (exit 77); both: password refused on the SSH socket (255), no session; the right and the new token work on all three"

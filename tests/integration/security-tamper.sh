#!/bin/bash
# Tampering at the relay: tamper-proxy.py sits between the relay and both
# the daemon and kairos-bridge, and in every connection flips a bit, drops
# bytes, duplicates bytes or swaps two runs of bytes (in turn) at a random
# point 4 KiB to 200 KiB in. Many SSH sessions through the bridge upload
# 512 KiB to a shell and then download 512 KiB, or only download. Every tunnel ends
# with an integrity error logged by the daemon or the bridge; what reached
# the shell and what reached ssh are untouched prefixes of what was sent;
# OpenSSH never saw a corrupted packet (no MAC error: nothing tampered got
# through the tunnel); and afterwards the same bridge and daemon serve
# sessions byte for byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-security.sh"

SESSIONS=${SECURITY_TAMPER_SESSIONS:-40}
start_relay_proxy --tamper "${SECURITY_TAMPER_SEED:-$$}" --min 4096 --max 204800 --stop-file "$WORK/stop-tampering"
start_recovery
head -c 512K /dev/urandom >"$WORK/up.bin"
head -c 512K /dev/urandom >"$WORK/down.bin"
start_bridge bridge.log --token-file "$RUN/token" --relay-only --timeout 60
wait_log "$WORK/bridge.log" "SSH server reachable" 90

integrity_errors() {
	cat "$WORK/recovery.log" "$WORK/bridge.log" |
		grep -c "a record failed authentication\|a record with an impossible length\|in the middle of a record (truncated)" || true
}

for i in $(seq "$SESSIONS"); do
	before=$(integrity_errors)
	rc=0
	# Odd sessions upload then download, even ones only download: the
	# tampering hits either direction.
	up="$WORK/up.bin"
	[ $((i % 2)) = 1 ] || up=/dev/null
	ssh_bridge bridge.log -o ServerAliveInterval=5 -o ServerAliveCountMax=6 "cat >$WORK/got.$i; cat $WORK/down.bin" \
		<"$up" >"$WORK/out.$i" 2>"$WORK/err.$i" || rc=$?
	# 255: the tunnel broke under ssh. 0 only if the tampering hit the
	# last bytes, after everything ssh needed had arrived intact.
	if [ "$rc" = 0 ]; then
		cmp -s "$WORK/out.$i" "$WORK/down.bin" || fail "session $i succeeded with a wrong download"
		echo "# session $i: tampered after its last SSH bytes"
	fi
	[ "$rc" = 255 ] || [ "$rc" = 0 ] || fail "session $i ended with $rc, expected ssh's 255 (connection lost): $(cat "$WORK/err.$i")"
	if grep -qi "corrupt\|message authentication code\|bad packet\|padding\|packet length\|invalid packet" "$WORK/err.$i"; then
		fail "session $i: corrupted bytes reached ssh: $(cat "$WORK/err.$i")"
	fi
	more_errors() { [ "$(integrity_errors)" -gt "$before" ]; }
	wait_until 60 "an integrity error logged" more_errors || true
	[ "$(integrity_errors)" -gt "$before" ] || fail "session $i ended without an integrity error logged: $(tail -n 3 "$WORK/bridge.log")"
	# The shell may have been ended before it opened its file.
	touch -a "$WORK/got.$i"
	got=$(stat -c %s "$WORK/got.$i")
	cmp -s -n "$got" "$WORK/got.$i" "$WORK/up.bin" || fail "session $i: what reached the shell differs from what was sent"
	out=$(stat -c %s "$WORK/out.$i")
	cmp -s -n "$out" "$WORK/out.$i" "$WORK/down.bin" || fail "session $i: what reached ssh differs from what was sent"
	echo "# session $i: $got bytes reached the shell, $out reached ssh; $(grep -c "^tampered" "$WORK/proxy.log") tamperings so far"
done
touch "$WORK/stop-tampering"
for mode in flip drop dup reorder; do
	n=$(grep -c "^tampered [0-9]* $mode " "$WORK/proxy.log" || true)
	[ "$n" -ge 2 ] || fail "only $n tamperings of kind $mode: the test proved little"
done
if grep -qi "corrupt\|MAC error\|HMAC\|decrypt" "$WORK/recovery.log"; then
	fail "the SSH server saw corrupted packets: $(grep -i "corrupt\|MAC error\|HMAC\|decrypt" "$WORK/recovery.log" | head -n 2)"
fi

# The same bridge and daemon, with the proxy now passing bytes untouched.
kill -0 "$RECOVERY_PID" || fail "the daemon died"
kill -0 "$BRIDGE_PID" || fail "the bridge died"
good=0
for i in 1 2 3 4 5 6; do
	if ssh_bridge bridge.log -o ServerAliveInterval=5 -o ServerAliveCountMax=6 "cat >$WORK/clean.$i; cat $WORK/down.bin" \
		<"$WORK/up.bin" >"$WORK/clean-out.$i" 2>"$WORK/clean-err.$i" &&
		cmp -s "$WORK/up.bin" "$WORK/clean.$i" && cmp -s "$WORK/down.bin" "$WORK/clean-out.$i"; then
		good=$((good + 1))
	fi
done
[ "$good" = 6 ] || fail "only $good of 6 sessions after the tampering were byte-exact: $(cat "$WORK/clean-err.6")"
[ "$(ssh_tunnel 'echo direct ok')" = "direct ok" ] || fail "no session on the direct path after the tampering"
pass "$SESSIONS tampered sessions ($(for m in flip drop dup reorder; do printf '%s %s ' "$(grep -c "^tampered [0-9]* $m " "$WORK/proxy.log")" $m; done)): every tunnel ended with an integrity error, shell and ssh got only untouched prefixes, no MAC error in ssh; then $good/6 clean sessions byte-exact"

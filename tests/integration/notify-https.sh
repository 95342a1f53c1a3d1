#!/bin/bash
# The code sent out of band (issue 16): kairos-recovery with NotifyKey=,
# NotifyURL= and NotifyCA= seals its code and POSTs it to an HTTPS server
# run by this test (a throwaway CA; the first request is refused with 503,
# so the retry is tested too). The posted body holds neither the token nor
# the password in the clear, nor does the daemon's log; kairos-bridge,
# given the body (a file, standard input, $KAIROS_TOKEN) and the operator's key, opens it, names
# the machine from known_machines, reaches the daemon, and ssh runs a
# command; STATUS= says the first try failed, then "code sent".
# `kairos-recovery rotate` posts a new code, which opens to the new
# token. Refused, with exit 77: a code opened with another operator's key,
# and a code signed by a machine key not in known_machines (unless
# --accept-unknown-machine, which records it). A reload that adds a second
# operator key sends the code at once, one sealed line for each; one that
# sets NotifyFormat=ntfy sends the push form, which opens as it is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
. "$(dirname "$0")/lib-notify.sh"

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg" XDG_CONFIG_HOME="$WORK/config"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

make_test_ca "$WORK/tls" IP:127.0.0.1
start_sink "$WORK/tls" 127.0.0.1 1
operator_keys "$XDG_CONFIG_HOME/kairos-bridge"
[ "$(stat -c %a "$XDG_CONFIG_HOME/kairos-bridge/operator.key")" = 600 ] || fail "the operator's secret key is not 0600"
grep -q "^$OPERATOR_PUB\$" "$XDG_CONFIG_HOME/kairos-bridge.out" || fail "keygen did not print the public key"
rc=0; "$BRIDGE" keygen --output "$XDG_CONFIG_HOME/kairos-bridge" >"$WORK/keygen-again.out" 2>&1 || rc=$?
[ "$rc" = 73 ] || fail "a second keygen into the same folder exited $rc, expected 73 (never overwrite)"
machine_key "$WORK/machine_signing_key"
[ "$(stat -c %a "$WORK/machine_signing_key")" = 600 ] || fail "the machine's secret key is not 0600"
echo "$MACHINE_PUB test-machine" >"$XDG_CONFIG_HOME/kairos-bridge/known_machines"

RECOVERY_NOTIFY_SOCKET="$WORK/notify"
STATUS="$WORK/status"
bg python3 "$srcdir/tests/integration/notify-listen.py" "$RECOVERY_NOTIFY_SOCKET" "$STATUS"
for _ in $(seq 100); do [ -S "$RECOVERY_NOTIFY_SOCKET" ] && break; sleep 0.1; done
start_recovery "NotifyKey=$OPERATOR_PUB" "NotifyURL=https://127.0.0.1:$SINK_PORT/hook" \
	"NotifyCA=$WORK/tls/ca.pem" "MachineKey=$WORK/machine_signing_key"
wait_log "$WORK/recovery.log" "trying again in" 30
wait_post "$WORK/tls" 1 60
wait_log "$WORK/recovery.log" "Sealed code delivered" 30
grep -q "sending code failed (try 1), next in 2s" "$STATUS" || fail "STATUS= did not say the first try failed: $(tail -n 3 "$STATUS")"
wait_log "$STATUS" "· code sent" 30
TOKEN=$(cat "$RUN/token")
body="$WORK/tls/posts/post-1.txt"
grep -q '^KAIROS-SEALED:[A-Z2-7]*$' "$body" || fail "the posted body is not a sealed code a line: $(head -c 300 "$body")"
grep -q "text/plain" "$WORK/tls/posts/post-1.headers" || fail "the plain body is not sent as text/plain"
for secret in "$TOKEN" "${TOKEN#KAIROS:}" "$PASSWORD"; do
	grep -qF -- "$secret" "$body" && fail "the posted body holds a secret in the clear"
	grep -qF -- "$secret" "$WORK/recovery.log" && fail "the daemon's log holds a secret in the clear"
done

# open_body BODY LOG [ARGS...]: the bridge on the body (a file: what a webhook
# stored); sets BRIDGE_PID.
open_body() {
	local body=$1 log=$2
	shift 2
	LISTEN_PORT=$(free_port)
	bg "$BRIDGE" --token-file "$body" --direct-only --direct "127.0.0.1:$TUNNEL_PORT" --listen "127.0.0.1:$LISTEN_PORT" \
		--timeout 30 "$@" >"$log" 2>&1
	BRIDGE_PID=$LAST_PID
	wait_log "$log" "SSH server reachable at" 40
}

open_body "$body" "$WORK/bridge-1.log"
grep -q 'Sealed code from machine "test-machine"' "$WORK/bridge-1.log" || fail "the bridge does not name the machine from known_machines: $(head -n 3 "$WORK/bridge-1.log")"
grep -q "Reason: recovery mode chosen at boot" "$WORK/bridge-1.log" || fail "the bridge does not say the reason"
pw=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge-1.log")
[ "$pw" = "$PASSWORD" ] || fail "the bridge says password '$pw', the daemon '$PASSWORD'"
cmd=$(printed_ssh_command "$WORK/bridge-1.log")
# shellcheck disable=SC2086
out=$(sshpass -p "$pw" $cmd -o StrictHostKeyChecking=yes 'echo opened from the webhook' 2>"$WORK/ssh.err") ||
	fail "ssh through the bridge failed: $(cat "$WORK/ssh.err")"
[ "$out" = "opened from the webhook" ] || fail "ssh said '$out'"
kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true

# Another operator's key: exit 77, and it says so.
"$BRIDGE" keygen --output "$WORK/other" >/dev/null 2>&1 || fail "keygen --output failed"
rc=0; "$BRIDGE" --operator-key "$WORK/other/operator.key" --show-token --token-file "$body" >"$WORK/other.log" 2>&1 || rc=$?
[ "$rc" = 77 ] || fail "a code opened with another operator's key exited $rc, expected 77: $(cat "$WORK/other.log")"
grep -q "for another operator key" "$WORK/other.log" || fail "the wrong key is not named: $(cat "$WORK/other.log")"

# An unknown signer: exit 77 with what the signature proves; accepted only when asked.
rc=0; "$BRIDGE" --known-machines "$WORK/empty_known" --show-token --token-file "$body" >"$WORK/unknown.log" 2>&1 || rc=$?
[ "$rc" = 77 ] || fail "a code from an unknown machine key exited $rc, expected 77"
grep -q "anyone who could read that machine's /boot" "$WORK/unknown.log" || fail "the refusal does not say what the signature proves: $(cat "$WORK/unknown.log")"
"$BRIDGE" --known-machines "$WORK/empty_known" --accept-unknown-machine --show-token --token-file "$body" >"$WORK/accept.log" 2>&1 ||
	fail "--accept-unknown-machine did not accept: $(cat "$WORK/accept.log")"
grep -q "^$MACHINE_PUB " "$WORK/empty_known" || fail "--accept-unknown-machine did not record the key"
# Standard input and $KAIROS_TOKEN holding the body work as well.
"$BRIDGE" --token - --show-token <"$body" >"$WORK/stdin.log" 2>&1 || fail "a sealed code on standard input: $(cat "$WORK/stdin.log")"
grep -q "^password:  $PASSWORD\$" "$WORK/stdin.log" || fail "the code on standard input does not give the password"
KAIROS_TOKEN=$(cat "$body") "$BRIDGE" --show-token >"$WORK/env.log" 2>&1 || fail "a sealed code in \$KAIROS_TOKEN: $(cat "$WORK/env.log")"
grep -q "^password:  $PASSWORD\$" "$WORK/env.log" || fail "the code in \$KAIROS_TOKEN does not give the password"

# rotate: a new code is posted, and opens to the new token.
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null 2>&1 || fail "kairos-recovery rotate failed"
read_state
wait_post "$WORK/tls" 2 60
body2="$WORK/tls/posts/post-2.txt"
cmp -s "$body" "$body2" && fail "rotate posted the same code again"
open_body "$body2" "$WORK/bridge-2.log"
pw=$(sed -n 's/.*SSH access password is //p' "$WORK/bridge-2.log")
[ "$pw" = "$PASSWORD" ] || fail "after rotate the bridge says password '$pw', the daemon '$PASSWORD'"
cmd=$(printed_ssh_command "$WORK/bridge-2.log")
# shellcheck disable=SC2086
out=$(sshpass -p "$pw" $cmd -o StrictHostKeyChecking=yes 'echo rotated' 2>"$WORK/ssh2.err") ||
	fail "ssh after rotate failed: $(cat "$WORK/ssh2.err")"
[ "$out" = rotated ] || fail "ssh after rotate said '$out'"
kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true

# A reload that adds an operator key sends the code at once, one line each.
echo "NotifyKey=$(cat "$WORK/other/operator.pub")" >>"$WORK/recovery.conf"
kill -HUP "$(cat "$RUN/pid")"
wait_post "$WORK/tls" 3 60
[ "$(grep -c '^KAIROS-SEALED:' "$WORK/tls/posts/post-3.txt")" = 2 ] || fail "two operator keys, but not two sealed codes in the body"
for k in "$XDG_CONFIG_HOME/kairos-bridge/operator.key" "$WORK/other/operator.key"; do
	"$BRIDGE" --operator-key "$k" --show-token --token-file "$WORK/tls/posts/post-3.txt" >"$WORK/two.log" 2>&1 ||
		fail "the body for two operators does not open with $k: $(cat "$WORK/two.log")"
	grep -q "^password:  $PASSWORD\$" "$WORK/two.log" || fail "the code for $k does not give the password"
done

# The ntfy form: a sentence for a person, the codes, ntfy's headers; it
# opens as it is.
echo "NotifyFormat=ntfy" >>"$WORK/recovery.conf"
kill -HUP "$(cat "$RUN/pid")"
wait_post "$WORK/tls" 4 60
grep -q "^Title: kairos" "$WORK/tls/posts/post-4.headers" && grep -q "^Priority: high" "$WORK/tls/posts/post-4.headers" ||
	fail "the ntfy form lacks its Title:/Priority: headers: $(cat "$WORK/tls/posts/post-4.headers")"
head -n 1 "$WORK/tls/posts/post-4.txt" | grep -q "Paste this message into kairos-bridge" || fail "the ntfy body does not start with its sentence"
"$BRIDGE" --show-token --token-file "$WORK/tls/posts/post-4.txt" >"$WORK/ntfy.log" 2>&1 || fail "the ntfy body does not open: $(cat "$WORK/ntfy.log")"
pass "sealed code POSTed over HTTPS (after a 503), opened by the bridge from stdin, ssh ran; rotate posted a new one; wrong key and unknown machine refused (77)"

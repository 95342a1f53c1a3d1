#!/bin/bash
# The initiator reaches the relay through a real HTTP CONNECT proxy
# (tinyproxy) named only by https_proxy; http_proxy, which libcurl would
# use for an http:// URL and which would get our handshake raw, is set to
# a dead port and must be ignored. With no_proxy naming the relay, the
# proxy is not used. A proxy that wants a user and password (tinyproxy's
# BasicAuth) is reached with the ones in the URL, and the bridge, refused
# with a wrong one or given a URL libcurl would misread, says so without
# ever showing the password or a piece of it.
. "$(dirname "$0")/lib.sh"
need tinyproxy

start_relay
new_token "$WORK/token" "$RELAY"
proxy_port=$(free_port)
cat >"$WORK/tinyproxy.conf" <<CONF
Port $proxy_port
Listen 127.0.0.1
Timeout 60
LogFile "$WORK/tinyproxy.log"
LogLevel Info
PidFile "$WORK/tinyproxy.pid"
MaxClients 20
Allow 127.0.0.1
CONF
touch "$WORK/tinyproxy.log"
chmod 777 "$WORK" && chmod 666 "$WORK/tinyproxy.log"
bg tinyproxy -d -c "$WORK/tinyproxy.conf"
wait_port "$proxy_port"
bg "$TUNNEL" respond --token-file "$WORK/token" -- sh -c 'read -r l; echo "got $l"' >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"
dead=$(free_port)

out=$(echo one | env -u no_proxy -u NO_PROXY -u all_proxy -u ALL_PROXY -u HTTPS_PROXY \
	https_proxy="http://127.0.0.1:$proxy_port" http_proxy="http://127.0.0.1:$dead" \
	timeout 30 "$TUNNEL" initiate --token-file "$WORK/token" 2>"$WORK/initiate.log") ||
	fail "the initiator could not get through the proxy"
[ "$out" = "got one" ] || fail "through the proxy the initiator got '$out'"
grep -q "CONNECT.*127.0.0.1:$RELAY_PORT" "$WORK/tinyproxy.log" ||
	fail "tinyproxy did not see a CONNECT to the relay: $(tail -n 3 "$WORK/tinyproxy.log")"
before=$(grep -c "CONNECT" "$WORK/tinyproxy.log")

out=$(echo two | env https_proxy="http://127.0.0.1:$proxy_port" no_proxy="127.0.0.1" http_proxy="http://127.0.0.1:$dead" \
	timeout 30 "$TUNNEL" initiate --token-file "$WORK/token" 2>"$WORK/initiate2.log") ||
	fail "with no_proxy naming the relay the initiator failed"
[ "$out" = "got two" ] || fail "with no_proxy the initiator got '$out'"
after=$(grep -c "CONNECT" "$WORK/tinyproxy.log")
[ "$after" = "$before" ] || fail "the proxy was used although no_proxy names the relay ($before -> $after CONNECTs)"

# A proxy with a user and password. Given only through the environment,
# never in an argv (a prefix assignment, not env(1)).
auth_port=$(free_port)
PROXY_PASSWORD="pr0xy-pw-$$-$RANDOM"
sed -e "s/^Port .*/Port $auth_port/" -e "s|tinyproxy.log|tinyproxy-auth.log|" -e "s|tinyproxy.pid|tinyproxy-auth.pid|" \
	"$WORK/tinyproxy.conf" >"$WORK/tinyproxy-auth.conf"
echo "BasicAuth kuser $PROXY_PASSWORD" >>"$WORK/tinyproxy-auth.conf"
touch "$WORK/tinyproxy-auth.log" && chmod 666 "$WORK/tinyproxy-auth.log"
bg tinyproxy -d -c "$WORK/tinyproxy-auth.conf"
wait_port "$auth_port"
unset no_proxy NO_PROXY all_proxy ALL_PROXY HTTPS_PROXY
out=$(echo three | https_proxy="http://kuser:$PROXY_PASSWORD@127.0.0.1:$auth_port" \
	timeout 30 "$TUNNEL" initiate --token-file "$WORK/token" 2>"$WORK/initiate3.log") ||
	fail "the initiator could not get through the proxy with its user and password"
[ "$out" = "got three" ] || fail "through the proxy with a password the initiator got '$out'"

# What the bridge says when the proxy refuses it (407), and when the
# password holds an unescaped '@' and '/' (libcurl would take a piece of it
# for the proxy's host name, print it and look it up).
bridge_through() { # LOG PROXY-URL
	local rc=0
	https_proxy="$2" timeout 30 "$builddir/kairos-bridge" --token-file "$WORK/token" --relay-only --timeout 3 \
		--listen "127.0.0.1:$(free_port)" >"$WORK/$1" 2>&1 || rc=$?
	[ "$rc" = 69 ] || fail "the bridge through $1's proxy exited $rc, not 69 (not reachable)"
}
echo "wrong-$PROXY_PASSWORD" >"$WORK/proxy-secrets"
echo "$PROXY_PASSWORD" >>"$WORK/proxy-secrets"
bridge_through bridge-407.log "http://kuser:wrong-$PROXY_PASSWORD@127.0.0.1:$auth_port"
grep -q "kuser:\*\*\*@127.0.0.1:$auth_port" "$WORK/bridge-407.log" ||
	fail "the bridge did not name the proxy (without its password): $(tail -n 1 "$WORK/bridge-407.log")"
printf 'frag-one-%s\nfrag-two-%s\nfrag-three-%s\n' $$ $$ $$ >>"$WORK/proxy-secrets"
bridge_through bridge-odd.log "http://kuser:frag-one-$$@frag-two-$$/frag-three-$$@127.0.0.1:$auth_port"
grep -q "%40" "$WORK/bridge-odd.log" || fail "the bridge did not say how to write the password: $(tail -n 1 "$WORK/bridge-odd.log")"
for log in bridge-407.log bridge-odd.log; do
	if grep -F -f "$WORK/proxy-secrets" "$WORK/$log" >/dev/null; then
		fail "$log shows the proxy's password or a piece of it"
	fi
done
pass "relay reached through https_proxy (CONNECT seen), with the proxy's user and password, and directly when no_proxy names it; no proxy password in the bridge's messages"

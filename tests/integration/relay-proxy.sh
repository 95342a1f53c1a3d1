#!/bin/bash
# The initiator reaches the relay through a real HTTP CONNECT proxy
# (tinyproxy) named only by https_proxy; http_proxy, which libcurl would
# use for an http:// URL and which would get our handshake raw, is set to
# a dead port and must be ignored. With no_proxy naming the relay, the
# proxy is not used.
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
pass "relay reached through https_proxy (CONNECT seen), and directly when no_proxy names it"

#!/bin/bash
# The relay's head start for the direct path (dial.c), as the person at the
# bridge sees it in the progress lines:
# - a direct address that drops packets silently (a listener whose accept
#   queue is full: the kernel drops the SYNs without a word) delays the
#   relay by about 100 ms, not the whole 250 ms head start, and the relay
#   gets through;
# - a direct address that refuses the connection lets the relay start at once.
# The bounds leave room for a loaded machine; the gaps are measured between
# the progress lines as they arrive.
. "$(dirname "$0")/lib.sh"

start_relay
new_token "$WORK/token" "$RELAY"
bg "$TUNNEL" respond --token-file "$WORK/token" -- sh -c 'read -r l; echo "got $l"' >"$WORK/respond.log" 2>&1
wait_log "$WORK/respond.log" "Waiting on 4 of 4 relay slots"

# A black hole on loopback: backlog 0 and two connections never accepted.
hole=$(free_port)
bg python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $hole)); s.listen(0)
c = []
for _ in range(2):
    k = socket.socket(); k.setblocking(False); k.connect_ex(('127.0.0.1', $hole)); c.append(k)
time.sleep(1)
print('full', flush=True)
time.sleep(600)" >"$WORK/hole.log" 2>&1
wait_log "$WORK/hole.log" full
refused=$(free_port)

# Runs an initiator against DIRECT; prints the ms from "trying direct" to
# "trying relay", and checks that the relay carried the line.
gap() { # DIRECT
	python3 - "$TUNNEL" "$WORK/token" "$1" <<'PY'
import subprocess, sys, time
tunnel, token, direct = sys.argv[1:]
p = subprocess.Popen([tunnel, "initiate", "--token-file", token, "--no-token-addresses", "--direct", direct,
                      "--timeout", "20"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
t_direct = t_relay = None
lines = []
for line in p.stderr:
    line = line.decode(errors="replace")
    lines.append(line)
    if "trying direct" in line and t_direct is None:
        t_direct = time.monotonic()
    if "trying relay" in line and t_relay is None:
        t_relay = time.monotonic()
    if "Reachable via" in line:
        break
out, err = p.communicate(b"ping\n", timeout=30)
lines.append(err.decode(errors="replace"))
if out.strip() != b"got ping" or t_direct is None or t_relay is None:
    sys.exit("no tunnel through the relay (stdout %r):\n%s" % (out, "".join(lines)))
if "Reachable via relay" not in "".join(lines):
    sys.exit("not reached through the relay:\n%s" % "".join(lines))
print("%.0f" % ((t_relay - t_direct) * 1000))
PY
}

for i in 1 2 3; do
	g=$(gap "127.0.0.1:$hole") || fail "silently dropping direct address, attempt $i: $g"
	echo "# silent drop: relay tried $g ms after direct"
	[ "$g" -ge 80 ] || fail "the relay started $g ms after the direct attempt: the direct path got no head start"
	[ "$g" -le 220 ] || fail "the relay started $g ms after a silently dropping direct attempt, expected about 100 (not the full 250 ms head start)"
	g=$(gap "127.0.0.1:$refused") || fail "refusing direct address, attempt $i: $g"
	echo "# refused: relay tried $g ms after direct"
	[ "$g" -le 80 ] || fail "the relay started $g ms after the direct attempt was refused, expected at once"
done
pass "direct silently dropped: relay after about 100 ms and through; direct refused: relay at once (3 of 3 each)"

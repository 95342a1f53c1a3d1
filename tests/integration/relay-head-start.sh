#!/bin/bash
# The relay's head start for the direct path (dial.c), as the person at the
# bridge sees it in the progress lines:
# - a direct address that drops packets silently (a listener whose accept
#   queue is full: the kernel drops the SYNs without a word) delays the
#   relay by about 100 ms, not the whole 250 ms head start, and the relay
#   gets through;
# - a direct address that refuses the connection lets the relay start at once.
# The bounds leave room for a loaded machine; the gaps are measured between
# the progress lines as they arrive, the median of five: a reader that is
# scheduled late on one line shortens or lengthens that one gap, and the
# median is not moved by two such.
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

# Runs initiators against DIRECT; prints the median of five gaps, in ms,
# from "trying direct" to "trying relay", each read unbuffered as it comes
# (two lines in one read count as 0), then the three; and checks that the
# relay carried each line.
gap() { # DIRECT
	python3 - "$TUNNEL" "$WORK/token" "$1" <<'PY'
import os, select, statistics, subprocess, sys, time
tunnel, token, direct = sys.argv[1:]

def once():
    p = subprocess.Popen([tunnel, "initiate", "--token-file", token, "--no-token-addresses", "--direct", direct,
                          "--timeout", "20"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fd, buf, t_direct, t_relay, end = p.stderr.fileno(), b"", None, None, time.monotonic() + 30
    while b"Reachable via" not in buf and time.monotonic() < end:
        if not select.select([fd], [], [], 1)[0]:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        now = time.monotonic()
        seen_direct, seen_relay = b"trying direct" in buf, b"trying relay" in buf
        buf += chunk
        if b"trying direct" in buf and not seen_direct:
            t_direct = now
        if b"trying relay" in buf and not seen_relay:
            t_relay = now
    out, err = p.communicate(b"ping\n", timeout=30)
    text = (buf + err).decode(errors="replace")
    if out.strip() != b"got ping" or "Reachable via relay" not in text or t_direct is None or t_relay is None:
        sys.exit("no tunnel through the relay (stdout %r):\n%s" % (out, text))
    return (t_relay - t_direct) * 1000

gaps = [once() for _ in range(5)]
print("%.0f" % statistics.median(gaps), " ".join("%.0f" % g for g in gaps))
PY
}

out=$(gap "127.0.0.1:$hole") || fail "silently dropping direct address: $out"
g=${out%% *}
echo "# silent drop: relay tried $g ms after direct (median of: ${out#* })"
# No head start at all reads as a few ms; about 100 is expected.
[ "$g" -ge 50 ] || fail "the relay started $g ms after the direct attempt: the direct path got no head start"
[ "$g" -le 220 ] || fail "the relay started $g ms after a silently dropping direct attempt, expected about 100 (not the full 250 ms head start)"
out=$(gap "127.0.0.1:$refused") || fail "refusing direct address: $out"
g=${out%% *}
echo "# refused: relay tried $g ms after direct (median of: ${out#* })"
[ "$g" -le 80 ] || fail "the relay started $g ms after the direct attempt was refused, expected at once"
pass "direct silently dropped: relay after about 100 ms and through; direct refused: relay at once (medians of 5)"

#!/bin/bash
# kairos-bridge as an operator uses it at 3 a.m. (issue 15): malformed
# --relay/--direct/--listen refused when read (64, with the form); after
# kairos-recovery rotate, an ssh connection through a running bridge ends
# at once with "read the new QR code"; Ctrl-C while connecting exits 130;
# with a session open the first Ctrl-C only warns and a second ends it;
# SIGTERM is immediate; --json events drive ssh; --listen 127.0.0.1:0 and a
# Unix socket; --ssh-config pins the host key with ssh's ProxyCommand and
# nothing lands in ~/.ssh/known_hosts; relative picture paths, the
# password file removed at the end, $XDG_CACHE_HOME.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"
need nc python3

BRIDGE="$builddir/kairos-bridge"
export HOME="$WORK/home"
mkdir -p "$HOME/.ssh"
export XDG_RUNTIME_DIR="$WORK/xdg"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset XDG_CACHE_HOME

expect() { # CODE PATTERN ARGS...
	local code=$1 pattern=$2 rc=0
	shift 2
	"$BRIDGE" "$@" >"$WORK/bad.out" 2>&1 || rc=$?
	[ "$rc" = "$code" ] || fail "kairos-bridge $* exited with $rc, expected $code: $(tail -n 2 "$WORK/bad.out")"
	grep -q -- "$pattern" "$WORK/bad.out" || fail "kairos-bridge $*: no message matching '$pattern': $(cat "$WORK/bad.out")"
}

# (a) Malformed paths are refused when read, before any token is needed.
expect 64 "give tcp:HOST:PORT" --relay 127.0.0.1:4001 --token-file /nonexistent
expect 64 "give HOST:PORT" --direct 192.0.2.7 --token-file /nonexistent
expect 64 "give HOST:PORT" --direct "[2001:db8::1]" --token-file /nonexistent
expect 64 "give ADDR:PORT" --listen 2200 --token-file /nonexistent
expect 64 "give ADDR:PORT" --stdio --listen localhost --token-file /nonexistent

start_recovery

start_bridge() { # LOG ARGS...
	local log=$1
	shift
	bg "$BRIDGE" --qr-code-image "$RUN/qr.png" --timeout 120 --direct "127.0.0.1:$TUNNEL_PORT" "$@" >"$log.json" 2>"$log"
	BRIDGE_PID=$LAST_PID
	wait_log "$log" "SSH server reachable at" 60
}

# (b) --json, --listen 127.0.0.1:0: the events carry what a script needs.
start_bridge "$WORK/json.log" --json --listen 127.0.0.1:0
wait_log "$WORK/json.log.json" '"event":"ssh-command"' 10
python3 - "$WORK/json.log.json" "$WORK" <<'PY' || fail "the --json events are not what a script needs: $(cat "$WORK/json.log.json")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
by = {e["event"]: e for e in events}
for name in ("connecting", "reachable", "password", "ssh-command"):
    assert name in by, name
listen = by["reachable"]["listen"]
assert listen.startswith("127.0.0.1:") and not listen.endswith(":0"), listen
argv = by["ssh-command"]["argv"]
assert argv[0] == "ssh" and argv[argv.index("-p") + 1] == listen.split(":")[1], argv
open(sys.argv[2] + "/json.password", "w").write(by["password"]["password"] + "\n")
open(sys.argv[2] + "/json.argv", "w").write("\n".join(argv) + "\n")
PY
[ "$(cat "$WORK/json.password")" = "$PASSWORD" ] || fail "--json gave password $(cat "$WORK/json.password"), the daemon shows $PASSWORD"
mapfile -t argv <"$WORK/json.argv"
out=$(sshpass -f "$WORK/json.password" "${argv[@]}" -o StrictHostKeyChecking=yes 'echo json-ok' 2>"$WORK/ssh.err") ||
	fail "the ssh argv from --json failed: $(cat "$WORK/ssh.err")"
[ "$out" = json-ok ] || fail "ssh from --json said '$out'"
wait_log "$WORK/json.log.json" '"event":"sessions","open":1' 10
wait_log "$WORK/json.log.json" '"event":"sessions","open":0' 10
[ ! -s "$HOME/.ssh/known_hosts" ] || fail "the printed ssh command wrote ~/.ssh/known_hosts"

# (c) Ctrl-C with a session open: the first only warns, the session goes
# on; the second ends it. SIGTERM later is immediate.
sshpass -f "$WORK/json.password" "${argv[@]}" 'echo started; sleep 600' >"$WORK/long.out" 2>&1 &
SSH_PID=$!
PIDS="$PIDS $SSH_PID"
wait_log "$WORK/long.out" "^started" 30
kill -INT "$BRIDGE_PID"
wait_log "$WORK/json.log" "Press Ctrl-C again" 20
kill -0 "$BRIDGE_PID" 2>/dev/null || fail "the first Ctrl-C with a session open ended the bridge"
kill -0 "$SSH_PID" 2>/dev/null || fail "the first Ctrl-C with a session open ended the session"
grep -q '"event":"interrupted","open":1' "$WORK/json.log.json" || fail "no interrupted event with 1 session"
kill -INT "$BRIDGE_PID"
rc=0; wait "$BRIDGE_PID" || rc=$?
[ "$rc" = 0 ] || fail "the second Ctrl-C ended the bridge with $rc, expected 0"
rc=0; wait "$SSH_PID" || rc=$?
[ "$rc" != 0 ] || fail "the session survived the bridge"
grep -q '"event":"stopped","exit":0' "$WORK/json.log.json" || fail "no stopped event"

# (d) A Unix socket for --listen; SIGTERM with a session open is immediate.
sock="$WORK/bridge.sock"
start_bridge "$WORK/unix.log" --listen "$sock"
[ -S "$sock" ] || fail "no socket at $sock"
[ "$(stat -c %a "$sock")" = 600 ] || fail "the socket is mode $(stat -c %a "$sock"), expected 600"
cmd=$(sed -n 's/^ INFO     \(ssh .*\)$/\1/p' "$WORK/unix.log")
case "$cmd" in *"ProxyCommand=nc -U $sock"*) ;; *) fail "unexpected ssh command for a Unix socket: '$cmd'" ;; esac
sshpass -f "$WORK/json.password" bash -c "$cmd -o StrictHostKeyChecking=yes 'echo unix-ok; sleep 600'" >"$WORK/unix.out" 2>&1 &
SSH_PID=$!
PIDS="$PIDS $SSH_PID"
wait_log "$WORK/unix.out" "^unix-ok" 30
kill -TERM "$BRIDGE_PID"
rc=0; wait "$BRIDGE_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM with a session open ended the bridge with $rc, expected 0"
grep -q "Press Ctrl-C again" "$WORK/unix.log" && fail "SIGTERM was treated as a Ctrl-C"
[ ! -e "$sock" ] || fail "the socket $sock was left behind"

# (e) --ssh-config: ssh through --stdio with the host key pinned, and
# nothing in ~/.ssh/known_hosts; the picture's relative path made absolute.
mkdir -p "$WORK/photos" && cp "$RUN/qr.png" "$WORK/photos/screen.png"
(cd "$WORK/photos" && "$BRIDGE" --ssh-config rescue --qr-code-image screen.png --direct "127.0.0.1:$TUNNEL_PORT" --direct-only) \
	>"$WORK/ssh_config" 2>"$WORK/ssh-config.err" || fail "--ssh-config failed: $(cat "$WORK/ssh-config.err")"
grep -q "^Host rescue$" "$WORK/ssh_config" || fail "no Host block: $(cat "$WORK/ssh_config")"
grep -q -- "--qr-code-image $WORK/photos/screen.png" "$WORK/ssh_config" || fail "the picture's path is not absolute: $(cat "$WORK/ssh_config")"
for i in 1 2; do
	out=$(sshpass -f "$WORK/json.password" ssh -F "$WORK/ssh_config" rescue "echo stdio-$i" 2>"$WORK/stdio.err") ||
		fail "ssh through --ssh-config failed ($i): $(cat "$WORK/stdio.err")"
	[ "$out" = "stdio-$i" ] || fail "ssh through --ssh-config said '$out'"
done
grep -qi "warning\|added" "$WORK/stdio.err" && fail "ssh warned about the host key: $(cat "$WORK/stdio.err")"
[ ! -s "$HOME/.ssh/known_hosts" ] || fail "ssh through --ssh-config wrote ~/.ssh/known_hosts: $(cat "$HOME/.ssh/known_hosts")"
# ssh checked the key with StrictHostKeyChecking=yes and no known_hosts
# file at all: it came from the --stdio bridge, through KnownHostsCommand.
kh="$XDG_RUNTIME_DIR/kairos-bridge/known_hosts"
grep -q "^kairos-rescue " "$kh" || fail "the --stdio bridge stored no key under kairos-rescue"

# (f) kairos-recovery rotate under a running bridge: the next ssh ends at
# once (well before the bridge's 120 s --timeout), the user is told to
# read the new code, and the bridge, with no session open, exits 77.
start_bridge "$WORK/rotate.log" --listen "127.0.0.1:$(free_port)"
mapfile -t cmd < <(printed_ssh_command "$WORK/rotate.log" | tr ' ' '\n')
sshpass -f "$WORK/json.password" "${cmd[@]}" true 2>"$WORK/ssh.err" || fail "ssh before the rotation failed: $(cat "$WORK/ssh.err")"
RUNTIME_DIRECTORY="$RUN" "$RECOVERY" --config "$WORK/recovery.conf" rotate >/dev/null || fail "rotate failed"
rc=0
timeout 60 sshpass -f "$WORK/json.password" "${cmd[@]}" true 2>"$WORK/ssh.err" || rc=$?
[ "$rc" != 124 ] || fail "ssh through a bridge with a rotated token hung"
[ "$rc" != 0 ] || fail "ssh through a bridge with a rotated token succeeded"
wait_log "$WORK/rotate.log" "the token was rotated: read the new code" 10
# No session open through it: the bridge has nothing left to carry.
bridge_gone() { ! kill -0 "$BRIDGE_PID" 2>/dev/null; }
wait_until 30 "the bridge to exit after the rotation" bridge_gone || fail "the bridge went on after the rotation"
rc=0; wait "$BRIDGE_PID" || rc=$?
[ "$rc" = 77 ] || fail "the bridge exited $rc after the machine said the token was rotated, expected 77"
read_state

# (g) Ctrl-C while still connecting: 130, not 0. The token's relay is one
# where nobody waits. Under systemd, STATUS= says what is being tried.
"$TUNNEL" new-token --relay "$RELAY" >"$WORK/nobody"
bg python3 "$srcdir/tests/integration/notify-listen.py" "$WORK/notify.sock" "$WORK/status"
wait_log_socket() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done; fail "no $1"; }
wait_log_socket "$WORK/notify.sock"
NOTIFY_SOCKET="$WORK/notify.sock" bg "$BRIDGE" --token-file "$WORK/nobody" --listen "127.0.0.1:0" --timeout 120 \
	>"$WORK/connecting.log" 2>&1
BRIDGE_PID=$LAST_PID
wait_log "$WORK/connecting.log" "Connecting to the recovery machine" 20
wait_log "$WORK/status" "^Connecting: trying relay tcp:127.0.0.1:$RELAY_PORT" 20
kill -INT "$BRIDGE_PID"
rc=0; wait "$BRIDGE_PID" || rc=$?
[ "$rc" = 130 ] || fail "Ctrl-C while connecting exited $rc, expected 130"

# The final error names the most telling cause: an address that accepted
# and never answered, not the stale one that refuses (tried as well, and
# failing later and more often). As JSON too, with the exit status; -q
# leaves only the error on stderr.
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); c=[]
while True: c.append(s.accept())" >"$WORK/silent-port" &
PIDS="$PIDS $!"
wait_log "$WORK/silent-port" "^[0-9]"
silent=$(head -n 1 "$WORK/silent-port")
rc=0
"$BRIDGE" --json -q --token-file "$WORK/nobody" --direct-only --direct "127.0.0.1:$silent" --direct "127.0.0.1:$(free_port)" \
	--listen 127.0.0.1:0 --timeout 15 >"$WORK/cause.json" 2>"$WORK/cause.log" || rc=$?
[ "$rc" = 69 ] || fail "no path: exit $rc, expected 69"
grep -q "not reachable: direct 127.0.0.1:$silent: accepted the connection, then never answered" "$WORK/cause.log" ||
	fail "the final error does not name the silent machine: $(cat "$WORK/cause.log")"
grep -q " INFO " "$WORK/cause.log" && fail "-q still printed INFO lines"
grep -q '"event":"error","message":"The recovery machine is not reachable' "$WORK/cause.json" || fail "no JSON error event: $(cat "$WORK/cause.json")"
grep -q '"event":"stopped","exit":69' "$WORK/cause.json" || fail "no JSON stopped event with 69"

# (h) Under systemd: the password goes to a file, removed at the end;
# with no $XDG_RUNTIME_DIR, $XDG_CACHE_HOME holds the bridge's files.
touch "$WORK/journal.log"
stream=$(stat -c '%d:%i' "$WORK/journal.log")
(unset XDG_RUNTIME_DIR; export XDG_CACHE_HOME="$WORK/cache"
	exec env JOURNAL_STREAM="$stream" "$BRIDGE" --token-file "$RUN/token" --direct "127.0.0.1:$TUNNEL_PORT" \
		--listen 127.0.0.1:0 --json >"$WORK/journal.json" 2>>"$WORK/journal.log") &
BRIDGE_PID=$!
PIDS="$PIDS $BRIDGE_PID"
wait_log "$WORK/journal.json" '"event":"password"' 60
pwfile=$(python3 -c 'import json,sys; print([e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "password"][0]["file"])' "$WORK/journal.json")
case "$pwfile" in "$WORK/cache/kairos-bridge/"*.password) ;; *) fail "the password file is $pwfile, not under \$XDG_CACHE_HOME" ;; esac
[ "$(cat "$pwfile")" = "$PASSWORD" ] || fail "the password file holds '$(cat "$pwfile")'"
[ "$(stat -c %a "$pwfile")" = 600 ] || fail "the password file is mode $(stat -c %a "$pwfile")"
kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" || true
[ ! -e "$pwfile" ] || fail "the password file $pwfile outlived the bridge"

# (i) No token on a terminal: the bridge asks, and one line is enough.
python3 - "$BRIDGE" "$RUN/token" >"$WORK/prompt.out" 2>&1 <<'PY' || fail "no prompt for the token on a terminal: $(cat "$WORK/prompt.out")"
import os, pty, select, sys, time
bridge, token = sys.argv[1], open(sys.argv[2]).read().strip()
for args in ([bridge, "--show-token"], [bridge, "--token", "-", "--show-token"]):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(bridge, args)
    out, asked, deadline = b"", False, time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not asked and b"Enter the token" in out:
            os.write(fd, token.encode() + b"\n")  # no Ctrl-D: the line ends it
            asked = True
    _, status = os.waitpid(pid, 0)
    print(out.decode(errors="replace"))
    assert asked, "no prompt"
    assert os.WEXITSTATUS(status) == 0 and b"service:" in out, "exit %d" % os.WEXITSTATUS(status)
PY
pass "bad --relay/--direct/--listen 64; --json drives ssh (port 0); Ctrl-C warns then ends, SIGTERM at once; Unix socket; --ssh-config pins, ~/.ssh untouched; rotate ends ssh at once; Ctrl-C connecting 130; password file removed, XDG_CACHE_HOME; token prompt"

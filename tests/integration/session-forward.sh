#!/bin/bash
# direct-tcpip through the session helper with OpenSSH's ssh: -L to a local
# web server (sequential and concurrent fetches, byte-exact), -W to it and
# to an echo server (8 MiB both ways: end of stream passed on in both
# directions), a name that needs resolving, and targets that refuse.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"
need python3 cmp

session_setup
start_server

mkdir "$WORK/www"
head -c 4M /dev/urandom >"$WORK/www/file"
http_port=$(free_port)
bg python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$http_port" >"$WORK/http.log" 2>&1
wait_port "$http_port"
cat >"$WORK/echo.py" <<'EOF'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
echo_port=$(free_port)
bg python3 "$WORK/echo.py" "$echo_port" >"$WORK/echo.log" 2>&1
wait_port "$echo_port"
closed_port=$(free_port)

fetch() { # PORT OUT
	python3 -c 'import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen("http://127.0.0.1:%s/file" % sys.argv[1], timeout=30).read())' "$1" >"$2"
}

# -L: the forward is made once, each connection is a channel.
local_port=$(free_port)
bad_port=$(free_port)
sshpass -f "$WORK/password" ssh -F "$WORK/ssh_config" -N -o ExitOnForwardFailure=yes \
	-L "127.0.0.1:$local_port:127.0.0.1:$http_port" -L "127.0.0.1:$bad_port:127.0.0.1:$closed_port" \
	kairos-test >"$WORK/forward.log" 2>&1 &
forwarder=$!
wait_port "$local_port"
for i in 1 2; do
	fetch "$local_port" "$WORK/got.$i" || fail "fetch $i through -L failed"
	cmp -s "$WORK/www/file" "$WORK/got.$i" || fail "fetch $i through -L: different bytes"
done
for i in 3 4 5; do
	fetch "$local_port" "$WORK/got.$i" &
	eval "f_$i=\$!"
done
for i in 3 4 5; do
	eval "wait \$f_$i" || fail "concurrent fetch $i through -L failed"
	cmp -s "$WORK/www/file" "$WORK/got.$i" || fail "concurrent fetch $i through -L: different bytes"
done
# A target that refuses: that connection fails, the others go on.
if fetch "$bad_port" "$WORK/bad" 2>/dev/null; then
	fail "a fetch through a forward to a closed port succeeded"
fi
fetch "$local_port" "$WORK/got.6" || fail "fetching after a refused forward failed"
cmp -s "$WORK/www/file" "$WORK/got.6" || fail "fetch after a refused forward: different bytes"
kill "$forwarder"
wait "$forwarder" 2>/dev/null || true
grep -q "Cannot open forward to 127.0.0.1 port $closed_port: Connection refused" "$WORK/helper.log" ||
	fail "the helper did not log why the forward to a closed port failed"

# -W: stdin and stdout of ssh are the connection.
printf 'GET /file HTTP/1.0\r\n\r\n' | sssh -W "127.0.0.1:$http_port" kairos-test >"$WORK/w.out" ||
	fail "ssh -W to the web server failed"
tail -c 4194304 "$WORK/w.out" | cmp -s - "$WORK/www/file" || fail "ssh -W: the body differs"
head -n 1 "$WORK/w.out" | grep -q "^HTTP/1.0 200" || fail "ssh -W: no HTTP status line"
# Both ends of the stream: our EOF reaches the echo server, its close
# reaches us, and ssh exits.
head -c 8M /dev/urandom >"$WORK/noise"
sssh -W "localhost:$echo_port" kairos-test <"$WORK/noise" >"$WORK/echoed" || fail "ssh -W to the echo server failed"
cmp -s "$WORK/noise" "$WORK/echoed" || fail "8 MiB through -W and an echo server came back different"
rc=0
sssh -W "127.0.0.1:$closed_port" kairos-test </dev/null >/dev/null 2>"$WORK/w-closed.err" || rc=$?
[ "$rc" = 255 ] || fail "ssh -W to a closed port exited with $rc, expected 255"
grep -q "open failed\|forwarding failed" "$WORK/w-closed.err" ||
	fail "ssh -W to a closed port did not say so: $(cat "$WORK/w-closed.err")"

helpers_done
pass "-L sequential and concurrent, -W to HTTP and to an echo server (8 MiB, EOF both ways), refused targets"

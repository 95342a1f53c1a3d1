#!/bin/bash
# Interactive shells on a pty, driven by OpenSSH's ssh -tt: root's login
# shell on a pseudo-terminal with TERM from the client, the size the
# client's terminal has (under script(1), a real pty of a chosen size), a
# window change passed on while the shell runs, signals from the client,
# and a prompt end when the shell leaves a background job behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"
need script stty

session_setup
start_server

# A login shell fed by a here-document: its own tty, TERM from the pty
# request, the exit status of its last command.
rc=0
TERM=xterm-256color sssh -tt kairos-test >"$WORK/shell.out" 2>&1 <<'EOF' || rc=$?
echo "TTY=$(tty)"
echo "TERM=$TERM"
echo "ZERO=$0"
echo "SSH_TTY=$SSH_TTY"
exit 3
EOF
[ "$rc" = 3 ] || fail "the shell exited with $rc, expected 3: $(tr -d '\r' <"$WORK/shell.out")"
# Without the shell's terminal escapes (bracketed paste mode, prompts).
tr -d '\r' <"$WORK/shell.out" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$WORK/shell.txt"
grep -q '^TTY=/dev/pts/[0-9]*$' "$WORK/shell.txt" || fail "no pty in the shell: $(grep TTY= "$WORK/shell.txt")"
grep -q '^TERM=xterm-256color$' "$WORK/shell.txt" || fail "TERM is not the client's: $(grep TERM= "$WORK/shell.txt")"
grep -q '^ZERO=-' "$WORK/shell.txt" || fail "not a login shell: $(grep ZERO= "$WORK/shell.txt")"
tty=$(sed -n 's/^TTY=//p' "$WORK/shell.txt" | head -n 1)
grep -q "^SSH_TTY=$tty$" "$WORK/shell.txt" || fail "SSH_TTY does not name the session's tty"

# The size of the client's terminal: script(1) gives ssh a real pty, sized
# with stty before ssh starts; a background stty changes it while the
# remote shell runs (once the first size came back: no race with a slow
# login), and the kernel sends ssh SIGWINCH (no job control
# in sh -c: the background stty is in ssh's process group; its stdin is
# /dev/null, as for any background job of a script).
cat >"$WORK/winch.sh" <<EOF
stty rows 33 cols 111
( i=0; until grep -q '33 111' "$WORK/winch.out" || [ \$i -ge 900 ]; do sleep 0.1; i=\$((i + 1)); done
  stty rows 40 cols 100 </dev/tty ) &
sshpass -f "$WORK/password" ssh -F "$WORK/ssh_config" -tt kairos-test \
	'stty size; i=0; while [ "\$(stty size)" = "33 111" ] && [ \$i -lt 900 ]; do sleep 0.1; i=\$((i + 1)); done; stty size; exit 0'
EOF
timeout 180 script -qec "sh $WORK/winch.sh" /dev/null </dev/null >"$WORK/winch.out" 2>&1 ||
	fail "ssh under script failed: $(tr -d '\r' <"$WORK/winch.out")"
tr -d '\r' <"$WORK/winch.out" | grep -aoE '[0-9]+ [0-9]+$' >"$WORK/sizes" || true
[ "$(sed -n 1p "$WORK/sizes")" = "33 111" ] || fail "the pty size is \"$(sed -n 1p "$WORK/sizes")\", expected 33 111"
[ "$(sed -n 2p "$WORK/sizes")" = "40 100" ] ||
	fail "after a window change the size is \"$(sed -n 2p "$WORK/sizes")\", expected 40 100"

# A command on a pty (ssh -t host cmd) and its exact status.
rc=0
out=$(sssh -tt kairos-test 'test -t 0 && test -t 1 && echo on-a-tty; exit 42' </dev/null) || rc=$?
[ "$rc" = 42 ] || fail "a command on a pty exited with $rc, expected 42"
[ "$(echo "$out" | tr -d '\r')" = on-a-tty ] || fail "the command did not run on a pty: $out"

# A signal sent by the client ("signal" channel request) reaches the job.
# OpenSSH's ssh has no way to send one by itself; Python's pty module
# gives an interrupt through the terminal instead: ^C on the client's pty
# goes through the session as a byte and the remote pty turns it into
# SIGINT for the foreground job.
if command -v python3 >/dev/null 2>&1; then
	cat >"$WORK/intr.py" <<EOF
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sshpass", ["sshpass", "-f", "$WORK/password", "ssh", "-F", "$WORK/ssh_config", "-tt",
                          "kairos-test", "trap 'echo got-INT; exit 9' INT; echo ready; sleep 120 & wait"])
out = b""
deadline = time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if b"ready" in out and b"\x03" not in out:
            os.write(fd, b"\x03")
            out += b"\x03"
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
	rc=0
	timeout 180 python3 "$WORK/intr.py" >"$WORK/intr.out" 2>&1 || rc=$?
	grep -q got-INT "$WORK/intr.out" || fail "^C did not interrupt the remote job: $(tr -d '\r' <"$WORK/intr.out")"
	[ "$rc" = 9 ] || fail "the interrupted job's status came back as $rc, expected 9"
fi

# A shell that leaves a job running on the pty still ends the session.
start=$(date +%s)
out=$(sssh -tt kairos-test 'sleep 120 & echo left-behind' </dev/null | tr -d '\r')
took=$(($(date +%s) - start))
[ "$out" = left-behind ] || fail "output before leaving a job behind: \"$out\""
# Not until the job's end (120 s); the rest is room for a loaded machine.
[ "$took" -lt 60 ] || fail "the session stayed open $took s for a background job"

helpers_done
pass "pty shells: tty, TERM, login shell, size 33x111 then 40x100, ^C, exit status, jobs left behind"

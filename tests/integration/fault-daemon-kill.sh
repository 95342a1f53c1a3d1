#!/bin/bash
# kairos-recovery SIGKILLed under a real systemd (PID 1 in systemd-nspawn,
# Debian 12, the real units) while two sessions run: systemd restarts it; the
# console shows the same password again and "kairos-recovery show" the same
# token; the tunnel socket stays with systemd, so that a client hammering
# connect() on it across the kill is never refused; the killed daemon's
# sessions end and leave no shell or child behind; a new ssh works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-nspawn.sh"
need sshpass ssh python3

nspawn_install_kairos
recovery="$KAIROS_PREFIX/sbin/kairos-recovery"
# Only loopback in the container: no relay, the direct tunnel and plain SSH.
# The screen goes to the container's /dev/console, which nspawn copies to
# nspawn.log with --console=read-only: what a person at the machine sees
# (under another name: the daemon refuses "console" itself).
printf '[Recovery]\nRelay=\nConsole=ttyKAIROS\nPlymouth=no\nHostKey=\n' >"$WORK/etc-kairos/recovery.conf"
nspawn_boot "kairos-fk-$$" --private-network --console=read-only "${NSPAWN_BINDS[@]}"
# On failure, the daemon's journal is among the logs lib.sh's fail shows.
fail_journal() {
	nspawn_run journalctl -u kairos-recovery --no-pager -n 30 >"$WORK/journal.log" 2>&1 || true
	fail "$@"
}
in_net() { nsenter -t "$NSPAWN_INIT" -n "$@"; } # a host program on the container's loopback

nspawn_run ln -s console /dev/ttyKAIROS || fail "cannot name the container's console"
nspawn_run systemctl enable kairos-recovery-ssh.socket >/dev/null 2>&1 || fail_journal "cannot enable the plain SSH socket"
nspawn_run systemctl start kairos-recovery.target || fail_journal "systemctl start kairos-recovery.target failed"
nspawn_run systemctl is-active -q kairos-recovery.service || fail_journal "kairos-recovery.service is not active"
password=$(nspawn_run "$recovery" show | sed -n 's/^Password: *//p')
[ -n "$password" ] || fail_journal "kairos-recovery show printed no password"
nspawn_run cat /run/kairos-recovery/token >"$WORK/token"
wait_until 60 "the password on the console" grep -q -- "$password" "$WORK/nspawn.log" ||
	fail_journal "the console does not show the password"
echo "[127.0.0.1]:2222 $(nspawn_run cut -d' ' -f1,2 /run/kairos-recovery/host_ed25519_key.pub)" >"$WORK/known_hosts"
ssh_in() {
	in_net sshpass -p "$password" ssh -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=yes \
		-o ConnectTimeout=20 -p 2222 root@127.0.0.1 "$@"
}

# Three sessions: an interactive shell on a pty, a command with a child in
# the background, and a job that ignores SIGHUP and SIGTERM (none of them
# may outlive the daemon or hold up its restart).
mkfifo "$WORK/tty.in"
exec 7<>"$WORK/tty.in"
ssh_in -tt <&7 >"$WORK/tty.out" 2>&1 &
tty_ssh=$!
PIDS="$PIDS $tty_ssh"
echo 'echo "SHELL""PID=$$"' >&7
ssh_in 'sleep 600 & echo "BG""PID=$!"; exec sleep 601' >"$WORK/exec.out" 2>"$WORK/exec.err" &
exec_ssh=$!
PIDS="$PIDS $exec_ssh"
ssh_in 'trap "" HUP TERM; echo "STUB""BORN=$$"; while :; do sleep 1; done' >"$WORK/stubborn.out" 2>&1 &
stubborn_ssh=$!
PIDS="$PIDS $stubborn_ssh"
sessions_started() {
	grep -q SHELLPID= "$WORK/tty.out" && grep -q BGPID= "$WORK/exec.out" && grep -q STUBBORN= "$WORK/stubborn.out"
}
wait_until 90 "the three sessions to start" sessions_started || true
shell=$(sed -n 's/.*SHELLPID=\([0-9]*\).*/\1/p' "$WORK/tty.out" | head -n 1)
bgchild=$(sed -n 's/.*BGPID=\([0-9]*\).*/\1/p' "$WORK/exec.out" | head -n 1)
stubborn=$(sed -n 's/.*STUBBORN=\([0-9]*\).*/\1/p' "$WORK/stubborn.out" | head -n 1)
[ -n "$shell" ] && [ -n "$bgchild" ] && [ -n "$stubborn" ] || fail_journal "the two sessions did not start: $(tail -c 300 "$WORK/tty.out") $(cat "$WORK/exec.err")"
main_before=$(nspawn_run systemctl show -p MainPID --value kairos-recovery)
# Everything the service runs besides its main process: helpers, shells, jobs.
service_procs() { nspawn_run ps -eo pid=,unit= | awk -v m="$1" '$2 == "kairos-recovery.service" && $1 != m { print $1 }'; }
victims=$(service_procs "$main_before" | tr '\n' ' ')
for p in $shell $bgchild $stubborn; do
	case " $victims " in *" $p "*) ;; *) fail "process $p of a session is not in kairos-recovery.service ($victims)" ;; esac
done

# Hammer the tunnel socket from before the kill until after the restart.
cat >"$WORK/hammer.py" <<'PY'
import errno, os, socket, sys, time
port, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ok = refused = other = 0
slowest = 0.0
# Also ends if the test's scratch folder is gone (the test ended anyhow).
while not os.path.exists(stop) and os.path.isdir(os.path.dirname(out)):
    s = socket.socket()
    s.settimeout(10)
    t = time.monotonic()
    try:
        s.connect(("127.0.0.1", port))
        ok += 1
    except ConnectionRefusedError:
        refused += 1
    except OSError:
        other += 1
    slowest = max(slowest, time.monotonic() - t)
    s.close()
    time.sleep(0.02)
with open(out, "w") as f:
    f.write("%d %d %d %.3f\n" % (ok, refused, other, slowest))
PY
# nsenter itself, not in_net in a subshell: $! must be the hammer's pid.
nsenter -t "$NSPAWN_INIT" -n python3 "$WORK/hammer.py" 7140 "$WORK/hammer.stop" "$WORK/hammer.out" &
hammer=$!
at_cleanup "touch $WORK/hammer.stop"
PIDS="$PIDS $hammer"
sleep 1 # connections before the kill too

screen_before=$(wc -c <"$WORK/nspawn.log")
# CLOCK_MONOTONIC, the clock of systemd's timestamps (no time namespace).
t0=$(python3 -c 'import time; print(int(time.monotonic() * 1000000))')
nspawn_run kill -KILL "$main_before"
main_after=$main_before
restarted() {
	main_after=$(nspawn_run systemctl show -p MainPID --value kairos-recovery)
	[ "$main_after" != 0 ] && [ "$main_after" != "$main_before" ] &&
		nspawn_run systemctl is-active -q kairos-recovery
}
wait_until 120 "systemd to restart the killed daemon" restarted ||
	fail_journal "systemd did not restart the killed daemon within 120 s"
# How soon it was back, by systemd's own clock (when it started the new
# process), not by how fast this loop got to see it on a loaded machine.
started=$(nspawn_run systemctl show -p ExecMainStartTimestampMonotonic --value kairos-recovery)
gap=$(awk -v a="$t0" -v b="$started" 'BEGIN { printf "%.1f", (b - a) / 1000000 }')
awk -v g="$gap" 'BEGIN { exit !(g > 0 && g <= 10) }' || fail_journal "the daemon was back only ${gap} s after it was killed (at most 10 s)"
sleep 1 # connections after the restart too
touch "$WORK/hammer.stop"
wait "$hammer" || fail_journal "the connect() hammer failed"
read -r ok refused other slowest <"$WORK/hammer.out"
[ "$refused" = 0 ] || fail_journal "$refused of $((ok + refused + other)) connections to the tunnel socket were refused across the restart"
[ "$other" = 0 ] || fail_journal "$other connections to the tunnel socket failed (not refused) across the restart"
[ "$ok" -ge 20 ] || fail_journal "only $ok connections made it: the hammer did not run across the restart"

# The same token and password: in the runtime directory and on the console.
cmp -s "$WORK/token" <(nspawn_run cat /run/kairos-recovery/token) || fail_journal "the restarted daemon has another token"
[ "$(nspawn_run "$recovery" show | sed -n 's/^Password: *//p')" = "$password" ] ||
	fail "the restarted daemon shows another password"
password_shown_again() { tail -c +"$((screen_before + 1))" "$WORK/nspawn.log" | grep -q -- "$password"; }
wait_until 60 "the password on the console again" password_shown_again ||
	fail "after the restart the console does not show the same password"

# The killed daemon's sessions are over, with nothing left behind.
left=""
victims_gone() {
	local p
	left=""
	for p in $victims; do
		nspawn_run test -d "/proc/$p" && left="$left $p"
	done
	[ -z "$left" ]
}
wait_until 90 "the killed daemon's sessions to end" victims_gone ||
	fail_journal "processes of the killed daemon's sessions still run 90 s later:$(for p in $left; do echo -n " [$(nspawn_run ps -o pid=,args= -p "$p")]"; done)"
timeout 90 tail --pid="$tty_ssh" -f /dev/null || fail_journal "the interactive ssh did not end with its session"
timeout 90 tail --pid="$exec_ssh" -f /dev/null || fail_journal "the command's ssh did not end with its session"
timeout 90 tail --pid="$stubborn_ssh" -f /dev/null || fail_journal "the stubborn job's ssh did not end with its session"

out=$(ssh_in 'echo back; systemctl is-active kairos-recovery' 2>"$WORK/ssh.err") || fail_journal "no ssh after the restart: $(cat "$WORK/ssh.err")"
[ "$out" = "$(printf 'back\nactive')" ] || fail_journal "after the restart the shell said '$out'"
nspawn_journal_wait kairos-recovery cat "same token" || fail_journal "the restarted daemon did not log that it kept the token"
pass "restarted ${gap} s after SIGKILL; $ok connect()s across it, $refused refused (slowest ${slowest} s); same token and password on the console; $(echo "$victims" | wc -w) session processes gone; ssh works again"

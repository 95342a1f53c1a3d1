#!/bin/bash
# ssh host cmd against the session helper with OpenSSH's ssh: stdout and
# stderr apart and exact, the exact exit status, signals, stdin both ways
# byte-exact, the session's environment (and no secret in it), only fds
# 0-2 for children, the OOM score reset, 4 sessions at once and 4 channels
# multiplexed on one connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/session-lib.sh"
need sha256sum head cmp

session_setup
# The daemon runs with a low OOM score; its helpers inherit it, and the
# shells must not. Lowering needs CAP_SYS_RESOURCE, which a container may
# not give: then a raised score shows the reset as well.
(echo -500 >/proc/self/oom_score_adj) 2>/dev/null && oom=-500 || oom=300
echo "$oom" >/proc/self/oom_score_adj
start_server
echo 0 >/proc/self/oom_score_adj 2>/dev/null || true

# Exit status, stdout and stderr kept apart.
rc=0
sssh kairos-test 'echo out; echo err >&2; exit 7' >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" = 7 ] || fail "exit status $rc, expected 7 (stderr: $(cat "$WORK/err"))"
[ "$(cat "$WORK/out")" = out ] || fail "stdout is \"$(cat "$WORK/out")\", expected exactly \"out\""
[ "$(cat "$WORK/err")" = err ] || fail "stderr is \"$(cat "$WORK/err")\", expected exactly \"err\""
wait_log "$WORK/events.log" "^1 authenticated password root$" 60
for code in 0 1 255; do
	rc=0
	sssh kairos-test "exit $code" </dev/null || rc=$?
	[ "$rc" = "$code" ] || fail "exit $code came back as $rc"
done

# A shell without a pty (ssh -T), its commands from stdin: root's login
# shell, and its exit status.
rc=0
out=$(printf 'echo "$0"\nexit 5\n' | sssh -T kairos-test) || rc=$?
[ "$rc" = 5 ] || fail "a shell without a pty exited with $rc, expected 5"
[ "$out" = "-$(basename "$(getent passwd root | cut -d: -f7)")" ] || fail "a shell without a pty is \"$out\""

# Death by a signal is reported as such (ssh exits 255 and says so).
rc=0
sssh kairos-test 'kill -TERM $$' </dev/null 2>"$WORK/err" || rc=$?
[ "$rc" = 255 ] || fail "a command killed by SIGTERM gave $rc, expected 255"

# No output lost when the command ends at once, and a prompt return.
start=$(date +%s%N)
out=$(sssh kairos-test 'printf "%s" "last words"' </dev/null)
took=$((($(date +%s%N) - start) / 1000000))
[ "$out" = "last words" ] || fail "output of a short command: \"$out\""
[ "$took" -lt 5000 ] || fail "ssh host cmd took $took ms"

# A reader that goes away (ssh host cmd | head): ssh says so
# (eow@openssh.com), the command gets EPIPE and ends, ssh exits 255 at once
# instead of waiting for a command that never ends.
start=$(date +%s)
out=$(sssh kairos-test 'cat /dev/zero' </dev/null | head -c 10 | wc -c; echo "rc=${PIPESTATUS[0]}")
took=$(($(date +%s) - start))
[ "$out" = "$(printf '10\nrc=255')" ] || fail "ssh host 'cat /dev/zero' | head: $out"
[ "$took" -lt 10 ] || fail "ssh host 'cat /dev/zero' | head took $took s"

# stdin and stdout, 32 MiB each way, byte-exact.
head -c 32M /dev/urandom >"$WORK/data"
want=$(sha256sum <"$WORK/data" | cut -d' ' -f1)
got=$(sssh kairos-test sha256sum <"$WORK/data" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "32 MiB through stdin arrived as $got, sent $want"
sssh kairos-test cat <"$WORK/data" >"$WORK/data.back"
cmp -s "$WORK/data" "$WORK/data.back" || fail "32 MiB through cat came back different"
n=$(sssh kairos-test 'head -c 20000000 /dev/zero; echo done >&2' </dev/null 2>"$WORK/err" | wc -c)
[ "$n" = 20000000 ] || fail "20000000 bytes of output arrived as $n"
[ "$(cat "$WORK/err")" = done ] || fail "stderr after a large stdout: \"$(cat "$WORK/err")\""
# A command that does not read its stdin still ends.
head -c 8M /dev/zero | sssh kairos-test true || fail "a command ignoring 8 MiB of stdin failed"

# The environment: what sshd would give root, and the client's LC_* only
# (no TERM without a pty: bash makes one up, but does not export it).
home=$(getent passwd root | cut -d: -f6)
shell=$(getent passwd root | cut -d: -f7)
LC_KAIROS=fr_FR.UTF-8 LD_PRELOAD=libc.so.6 BASH_ENV=/tmp/x sssh -o SendEnv=LC_KAIROS \
	-o SendEnv=LD_PRELOAD -o SendEnv=BASH_ENV kairos-test \
	'echo "HOME=$HOME"; echo "USER=$USER"; echo "LOGNAME=$LOGNAME"; echo "SHELL=$SHELL"; echo "PATH=$PATH";
	 echo "LC=${LC_KAIROS-unset}"; echo "PRELOAD=${LD_PRELOAD-unset}"; echo "BASH_ENV=${BASH_ENV-unset}";
	 env | grep -c "^TERM=" || true; pwd' </dev/null >"$WORK/env"
cat >"$WORK/env.want" <<EOF
HOME=$home
USER=root
LOGNAME=root
SHELL=$shell
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC=fr_FR.UTF-8
PRELOAD=unset
BASH_ENV=unset
0
$home
EOF
diff -u "$WORK/env.want" "$WORK/env" >&2 || fail "the session environment is not as expected"

# Nothing secret anywhere: not in a session's environment, not in the
# helper's own environment or command line.
sssh kairos-test 'cat /proc/$$/environ | tr "\0" "\n"; cat /proc/$$/cmdline | tr "\0" " "' </dev/null \
	>"$WORK/session-env"
[ -s "$WORK/session-env" ] || fail "could not read the session's environment"
# A session that lasts until its helper has been read (not a guess of how
# long that takes); its helper is the one whose start is logged next.
started=$(grep -c '^[0-9]* pid ' "$WORK/events.log" || true)
sssh kairos-test "until [ -e '$WORK/sleeper.done' ]; do sleep 0.1; done" </dev/null &
sleeper=$!
wait_log_count "$WORK/events.log" '^[0-9]* pid ' $((started + 1)) 60
helper=$(grep '^[0-9]* pid ' "$WORK/events.log" | tail -n 1 | cut -d' ' -f3)
tr '\0' '\n' <"/proc/$helper/environ" >"$WORK/helper-env" || fail "cannot read the helper's environment"
tr '\0' ' ' <"/proc/$helper/cmdline" >"$WORK/helper-cmdline"
touch "$WORK/sleeper.done"
wait "$sleeper"
for f in session-env helper-env helper-cmdline; do
	for s in "$PASSWORD" "$SECRET_HEX" "$(cat "$WORK/token")"; do
		if grep -qiF -- "$s" "$WORK/$f"; then
			fail "a secret is in $f"
		fi
	done
done
grep -q "kairos-recovery-session *$" "$WORK/helper-cmdline" || fail "the helper has arguments: $(cat "$WORK/helper-cmdline")"

# Children get fds 0, 1, 2 and nothing else, and a normal OOM score.
fds=$(sssh kairos-test 'sleep 2 & ls /proc/$!/fd | sort | tr "\n" " "' </dev/null)
[ "$fds" = "0 1 2 " ] || fail "a session's child has fds $fds, expected only 0 1 2"
[ "$(cat "/proc/$helper/oom_score_adj" 2>/dev/null || echo "$oom")" = "$oom" ] ||
	fail "the helper did not run with the launcher's OOM score $oom"
got=$(sssh kairos-test 'cat /proc/self/oom_score_adj' </dev/null)
[ "$got" = 0 ] || fail "a session's oom_score_adj is $got, expected 0 (the helper's is $oom)"

# 4 sessions at once, 8 MiB each way.
head -c 8M /dev/urandom >"$WORK/small"
for i in 1 2 3 4; do
	sssh kairos-test cat <"$WORK/small" >"$WORK/par.$i" &
	eval "par_$i=\$!"
done
for i in 1 2 3 4; do
	eval "wait \$par_$i" || fail "session $i of 4 at once failed"
	cmp -s "$WORK/small" "$WORK/par.$i" || fail "session $i of 4 at once returned different bytes"
done

# 4 channels on one connection (ssh multiplexing): one authentication.
before=$(grep -c ' authenticated ' "$WORK/events.log")
sshpass -f "$WORK/password" ssh -F "$WORK/ssh_config" -o ControlMaster=yes -o ControlPath="$WORK/mux" -N \
	kairos-test >"$WORK/master.log" 2>&1 &
master=$!
wait_until 60 "the multiplexing master" test -S "$WORK/mux" || fail "the multiplexing master did not start within 60 s"
for i in 1 2 3 4; do
	timeout 60 ssh -F "$WORK/ssh_config" -o ControlPath="$WORK/mux" kairos-test "cat; exit $i" \
		<"$WORK/small" >"$WORK/mux.$i" &
	eval "mux_$i=\$!"
done
for i in 1 2 3 4; do
	rc=0
	eval "wait \$mux_$i" || rc=$?
	[ "$rc" = "$i" ] || fail "multiplexed channel $i exited with $rc"
	cmp -s "$WORK/small" "$WORK/mux.$i" || fail "multiplexed channel $i returned different bytes"
done
# The master's helper: children reaped, and no fd left behind by channels.
mux_helper=$(grep '^[0-9]* pid ' "$WORK/events.log" | tail -n 1 | cut -d' ' -f3)
fds_before=$(ls "/proc/$mux_helper/fd" | wc -l)
for i in 1 2 3 4 5 6; do
	timeout 30 ssh -F "$WORK/ssh_config" -o ControlPath="$WORK/mux" kairos-test "echo $i" </dev/null >/dev/null ||
		fail "multiplexed command $i failed"
done
timeout 30 ssh -F "$WORK/ssh_config" -o ControlPath="$WORK/mux" -tt kairos-test "exit 0" </dev/null >/dev/null 2>&1 ||
	fail "a multiplexed pty session failed"
# The last channel's fds close just after its client ends: until they are
# back to what they were (a leak never is).
fds_back() {
	fds_after=$(ls "/proc/$mux_helper/fd" | wc -l)
	[ "$fds_after" = "$fds_before" ]
}
wait_until 60 "the helper's fds to be back to $fds_before" fds_back ||
	fail "the helper had $fds_before fds, $fds_after after 7 more channels"
if ps -o stat= --ppid "$mux_helper" | grep -q Z; then
	fail "the helper leaves zombies: $(ps -o pid=,stat=,args= --ppid "$mux_helper")"
fi
ssh -F "$WORK/ssh_config" -o ControlPath="$WORK/mux" -O exit kairos-test 2>/dev/null || true
wait "$master" || true
after=$(grep -c ' authenticated ' "$WORK/events.log")
[ "$after" = $((before + 1)) ] || fail "multiplexing took $((after - before)) authentications, expected 1"

# SIGTERM to a helper (kairos-recovery stopping): its session's job gets
# SIGHUP, the helper reports and ends well, the client sees the end.
sssh kairos-test 'trap "echo hangup >'"$WORK/hup"'; exit 0" HUP; echo started; sleep 60 & wait' \
	</dev/null >"$WORK/term.out" 2>&1 &
client=$!
wait_log "$WORK/term.out" started 60
helper=$(grep '^[0-9]* pid ' "$WORK/events.log" | tail -n 1 | cut -d' ' -f3)
kill -TERM "$helper"
timeout 60 tail --pid="$client" -f /dev/null || fail "the client did not end after SIGTERM to its helper"
wait_log "$WORK/events.log" " closed terminated by a signal$" 60
wait_log "$WORK/hup" hangup 60

helpers_done
grep -q " closed client disconnected$" "$WORK/events.log" || fail "no \"closed client disconnected\" event"
pass "exec: status, streams, signals, 32 MiB each way, environment, no secrets, fds, 4 at once, multiplexing, SIGTERM"

#!/bin/bash
# The environment of a session helper, which the daemon builds: on AMD
# processors it holds the glibc tunable that keeps memcpy() off REP MOVSB (slow on AMD Zen
# 3 and 4 for the copies libssh makes, see sessions.c), unless the
# administrator set GLIBC_TUNABLES, which is then passed on as it is, even
# empty. The shells never see it: their environment is the session's own,
# with KAIROS_PEER naming the path the session came by (kairos-unlock logs it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-recovery.sh"

# Starts a daemon (RECOVERY_WRAPPER as set), holds a session open and sets
# got to the value of GLIBC_TUNABLES in its helper's environment, or "unset".
helper_tunables() { # SECONDS (for sleep: tells the sessions apart)
	local daemon helper
	start_recovery "PlainSSH=yes"
	daemon=$(pgrep -f "$RECOVERY --config $WORK/recovery.conf" | head -n 1)
	[ -n "$daemon" ] || fail "cannot find the daemon's process"
	ssh_tunnel "sleep $1" >/dev/null 2>&1 &
	PIDS="$PIDS $!"
	helper=$(wait_helper_of "$daemon" "sleep $1") || fail "no session helper running 'sleep $1'"
	tr '\0' '\n' <"/proc/$helper/environ" >"$WORK/helper-environ"
	got=unset
	if grep -q "^GLIBC_TUNABLES=" "$WORK/helper-environ"; then
		got=$(sed -n 's/^GLIBC_TUNABLES=//p' "$WORK/helper-environ")
	fi
}

stop_recovery() {
	kill "$RECOVERY_PID" 2>/dev/null || true
	wait "$RECOVERY_PID" 2>/dev/null || true
}

ours=unset
if grep -q "^vendor_id[[:space:]]*: AuthenticAMD$" /proc/cpuinfo; then
	ours="glibc.cpu.x86_rep_movsb_threshold=2147483648"
fi

helper_tunables 41
[ "$got" = "$ours" ] || fail "the session helper has GLIBC_TUNABLES '$got', expected '$ours'"
for how in ssh_plain ssh_tunnel; do
	$how env >"$WORK/env-$how" || fail "$how env failed"
	grep -q "^HOME=" "$WORK/env-$how" || fail "$how env printed no environment"
	if grep "^GLIBC_TUNABLES=" "$WORK/env-$how"; then
		fail "the shell's environment ($how) holds the helper's GLIBC_TUNABLES"
	fi
	# the session's path, for kairos-unlock's record of who unlocked
	want="direct"
	[ "$how" = ssh_plain ] && want="ssh"
	grep -qE "^KAIROS_PEER=$want 127\.0\.0\.1:[0-9]+$" "$WORK/env-$how" ||
		fail "the shell's environment ($how) has no KAIROS_PEER=$want 127.0.0.1:PORT: $(grep KAIROS_PEER "$WORK/env-$how")"
done
stop_recovery

# The administrator's setting, here one that changes nothing.
RECOVERY_WRAPPER="/usr/bin/env GLIBC_TUNABLES=glibc.malloc.perturb=0"
helper_tunables 42
[ "$got" = "glibc.malloc.perturb=0" ] || fail "the administrator's GLIBC_TUNABLES became '$got' in the session helper"
stop_recovery
RECOVERY_WRAPPER="/usr/bin/env GLIBC_TUNABLES="
helper_tunables 43
[ -z "$got" ] || fail "an empty GLIBC_TUNABLES (the way to opt out) became '$got' in the session helper"
pass "session helpers get GLIBC_TUNABLES '$ours' by default, the administrator's when set (even empty); shells never"

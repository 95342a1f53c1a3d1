#!/bin/bash
# Falling into recovery by itself on the installed system (issue 16), under
# a real systemd (PID 1 in systemd-nspawn) with the installed units and
# kairos-recovery-auto-generator: with AutoRecovery=yes and
# AutoRecoveryUnits=kairos-test-fail.service, that unit failing starts
# kairos-recovery; so does rescue.target (isolated to, as "systemctl rescue"
# does) and emergency.target; the daemon gets the reason in
# KAIROS_RECOVERY_REASON. With AutoRecovery=no and no units, the generator
# adds nothing, and a failing unit starts nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-nspawn.sh"

nspawn_install_kairos
gen=$(find "$WORK/dest" -name kairos-recovery-auto-generator -type f | head -n 1)
[ -x "$gen" ] || fail "make install did not install an executable kairos-recovery-auto-generator"
case "$gen" in */lib/systemd/system-generators/kairos-recovery-auto-generator) ;; *) fail "the generator is not in a system-generators directory: $gen" ;; esac
printf '[Unit]\nDescription=a unit that fails\n[Service]\nType=oneshot\nExecStart=/bin/false\n' >"$WORK/kairos-test-fail.service"
BINDS=("${NSPAWN_BINDS[@]}" --bind-ro="$gen:/etc/systemd/system-generators/kairos-recovery-auto-generator"
	--bind-ro="$WORK/kairos-test-fail.service:/etc/systemd/system/kairos-test-fail.service")

wait_active() { # UNIT WHAT
	for _ in $(seq 200); do
		nspawn_run systemctl is-active -q "$1" && return 0
		sleep 0.1
	done
	fail "$1 is not active after $2: $(nspawn_run systemctl status --no-pager -n 5 "$1" 2>&1 | head -n 12)"
}

# --- off: nothing happens ---------------------------------------------------
printf '[Recovery]\nRelay=\nConsole=null\nHostKey=\n' >"$WORK/etc-kairos/recovery.conf"
nspawn_boot "kairos-auto-off-$$" --private-network "${BINDS[@]}"
nspawn_run test -e /run/systemd/generator/emergency.target.d/kairos-auto-recovery.conf &&
	fail "AutoRecovery= off, but the generator added a drop-in to emergency.target"
nspawn_run systemctl start kairos-test-fail.service >/dev/null 2>&1 && fail "kairos-test-fail.service did not fail"
sleep 2
nspawn_run systemctl is-active -q kairos-recovery.service && fail "AutoRecovery= off, but a failed unit started kairos-recovery"
nspawn_stop

# --- on -----------------------------------------------------------------------
printf '[Recovery]\nRelay=\nConsole=null\nHostKey=\nAutoRecovery=yes\nAutoRecoveryUnits=kairos-test-fail.service\n' >"$WORK/etc-kairos/recovery.conf"
nspawn_boot "kairos-auto-on-$$" --private-network "${BINDS[@]}"
for u in emergency.target rescue.target kairos-test-fail.service kairos-recovery.service; do
	nspawn_run test -e "/run/systemd/generator/$u.d/kairos-auto-recovery.conf" || fail "the generator wrote no drop-in for $u"
done
nspawn_run systemctl is-active -q kairos-recovery.service && fail "kairos-recovery runs before anything failed"

# 1. a unit the administrator named fails
nspawn_run systemctl start kairos-test-fail.service >/dev/null 2>&1 && fail "kairos-test-fail.service did not fail"
wait_active kairos-recovery.service "kairos-test-fail.service failed"
env=$(nspawn_run systemctl show -p Environment --value kairos-recovery.service)
case "$env" in *"KAIROS_RECOVERY_REASON="*"kairos-test-fail.service failed"*) ;; *) fail "the daemon's reason is '$env'" ;; esac
nspawn_journal_wait kairos-recovery cat "kairos-recovery started" || fail "the daemon did not log its start"

# 2. rescue mode (isolate, as systemctl rescue does)
nspawn_run systemctl stop kairos-recovery.target kairos-recovery.service kairos-recovery.socket
nspawn_run systemctl is-active -q kairos-recovery.service && fail "kairos-recovery did not stop"
nspawn_run systemctl isolate rescue.target >/dev/null 2>&1 || true
wait_active kairos-recovery.service "isolating rescue.target"

# 3. emergency mode
nspawn_run systemctl stop kairos-recovery.target kairos-recovery.service kairos-recovery.socket
nspawn_run systemctl start --no-block emergency.target
wait_active kairos-recovery.service "starting emergency.target"
pass "AutoRecovery=: a named unit's failure, rescue.target and emergency.target each started kairos-recovery under systemd; off, nothing did"

#!/bin/bash
# Unattended recovery, the proof (issue 16): a real kernel and the kairos
# initramfs under qemu (TCG), booted as the machine's normal entry would be
# (root=UUID= of a disk that does not exist, rd.neednet=1 ip=dhcp) with
# kairos.recovery.auto_recovery and, in /etc/kairos of the initramfs,
# NotifyKey=/NotifyURL=/NotifyCA= and the machine's signing key. Nobody reads
# the serial console for the code:
#  1. the root device never appears, the initramfs gives up on it, and
#     kairos-recovery starts by itself (instead of emergency mode);
#  2. its sealed code reaches the HTTPS server this test runs on the host
#     (the guest reaches it at 10.0.2.2; a test CA for IP:10.0.2.2), and the
#     body holds neither the token nor the password in the clear;
#  3. kairos-bridge opens the body with the operator's key, names the machine
#     from known_machines, reaches the machine and ssh runs a command there;
#  4. `kairos-recovery rotate` in that session sends a new sealed code, which
#     the bridge opens to the new password.
# Prints the benchmark: from the failure (the device timed out, guest clock) to
# the code's arrival, and from qemu's start.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-recovery.sh"
. "$(dirname "$0")/../integration/lib-notify.sh"
. "$(dirname "$0")/lib-boot.sh"
need qemu-system-x86_64 ssh sshpass cpio

BRIDGE="$builddir/kairos-bridge"
export XDG_RUNTIME_DIR="$WORK/xdg" XDG_CONFIG_HOME="$WORK/config"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
T0=$(date +%s)

stage_install
dracut_tree
shared_initramfs "$WORK/base.img" network-legacy kairos-recovery
echo "# shared initramfs ready after $(($(date +%s) - T0)) s"

start_relay
make_test_ca "$WORK/tls" IP:10.0.2.2
start_sink "$WORK/tls" 127.0.0.1
operator_keys "$XDG_CONFIG_HOME/kairos-bridge"
mkdir -p "$WORK/extra/etc/kairos"
machine_key "$WORK/extra/etc/kairos/machine_signing_key"
rm -f "$WORK/extra/etc/kairos/machine_signing_key.out"
echo "$MACHINE_PUB broken-server" >"$XDG_CONFIG_HOME/kairos-bridge/known_machines"
cp "$WORK/tls/ca.pem" "$WORK/extra/etc/kairos/test-ca.pem"
cat >"$WORK/extra/etc/kairos/recovery.conf" <<CONF
[Recovery]
Relay=tcp:10.0.2.2:$RELAY_PORT
NotifyKey=$OPERATOR_PUB
NotifyURL=https://10.0.2.2:$SINK_PORT/hook
NotifyCA=/etc/kairos/test-ca.pem
MachineKey=/etc/kairos/machine_signing_key
CONF
initramfs_with_files "$WORK/base.img" "$WORK/extra" "$WORK/initrd.img"

# The normal entry's command line, a root disk that is not there. dracut
# gives up on it after rd.retry (the initqueue) or rd.timeout (the device).
CMDLINE="console=ttyS0,115200 root=UUID=0badc0de-dead-4bad-8bad-00000000c0de ro rd.neednet=1 ip=dhcp rd.retry=30 rd.timeout=30 kairos.recovery.auto_recovery"
FWD=$(free_port)
qemu_boot auto "$WORK/initrd.img" "$CMDLINE" -nic "user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:$FWD-:7140"
wait_post "$WORK/tls" 1 900
arrived=$(since_boot)
echo "# sealed code arrived $arrived s after qemu started"
body="$WORK/tls/posts/post-1.txt"
grep -q '^KAIROS-SEALED:[A-Z2-7]*$' "$body" || fail "the posted body is not a sealed code: $(head -c 200 "$body")"

# bridge_on BODY LOG: the bridge on what arrived, both paths offered.
bridge_on() {
	LISTEN_PORT=$(free_port)
	bg "$BRIDGE" --token-file "$1" --direct "127.0.0.1:$FWD" --relay "tcp:127.0.0.1:$RELAY_PORT" \
		--listen "127.0.0.1:$LISTEN_PORT" --timeout 300 >"$2" 2>&1
	BRIDGE_PID=$LAST_PID
	wait_log "$2" "SSH server reachable at" 320
	PW=$(sed -n 's/.*SSH access password is //p' "$2")
	SSH_CMD=$(printed_ssh_command "$2")
	[ -n "$PW" ] && [ -n "$SSH_CMD" ] || fail "the bridge printed no password or ssh command: $(cat "$2")"
}
on_guest() { # COMMAND
	# shellcheck disable=SC2086
	sshpass -p "$PW" $SSH_CMD -o StrictHostKeyChecking=yes -o ConnectTimeout=120 "$1" 2>>"$WORK/ssh.err"
}

bridge_on "$body" "$WORK/bridge-1.log"
grep -q 'Sealed code from machine "broken-server"' "$WORK/bridge-1.log" || fail "the bridge does not name the machine: $(head -n 3 "$WORK/bridge-1.log")"
grep -q "Reason: the boot failed in the initramfs" "$WORK/bridge-1.log" || fail "the reason is not the failed boot: $(grep Reason "$WORK/bridge-1.log")"
out=$(on_guest 'cat /proc/cmdline; systemctl is-active kairos-recovery; test -e /etc/initrd-release && echo initramfs; systemctl is-active emergency.target || true') ||
	fail "ssh through the bridge failed: $(cat "$WORK/ssh.err")"
[ "$(echo "$out" | sed -n 1p)" = "$CMDLINE" ] || fail "the guest's command line is '$(echo "$out" | sed -n 1p)'"
[ "$(echo "$out" | sed -n 2p)" = active ] || fail "kairos-recovery is '$(echo "$out" | sed -n 2p)' on the guest"
[ "$(echo "$out" | sed -n 3p)" = initramfs ] || fail "the session is not in the initramfs"
[ "$(echo "$out" | sed -n 4p)" = inactive ] || fail "emergency.target is '$(echo "$out" | sed -n 4p)': recovery should have started instead"
echo "# ssh through the bridge ran a command on the machine $(since_boot) s after qemu started"
# Nothing secret in the clear in what was posted.
token=$("$BRIDGE" --show-token --token-file "$body" 2>/dev/null | sed -n 's/^service: *//p')
on_guest 'cat /run/kairos-recovery/token' >"$WORK/guest-token" || fail "cannot read the guest's token"
for secret in "$(cat "$WORK/guest-token")" "$(sed 's/^KAIROS://' "$WORK/guest-token")" "$PW"; do
	[ -n "$secret" ] || fail "empty secret"
	grep -qF -- "$secret" "$body" && fail "the posted body holds the token or the password in the clear"
done
[ -n "$token" ] || fail "--show-token on the body gave no service id"

# The benchmark, in the guest's own clock: emergency mode to delivery.
on_guest 'journalctl -b -o short-monotonic --no-pager' >"$WORK/guest-journal.txt" || fail "cannot read the guest's journal"
t_fail=$(grep -m1 -E "Timed out waiting for device|Dependency failed for|Could not boot" "$WORK/guest-journal.txt" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
t_sent=$(grep -m1 "Sealed code delivered" "$WORK/guest-journal.txt" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p')
if [ -n "$t_fail" ] && [ -n "$t_sent" ]; then
	echo "# benchmark: boot failure (the root device timed out at ${t_fail} s) to sealed code delivered (${t_sent} s): $(python3 -c "print(f'{$t_sent - $t_fail:.1f}')") s (guest clock, TCG)"
else
	echo "# benchmark: failure or delivery not found in the guest's journal ('$t_fail', '$t_sent')"
fi

# rotate: a new sealed code, and it opens to the new password.
old_pw=$PW
on_guest 'kairos-recovery rotate >/dev/null 2>&1 || /usr/local/sbin/kairos-recovery rotate >/dev/null' ||
	fail "kairos-recovery rotate on the guest failed: $(cat "$WORK/ssh.err")"
wait_post "$WORK/tls" 2 300
kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true
bridge_on "$WORK/tls/posts/post-2.txt" "$WORK/bridge-2.log"
[ "$PW" != "$old_pw" ] || fail "after rotate the sealed code gives the old password"
out=$(on_guest 'echo rotated') || fail "ssh with the rotated code failed: $(cat "$WORK/ssh.err")"
[ "$out" = rotated ] || fail "ssh after rotate said '$out'"
kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" 2>/dev/null || true
kill "$QEMU_PID"
pass "root never appeared → kairos-recovery by itself → sealed code over HTTPS to the host (${arrived} s after qemu started) → bridge → ssh; rotate sent a new code"

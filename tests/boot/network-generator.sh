#!/bin/bash
# NetworkManager on the installed system, in a recovery boot: the installed
# kairos-recovery-network-generator, run as systemd runs it (with a command line and
# a unit tree of our own), writes nothing on a normal boot or where
# NetworkManager is not enabled; in a recovery boot with it enabled, the
# target wants NetworkManager (and its wait-online), and NetworkManager and
# D-Bus lose their default dependencies (which pull sysinit.target and
# every mount in) but keep the shutdown ordering. systemd-analyze verify
# accepts the result in a root with a NetworkManager unit as Debian ships
# it. (No NetworkManager runs here: the real boot is not part of this test.)
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib-boot.sh"
need systemd-analyze

stage_install
gen=$(find "$STAGE" -path '*/system-generators/kairos-recovery-network-generator' -type f | head -n 1)
[ -x "$gen" ] || fail "make install did not install an executable kairos-recovery-network-generator"

root="$WORK/root"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
run_gen() { # NAME CMDLINE
	mkdir -p "$WORK/$1"
	echo "$2" >"$WORK/$1.cmdline"
	KAIROS_PROC_CMDLINE="$WORK/$1.cmdline" KAIROS_UNIT_ROOT="$root" "$gen" "$WORK/$1" "$WORK/$1.early" "$WORK/$1.late" ||
		fail "the generator failed ($1)"
}
run_gen not-enabled "BOOT_IMAGE=/vmlinuz root=/dev/vda ro systemd.unit=kairos-recovery.target quiet"
[ -z "$(ls -A "$WORK/not-enabled")" ] || fail "the generator wrote something where NetworkManager is not enabled"
ln -s /lib/systemd/system/NetworkManager.service "$root/etc/systemd/system/multi-user.target.wants/NetworkManager.service"
run_gen normal "BOOT_IMAGE=/vmlinuz root=/dev/vda ro quiet"
[ -z "$(ls -A "$WORK/normal")" ] || fail "the generator wrote something on a normal boot"
run_gen rescue "root=/dev/vda ro systemd.unit=kairos-recovery.target systemd.unit=rescue.target"
[ -z "$(ls -A "$WORK/rescue")" ] || fail "the generator acted although a later systemd.unit= won"
run_gen recovery "BOOT_IMAGE=/vmlinuz root=/dev/vda ro rd.kairos.recovery systemd.unit=kairos-recovery.target rd.neednet=1 ip=dhcp quiet"
out="$WORK/recovery"
grep -q "^Wants=NetworkManager.service NetworkManager-wait-online.service$" "$out/kairos-recovery.target.d/"*.conf 2>/dev/null ||
	fail "in recovery the target does not want NetworkManager: $(ls -R "$out")"
for u in NetworkManager.service dbus.socket dbus.service NetworkManager-wait-online.service; do
	f=$(ls "$out/$u.d/"*.conf 2>/dev/null) || fail "no drop-in for $u"
	for l in DefaultDependencies=no Conflicts=shutdown.target Before=shutdown.target; do
		grep -qx "$l" "$f" || fail "the drop-in for $u lacks $l"
	done
done

# As systemd reads it: a root with systemd's units, ours, a NetworkManager
# unit as Debian 12 ships it (and a program in its place), and the drop-ins.
mkdir -p "$root/usr/lib/systemd" "$root/usr/bin" "$root/usr/sbin"
cp -a /lib/systemd/system "$root/usr/lib/systemd/"
ln -sfn usr/bin "$root/bin"
ln -sfn usr/sbin "$root/sbin"
cp /bin/kill "$root/usr/bin/kill"
cp "$(PATH=$PATH:/sbin:/usr/sbin command -v sulogin)" "$root/usr/sbin/sulogin"
cp /bin/true "$root/usr/sbin/NetworkManager"
cp /bin/true "$root/usr/bin/nm-online"
cat >"$root/usr/lib/systemd/system/NetworkManager.service" <<'UNIT'
[Unit]
Description=Network Manager
Wants=network.target
After=network-pre.target dbus.service
Before=network.target

[Service]
Type=dbus
BusName=org.freedesktop.NetworkManager
ExecReload=/usr/bin/kill -HUP $MAINPID
ExecStart=/usr/sbin/NetworkManager --no-daemon
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
cat >"$root/usr/lib/systemd/system/NetworkManager-wait-online.service" <<'UNIT'
[Unit]
Description=Network Manager Wait Online
Requires=NetworkManager.service
After=NetworkManager.service
Before=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/bin/nm-online -s -q
RemainAfterExit=yes
UNIT
unitdir=$(dirname "$(find "$STAGE" -name kairos-recovery.target | head -n 1)")
for u in kairos-recovery.target kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket kairos-recovery-shell@.service; do
	cp "$unitdir/$u" "$root/etc/systemd/system/"
done
daemon=$(sed -n 's/^ExecStart=//p' "$unitdir/kairos-recovery.service")
mkdir -p "$root$(dirname "$daemon")"
cp /bin/true "$root$daemon"
cp -a "$out/." "$root/etc/systemd/system/"
(cd "$root" && systemd-analyze verify --man=no --root="$root" kairos-recovery.target NetworkManager.service dbus.socket) \
	>"$WORK/verify.out" 2>"$WORK/verify.err" || fail "systemd-analyze verify failed: $(cat "$WORK/verify.err")"
[ ! -s "$WORK/verify.err" ] || fail "systemd-analyze verify complains: $(cat "$WORK/verify.err")"
pass "the generator wants NetworkManager in a recovery boot only, without sysinit.target; systemd accepts it"

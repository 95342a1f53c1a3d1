#!/bin/bash
# The dracut module, as make install put it: an initramfs built with it
# (dracut from a private copy, the module from the staged install) holds, by
# lsinitrd, the daemon and its session helper at the paths the units name,
# the units with the initrd-only drop-in, the generator, sftp-server, scp,
# rsync, terminfo, the libraries (with libssh linked into the helper: no
# libssh.so, and no Kerberos without the repair tools), and the recovery host key and
# authorized_keys when /etc/kairos has them. dracut includes it only when
# asked (check() returns 255).
KAIROS_SIDES="recovery"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib-boot.sh"

stage_install
# A recovery host key and authorized_keys, as an administrator would make them.
mkdir -p "$STAGE/etc/kairos"
"$STAGE$PREFIX/libexec/kairos/kairos-recovery-session" --generate-host-key "$STAGE/etc/kairos/recovery_host_ed25519_key" ||
	fail "kairos-recovery-session --generate-host-key failed"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKairosTestKeyKairosTestKeyKairosTestKey0 helper" >"$STAGE/etc/kairos/authorized_keys"
dracut_tree

# Only when asked: check() says 255 ("only if asked for") when the daemon is
# installed, 1 when it is not; dracut takes such modules only with --add or
# add_dracutmodules+=.
rc=0; (kairos_destdir="$STAGE" dracutsysrootdir="" && . "$MODULE_DIR/module-setup.sh" && check) || rc=$?
[ "$rc" = 255 ] || fail "check() returned $rc with the daemon installed, expected 255 (only when asked)"
rc=0; (kairos_destdir="$WORK/nothing" dracutsysrootdir="" && . "$MODULE_DIR/module-setup.sh" && check) || rc=$?
[ "$rc" = 1 ] || fail "check() returned $rc without the daemon, expected 1"

build_initramfs "$WORK/initrd.img" network-legacy kairos-recovery
grep -q "Including module: kairos-recovery" "$WORK/dracut-initrd.img.log" ||
	fail "dracut did not include kairos-recovery (see dracut-initrd.img.log)"
lsinitrd "$WORK/initrd.img" >"$WORK/lsinitrd.txt" 2>&1 || fail "lsinitrd failed"

has() { # PATTERN WHAT
	grep -qE -- "$1" "$WORK/lsinitrd.txt" || fail "the initramfs has no $2 (no line matching '$1' in lsinitrd)"
}
p=${PREFIX#/}
has " $p/sbin/kairos-recovery$" "daemon at $PREFIX/sbin"
has " $p/libexec/kairos/kairos-recovery-session$" "session helper at $PREFIX/libexec/kairos"
for u in kairos-recovery.target kairos-recovery.service kairos-recovery.socket kairos-recovery-ssh.socket \
	kairos-recovery-shell@.service; do
	has " usr/lib/systemd/system/$u$" "unit $u"
done
has "/sulogin$" "sulogin (the local shell on tty2)"
has " usr/lib/systemd/system/kairos-recovery.target.d/initrd.conf$" "initrd drop-in for the target"
has " usr/lib/systemd/system-generators/kairos-recovery-generator$" "generator"
has " usr/lib/dracut/hooks/pre-trigger/90-kairos-recovery-initqueue.sh$" "initqueue hook"
# unlock mode (kairos-recovery-boot(7), UNLOCK MODE)
has " $p/sbin/kairos-unlock$" "kairos-unlock at $PREFIX/sbin"
has " usr/lib/systemd/system/kairos-unlock.path$" "unit kairos-unlock.path"
has " usr/lib/systemd/system/kairos-unlock-netdown.service$" "unit kairos-unlock-netdown.service"
has " usr/lib/kairos/kairos-unlock-netdown.sh$" "the unlock netdown script"
has " usr/lib/dracut/hooks/pre-udev/40-kairos-unlock-noblock.sh$" "the unlock hook that keeps crypt's job from holding the initqueue"
has " usr/lib/systemd/system-generators/kairos-unlock-generator$" "unlock generator"
lsinitrd -f usr/lib/systemd/system-generators/kairos-unlock-generator "$WORK/initrd.img" | grep -qx "daemon=$PREFIX/sbin/kairos-recovery" ||
	fail "the unlock generator in the image does not ask $PREFIX/sbin/kairos-recovery"
has "/sftp-server$" "sftp-server"
has " usr/bin/scp$" "scp"
has " usr/bin/rsync$" "rsync"
has "terminfo/l/linux$" "terminfo for the console"
has "terminfo/x/xterm-256color$" "terminfo for ssh clients"
# libssh: inside the helper when linked statically (configure's default),
# and then no Kerberos for it, which Debian's libssh.so.4 brings for GSSAPI
# (0.58 MiB): not in the helper's nor the daemon's closure, and not in an
# image of the module without the repair tools (one of which, iproute2's ss,
# brings Kerberos of its own through libtirpc).
helper="$STAGE$PREFIX/libexec/kairos/kairos-recovery-session"
static_libssh=yes
readelf -d "$helper" | grep -q 'NEEDED.*\[libssh\.so' && static_libssh=no
KRB5_RE='lib(ssh|gssapi_krb5|krb5|k5crypto|krb5support)\.so'
if [ "$static_libssh" = no ]; then
	has "libssh\.so" "libssh (the helper links libssh.so: --with-libssh=shared)"
else
	! grep -E "/libssh\.so" "$WORK/lsinitrd.txt" >"$WORK/libssh-image" ||
		fail "the image holds libssh.so although the helper has libssh inside: $(awk '{print $NF}' "$WORK/libssh-image" | tr '\n' ' ')"
	for b in "$helper" "$STAGE$PREFIX/sbin/kairos-recovery"; do
		! ldd "$b" | grep -E "$KRB5_RE" >"$WORK/krb5-closure" ||
			fail "$(basename "$b") loads libssh.so or Kerberos: $(tr -s '\t ' ' ' <"$WORK/krb5-closure")"
	done
fi
has "libsodium\.so" "libsodium"
has " etc/kairos/recovery_host_ed25519_key$" "recovery host key"
has " etc/kairos/authorized_keys$" "authorized_keys"
has "(usr/)?s?bin/(dhclient|systemd-networkd|ip)$" "network tools"
[ ! -e /etc/hostname ] || has " etc/hostname$" "/etc/hostname (the machine's name on the screen)"
# The unit in the image names the daemon where the image has it.
lsinitrd -f usr/lib/systemd/system/kairos-recovery.service "$WORK/initrd.img" >"$WORK/service" 2>&1
grep -qx "ExecStart=$PREFIX/sbin/kairos-recovery" "$WORK/service" || fail "the service in the image does not start $PREFIX/sbin/kairos-recovery: $(grep ExecStart "$WORK/service")"
lsinitrd -f usr/lib/systemd/system/kairos-recovery.target.d/initrd.conf "$WORK/initrd.img" | grep -q "Wants=.*dracut-initqueue.service" ||
	fail "the target's drop-in does not pull in dracut-initqueue.service"
lsinitrd -f usr/lib/systemd/system/kairos-recovery.target.d/initrd.conf "$WORK/initrd.img" | grep -q "Wants=.*systemd-network-generator.service" ||
	fail "the target's drop-in does not pull in systemd-network-generator.service (ip= for systemd-networkd)"
lsinitrd -f usr/lib/systemd/system/kairos-recovery.target.d/initrd.conf "$WORK/initrd.img" | grep -q "Wants=.*nm-initrd.service" ||
	fail "the target's drop-in does not pull in nm-initrd.service (dracut's network-manager)"
# The host key in the image is the administrator's one.
[ "$(lsinitrd -f etc/kairos/recovery_host_ed25519_key.pub "$WORK/initrd.img")" = "$(cat "$STAGE/etc/kairos/recovery_host_ed25519_key.pub")" ] ||
	fail "the host public key in the image differs from /etc/kairos's"

# Without the repair tools (and without kernel modules, which change
# nothing here and take most of the build): no Kerberos at all.
if [ "$static_libssh" = yes ]; then
	echo "kairos_repair_tools=no" >"$WORK/dracut.conf.d/kairos.conf"
	DRACUT_EXTRA_ARGS=--no-kernel build_initramfs "$WORK/core.img" network-legacy kairos-recovery
	rm "$WORK/dracut.conf.d/kairos.conf"
	lsinitrd "$WORK/core.img" >"$WORK/lsinitrd-core.txt" 2>&1 || fail "lsinitrd failed on the image without repair tools"
	grep -qE " ${p}/libexec/kairos/kairos-recovery-session$" "$WORK/lsinitrd-core.txt" ||
		fail "the image without repair tools has no session helper"
	! grep -E "/$KRB5_RE" "$WORK/lsinitrd-core.txt" >"$WORK/krb5-image" ||
		fail "the image without repair tools holds libssh.so or Kerberos: $(awk '{print $NF}' "$WORK/krb5-image" | tr '\n' ' ')"
fi

# The HTTPS sender only with NotifyURL=: the image above (no NotifyURL=)
# holds neither kairos-recovery-notify nor libcurl; with NotifyURL= in
# recovery.conf it holds both, the machine signing key and the NotifyCA= file.
! grep -E "kairos-recovery-notify|libcurl" "$WORK/lsinitrd.txt" >"$WORK/curl-default" ||
	fail "without NotifyURL= the image holds the sender or libcurl: $(awk '{print $NF}' "$WORK/curl-default" | tr '\n' ' ')"
has " usr/lib/systemd/system-generators/kairos-recovery-auto-generator$" "AutoRecovery= generator"
"$STAGE$PREFIX/sbin/kairos-recovery" keygen-machine "$STAGE/etc/kairos/machine_signing_key" >/dev/null 2>&1 ||
	fail "keygen-machine failed"
cp /etc/ssl/certs/ca-certificates.crt "$STAGE/etc/kairos/ca.pem" 2>/dev/null || echo "test" >"$STAGE/etc/kairos/ca.pem"
printf '[Recovery]\nNotifyURL=https://push.example.org/kairos\nNotifyCA="/etc/kairos/ca.pem"\n' >"$STAGE/etc/kairos/recovery.conf"
DRACUT_EXTRA_ARGS=--no-kernel build_initramfs "$WORK/notify.img" network-legacy kairos-recovery
rm "$STAGE/etc/kairos/recovery.conf"
lsinitrd "$WORK/notify.img" >"$WORK/lsinitrd-notify.txt" 2>&1 || fail "lsinitrd failed on the image with NotifyURL="
for want in " ${p}/libexec/kairos/kairos-recovery-notify$" "/libcurl\.so" " etc/kairos/machine_signing_key$" " etc/kairos/ca\.pem$"; do
	grep -qE -- "$want" "$WORK/lsinitrd-notify.txt" || fail "with NotifyURL= the image lacks $want"
done
! ldd "$STAGE$PREFIX/sbin/kairos-recovery" | grep -q libcurl ||
	fail "the daemon links libcurl"

size=$(stat -c %s "$WORK/initrd.img")
pass "the initramfs ($((size / 1024)) KiB, kernel $KVER) holds the daemon, helper, units, generators, tools, host key; the sender and libcurl only with NotifyURL="

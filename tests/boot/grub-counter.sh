#!/bin/bash
# The GRUB boot counter (issue 16): grub-mkconfig with the installed
# 42_kairos-recovery and GRUB_KAIROS_RECOVERY_AFTER_FAILED_BOOTS=3; then
# GRUB itself (grub-emu, headless) runs the generated grub.cfg once a
# "boot", with grubenv on an ext2 disk image as GRUB reads and writes it
# ($prefix/grubenv, load_env/save_env through GRUB's own file system and
# disk code). Boots 1-3 that never complete keep the normal default and
# count down; the 4th and 5th default to "kairos (remote recovery mode)";
# then kairos-boot-complete.service's own command (a completed boot) resets
# the counter and the next boot has the normal default again. Without the
# setting there is no counter at all. grub-editenv reads the state each time.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib-boot.sh"
need grub-mkconfig grub-editenv grub-script-check grub-emu mke2fs debugfs unshare

stage_install
# A text console: grub-emu would open a graphical terminal otherwise.
grub_mkconfig counter "" 'GRUB_KAIROS_RECOVERY_AFTER_FAILED_BOOTS=3' 'GRUB_DEFAULT=0' 'GRUB_TERMINAL=console'
grub-script-check "$GRUB_CFG" || fail "grub-script-check rejects the generated grub.cfg"
entry=$(sed -n "s/.*\$menuentry_id_option '\(kairos-recovery-[^']*\)'.*/\1/p" "$GRUB_CFG")
[ -n "$entry" ] || fail "no kairos entry id in the generated grub.cfg"
grep -q "kairos boot counter" "$GRUB_CFG" || fail "the generated grub.cfg has no boot counter"

unit=$(find "$STAGE" -name kairos-boot-complete.service | head -n 1)
[ -f "$unit" ] || fail "make install did not install kairos-boot-complete.service"
reset=$(sed -n 's/^ExecStart=//p' "$unit")
case "$reset" in *"grub-editenv /boot/grub/grubenv unset kairos_boot_left") ;; *) fail "unexpected ExecStart= in kairos-boot-complete.service: $reset" ;; esac
grep -q '^After=boot-complete.target' "$unit" || fail "kairos-boot-complete.service is not ordered after boot-complete.target"

# The disk GRUB sees as (hd0): /boot/grub/grub.cfg (generated) and grubenv.
FS="$WORK/fs"
mkdir -p "$FS/boot/grub" "$WORK/emu"
cp "$GRUB_CFG" "$FS/boot/grub/grub.cfg"
grub-editenv "$FS/boot/grub/grubenv" create
echo "(hd0) $WORK/disk.img" >"$WORK/emu/device.map"
# grub-emu reads its own grub.cfg first: point GRUB at the disk, as a
# firmware-booted GRUB's prefix would, run the machine's grub.cfg, say
# what it decided, and stop before any entry boots.
cat >"$WORK/emu/grub.cfg" <<'CFG'
set pager=0
set root=(hd0)
set prefix=(hd0)/boot/grub
source $prefix/grub.cfg
echo "KAIROS-RESULT default=${default} left=${kairos_boot_left} tries=${kairos_boot_tries}"
halt
CFG

n=0
boot() { # -> sets DEFAULT LEFT (from GRUB's own output)
	n=$((n + 1))
	rm -f "$WORK/disk.img"
	mke2fs -q -t ext2 -d "$FS" "$WORK/disk.img" 16M || fail "mke2fs failed"
	timeout 60 grub-emu -d "$WORK/emu" -m "$WORK/emu/device.map" </dev/null >"$WORK/emu-$n.out" 2>&1 ||
		fail "grub-emu failed on boot $n: $(tail -n 5 "$WORK/emu-$n.out")"
	line=$(tr -d '\r' <"$WORK/emu-$n.out" | grep -ao 'KAIROS-RESULT.*' | tail -n 1)
	[ -n "$line" ] || fail "grub-emu did not run the script to its end on boot $n: $(tr -d '\r' <"$WORK/emu-$n.out" | tail -n 8)"
	DEFAULT=$(echo "$line" | sed -n 's/.*default=\([^ ]*\) .*/\1/p')
	debugfs -R "cat /boot/grub/grubenv" "$WORK/disk.img" >"$FS/boot/grub/grubenv" 2>/dev/null || fail "cannot read grubenv back"
	LEFT=$(grub-editenv "$FS/boot/grub/grubenv" list | sed -n 's/^kairos_boot_left=//p')
	echo "# boot $n: GRUB default '$DEFAULT', counter left in grubenv: '${LEFT}'"
}

for i in 1 2 3; do
	boot
	[ "$DEFAULT" != "$entry" ] || fail "boot $i of 3 failed ones already defaults to the kairos entry"
	[ "$LEFT" = $((3 - i)) ] || fail "after boot $i the counter is '$LEFT', expected $((3 - i))"
done
grub-editenv "$FS/boot/grub/grubenv" list | grep -q '^kairos_boot_tries=3$' || fail "grubenv does not hold kairos_boot_tries=3"
boot
[ "$DEFAULT" = "$entry" ] || fail "after 3 boots that never completed, GRUB's default is '$DEFAULT', not the kairos entry $entry"
boot
[ "$DEFAULT" = "$entry" ] && [ "$LEFT" = 0 ] || fail "the kairos entry did not stay the default until a boot completes ('$DEFAULT', '$LEFT')"

# show-config says so.
KAIROS_GRUBENV="$FS/boot/grub/grubenv" "$builddir/kairos-recovery" --config /dev/null show-config >"$WORK/show-config" 2>&1
grep -q "recovery entry after 3 failed boots; 0 left: the next boot" "$WORK/show-config" ||
	fail "show-config does not show the counter: $(grep -i counter "$WORK/show-config")"

# A boot completes: the unit's own command, on this grubenv.
eval "${reset/\/boot\/grub\/grubenv/\"$FS/boot/grub/grubenv\"}" || fail "the reset command failed: $reset"
boot
[ "$DEFAULT" != "$entry" ] || fail "after a completed boot GRUB still defaults to the kairos entry"
[ "$LEFT" = 2 ] || fail "after a completed boot the next boot left the counter at '$LEFT', expected 2"

# Without the setting: no counter in grub.cfg, and grubenv is not touched.
grub_mkconfig nocounter ""
grep -q "kairos_boot_left" "$GRUB_CFG" && fail "a counter without GRUB_KAIROS_RECOVERY_AFTER_FAILED_BOOTS"
pass "grub-emu ran the generated grub.cfg 6 times: the kairos entry became the default after 3 failed boots and stayed; a completed boot reset it"

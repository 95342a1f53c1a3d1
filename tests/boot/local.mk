# Boot integration: the units verified by systemd-analyze, the dracut module
# in a real initramfs, the GRUB entry through grub-mkconfig. The qemu boot
# (the proof, several minutes) has a target of its own, run once by
# tools/check and not again in the sanitizer pass.
BOOT_TESTS = \
	tests/boot/units-verify.sh \
	tests/boot/dracut-module.sh \
	tests/boot/grub-entry.sh \
	tests/boot/grub-counter.sh \
	tests/boot/installed-boot.sh
TESTS += $(BOOT_TESTS)
EXTRA_DIST += $(BOOT_TESTS) tests/boot/lib-boot.sh tests/boot/qemu-boot.sh tests/boot/screen-frame.py

check-boot: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='tests/boot/qemu-boot.sh'
.PHONY: check-boot

# Boot integration: the units verified by systemd-analyze, the dracut module
# in a real initramfs, the GRUB entry through grub-mkconfig. The qemu boot
# (the proof, several minutes) has a target of its own, run once by
# tools/check and not again in the sanitizer pass.
BOOT_TESTS = \
	tests/boot/units-verify.sh \
	tests/boot/dracut-module.sh \
	tests/boot/grub-entry.sh \
	tests/boot/network-generator.sh \
	tests/boot/grub-counter.sh \
	tests/boot/installed-boot.sh \
	tests/boot/installed-nm.sh
TESTS += $(BOOT_TESTS)
QEMU_BOOT_TESTS = tests/boot/qemu-boot.sh tests/boot/qemu-auto-recovery.sh tests/boot/qemu-nm.sh \
	tests/boot/qemu-unlock.sh
EXTRA_DIST += $(BOOT_TESTS) $(QEMU_BOOT_TESTS) tests/boot/lib-boot.sh tests/boot/screen-frame.py

# The qemu boots share one initramfs, built once per run (lib-boot.sh's
# shared_initramfs) in a folder made afresh here; one test after the other,
# each has the CPU to itself.
check-boot: all
	rm -rf $(abs_top_builddir)/tests/boot/images && $(MKDIR_P) $(abs_top_builddir)/tests/boot/images
	KAIROS_BOOT_IMAGES=$(abs_top_builddir)/tests/boot/images $(MAKE) $(AM_MAKEFLAGS) -j1 check TESTS='$(QEMU_BOOT_TESTS)'
	rm -rf $(abs_top_builddir)/tests/boot/images
.PHONY: check-boot

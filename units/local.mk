# systemd units, installed where systemd's pkg-config file says.
if BUILD_RECOVERY
systemdsystemunit_DATA = \
	units/kairos-recovery.target \
	units/kairos-recovery.service \
	units/kairos-recovery.socket \
	units/kairos-recovery-ssh.socket \
	units/kairos-recovery-shell@.service \
	units/kairos-boot-complete.service
# AutoRecovery=: the generator (the dracut module puts it into the
# initramfs as well); on the installed system also NetworkManager in a
# recovery boot (the generator's comment says how).
systemdgenerator_SCRIPTS = units/kairos-recovery-auto-generator units/kairos-recovery-network-generator
endif
EXTRA_DIST += units/kairos-boot-complete.service.in units/kairos-recovery.service.in units/kairos-recovery.target \
	units/kairos-recovery.socket units/kairos-recovery-ssh.socket units/kairos-recovery-shell@.service \
	units/kairos-recovery-auto-generator.in
CLEANFILES += units/kairos-recovery.service units/kairos-boot-complete.service units/kairos-recovery-auto-generator

units/kairos-recovery-auto-generator: units/kairos-recovery-auto-generator.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		$(srcdir)/units/kairos-recovery-auto-generator.in >$@ && chmod +x $@

# grub-editenv where GRUB puts it (Debian: /usr/bin).
units/kairos-boot-complete.service: units/kairos-boot-complete.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && sed -e 's|@grub_editenv[@]|/usr/bin/grub-editenv|g' \
		$(srcdir)/units/kairos-boot-complete.service.in >$@

EXTRA_DIST += units/kairos-recovery-network-generator

# Paths substituted at build time, so that they follow --prefix.
units/kairos-recovery.service: units/kairos-recovery.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
		$(srcdir)/units/kairos-recovery.service.in >$@

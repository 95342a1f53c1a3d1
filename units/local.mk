# systemd units, installed where systemd's pkg-config file says.
if BUILD_RECOVERY
systemdsystemunit_DATA = \
	units/kairos-recovery.target \
	units/kairos-recovery.service \
	units/kairos-recovery.socket \
	units/kairos-recovery-ssh.socket \
	units/kairos-recovery-shell@.service
endif
EXTRA_DIST += units/kairos-recovery.service.in units/kairos-recovery.target units/kairos-recovery.socket \
	units/kairos-recovery-ssh.socket units/kairos-recovery-shell@.service
CLEANFILES += units/kairos-recovery.service

# On the installed system: NetworkManager in a recovery boot (the generator's
# comment says how).
if BUILD_RECOVERY
systemdgenerator_SCRIPTS = units/kairos-recovery-network-generator
endif
EXTRA_DIST += units/kairos-recovery-network-generator

# Paths substituted at build time, so that they follow --prefix.
units/kairos-recovery.service: units/kairos-recovery.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) units && sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
		$(srcdir)/units/kairos-recovery.service.in >$@

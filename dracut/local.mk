# The dracut module, installed where dracut's pkg-config file says
# (--with-dracutmodulesdir to choose). module-setup.sh gets the installed
# paths of the daemon, its session helper and the units.
dracutmoduledir = $(dracutmodulesdir)/90kairos-recovery
if BUILD_RECOVERY
dracutmodule_SCRIPTS = \
	dracut/90kairos-recovery/module-setup.sh \
	dracut/90kairos-recovery/kairos-recovery-generator.sh \
	dracut/90kairos-recovery/kairos-recovery-initqueue.sh \
	dracut/90kairos-recovery/kairos-unlock-generator.sh \
	dracut/90kairos-recovery/kairos-unlock-netdown.sh \
	dracut/90kairos-recovery/kairos-unlock-noblock.sh
dracutmodule_DATA = dracut/90kairos-recovery/kairos-recovery-initrd.conf \
	dracut/90kairos-recovery/kairos-unlock.path \
	dracut/90kairos-recovery/kairos-unlock-netdown.service
endif
EXTRA_DIST += dracut/90kairos-recovery/module-setup.sh.in \
	dracut/90kairos-recovery/kairos-unlock-generator.sh.in \
	dracut/90kairos-recovery/kairos-unlock-netdown.sh \
	dracut/90kairos-recovery/kairos-unlock-noblock.sh \
	dracut/90kairos-recovery/kairos-unlock.path \
	dracut/90kairos-recovery/kairos-unlock-netdown.service \
	dracut/90kairos-recovery/kairos-recovery-generator.sh \
	dracut/90kairos-recovery/kairos-recovery-initqueue.sh \
	dracut/90kairos-recovery/kairos-recovery-initrd.conf
CLEANFILES += dracut/90kairos-recovery/module-setup.sh dracut/90kairos-recovery/kairos-unlock-generator.sh

dracut/90kairos-recovery/kairos-unlock-generator.sh: dracut/90kairos-recovery/kairos-unlock-generator.sh.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dracut/90kairos-recovery && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		$(srcdir)/dracut/90kairos-recovery/kairos-unlock-generator.sh.in >$@ && chmod +x $@

dracut/90kairos-recovery/module-setup.sh: dracut/90kairos-recovery/module-setup.sh.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dracut/90kairos-recovery && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' -e 's|@systemdsystemunitdir[@]|$(systemdsystemunitdir)|g' \
		-e 's|@systemdgeneratordir[@]|$(systemdgeneratordir)|g' \
		$(srcdir)/dracut/90kairos-recovery/module-setup.sh.in >$@ && chmod +x $@

# The GRUB entry, in the directory grub-mkconfig reads (--with-grubddir).
if BUILD_RECOVERY
grubd_SCRIPTS = grub.d/42_kairos-recovery
endif
EXTRA_DIST += grub.d/42_kairos-recovery.in
CLEANFILES += grub.d/42_kairos-recovery

grub.d/42_kairos-recovery: grub.d/42_kairos-recovery.in Makefile
	$(AM_V_GEN)$(MKDIR_P) grub.d && sed -e 's|@sbindir[@]|$(sbindir)|g' \
		$(srcdir)/grub.d/42_kairos-recovery.in >$@ && chmod +x $@

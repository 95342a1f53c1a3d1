# Man pages, installed by make install with the side they document;
# tests/integration/man-lint.sh lints them all.
BRIDGE_MANS = man/kairos-bridge.1
RECOVERY_MANS = man/kairos-recovery.8 man/kairos-recovery.conf.5 man/kairos-recovery-boot.7 man/kairos-unlock.8
dist_man_MANS =
if BUILD_BRIDGE
dist_man_MANS += $(BRIDGE_MANS)
endif
if BUILD_RECOVERY
dist_man_MANS += $(RECOVERY_MANS)
endif
EXTRA_DIST += $(BRIDGE_MANS) $(RECOVERY_MANS)

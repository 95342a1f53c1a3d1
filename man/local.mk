# Man pages, installed by make install; tests/integration/man-lint.sh lints them.
dist_man_MANS = man/kairos-bridge.1 man/kairos-recovery.8 man/kairos-recovery.conf.5 man/kairos-recovery-boot.7

# Debian packaging (debian/): shipped by make dist, so that the packages
# build from the release tarball. make check-packages builds them from that
# tarball and tests them installed on a Debian 12 root (tests/packages/).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/kairos-bridge.install debian/kairos-recovery.install \
	debian/kairos-recovery.postinst debian/kairos-recovery.postrm debian/kairos-recovery.prerm \
	debian/kairos-recovery.lintian-overrides debian/kairos-bridge.lintian-overrides \
	debian/conf/recovery.conf debian/conf/50-kairos-recovery.conf

# The packages installed on Debian 12 roots, and the builds for one side
# (root, the Debian archive, a few minutes): run once by tools/check, like
# make check-boot.
check-packages: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='tests/packages/installed.sh tests/packages/one-side.sh'
.PHONY: check-packages
EXTRA_DIST += tests/packages/installed.sh tests/packages/one-side.sh tests/packages/lib-packages.sh

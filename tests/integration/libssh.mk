# libssh linked statically into the session helper (configure --with-libssh,
# static by default): the GSSAPI without mechanisms that stands in for
# Kerberos, unit-tested where it is built, and the helper checked from the
# outside (no Kerberos in its NEEDED, gssapi-with-mic refused, password after).
if LIBSSH_STATIC
check_PROGRAMS += tests/unit/test-gssapi-none
TESTS += tests/unit/test-gssapi-none
endif
tests_unit_test_gssapi_none_SOURCES = tests/unit/test-gssapi-none.c \
	src/session/gssapi-none.c src/session/gssapi-none.h
tests_unit_test_gssapi_none_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/session

TESTS += tests/integration/libssh-static.sh
EXTRA_DIST += tests/integration/libssh-static.sh tests/integration/gssapi-probe.py

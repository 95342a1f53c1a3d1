# C unit tests (TAP). Paths are from the top of the tree.
UNIT_TESTS = \
	tests/unit/test-aead \
	tests/unit/test-noise \
	tests/unit/test-base32 \
	tests/unit/test-kdf \
	tests/unit/test-record \
	tests/unit/test-hello \
	tests/unit/test-tunnel \
	tests/unit/test-tunnel-pump \
	tests/unit/test-address-policy \
	tests/unit/test-admission
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
# Only the token test needs libqrencode (a typical token must fit QR version
# 4): a build of the bridge alone runs it where libqrencode is installed.
if HAVE_QRENCODE
check_PROGRAMS += tests/unit/test-token
TESTS += tests/unit/test-token
endif
EXTRA_DIST += tests/unit/tap.h tests/data/noise-25519-chachapoly-blake2b.json
tests_unit_test_aead_LDADD = $(SHARED_LIBS)
tests_unit_test_noise_LDADD = $(SHARED_LIBS)
tests_unit_test_base32_LDADD = $(SHARED_LIBS)
# Only the token test needs libqrencode: a typical token must fit QR version 4.
tests_unit_test_token_CFLAGS = $(AM_CFLAGS) $(QRENCODE_CFLAGS)
tests_unit_test_token_LDADD = $(SHARED_LIBS) $(QRENCODE_LIBS)
tests_unit_test_kdf_LDADD = $(SHARED_LIBS)
tests_unit_test_record_LDADD = $(SHARED_LIBS)
tests_unit_test_hello_LDADD = $(SHARED_LIBS)
tests_unit_test_tunnel_SOURCES = tests/unit/test-tunnel.c tests/unit/tunnel-fixture.c tests/unit/tunnel-fixture.h
tests_unit_test_tunnel_LDADD = $(SHARED_LIBS)
tests_unit_test_tunnel_pump_SOURCES = tests/unit/test-tunnel-pump.c tests/unit/tunnel-fixture.c tests/unit/tunnel-fixture.h
tests_unit_test_tunnel_pump_LDADD = $(SHARED_LIBS)
tests_unit_test_address_policy_LDADD = $(SHARED_LIBS)
# The daemon's admission policy, alone (no I/O in it).
tests_unit_test_admission_SOURCES = tests/unit/test-admission.c src/recovery/admission.c src/recovery/admission.h
tests_unit_test_admission_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
tests_unit_test_admission_LDADD = $(SHARED_LIBS)
# kairos-unlock's ask file parser, directory scan and judge.
check_PROGRAMS += tests/unit/test-unlock
TESTS += tests/unit/test-unlock
tests_unit_test_unlock_SOURCES = tests/unit/test-unlock.c $(UNLOCK_ASK_SOURCES) src/unlock/judge.c src/unlock/judge.h \
	src/unlock/volume.c src/unlock/volume.h
tests_unit_test_unlock_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/unlock
tests_unit_test_unlock_LDADD = $(SHARED_LIBS)

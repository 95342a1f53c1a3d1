# shared/sealed.mk: automake fragment included from Makefile.am; paths from the top.
#
# Unattended recovery's keys (keys.h) and sealed codes (sealed.h): in the
# shared library (libsodium only), used by the daemon to seal and by the
# bridge to open. Their unit test, and a fuzz target for the sealed-code
# parser whose committed corpus make check replays.

libkairos_shared_a_SOURCES += \
	src/shared/keys.c src/shared/keys.h \
	src/shared/sealed.c src/shared/sealed.h

check_PROGRAMS += tests/unit/test-sealed
TESTS += tests/unit/test-sealed
tests_unit_test_sealed_LDADD = $(SHARED_LIBS)

check_PROGRAMS += tests/fuzz/replay-sealed
TESTS += tests/fuzz/replay-sealed
tests_fuzz_replay_sealed_SOURCES = tests/fuzz/fuzz-sealed.c $(FUZZ_REPLAY)
tests_fuzz_replay_sealed_LDADD = $(SHARED_LIBS)

if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-sealed
tests_fuzz_fuzz_sealed_SOURCES = tests/fuzz/fuzz-sealed.c $(FUZZ_COMMON)
tests_fuzz_fuzz_sealed_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_sealed_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_sealed_LDADD = $(FUZZ_LINK_LIBS)
endif

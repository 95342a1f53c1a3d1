# shared/conf.mk: automake fragment included from Makefile.am; paths from the top.
#
# The configuration of kairos-recovery (src/shared/conf.h): recovery.conf, the
# kernel command line, show-config. Its unit test, and two fuzz targets whose
# committed corpora make check replays (see tests/fuzz/local.mk for how the
# targets are built and run).

libkairos_shared_a_SOURCES += \
	src/shared/conf.c src/shared/conf.h \
	src/shared/conf-internal.h \
	src/shared/conf-values.c \
	src/shared/conf-report.c \
	src/shared/conf-cmdline.c

check_PROGRAMS += tests/unit/test-conf
TESTS += tests/unit/test-conf
tests_unit_test_conf_LDADD = $(SHARED_LIBS)

CONF_FUZZ_COMMON = tests/fuzz/fuzz.h tests/fuzz/conf-fuzz.h
check_PROGRAMS += tests/fuzz/replay-conf tests/fuzz/replay-cmdline
TESTS += tests/fuzz/replay-conf tests/fuzz/replay-cmdline
tests_fuzz_replay_conf_SOURCES = tests/fuzz/fuzz-conf.c tests/fuzz/replay-main.c $(CONF_FUZZ_COMMON)
tests_fuzz_replay_conf_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_cmdline_SOURCES = tests/fuzz/fuzz-cmdline.c tests/fuzz/replay-main.c $(CONF_FUZZ_COMMON)
tests_fuzz_replay_cmdline_LDADD = $(SHARED_LIBS)
# The corpora are in EXTRA_DIST already: tests/fuzz/local.mk ships tests/fuzz/corpus whole.
# The dictionaries help libFuzzer past the key names:
#   tests/fuzz/fuzz-conf -dict=$(srcdir)/tests/fuzz/conf.dict -max_total_time=300 DIR $(srcdir)/tests/fuzz/corpus/conf/
EXTRA_DIST += tests/fuzz/conf.dict tests/fuzz/cmdline.dict

if ENABLE_FUZZING
# FUZZ_COMPILE, FUZZ_LINK and FUZZ_LINK_LIBS come from tests/fuzz/local.mk
# (make variables: the order of the fragments does not matter).
noinst_PROGRAMS += tests/fuzz/fuzz-conf tests/fuzz/fuzz-cmdline
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz-conf.c $(CONF_FUZZ_COMMON)
tests_fuzz_fuzz_conf_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_conf_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_cmdline_SOURCES = tests/fuzz/fuzz-cmdline.c $(CONF_FUZZ_COMMON)
tests_fuzz_fuzz_cmdline_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_cmdline_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_cmdline_LDADD = $(FUZZ_LINK_LIBS)
endif

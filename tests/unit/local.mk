# C unit tests (TAP). Paths are from the top of the tree.
UNIT_TESTS = tests/unit/test-noise
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
EXTRA_DIST += tests/unit/tap.h tests/data/noise-25519-chachapoly-blake2b.json
tests_unit_test_noise_LDADD = $(SHARED_LIBS)

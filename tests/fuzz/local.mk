# Fuzz targets: libFuzzer with --enable-fuzzing; make check replays the corpora.
# Paths are from the top of the tree.
#
# Each tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput(). make check
# links it with replay-main.c into tests/fuzz/replay-NAME, which runs it (any
# compiler) on every input of tests/fuzz/corpus/NAME/ and fails on an empty or
# missing corpus. With --enable-fuzzing (CC=clang) tests/fuzz/fuzz-NAME is
# also built as a libFuzzer binary, against a copy of the shared library
# built with coverage instrumentation and the sanitizers:
#
#   tests/fuzz/fuzz-token -max_total_time=300 corpus-dir/ $(srcdir)/tests/fuzz/corpus/token/
#   tests/fuzz/fuzz-token -merge=1 new-corpus/ old-corpus/ corpus-dir/

FUZZ_COMMON = tests/fuzz/fuzz.h
FUZZ_REPLAY = tests/fuzz/replay-main.c $(FUZZ_COMMON)

FUZZ_REPLAYS = \
	tests/fuzz/replay-token \
	tests/fuzz/replay-record \
	tests/fuzz/replay-hello \
	tests/fuzz/replay-relay-reply \
	tests/fuzz/replay-noise-handshake \
	tests/fuzz/replay-proxy-url
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)

tests_fuzz_replay_token_SOURCES = tests/fuzz/fuzz-token.c $(FUZZ_REPLAY)
tests_fuzz_replay_token_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_record_SOURCES = tests/fuzz/fuzz-record.c $(FUZZ_REPLAY)
tests_fuzz_replay_record_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_hello_SOURCES = tests/fuzz/fuzz-hello.c $(FUZZ_REPLAY)
tests_fuzz_replay_hello_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_relay_reply_SOURCES = tests/fuzz/fuzz-relay-reply.c $(FUZZ_REPLAY)
tests_fuzz_replay_relay_reply_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_noise_handshake_SOURCES = tests/fuzz/fuzz-noise-handshake.c $(FUZZ_REPLAY)
tests_fuzz_replay_noise_handshake_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_proxy_url_SOURCES = tests/fuzz/fuzz-proxy-url.c src/shared/proxy-url.c $(FUZZ_REPLAY)
tests_fuzz_replay_proxy_url_LDADD = $(SHARED_LIBS)

# The corpora, whole directories, for make distcheck.
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/README.md

if ENABLE_FUZZING
# fuzzer-no-link instruments the library for coverage without a main();
# _FORTIFY_SOURCE is off, as it hides accesses from AddressSanitizer.
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -U_FORTIFY_SOURCE
FUZZ_LIB_COMPILE = $(AM_CFLAGS) $(libkairos_shared_a_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE)
FUZZ_COMPILE = $(AM_CFLAGS) -fsanitize=fuzzer $(FUZZ_SANITIZE)
FUZZ_LINK = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
# The instrumented library comes first, so the plain one (in SHARED_LIBS
# for its dependencies) provides nothing.
FUZZ_LINK_LIBS = tests/fuzz/libkairos-shared-fuzz.a $(SHARED_LIBS)

noinst_LIBRARIES += tests/fuzz/libkairos-shared-fuzz.a
tests_fuzz_libkairos_shared_fuzz_a_SOURCES = $(libkairos_shared_a_SOURCES)
tests_fuzz_libkairos_shared_fuzz_a_CFLAGS = $(FUZZ_LIB_COMPILE)

noinst_PROGRAMS += \
	tests/fuzz/fuzz-token \
	tests/fuzz/fuzz-record \
	tests/fuzz/fuzz-hello \
	tests/fuzz/fuzz-relay-reply \
	tests/fuzz/fuzz-noise-handshake \
	tests/fuzz/fuzz-proxy-url

tests_fuzz_fuzz_token_SOURCES = tests/fuzz/fuzz-token.c $(FUZZ_COMMON)
tests_fuzz_fuzz_token_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_token_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_token_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_record_SOURCES = tests/fuzz/fuzz-record.c $(FUZZ_COMMON)
tests_fuzz_fuzz_record_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_record_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_record_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_hello_SOURCES = tests/fuzz/fuzz-hello.c $(FUZZ_COMMON)
tests_fuzz_fuzz_hello_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_hello_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_hello_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_relay_reply_SOURCES = tests/fuzz/fuzz-relay-reply.c $(FUZZ_COMMON)
tests_fuzz_fuzz_relay_reply_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_relay_reply_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_relay_reply_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_noise_handshake_SOURCES = tests/fuzz/fuzz-noise-handshake.c $(FUZZ_COMMON)
tests_fuzz_fuzz_noise_handshake_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_noise_handshake_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_noise_handshake_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_proxy_url_SOURCES = tests/fuzz/fuzz-proxy-url.c src/shared/proxy-url.c $(FUZZ_COMMON)
tests_fuzz_fuzz_proxy_url_CFLAGS = $(FUZZ_COMPILE)
tests_fuzz_fuzz_proxy_url_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_proxy_url_LDADD = $(FUZZ_LINK_LIBS)
endif

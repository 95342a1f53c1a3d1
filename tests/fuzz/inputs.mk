# Fuzz targets for the parsers outside src/shared: the session helper's
# authorized_keys and configuration, the bridge's known_hosts rewrite.
# Same pattern as tests/fuzz/local.mk (make check replays the corpora; with
# --enable-fuzzing, libFuzzer binaries); the parser's own sources are built
# into each program, with the fuzzing flags when fuzzing.

FUZZ_AUTHKEYS_SOURCES = src/session/authorized-keys.c src/session/authorized-keys.h
FUZZ_SESSCONF_SOURCES = src/session/control.c src/session/control.h
FUZZ_KNOWNHOSTS_SOURCES = src/bridge/known-hosts.c src/bridge/known-hosts.h
FUZZ_ASKFILE_SOURCES = src/unlock/ask-file.c src/unlock/ask-file.h

EXTRA_DIST += tests/fuzz/session-config.dict tests/fuzz/authorized-keys.dict

FUZZ_INPUT_REPLAYS = \
	tests/fuzz/replay-session-config \
	tests/fuzz/replay-known-hosts \
	tests/fuzz/replay-ask-file
check_PROGRAMS += $(FUZZ_INPUT_REPLAYS)
TESTS += $(FUZZ_INPUT_REPLAYS)
# authorized_keys is the session helper's (libssh).
if BUILD_RECOVERY
check_PROGRAMS += tests/fuzz/replay-authorized-keys
TESTS += tests/fuzz/replay-authorized-keys
endif

tests_fuzz_replay_authorized_keys_SOURCES = tests/fuzz/fuzz-authorized-keys.c $(FUZZ_AUTHKEYS_SOURCES) $(FUZZ_REPLAY)
tests_fuzz_replay_authorized_keys_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) -I$(top_srcdir)/src/session
tests_fuzz_replay_authorized_keys_LDADD = $(SHARED_LIBS) $(LIBSSH_LIBS)
tests_fuzz_replay_session_config_SOURCES = tests/fuzz/fuzz-session-config.c $(FUZZ_SESSCONF_SOURCES) $(FUZZ_REPLAY)
tests_fuzz_replay_session_config_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/session
tests_fuzz_replay_session_config_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_known_hosts_SOURCES = tests/fuzz/fuzz-known-hosts.c $(FUZZ_KNOWNHOSTS_SOURCES) $(FUZZ_REPLAY)
tests_fuzz_replay_known_hosts_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/bridge
tests_fuzz_replay_known_hosts_LDADD = $(SHARED_LIBS)
tests_fuzz_replay_ask_file_SOURCES = tests/fuzz/fuzz-ask-file.c $(FUZZ_ASKFILE_SOURCES) $(FUZZ_REPLAY)
tests_fuzz_replay_ask_file_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/unlock
tests_fuzz_replay_ask_file_LDADD = $(SHARED_LIBS)

if ENABLE_FUZZING
if BUILD_RECOVERY
noinst_PROGRAMS += tests/fuzz/fuzz-authorized-keys
endif
noinst_PROGRAMS += \
	tests/fuzz/fuzz-session-config \
	tests/fuzz/fuzz-known-hosts \
	tests/fuzz/fuzz-ask-file

tests_fuzz_fuzz_authorized_keys_SOURCES = tests/fuzz/fuzz-authorized-keys.c $(FUZZ_AUTHKEYS_SOURCES) $(FUZZ_COMMON)
tests_fuzz_fuzz_authorized_keys_CFLAGS = $(FUZZ_COMPILE) $(LIBSSH_CFLAGS) -I$(top_srcdir)/src/session
tests_fuzz_fuzz_authorized_keys_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_authorized_keys_LDADD = $(FUZZ_LINK_LIBS) $(LIBSSH_LIBS)
tests_fuzz_fuzz_session_config_SOURCES = tests/fuzz/fuzz-session-config.c $(FUZZ_SESSCONF_SOURCES) $(FUZZ_COMMON)
tests_fuzz_fuzz_session_config_CFLAGS = $(FUZZ_COMPILE) -I$(top_srcdir)/src/session
tests_fuzz_fuzz_session_config_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_session_config_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_known_hosts_SOURCES = tests/fuzz/fuzz-known-hosts.c $(FUZZ_KNOWNHOSTS_SOURCES) $(FUZZ_COMMON)
tests_fuzz_fuzz_known_hosts_CFLAGS = $(FUZZ_COMPILE) -I$(top_srcdir)/src/bridge
tests_fuzz_fuzz_known_hosts_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_known_hosts_LDADD = $(FUZZ_LINK_LIBS)
tests_fuzz_fuzz_ask_file_SOURCES = tests/fuzz/fuzz-ask-file.c $(FUZZ_ASKFILE_SOURCES) $(FUZZ_COMMON)
tests_fuzz_fuzz_ask_file_CFLAGS = $(FUZZ_COMPILE) -I$(top_srcdir)/src/unlock
tests_fuzz_fuzz_ask_file_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_ask_file_LDADD = $(FUZZ_LINK_LIBS)
endif

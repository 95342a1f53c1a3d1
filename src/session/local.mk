# session/local.mk: automake fragment included from Makefile.am; paths from the top.

# The session helper: kairos-recovery fork+execs one per connection
# (src/shared/session-protocol.h). Installed in $(pkglibexecdir), i.e.
# $(libexecdir)/kairos; through a directory variable of its own because
# Makefile.am does not define pkglibexec_PROGRAMS for fragments to add to.
if BUILD_RECOVERY
sessionhelperdir = $(pkglibexecdir)
sessionhelper_PROGRAMS = kairos-recovery-session
kairos_recovery_session_SOURCES = \
	src/session/main.c \
	src/session/control.c src/session/control.h \
	src/session/hostkeys.c src/session/hostkeys.h \
	src/session/tunnel-transport.c src/session/tunnel-transport.h \
	src/session/server.h \
	src/session/ssh-server.c \
	src/session/ssh-policy.c src/session/ssh-policy.h \
	src/session/auth.c \
	src/session/authorized-keys.c src/session/authorized-keys.h \
	src/session/channel.c \
	src/session/shell.c \
	src/session/spawn.c src/session/spawn.h \
	src/session/forward.c \
	src/session/keygen.c src/session/keygen.h \
	$(UNLOCK_ASK_SOURCES)
kairos_recovery_session_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) -I$(top_srcdir)/src/unlock
kairos_recovery_session_LDADD = $(SHARED_LIBS) $(LIBSSH_SESSION_LIBS) -lutil
# With libssh.a (configure --with-libssh, static by default), a GSSAPI with
# no mechanisms stands in for Kerberos (gssapi-none.c says why).
if LIBSSH_STATIC
kairos_recovery_session_SOURCES += src/session/gssapi-none.c src/session/gssapi-none.h
endif

# Starts the helper as kairos-recovery does, printing its events (tests).
check_PROGRAMS += tests/tools/session-launch
tests_tools_session_launch_SOURCES = tests/tools/session-launch.c
tests_tools_session_launch_LDADD = $(SHARED_LIBS)

# Unit test of the helper's inputs (configuration, authorized_keys, event text).
check_PROGRAMS += tests/unit/test-session-config
TESTS += tests/unit/test-session-config
tests_unit_test_session_config_SOURCES = tests/unit/test-session-config.c \
	src/session/control.c src/session/authorized-keys.c
tests_unit_test_session_config_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS) -I$(top_srcdir)/src/session
tests_unit_test_session_config_LDADD = $(SHARED_LIBS) $(LIBSSH_LIBS)
endif

# Integration tests: the helper behind session-launch, with OpenSSH's ssh,
# scp, sftp and rsync as the clients (root; skipped otherwise, never in CI).
SESSION_TESTS = \
	tests/integration/session-exec.sh \
	tests/integration/session-shell.sh \
	tests/integration/session-transfer.sh \
	tests/integration/session-forward.sh \
	tests/integration/session-auth.sh \
	tests/integration/session-tunnel.sh
TESTS += $(SESSION_TESTS)
EXTRA_DIST += $(SESSION_TESTS) tests/integration/session-lib.sh

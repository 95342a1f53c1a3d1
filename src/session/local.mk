# session/local.mk: automake fragment included from Makefile.am; paths from the top.

# The session helper: kairos-recovery fork+execs one per connection
# (src/shared/session-protocol.h). Installed in $(pkglibexecdir), i.e.
# $(libexecdir)/kairos; through a directory variable of its own because
# Makefile.am does not define pkglibexec_PROGRAMS for fragments to add to.
sessionhelperdir = $(pkglibexecdir)
sessionhelper_PROGRAMS = kairos-recovery-session
kairos_recovery_session_SOURCES = \
	src/session/main.c \
	src/session/control.c src/session/control.h \
	src/session/hostkeys.c src/session/hostkeys.h \
	src/session/tunnel-transport.c src/session/tunnel-transport.h \
	src/session/server.h \
	src/session/ssh-server.c \
	src/session/auth.c \
	src/session/channel.c \
	src/session/shell.c \
	src/session/spawn.c src/session/spawn.h \
	src/session/forward.c
kairos_recovery_session_CFLAGS = $(AM_CFLAGS) $(LIBSSH_CFLAGS)
kairos_recovery_session_LDADD = $(SHARED_LIBS) $(LIBSSH_LIBS) -lutil

# Starts the helper as kairos-recovery does, printing its events (tests).
check_PROGRAMS += tests/tools/session-launch
tests_tools_session_launch_SOURCES = tests/tools/session-launch.c
tests_tools_session_launch_LDADD = $(SHARED_LIBS)

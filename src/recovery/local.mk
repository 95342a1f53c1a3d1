# kairos-recovery: the daemon's main process. Paths from the top of the tree.
if BUILD_RECOVERY
sbin_PROGRAMS += kairos-recovery
endif
kairos_recovery_SOURCES = \
	src/recovery/main.c \
	src/recovery/manager.c src/recovery/manager.h \
	src/recovery/screen.c src/recovery/screen.h \
	src/recovery/sessions.c src/recovery/sessions.h \
	src/recovery/admission.c src/recovery/admission.h \
	src/recovery/helper-spawn.c src/recovery/helper-spawn.h \
	src/recovery/state.c src/recovery/state.h \
	src/recovery/host-key.c src/recovery/host-key.h \
	src/recovery/listeners.c src/recovery/listeners.h \
	src/recovery/netwatch.c src/recovery/netwatch.h \
	src/recovery/notify.c src/recovery/notify.h \
	src/recovery/bootcount.c src/recovery/bootcount.h
kairos_recovery_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
kairos_recovery_LDADD = $(RECOVERY_DISPLAY_LIBS)

# kairos-unlock: gives the passphrase systemd asks for (an encrypted root in
# the initramfs) from a kairos session. Paths from the top of the tree. The
# ask-file parser and the directory scan are also the session helper's (its
# login banner names what is asked for).
UNLOCK_ASK_SOURCES = \
	src/unlock/ask-file.c src/unlock/ask-file.h \
	src/unlock/ask-dir.c src/unlock/ask-dir.h
if BUILD_RECOVERY
sbin_PROGRAMS += kairos-unlock
endif
kairos_unlock_SOURCES = \
	src/unlock/main.c \
	$(UNLOCK_ASK_SOURCES) \
	src/unlock/judge.c src/unlock/judge.h \
	src/unlock/reply.c src/unlock/reply.h \
	src/unlock/volume.c src/unlock/volume.h \
	src/unlock/passphrase.c src/unlock/passphrase.h
kairos_unlock_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/unlock
kairos_unlock_LDADD = $(SHARED_LIBS)

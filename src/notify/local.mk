# kairos-recovery-notify: the HTTPS sender of sealed codes (libcurl), a
# program apart from the daemon so that kairos-recovery never links libcurl.
if BUILD_RECOVERY
pkglibexec_PROGRAMS += kairos-recovery-notify
endif
kairos_recovery_notify_SOURCES = src/notify/main.c
kairos_recovery_notify_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
kairos_recovery_notify_LDADD = $(CURL_LIBS)

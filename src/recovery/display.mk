# recovery/display.mk: automake fragment included from Makefile.am; paths from the top.
# The screen: QR code (shared, the only user of libqrencode and libpng), the
# console writer and plymouth.

# The QR code (src/shared/qr.c) is the daemon's alone: it lives in the
# display library, so that the bridge never needs libqrencode.
DISPLAY_LIBS = $(QRENCODE_LIBS) $(PNG_LIBS)

# The daemon's screen (display.h, plymouth.h). A program links
# $(RECOVERY_DISPLAY_LIBS): this library, the shared one and theirs.
if BUILD_RECOVERY
noinst_LIBRARIES += libkairos-display.a
endif
libkairos_display_a_CFLAGS = $(AM_CFLAGS) $(QRENCODE_CFLAGS) $(PNG_CFLAGS)
libkairos_display_a_SOURCES = \
	src/shared/qr.c src/shared/qr.h \
	src/recovery/display.h src/recovery/display.c src/recovery/display-layout.c \
	src/recovery/plymouth.h src/recovery/plymouth.c \
	src/recovery/plymouth-protocol.h src/recovery/plymouth-protocol.c
RECOVERY_DISPLAY_LIBS = libkairos-display.a $(SHARED_LIBS) $(DISPLAY_LIBS)

if BUILD_RECOVERY
DISPLAY_UNIT_TESTS = tests/unit/test-qr tests/unit/test-display tests/unit/test-display-writer \
	tests/unit/test-plymouth-protocol
check_PROGRAMS += $(DISPLAY_UNIT_TESTS)
TESTS += $(DISPLAY_UNIT_TESTS)
tests_unit_test_qr_CFLAGS = $(AM_CFLAGS) $(PNG_CFLAGS)
tests_unit_test_qr_LDADD = $(RECOVERY_DISPLAY_LIBS)
tests_unit_test_display_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
tests_unit_test_display_LDADD = $(RECOVERY_DISPLAY_LIBS)
tests_unit_test_display_SOURCES = tests/unit/test-display.c tests/unit/display-sample.h
tests_unit_test_display_writer_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
tests_unit_test_display_writer_LDADD = $(RECOVERY_DISPLAY_LIBS)
tests_unit_test_display_writer_SOURCES = tests/unit/test-display-writer.c tests/unit/display-sample.h
tests_unit_test_plymouth_protocol_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
tests_unit_test_plymouth_protocol_LDADD = $(RECOVERY_DISPLAY_LIBS)

# Tools for the integration tests. halfblock-to-png knows only terminals and
# the four glyphs, not the renderer: it links libpng alone.
check_PROGRAMS += tests/tools/kairos-display tests/tools/halfblock-to-png tests/tools/plymouth-show
tests_tools_kairos_display_SOURCES = tests/tools/kairos-display.c
tests_tools_kairos_display_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
tests_tools_kairos_display_LDADD = $(RECOVERY_DISPLAY_LIBS)
tests_tools_halfblock_to_png_SOURCES = tests/tools/halfblock-to-png.c
tests_tools_halfblock_to_png_CFLAGS = $(AM_CFLAGS) $(PNG_CFLAGS)
tests_tools_halfblock_to_png_LDADD = $(PNG_LIBS)
tests_tools_plymouth_show_SOURCES = tests/tools/plymouth-show.c
tests_tools_plymouth_show_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/recovery
tests_tools_plymouth_show_LDADD = $(RECOVERY_DISPLAY_LIBS)
endif

DISPLAY_INTEGRATION_TESTS = \
	tests/integration/display-zbar.sh \
	tests/integration/plymouth.sh
TESTS += $(DISPLAY_INTEGRATION_TESTS)
EXTRA_DIST += $(DISPLAY_INTEGRATION_TESTS) tests/integration/pty-capture.py

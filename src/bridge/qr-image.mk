# bridge/qr-image.mk: automake fragment included from Makefile.am; paths from the top.
#
# The kairos token from a photo or screenshot of its QR code (qr-image.h),
# in a library of its own so that only the bridge links zbar, libpng and
# libjpeg, libheif and libwebp. Each outside library is used from one file:
# zbar in qr-scan.c, libpng in image-png.c, libjpeg in image-jpeg.c, libheif
# in image-heif.c, libwebp in image-webp.c.

QRIMAGE_SOURCES = \
	src/bridge/qr-image.c src/bridge/qr-image.h \
	src/bridge/qr-scan.c src/bridge/qr-scan.h \
	src/bridge/qr-variants.c src/bridge/qr-variants.h \
	src/bridge/image-format.c src/bridge/image-format.h \
	src/bridge/image-load.h \
	src/bridge/image-png.c \
	src/bridge/image-jpeg.c \
	src/bridge/image-heif.c \
	src/bridge/image-webp.c \
	src/bridge/exif.c src/bridge/exif.h \
	src/bridge/grey-image.c src/bridge/grey-image.h
QRIMAGE_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/src/bridge $(ZBAR_CFLAGS) $(PNG_CFLAGS) $(JPEG_CFLAGS) $(HEIF_CFLAGS) $(WEBP_CFLAGS)

if BUILD_BRIDGE
noinst_LIBRARIES += libkairos-qrimage.a
endif
libkairos_qrimage_a_SOURCES = $(QRIMAGE_SOURCES)
libkairos_qrimage_a_CFLAGS = $(QRIMAGE_CFLAGS)
# For the bridge: $(QRIMAGE_LIBS) before $(SHARED_LIBS) (logging).
QRIMAGE_LIBS = libkairos-qrimage.a $(ZBAR_LIBS) $(PNG_LIBS) $(JPEG_LIBS) $(HEIF_LIBS) $(WEBP_LIBS)

# Small pictures for the unit test and the fuzz corpus' seeds: a test token
# (relay 127.0.0.1, no secret worth anything) and a web address.
QRIMAGE_FIXTURES = \
	tests/data/qr-token.png \
	tests/data/qr-token.jpg \
	tests/data/qr-token.heic \
	tests/data/qr-token.webp \
	tests/data/qr-token.avif \
	tests/data/qr-url.png \
	tests/data/qr-escape.png \
	tests/data/blank.png
EXTRA_DIST += $(QRIMAGE_FIXTURES)

# The test tool: prints the token or the error, exits with the error code.
if BUILD_BRIDGE
check_PROGRAMS += tests/tools/qr-image-read
tests_tools_qr_image_read_SOURCES = tests/tools/qr-image-read.c
tests_tools_qr_image_read_CFLAGS = $(QRIMAGE_CFLAGS)
tests_tools_qr_image_read_LDADD = $(QRIMAGE_LIBS) $(SHARED_LIBS)

check_PROGRAMS += tests/unit/test-qr-image
TESTS += tests/unit/test-qr-image
tests_unit_test_qr_image_SOURCES = tests/unit/test-qr-image.c
tests_unit_test_qr_image_CFLAGS = $(QRIMAGE_CFLAGS)
tests_unit_test_qr_image_LDADD = $(QRIMAGE_LIBS) $(SHARED_LIBS)

TESTS += tests/integration/qr-photo.sh
EXTRA_DIST += tests/integration/qr-photo.sh

# Fuzzing: make check replays tests/fuzz/corpus/qr-image/ (see tests/fuzz/local.mk).
check_PROGRAMS += tests/fuzz/replay-qr-image
TESTS += tests/fuzz/replay-qr-image
tests_fuzz_replay_qr_image_SOURCES = tests/fuzz/fuzz-qr-image.c $(FUZZ_REPLAY)
tests_fuzz_replay_qr_image_CFLAGS = $(QRIMAGE_CFLAGS)
tests_fuzz_replay_qr_image_LDADD = $(QRIMAGE_LIBS) $(SHARED_LIBS)
endif

if ENABLE_FUZZING
if BUILD_BRIDGE
# The library again, instrumented like tests/fuzz/libkairos-shared-fuzz.a.
noinst_LIBRARIES += tests/fuzz/libkairos-qrimage-fuzz.a
tests_fuzz_libkairos_qrimage_fuzz_a_SOURCES = $(QRIMAGE_SOURCES)
tests_fuzz_libkairos_qrimage_fuzz_a_CFLAGS = $(QRIMAGE_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE)

noinst_PROGRAMS += tests/fuzz/fuzz-qr-image
tests_fuzz_fuzz_qr_image_SOURCES = tests/fuzz/fuzz-qr-image.c $(FUZZ_COMMON)
tests_fuzz_fuzz_qr_image_CFLAGS = $(QRIMAGE_CFLAGS) -fsanitize=fuzzer $(FUZZ_SANITIZE)
tests_fuzz_fuzz_qr_image_LDFLAGS = $(FUZZ_LINK)
tests_fuzz_fuzz_qr_image_LDADD = tests/fuzz/libkairos-qrimage-fuzz.a $(ZBAR_LIBS) $(PNG_LIBS) $(JPEG_LIBS) $(HEIF_LIBS) $(WEBP_LIBS) $(FUZZ_LINK_LIBS)
endif
endif

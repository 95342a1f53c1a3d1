/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QR image reader's parts that need no camera: the EXIF parser on
 * hand-made bytes (all 8 orientations, both byte orders, cut short,
 * hostile offsets and counts), orientation and the other picture
 * operations on tiny pictures, format detection by magic bytes, and every
 * error path of qr_image_read_token() on files made here or committed
 * under tests/data/ (made with qrencode and ImageMagick). The photo cases
 * are in tests/integration/qr-photo.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exif.h"
#include "grey-image.h"
#include "image-format.h"
#include "macro.h"
#include "qr-image.h"
#include "tap.h"
#include "token.h"

/* The token in tests/data/qr-token.{png,jpg}: relay 127.0.0.1, not secret. */
#define FIXTURE_TOKEN "KAIROS:AHMOCJXDFE7IE7F54ZDTFU7ZGPFAUG7EYCUACFAKAAAAKDRRGI3S4MBOGAXDCORUGAYDCTB3T7TA"

static char tmpdir[256];

/* ---- EXIF -------------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v, int big) {
        p[big ? 0 : 1] = (uint8_t) (v >> 8);
        p[big ? 1 : 0] = (uint8_t) v;
}

static void put32(uint8_t *p, uint32_t v, int big) {
        for (int i = 0; i < 4; i++)
                p[big ? i : 3 - i] = (uint8_t) (v >> (24 - 8 * i));
}

/* A TIFF structure with IFD 0 at offset 8 holding n entries; the
 * orientation (tag, type, count, value) is the last one. Returns the size. */
static size_t make_tiff(uint8_t *buf, int big, unsigned n, uint16_t type, uint32_t count, uint32_t value) {
        size_t p = 10;

        memcpy(buf, big ? "MM\0*" : "II*\0", 4);
        put32(buf + 4, 8, big);
        put16(buf + 8, (uint16_t) n, big);
        for (unsigned i = 0; i + 1 < n; i++, p += 12) {
                put16(buf + p, (uint16_t) (0x0100 + i), big); /* ImageWidth, ImageLength, ... */
                put16(buf + p + 2, 4, big);
                put32(buf + p + 4, 1, big);
                put32(buf + p + 8, 4000, big);
        }
        put16(buf + p, EXIF_TAG_ORIENTATION, big);
        put16(buf + p + 2, type, big);
        put32(buf + p + 4, count, big);
        put32(buf + p + 8, 0, big);
        if (type == 3)
                put16(buf + p + 8, (uint16_t) value, big);
        else
                put32(buf + p + 8, value, big);
        put32(buf + p + 12, 0, big); /* no next IFD */
        return p + 16;
}

/* Exactly sized copies, so that AddressSanitizer sees any over-read. */
static int tiff_exact(const uint8_t *buf, size_t n) {
        uint8_t *copy = malloc(n ? n : 1);
        int r;

        memcpy(copy, buf, n);
        r = exif_orientation_from_tiff(copy, n);
        free(copy);
        return r;
}

static void test_exif(void) {
        uint8_t buf[256], app1[262];
        size_t n;
        int ok;

        for (int big = 0; big <= 1; big++)
                for (uint32_t o = 1; o <= 8; o++) {
                        n = make_tiff(buf, big, 3, 3, 1, o);
                        tap_ok(tiff_exact(buf, n) == (int) o, "%s endian, orientation %u read back",
                               big ? "big" : "little", o);
                        memcpy(app1, "Exif\0\0", 6);
                        memcpy(app1 + 6, buf, n);
                        tap_ok(exif_orientation_from_app1(app1, n + 6) == (int) o,
                               "%s endian, orientation %u read back from an APP1 body", big ? "big" : "little", o);
                }

        n = make_tiff(buf, 0, 1, 4, 1, 6);
        tap_ok(tiff_exact(buf, n) == 6, "an orientation stored as LONG is read too");
        n = make_tiff(buf, 1, 2, 1, 1, 6);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "an orientation of type BYTE is an error");
        n = make_tiff(buf, 1, 2, 3, 2, 6);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "an orientation with two values is an error");
        n = make_tiff(buf, 0, 2, 3, 1, 0);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "orientation 0 is an error");
        n = make_tiff(buf, 1, 2, 3, 1, 9);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "orientation 9 is an error");

        /* IFD 0 without the tag: a width entry only. */
        n = make_tiff(buf, 0, 2, 3, 1, 6);
        put16(buf + 10 + 12, 0x0101, 0);
        tap_ok(tiff_exact(buf, n) == -ENODATA, "no orientation tag: -ENODATA");
        n = make_tiff(buf, 1, 1, 3, 1, 6);
        put16(buf + 8, 0, 1);
        tap_ok(tiff_exact(buf, n) == -ENODATA, "an empty IFD 0: -ENODATA");

        /* Cut short: every prefix without the whole entry fails cleanly. */
        n = make_tiff(buf, 1, 3, 3, 1, 6);
        ok = 1;
        for (size_t k = 0; k < n; k++) {
                int r = tiff_exact(buf, k);
                int want_ok = k >= n - 4; /* only the next-IFD offset missing */

                if (want_ok ? r != 6 : r != -EBADMSG) {
                        tap_diag("prefix of %zu bytes gave %d", k, r);
                        ok = 0;
                }
        }
        tap_ok(ok, "every prefix of a %zu-byte TIFF: an error until the entry is whole", n);

        /* Hostile offsets and counts. */
        static const uint32_t offsets[] = { 0, 4, 7, 37, 38, 0x7fffffff, 0xfffffff0, 0xffffffff };
        for (size_t i = 0; i < ELEMENTSOF(offsets); i++) {
                n = make_tiff(buf, i % 2, 2, 3, 1, 6);
                put32(buf + 4, offsets[i], i % 2);
                tap_ok(tiff_exact(buf, n) == -EBADMSG, "IFD 0 at offset 0x%x of a %zu-byte TIFF is an error",
                       offsets[i], n);
        }
        n = make_tiff(buf, 0, 2, 3, 1, 6);
        put16(buf + 8, 0xffff, 0);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "65535 entries claimed in a %zu-byte TIFF is an error", n);
        n = make_tiff(buf, 1, 2, 3, 1, 6);
        put16(buf + 8, 3, 1);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "one entry more than the data holds is an error");
        memcpy(buf, "IM*\0", 4);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "an unknown byte order is an error");
        memcpy(buf, "MM\0+", 4);
        tap_ok(tiff_exact(buf, n) == -EBADMSG, "a magic number other than 42 is an error");
        tap_ok(exif_orientation_from_tiff(NULL, 0) == -EBADMSG, "no data is an error");
        tap_ok(exif_orientation_from_app1((const uint8_t *) "Exif\0", 5) == -EBADMSG, "a short APP1 header is an error");
        n = make_tiff(buf, 1, 2, 3, 1, 6);
        memcpy(app1, "JFIF\0\0", 6);
        memcpy(app1 + 6, buf, n);
        tap_ok(exif_orientation_from_app1(app1, n + 6) == -EBADMSG, "an APP1 that is not Exif is an error");

        /* Random damage to a valid structure: any answer, never a crash. */
        n = make_tiff(buf, 0, 4, 3, 1, 5);
        ok = 1;
        uint32_t state = 1;
        for (int i = 0; i < 20000; i++) {
                uint8_t m[64];
                int r;

                memcpy(m, buf, n);
                for (int j = 0; j < 1 + i % 4; j++) {
                        state = state * 1103515245 + 12345;
                        m[(state >> 8) % n] = (uint8_t) (state >> 20);
                }
                r = tiff_exact(m, (state >> 4) % (n + 1));
                if (!(r == -EBADMSG || r == -ENODATA || (r >= 1 && r <= 8)))
                        ok = 0;
        }
        tap_ok(ok, "20000 damaged TIFF structures: each an orientation or an error");
}

/* ---- picture operations ------------------------------------------------ */

static void test_orient(void) {
        /* Stored 3×2 as 1 2 3 / 4 5 6; shown per TIFF orientation. */
        static const uint8_t want[9][6] = {
                [1] = { 1, 2, 3, 4, 5, 6 }, [2] = { 3, 2, 1, 6, 5, 4 }, [3] = { 6, 5, 4, 3, 2, 1 },
                [4] = { 4, 5, 6, 1, 2, 3 }, [5] = { 1, 4, 2, 5, 3, 6 }, [6] = { 4, 1, 5, 2, 6, 3 },
                [7] = { 6, 3, 5, 2, 4, 1 }, [8] = { 3, 6, 2, 5, 1, 4 },
        };
        uint8_t px[6] = { 1, 2, 3, 4, 5, 6 };
        struct grey_image in = { .width = 3, .height = 2, .pixels = px }, out;

        for (int o = 1; o <= 8; o++) {
                int r = grey_image_orient(&in, o, &out);
                int swapped = o >= 5;

                tap_ok(r == 0 && out.width == (swapped ? 2u : 3u) && out.height == (swapped ? 3u : 2u) &&
                               memcmp(out.pixels, want[o], 6) == 0,
                       "orientation %d shows the picture as the TIFF specification says", o);
                grey_image_free(&out);
        }
        tap_ok(grey_image_orient(&in, 42, &out) == 0 && memcmp(out.pixels, px, 6) == 0,
               "an orientation out of range leaves the picture as stored");
        grey_image_free(&out);
}

static void test_operations(void) {
        uint8_t px[16] = { 0, 2, 100, 100, 4, 6, 100, 100, 10, 10, 255, 255, 10, 10, 255, 253 }, tall[10];
        struct grey_image in = { .width = 4, .height = 4, .pixels = px }, out;
        int r;

        r = grey_image_shrink(&in, 2, &out);
        tap_ok(r == 0 && out.width == 2 && out.height == 2 && out.pixels[0] == 3 && out.pixels[1] == 100 &&
                       out.pixels[2] == 10 && out.pixels[3] == 255,
               "shrinking by 2 averages each 2x2 box, rounded");
        grey_image_free(&out);
        tap_ok(grey_image_shrink(&in, 1, &out) == -EINVAL, "shrinking by 1 is refused");

        memset(tall, 200, sizeof tall);
        in = (struct grey_image) { .width = 1, .height = 10, .pixels = tall };
        r = grey_image_shrink(&in, 4, &out);
        tap_ok(r == 0 && out.width == 1 && out.height == 2 && out.pixels[0] == 200 && out.pixels[1] == 200,
               "a picture thinner than the factor keeps one pixel across, from clipped boxes");
        grey_image_free(&out);
        tap_ok(grey_image_shrink_factor(&(struct grey_image) { .width = 4000, .height = 3000 }, 1000) == 4 &&
                       grey_image_shrink_factor(&(struct grey_image) { .width = 4001, .height = 3000 }, 1000) == 5 &&
                       grey_image_shrink_factor(&(struct grey_image) { .width = 640, .height = 480 }, 1000) == 1,
               "the shrink factor brings the longer side within the size asked");

        /* One bright pixel in a 5x5 picture, blurred 3x3: spread evenly. */
        uint8_t dot[25] = { 0 };
        dot[12] = 180;
        in = (struct grey_image) { .width = 5, .height = 5, .pixels = dot };
        r = grey_image_blur(&in, 1, &out);
        int spread = r == 0;
        for (size_t y = 0; y < 5 && spread; y++)
                for (size_t x = 0; x < 5; x++) {
                        int inside = x >= 1 && x <= 3 && y >= 1 && y <= 3;
                        if (out.pixels[y * 5 + x] != (inside ? 20 : 0))
                                spread = 0;
                }
        tap_ok(spread, "a 3x3 blur spreads one pixel over its 9 neighbours");
        grey_image_free(&out);
        memset(dot, 77, sizeof dot);
        r = grey_image_blur(&in, 2, &out);
        tap_ok(r == 0 && out.pixels[0] == 77 && out.pixels[24] == 77 && out.pixels[12] == 77,
               "a 5x5 blur keeps a flat picture flat, edges included");
        grey_image_free(&out);

        uint8_t dim[100];
        for (size_t i = 0; i < 100; i++)
                dim[i] = (uint8_t) (100 + i % 2 * 40);
        in = (struct grey_image) { .width = 10, .height = 10, .pixels = dim };
        grey_image_stretch(&in);
        tap_ok(dim[0] == 0 && dim[1] == 255, "a contrast stretch maps a dim 100..140 picture onto 0..255");
        grey_image_invert(&in);
        tap_ok(dim[0] == 255 && dim[1] == 0, "inversion swaps light and dark");

        /* Enlarging: flat stays flat, a step becomes a ramp between the old
         * centres, the ends keep the edge values. */
        uint8_t step[4] = { 0, 0, 200, 200 };
        in = (struct grey_image) { .width = 4, .height = 1, .pixels = step };
        r = grey_image_enlarge(&in, 3, &out);
        tap_ok(r == 0 && out.width == 12 && out.height == 3, "enlarging by 3 triples both sides");
        int ramp = r == 0 && out.pixels[0] == 0 && out.pixels[11] == 200;
        for (size_t x = 1; ramp && x < 12; x++)
                ramp = out.pixels[x] >= out.pixels[x - 1] && out.pixels[12 + x] == out.pixels[x];
        tap_ok(ramp && out.pixels[4] == 0 && out.pixels[7] == 200 && out.pixels[5] > 0 && out.pixels[6] < 200,
               "an enlarged step is a monotone ramp between the old pixel centres");
        grey_image_free(&out);
        tap_ok(grey_image_enlarge(&in, 1, &out) == -EINVAL && grey_image_enlarge(&in, 9, &out) == -EINVAL,
               "enlarging by 1 or by more than 8 is refused");

        /* Sharpening: a soft edge gets steeper, flat parts stay, values clip. */
        uint8_t soft[9] = { 50, 50, 50, 100, 150, 200, 200, 200, 200 };
        in = (struct grey_image) { .width = 9, .height = 1, .pixels = soft };
        r = grey_image_sharpen(&in, 1, 2, &out);
        tap_ok(r == 0 && out.pixels[0] == 50 && out.pixels[8] == 200 && out.pixels[2] < 50 && out.pixels[5] > 200,
               "an unsharp mask steepens a soft edge and keeps flat parts");
        grey_image_free(&out);
        tap_ok(grey_image_sharpen(&in, 1, 0, &out) == -EINVAL, "sharpening by 0 is refused");
}

static void test_formats(void) {
        static const struct {
                const char *bytes;
                size_t n;
                enum image_format want;
        } cases[] = {
                { "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, IMAGE_FORMAT_PNG },
                { "\xff\xd8\xff\xe0\0\x10JFIF", 10, IMAGE_FORMAT_JPEG },
                { "GIF89a\x10\0\x10\0", 10, IMAGE_FORMAT_GIF },
                { "RIFF\x24\0\0\0WEBPVP8 ", 16, IMAGE_FORMAT_WEBP },
                { "\0\0\0\x18" "ftypheic\0\0\0\0", 16, IMAGE_FORMAT_HEIC },
                { "\0\0\0\x1c" "ftypavif\0\0\0\0", 16, IMAGE_FORMAT_AVIF },
                { "\0\0\0\x18" "ftypmp42\0\0\0\0", 16, IMAGE_FORMAT_UNKNOWN },
                { "BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x10\0\0\0\x10\0\0\0", 26, IMAGE_FORMAT_BMP },
                { "II*\0\x08\0\0\0", 8, IMAGE_FORMAT_TIFF },
                { "%PDF-1.7\n", 9, IMAGE_FORMAT_PDF },
                { "<?xml version=\"1.0\"?>\n<svg xmlns=\"\">", 36, IMAGE_FORMAT_SVG },
                { "KAIROS:AEGQSEBZPTO6BDOOCHBJ7L4AIBDQ\n", 36, IMAGE_FORMAT_TEXT },
                { "\xef\xbb\xbf  caf\xc3\xa9\n", 11, IMAGE_FORMAT_TEXT },
                { "\x89PNG", 4, IMAGE_FORMAT_UNKNOWN },
                { "\0\x01\x02\x03", 4, IMAGE_FORMAT_UNKNOWN },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                enum image_format f = image_format_detect((const uint8_t *) cases[i].bytes, cases[i].n);
                tap_ok(f == cases[i].want, "magic bytes case %zu: %s (expected %s)", i, image_format_name(f),
                       image_format_name(cases[i].want));
        }
}

/* ---- reading files ----------------------------------------------------- */

static char *fixture(const char *name, size_t *size) {
        const char *top = getenv("srcdir");
        char path[1024];
        FILE *f;
        char *buf;
        long n;

        snprintf(path, sizeof path, "%s/tests/data/%s", top && *top ? top : ".", name);
        f = fopen(path, "rb");
        if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) < 0) {
                printf("Bail out! cannot read %s\n", path);
                exit(1);
        }
        buf = malloc((size_t) n);
        if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
                printf("Bail out! cannot read %s\n", path);
                exit(1);
        }
        fclose(f);
        *size = (size_t) n;
        return buf;
}

static const char *write_file(const char *name, const void *data, size_t n) {
        static char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        f = fopen(path, "wb");
        if (!f || (n > 0 && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
                printf("Bail out! cannot write %s\n", path);
                exit(1);
        }
        return path;
}

/* Reads a file; checks the code, the errno and that the message names the
 * file and holds a phrase. */
static void expect_file(const char *path, enum qr_image_error_code code, int errno_want, const char *phrase,
                        const char *what) {
        char text[KAIROS_TOKEN_TEXT_MAX];
        struct qr_image_error err;
        int r = qr_image_read_token(path, text, sizeof text, &err);

        if (!tap_ok(r == errno_want && err.code == code && strstr(err.message, phrase) && text[0] == '\0',
                    "%s: %s", what, qr_image_error_code_to_string(code)))
                tap_diag("got %d, %s: %s", r, qr_image_error_code_to_string(err.code), err.message);
}

static int read_memory(const void *data, size_t n, const struct qr_image_limits *limits, struct qr_image_error *err,
                       char *text, size_t size) {
        return qr_image_read_token_from_memory(data, n, "photo.jpg", limits, text, size, err);
}

static void test_files(void) {
        char text[KAIROS_TOKEN_TEXT_MAX], path[512];
        struct qr_image_error err;
        size_t png_n, jpg_n, n;
        _cleanup_free_ char *png = fixture("qr-token.png", &png_n), *jpg = fixture("qr-token.jpg", &jpg_n);
        int r, ok;

        snprintf(path, sizeof path, "%s/qr-token.png", tmpdir);
        write_file("qr-token.png", png, png_n);
        r = qr_image_read_token(path, text, sizeof text, &err);
        tap_ok(r == 0 && err.code == QR_IMAGE_OK && err.message[0] == '\0', "a clean PNG rendering gives a token");
        tap_str_eq(text, FIXTURE_TOKEN, "the PNG's token is the one encoded");
        r = read_memory(jpg, jpg_n, NULL, &err, text, sizeof text);
        tap_ok(r == 0, "a JPEG from memory gives a token");
        tap_str_eq(text, FIXTURE_TOKEN, "the JPEG's token is the one encoded");

        snprintf(path, sizeof path, "%s/no-such-photo.jpg", tmpdir);
        expect_file(path, QR_IMAGE_MISSING, -ENOENT, "no-such-photo.jpg does not exist", "a missing file");
        snprintf(path, sizeof path, "%s/no-such-dir/photo.jpg", tmpdir);
        expect_file(path, QR_IMAGE_MISSING, -ENOENT, "does not exist", "a file in a missing folder");
        expect_file(tmpdir, QR_IMAGE_UNREADABLE, -EISDIR, "is a directory", "a directory");
        snprintf(path, sizeof path, "%s/fifo.png", tmpdir);
        if (mkfifo(path, 0600) == 0)
                expect_file(path, QR_IMAGE_UNREADABLE, -EINVAL, "not a regular file", "a FIFO nobody writes (no hang)");
        expect_file(write_file("empty.png", "", 0), QR_IMAGE_EMPTY, -ENODATA, "is empty", "an empty file");
        expect_file(write_file("token.png", FIXTURE_TOKEN "\n", strlen(FIXTURE_TOKEN) + 1), QR_IMAGE_NOT_AN_IMAGE,
                    -EMEDIUMTYPE, "holds text, not a picture", "a text file named .png");
        /* A HEIC header and nothing else: read by libheif now, and refused
         * as what it is, not as an unknown format. */
        r = read_memory("\0\0\0\x18" "ftypheic\0\0\0\0mif1", 20, NULL, &err, text, sizeof text);
        tap_ok(r < 0 && (err.code == QR_IMAGE_CORRUPT || err.code == QR_IMAGE_TRUNCATED) && strstr(err.message, "HEIC"),
               "a HEIC header alone: damaged or cut short (%s)", err.message);
        /* Phone formats: HEIC (an iPhone's default), WebP, AVIF. */
        {
                static const char *const phone[] = { "qr-token.heic", "qr-token.webp", "qr-token.avif" };

                for (size_t i = 0; i < ELEMENTSOF(phone); i++) {
                        size_t fn;
                        _cleanup_free_ char *d = fixture(phone[i], &fn);

                        r = read_memory(d, fn, NULL, &err, text, sizeof text);
                        tap_ok(r == 0 && !strcmp(text, FIXTURE_TOKEN), "%s gives the token (%s)", phone[i], err.message);
                        ok = 1;
                        for (size_t k = 1; k < fn; k += 1 + k / 64) {
                                r = read_memory(d, k, NULL, &err, text, sizeof text);
                                if (r == 0 ? strcmp(text, FIXTURE_TOKEN) != 0
                                           : !(err.code == QR_IMAGE_TRUNCATED || err.code == QR_IMAGE_NOT_AN_IMAGE ||
                                               err.code == QR_IMAGE_CORRUPT || err.code == QR_IMAGE_NO_CODE)) {
                                        tap_diag("%s prefix of %zu bytes: %s", phone[i], k, err.message);
                                        ok = 0;
                                }
                        }
                        tap_ok(ok, "prefixes of %s: the token or a clean error", phone[i]);
                }
        }
        expect_file(write_file("half.png", png, png_n / 2), QR_IMAGE_TRUNCATED, -EBADMSG, "is cut short",
                    "half a PNG");
        expect_file(write_file("half.jpg", jpg, jpg_n / 2), QR_IMAGE_TRUNCATED, -EBADMSG, "is cut short",
                    "half a JPEG");

        /* Every prefix: no crash, and never anything but these answers. */
        ok = 1;
        for (size_t k = 1; k < png_n + jpg_n; k++) {
                const char *d = k < png_n ? png : jpg;
                size_t len = k < png_n ? k : k - png_n;

                r = read_memory(d, len, NULL, &err, text, sizeof text);
                if (r == 0 ? strcmp(text, FIXTURE_TOKEN) != 0
                           : !(err.code == QR_IMAGE_TRUNCATED || err.code == QR_IMAGE_NOT_AN_IMAGE ||
                               err.code == QR_IMAGE_EMPTY || err.code == QR_IMAGE_CORRUPT)) {
                        tap_diag("%s prefix of %zu bytes: %s", d == png ? "PNG" : "JPEG", len, err.message);
                        ok = 0;
                }
        }
        tap_ok(ok, "every prefix of the PNG and the JPEG: the token or a clean error");

        /* Damage: a PNG header with a wrong CRC; a JPEG with a bad marker in its scan. */
        _cleanup_free_ char *bad = malloc(MAX(png_n, jpg_n));
        memcpy(bad, png, png_n);
        bad[29] ^= 0x55; /* IHDR's CRC */
        r = read_memory(bad, png_n, NULL, &err, text, sizeof text);
        tap_ok(r == -EBADMSG && err.code == QR_IMAGE_CORRUPT && strstr(err.message, "damaged PNG"),
               "a PNG with a bad header CRC: corrupt (%s)", err.message);
        memcpy(bad, jpg, jpg_n);
        char *sos = memmem(bad, jpg_n, "\xff\xda", 2);
        if (sos && (size_t) (sos - bad) + 40 < jpg_n)
                memcpy(sos + 2, "\xff\x01\xff\x01", 4);
        r = read_memory(bad, jpg_n, NULL, &err, text, sizeof text);
        tap_ok(r == -EBADMSG && err.code == QR_IMAGE_CORRUPT && strstr(err.message, "damaged JPEG"),
               "a JPEG with a broken scan header: corrupt (%s)", err.message);

        /* The pixel limit, from the header, before any allocation. */
        memcpy(bad, jpg, jpg_n);
        char *sof = memmem(bad, jpg_n, "\xff\xc0", 2);
        tap_ok(sof != NULL, "the JPEG fixture is baseline");
        if (sof)
                memcpy(sof + 5, "\x4e\x20\x4e\x20", 4); /* 20000 × 20000 */
        r = read_memory(bad, jpg_n, NULL, &err, text, sizeof text);
        tap_ok(r == -EFBIG && err.code == QR_IMAGE_TOO_LARGE && strstr(err.message, "20000x20000"),
               "a JPEG claiming 400 megapixels: too large (%s)", err.message);
        struct qr_image_limits small = QR_IMAGE_LIMITS_DEFAULT;
        small.max_pixels = 100;
        r = read_memory(png, png_n, &small, &err, text, sizeof text);
        tap_ok(r == -EFBIG && err.code == QR_IMAGE_TOO_LARGE, "a limit of 100 pixels stops a 123x123 PNG");

        _cleanup_free_ char *blank = fixture("blank.png", &n);
        r = read_memory(blank, n, NULL, &err, text, sizeof text);
        tap_ok(r == -ENOMSG && err.code == QR_IMAGE_NO_CODE && strstr(err.message, "shows no QR code"),
               "a blank picture: no QR code");

        _cleanup_free_ char *url = fixture("qr-url.png", &n);
        r = read_memory(url, n, NULL, &err, text, sizeof text);
        tap_ok(r == -ENOMSG && err.code == QR_IMAGE_NOT_A_TOKEN &&
                       strstr(err.message, "a web address (https://example.com/kairos), not a kairos token"),
               "a QR code with a web address: not a token, and says what it holds");

        _cleanup_free_ char *esc = fixture("qr-escape.png", &n);
        r = read_memory(esc, n, NULL, &err, text, sizeof text);
        ok = r == -ENOMSG && err.code == QR_IMAGE_NOT_A_TOKEN;
        for (const char *p = err.message; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        ok = 0;
        tap_ok(ok, "terminal escapes in a code never reach the message (%s)", err.message);

        r = qr_image_read_token_from_memory(png, png_n, "a\nb\033[2J.png", NULL, text, 20, &err);
        tap_ok(r == -ENOMSG && err.code == QR_IMAGE_NOT_A_TOKEN && strstr(err.message, "a?b?[2J.png") &&
                       strstr(err.message, "starts like a kairos token"),
               "a token too long for the buffer is refused, and the name is shown without control characters");
        r = qr_image_read_token_from_memory("", 0, NULL, NULL, text, sizeof text, &err);
        tap_ok(r == -ENODATA && strstr(err.message, "The picture is empty"), "without a name, messages say 'The picture'");
}

static void test_code_names(void) {
        int ok = 1;

        for (int a = 0; a < _QR_IMAGE_ERROR_MAX; a++)
                for (int b = 0; b < a; b++)
                        if (strcmp(qr_image_error_code_to_string(a), qr_image_error_code_to_string(b)) == 0)
                                ok = 0;
        tap_ok(ok && strcmp(qr_image_error_code_to_string(_QR_IMAGE_ERROR_MAX), "unknown") == 0,
               "every error code has a name of its own");
}

int main(void) {
        const char *t = getenv("TMPDIR");

        snprintf(tmpdir, sizeof tmpdir, "%s/test-qr-image.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpdir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }

        test_exif();
        test_orient();
        test_operations();
        test_formats();
        test_files();
        test_code_names();

        /* Leave no scratch behind. */
        static const char *const names[] = { "qr-token.png", "fifo.png", "empty.png", "token.png", "photo.heic",
                                             "half.png", "half.jpg" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
                unlink(path);
        }
        rmdir(tmpdir);
        return tap_done();
}

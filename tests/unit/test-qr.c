/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qr.h: the version and ECC level of typical tokens (the level read back
 * from the code's own format information), the half-block rendering parsed
 * back into modules, the PNG read back with libpng, and qr.png written
 * atomically with mode 0600. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <sodium.h>
#include <sys/stat.h>

#include "qr.h"
#include "tap.h"
#include "token.h"

static void add_address(struct kairos_token *t, const char *s) {
        struct kairos_address a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

        if (inet_pton(a.family, s, a.bytes) != 1 || token_add_address(t, &a) < 0)
                abort();
}

static void token_text(const struct kairos_token *t, char *out) {
        if (token_encode(t, out, KAIROS_TOKEN_TEXT_MAX) < 0) {
                printf("Bail out! token_encode failed\n");
                exit(1);
        }
}

/* The 15 format bits around the top-left finder pattern (ISO/IEC 18004
 * 7.9.1, figure 25), read from the matrix: bits 0-7 down column 8 (past
 * the timing row), bits 8-14 leftwards along row 8 (past the timing
 * column), bit 14 the most significant. */
static unsigned format_bits(const struct qr_code *q) {
        unsigned f = 0;

        for (int i = 0; i < 8; i++)
                f |= (unsigned) qr_module_dark(q, 8, i < 6 ? i : i + 1) << i;
        for (int i = 0; i < 7; i++)
                f |= (unsigned) qr_module_dark(q, i == 0 ? 7 : 6 - i, 8) << (8 + i);
        return f;
}

/* The error correction level in the format information: M is 00. The bits
 * are masked with 101010000010010 and carry a BCH(15,5) check. */
static const char *ecc_level(const struct qr_code *q) {
        static const char *const names[] = { "M", "L", "H", "Q" };
        unsigned f = format_bits(q) ^ 0x5412, data = f >> 10, check = data << 10;

        for (int i = 14; i >= 10; i--)
                if (check & (1u << i))
                        check ^= 0x537u << (i - 10);
        if ((f & 0x3ff) != check)
                return "(format information does not check)";
        return names[data >> 3];
}

static void test_versions(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX];
        struct kairos_token t;
        struct qr_code *q = NULL;
        unsigned worst = 0, bad_level = 0;

        token_new(&t);
        add_address(&t, "192.168.1.20");
        add_address(&t, "10.0.0.5");
        token_text(&t, text);
        if (tap_ok(qr_encode(text, &q) == 0, "a typical token (default relay, two IPv4 addresses) encodes")) {
                tap_ok(q->version <= 4, "it needs QR version 4 or less (got %u)", q->version);
                tap_ok(q->width == 17 + 4 * q->version, "a version %u code is %u modules wide (got %u)",
                       q->version, 17 + 4 * q->version, q->width);
                tap_str_eq(ecc_level(q), "M", "its format information says ECC level M");
                q = qr_free(q);
        }

        /* Every address combination a default-relay token can hold, with
         * fresh secrets: the longest is two IPv4 and one IPv6 address. */
        for (int k = 0; k < 200; k++) {
                token_new(&t);
                t.port = (uint16_t) (1 + k * 331);
                if (k % 4 >= 1)
                        add_address(&t, "203.0.113.200");
                if (k % 4 >= 2)
                        add_address(&t, "198.51.100.255");
                if (k % 4 >= 3 || k % 8 == 0)
                        add_address(&t, "2001:db8:1234:5678:9abc:def0:1234:5678");
                token_text(&t, text);
                if (qr_encode(text, &q) < 0) {
                        worst = 99;
                        break;
                }
                worst = MAX(worst, q->version);
                bad_level += strcmp(ecc_level(q), "M") != 0;
                q = qr_free(q);
        }
        tap_ok(worst <= 4, "200 default-relay tokens, up to two IPv4 and one IPv6 address, all fit version 4 (worst %u)", worst);
        tap_ok(bad_level == 0, "all of them at ECC level M (%u not)", bad_level);
        sodium_memzero(&t, sizeof t);
}

static void test_errors(void) {
        struct qr_code *q = NULL;
        char *big;
        char buf[16];

        tap_ok(qr_encode("", &q) == -EINVAL && !q, "an empty text is refused with -EINVAL");
        big = malloc(8001);
        memset(big, 'A', 8000);
        big[8000] = 0;
        tap_ok(qr_encode(big, &q) == -ERANGE && !q, "8000 characters do not fit version 40: -ERANGE");
        free(big);
        if (qr_encode("KAIROS:ABC", &q) == 0) {
                tap_ok(qr_text_row(q, 2, qr_text_rows(q, 2), buf, sizeof buf) == -ERANGE, "a row past the end is -ERANGE");
                tap_ok(qr_text_row(q, 2, 0, buf, sizeof buf) == -ENOBUFS, "a buffer too small is -ENOBUFS");
                q = qr_free(q);
        }
}

/* ---- the half-block rendering, read back ---- */

/* One glyph into (upper light, lower light); -1 for anything else. */
static int glyph(const char **p, bool *up, bool *down) {
        static const struct { const char *g; bool up, down; } map[] = {
                { "\xe2\x96\x88", true, true }, { "\xe2\x96\x80", true, false },
                { "\xe2\x96\x84", false, true }, { " ", false, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strncmp(*p, map[i].g, strlen(map[i].g)) == 0) {
                        *p += strlen(map[i].g);
                        *up = map[i].up;
                        *down = map[i].down;
                        return 0;
                }
        return -1;
}

/* Parses the rendering into a light/dark grid and compares it with the
 * matrix: code modules as in the matrix (dark = no light), the quiet zone
 * light, past it (the lower half of an odd last row) the dark screen. */
static const char *round_trip(const struct qr_code *q, unsigned quiet) {
        _cleanup_free_ char *s = NULL;
        int side = (int) (q->width + 2 * quiet), y = 0;
        const char *p;

        if (qr_text(q, quiet, &s) < 0)
                return "qr_text failed";
        for (p = s; *p; y += 2) {
                for (int x = 0; x < side; x++) {
                        bool up, down;
                        if (glyph(&p, &up, &down) < 0)
                                return "a character that is not one of the four glyphs";
                        for (int h = 0; h < 2; h++) {
                                int my = y + h - (int) quiet, mx = x - (int) quiet;
                                bool lit = h == 0 ? up : down;
                                bool want = y + h >= side ? false : !qr_module_dark(q, mx, my);
                                if (lit != want)
                                        return y + h >= side ? "past the quiet zone is not dark" :
                                               mx < 0 || my < 0 || mx >= (int) q->width || my >= (int) q->width ?
                                               "a quiet-zone module is not light" : "a module differs from the matrix";
                        }
                }
                if (*p++ != '\n')
                        return "a row is longer than the code";
        }
        if ((unsigned) y / 2 != qr_text_rows(q, quiet))
                return "wrong number of rows";
        return NULL;
}

static void test_half_blocks(void) {
        static const char *const texts[] = {
                "KAIROS:A", "KAIROS:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                "KAIROS:AEBAGBAFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "KAIROS:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        };
        struct qr_code *q = NULL;

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                if (qr_encode(texts[i], &q) < 0) {
                        tap_ok(0, "encoding %zu characters", strlen(texts[i]));
                        continue;
                }
                for (unsigned quiet = 0; quiet <= 4; quiet++) {
                        const char *e = round_trip(q, quiet);
                        tap_ok(!e, "version %u, quiet zone %u: the half blocks read back as the matrix%s%s",
                               q->version, quiet, e ? ": " : "", e ?: "");
                }
                q = qr_free(q);
        }

        if (qr_encode("KAIROS:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHI", &q) == 0) {
                tap_ok(q->version == 4 && qr_text_columns(q, QR_TEXT_QUIET_ZONE) == 37 &&
                       qr_text_rows(q, QR_TEXT_QUIET_ZONE) == 19,
                       "version 4 with the console's quiet zone takes 37 columns and 19 rows (v%u: %u x %u)",
                       q->version, qr_text_columns(q, QR_TEXT_QUIET_ZONE), qr_text_rows(q, QR_TEXT_QUIET_ZONE));
                q = qr_free(q);
        }
}

/* ---- PNG ---- */

static const char *check_png(const struct qr_code *q, const uint8_t *data, size_t size, unsigned scale, unsigned quiet) {
        png_image img = { .version = PNG_IMAGE_VERSION };
        _cleanup_free_ uint8_t *px = NULL;
        unsigned side = (q->width + 2 * quiet) * scale;

        if (!png_image_begin_read_from_memory(&img, data, size))
                return "libpng cannot read it";
        img.format = PNG_FORMAT_GRAY;
        px = malloc(PNG_IMAGE_SIZE(img));
        if (!png_image_finish_read(&img, NULL, px, 0, NULL))
                return "libpng cannot decode it";
        if (img.width != side || img.height != side)
                return "wrong size";
        for (unsigned y = 0; y < side; y++)
                for (unsigned x = 0; x < side; x++) {
                        bool dark = qr_module_dark(q, (int) (x / scale) - (int) quiet, (int) (y / scale) - (int) quiet);
                        if (px[(size_t) y * side + x] != (dark ? 0 : 255))
                                return "a pixel differs from its module";
                }
        return NULL;
}

static unsigned files_in(const char *dir) {
        DIR *d = opendir(dir);
        unsigned n = 0;

        for (struct dirent *e; d && (e = readdir(d));)
                n += e->d_name[0] != '.';
        if (d)
                closedir(d);
        return n;
}

static void test_png(void) {
        char dir[] = "/tmp/test-qr.XXXXXX", path[64], missing[96];
        _cleanup_free_ uint8_t *data = NULL;
        struct qr_code *q = NULL;
        struct stat st;
        size_t size;
        const char *e;

        if (qr_encode("KAIROS:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOP", &q) < 0 || !mkdtemp(dir)) {
                tap_ok(0, "setting up the PNG tests");
                return;
        }
        tap_ok(qr_png(q, QR_PNG_SCALE, QR_PNG_QUIET_ZONE, &data, &size) == 0, "qr_png renders");
        e = check_png(q, data, size, QR_PNG_SCALE, QR_PNG_QUIET_ZONE);
        tap_ok(!e, "libpng reads it back: %u px a module, quiet zone %u, every pixel its module's%s%s",
               QR_PNG_SCALE, QR_PNG_QUIET_ZONE, e ? ": " : "", e ?: "");
        tap_ok(qr_png(q, 0, 4, &data, &size) == -EINVAL, "scale 0 is refused");

        snprintf(path, sizeof path, "%s/qr.png", dir);
        umask(0);
        tap_ok(qr_write_png(q, QR_PNG_SCALE, QR_PNG_QUIET_ZONE, path) == 0, "qr_write_png writes qr.png (umask 0)");
        st = (struct stat) {};
        (void) stat(path, &st);
        tap_ok((st.st_mode & 07777) == 0600, "qr.png is mode 0600 whatever the umask (got %o)", (unsigned) (st.st_mode & 07777));
        chmod(path, 0644);
        st = (struct stat) {};
        tap_ok(qr_write_png(q, 4, 2, path) == 0 && stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
               "written again over a 0644 file, it is 0600 again");
        tap_ok(files_in(dir) == 1, "no temporary file is left beside it (%u files)", files_in(dir));
        snprintf(missing, sizeof missing, "%s/no-such-folder/qr.png", dir);
        tap_ok(qr_write_png(q, 4, 2, missing) == -ENOENT, "into a folder that does not exist: -ENOENT");
        chmod(dir, 0500);
        if (geteuid() != 0) {
                tap_ok(qr_write_png(q, 4, 2, path) == -EACCES, "into a read-only folder: -EACCES");
                tap_ok(files_in(dir) == 1, "and nothing is left behind");
        }
        chmod(dir, 0700);
        umask(022);
        unlink(path);
        rmdir(dir);
        qr_free(q);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        test_versions();
        test_errors();
        test_half_blocks();
        test_png();
        return tap_done();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* base32 as tokens use it: the RFC 4648 vectors without padding, and the
 * strictness that lets a token tell a typo from a cut (bad characters,
 * non-zero trailing bits, lengths no whole number of bytes gives). */
#include <errno.h>
#include <sodium.h>

#include "base32.h"
#include "tap.h"

static void test_base32(void) {
        static const char *const vec[][2] = { /* RFC 4648 section 10, without the padding */
                { "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
                { "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
        };
        char out[32], what[128];
        uint8_t bin[16];
        size_t bad = 99;
        int r;

        for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
                size_t n = strlen(vec[i][0]);
                base32_encode((const uint8_t *) vec[i][0], n, out);
                snprintf(what, sizeof what, "base32 of \"%s\" is the RFC 4648 vector without padding", vec[i][0]);
                tap_str_eq(out, vec[i][1], what);
                tap_ok(base32_encoded_len(n) == strlen(vec[i][1]), "base32_encoded_len(%zu) is %zu (got %zu)",
                       n, strlen(vec[i][1]), base32_encoded_len(n));
                r = base32_decode(vec[i][1], strlen(vec[i][1]), bin, sizeof bin, &bad);
                if (!tap_ok(r == (int) n && !memcmp(bin, vec[i][0], n), "\"%s\" decodes back to \"%s\"", vec[i][1], vec[i][0]))
                        printf("#   got:      %d\n#   expected: %zu\n", r, n);
        }

        r = base32_decode("MZXW0YQ", 7, bin, sizeof bin, &bad);
        tap_ok(r == -EINVAL && bad == 4, "base32: '0' is not in the alphabet: -EINVAL at position 4 (got %d at %zu)", r, bad);
        r = base32_decode("mzxw6", 5, bin, sizeof bin, &bad);
        tap_ok(r == -EINVAL && bad == 0, "base32 is strict about case: lowercase is -EINVAL at position 0 (got %d at %zu)", r, bad);
        r = base32_decode("MY======", 8, bin, sizeof bin, &bad);
        tap_ok(r == -EINVAL && bad == 2, "base32 takes no padding: '=' is -EINVAL at position 2 (got %d at %zu)", r, bad);
        r = base32_decode("MZ", 2, bin, sizeof bin, NULL);
        tap_ok(r == -EBADMSG, "base32: \"MZ\" leaves non-zero trailing bits: -EBADMSG (got %d)", r);
        r = base32_decode("MZXW7", 5, bin, sizeof bin, NULL);
        tap_ok(r == -EBADMSG, "base32: \"MZXW7\" leaves non-zero trailing bits: -EBADMSG (got %d)", r);
        r = base32_decode("MZXW6YTBOJ", 10, bin, sizeof bin, NULL);
        tap_ok(r == -EBADMSG, "base32: \"MZXW6YTBOJ\" leaves non-zero trailing bits: -EBADMSG (got %d)", r);
        for (size_t len = 1; len <= 17; len++) {
                int impossible = len % 8 == 1 || len % 8 == 3 || len % 8 == 6;
                r = base32_decode("AAAAAAAAAAAAAAAAA", len, bin, sizeof bin, NULL);
                if (impossible)
                        tap_ok(r == -EBADMSG, "base32: %zu characters cannot come from whole bytes: -EBADMSG (got %d)", len, r);
                else
                        tap_ok(r == (int) (len * 5 / 8), "base32: %zu zero characters decode to %zu bytes (got %d)", len, len * 5 / 8, r);
        }
        r = base32_decode("MZXW6YTBOI", 10, bin, 5, NULL);
        tap_ok(r == -ENOBUFS, "base32: 6 bytes into a 5-byte buffer is -ENOBUFS (got %d)", r);
}

/* Random bytes of every length up to 64 survive encode then decode, and the
 * encoding has exactly base32_encoded_len() characters of the alphabet. */
static void test_random(void) {
        size_t bad = 0;

        for (int i = 0; i < 3000; i++) {
                uint8_t in[64], back[64];
                char text[128];
                size_t n = (size_t) i % 65;
                int r;

                randombytes_buf(in, n);
                base32_encode(in, n, text);
                r = base32_decode(text, strlen(text), back, sizeof back, NULL);
                if (strlen(text) != base32_encoded_len(n) || strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != strlen(text) ||
                    r != (int) n || memcmp(in, back, n)) {
                        if (!bad++)
                                printf("# first failure: %zu bytes, \"%s\", decode gave %d\n", n, text, r);
                }
        }
        tap_ok(bad == 0, "3000 random byte strings of 0 to 64 bytes encode to the alphabet and decode back (got %zu failures)", bad);
}

int main(void) {
        if (sodium_init() < 0) {
                printf("Bail out! sodium_init failed\n");
                return 99;
        }
        test_base32();
        test_random();
        return tap_done();
}

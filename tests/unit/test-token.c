/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The token (base32 itself: test-base32.c): encode/decode round trips, the QR
 * version a typical token needs, every decoding error with its code and a
 * message, what a person typing may get wrong and is forgiven, and the
 * address and relay rules. */
#include <arpa/inet.h>
#include <errno.h>
#include <qrencode.h>
#include <sodium.h>

#include "base32.h"
#include "tap.h"
#include "token.h"

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
#define PLEN (sizeof KAIROS_TOKEN_PREFIX - 1)

static const char *code_name(enum token_error_code c) {
        static const char *const names[] = {
                "TOKEN_OK", "TOKEN_EMPTY", "TOKEN_URL", "TOKEN_NOT_A_TOKEN", "TOKEN_CHARACTER",
                "TOKEN_TRUNCATED", "TOKEN_TYPO", "TOKEN_VERSION", "TOKEN_TRAILING", "TOKEN_LAYOUT",
                "TOKEN_ADDRESS", "TOKEN_RELAY",
        };
        return (unsigned) c < sizeof names / sizeof names[0] ? names[c] : "(unknown code)";
}

/* ---- helpers ---- */

static void random_address(struct kairos_address *a, int family) {
        do {
                *a = (struct kairos_address) { .family = family };
                randombytes_buf(a->bytes, family == AF_INET ? 4 : 16);
        } while (!token_address_usable(a));
}

static void random_token(struct kairos_token *t) {
        size_t n4 = randombytes_uniform(3), n6 = randombytes_uniform(2);

        token_new(t);
        t->port = (uint16_t) (1 + randombytes_uniform(65535));
        for (size_t i = 0; i < n4 + n6; i++) {
                struct kairos_address a;
                random_address(&a, i < n4 ? AF_INET : AF_INET6);
                if (token_add_address(t, &a) < 0)
                        abort();
        }
        t->n_relays = randombytes_uniform(KAIROS_TOKEN_MAX_RELAYS + 1);
        for (size_t i = 0; i < t->n_relays; i++) {
                unsigned port = 1 + randombytes_uniform(65535);
                if (randombytes_uniform(2))
                        snprintf(t->relays[i], sizeof t->relays[i], "tcp:relay-%u.example:%u", randombytes_uniform(1000), port);
                else
                        snprintf(t->relays[i], sizeof t->relays[i], "tcp:[2001:db8::%x]:%u", randombytes_uniform(65536), port);
        }
        t->no_relay = t->n_relays == 0 && randombytes_uniform(3) == 0;
}

/* Compares what a token holds; a token without addresses holds no port (it
 * decodes to the default one). Returns NULL or the first field that differs. */
static const char *token_diff(const struct kairos_token *a, const struct kairos_token *b) {
        if (memcmp(a->secret, b->secret, KAIROS_SECRET_SIZE))
                return "secret";
        if (a->n_addresses != b->n_addresses)
                return "number of addresses";
        if (a->n_addresses > 0 ? a->port != b->port : b->port != KAIROS_DEFAULT_TUNNEL_PORT)
                return "port";
        for (size_t i = 0; i < a->n_addresses; i++)
                if (a->addresses[i].family != b->addresses[i].family ||
                    memcmp(a->addresses[i].bytes, b->addresses[i].bytes, a->addresses[i].family == AF_INET ? 4 : 16))
                        return "address";
        if (a->n_relays != b->n_relays)
                return "number of relays";
        if (a->no_relay != b->no_relay)
                return "no relay";
        for (size_t i = 0; i < a->n_relays; i++)
                if (strcmp(a->relays[i], b->relays[i]))
                        return "relay";
        return NULL;
}

static void parse_address(struct kairos_address *a, const char *s) {
        *a = (struct kairos_address) { .family = strchr(s, ':') ? AF_INET6 : AF_INET };
        if (inet_pton(a->family, s, a->bytes) != 1)
                abort();
}

/* The typical token: default relay, two private IPv4 addresses. */
static void typical_token(struct kairos_token *t) {
        struct kairos_address a;

        token_new(t);
        parse_address(&a, "192.168.1.20");
        token_add_address(t, &a);
        parse_address(&a, "10.0.0.5");
        token_add_address(t, &a);
}

static void encode(const struct kairos_token *t, char *out) {
        int r = token_encode(t, out, KAIROS_TOKEN_TEXT_MAX);
        if (r < 0) {
                printf("Bail out! token_encode failed: %s\n", strerror(-r));
                exit(1);
        }
}

/* A token built by hand: bin[0..n) followed by the check value token.c
 * computes (4 bytes of BLAKE2b keyed with "kairos token check"), or a wrong
 * one if bad_check, then extra more bytes. */
static void hand_token(const uint8_t *bin, size_t n, int bad_check, size_t extra, char *out) {
        static const char key[] = "kairos token check";
        uint8_t buf[512];

        memcpy(buf, bin, n);
        crypto_generichash(buf + n, 4, bin, n, (const uint8_t *) key, sizeof key - 1);
        if (bad_check)
                buf[n] ^= 0x40;
        memset(buf + n + 4, 0x5a, extra);
        strcpy(out, KAIROS_TOKEN_PREFIX);
        base32_encode(buf, n + 4 + extra, out + PLEN);
}

/* version 1, secret 11 11 ..., the layout byte, then rest. */
static size_t hand_binary(uint8_t *bin, uint8_t version, uint8_t layout, const uint8_t *rest, size_t rest_len) {
        bin[0] = version;
        memset(bin + 1, 0x11, KAIROS_SECRET_SIZE);
        bin[1 + KAIROS_SECRET_SIZE] = layout;
        if (rest_len > 0)
                memcpy(bin + 2 + KAIROS_SECRET_SIZE, rest, rest_len);
        return 2 + KAIROS_SECRET_SIZE + rest_len;
}

static int expect_error(const char *text, enum token_error_code code, const char *what) {
        struct kairos_token t;
        struct token_error err = { .code = TOKEN_OK };
        int r = token_decode(text, &t, &err);
        int ok = r == -EINVAL && err.code == code && err.message[0];

        tap_ok(ok, "%s: %s with a message", what, code_name(code));
        if (!ok)
                printf("#   input:    \"%s\"\n#   got:      %d %s \"%s\"\n#   expected: -EINVAL %s and a message\n",
                       text, r, code_name(err.code), err.message, code_name(code));
        return ok;
}

/* ---- round trips and the QR code ---- */

static void test_round_trip(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX];
        size_t failures = 0, relays = 0, v6 = 0;
        const char *first = NULL;

        for (int i = 0; i < 2500; i++) {
                struct kairos_token t, d;
                struct token_error err;
                const char *diff;

                random_token(&t);
                relays += t.n_relays;
                v6 += t.n_addresses > 0 && t.addresses[t.n_addresses - 1].family == AF_INET6;
                encode(&t, text);
                if (token_decode(text, &d, &err) < 0)
                        diff = err.message;
                else
                        diff = token_diff(&t, &d);
                if (diff && !failures++) {
                        first = diff;
                        printf("# first failure: %s\n", text);
                }
        }
        tap_ok(failures == 0 && relays > 0 && v6 > 0,
               "2500 random tokens (0-2 IPv4, 0-1 IPv6, 0-3 relays, any port) decode to the same fields");
        if (failures)
                printf("#   got:      %zu failures, first: %s\n#   expected: 0\n", failures, first);
}

static void test_qr(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX];
        struct kairos_token t;
        struct kairos_address a;
        QRcode *q;

        typical_token(&t);
        encode(&t, text);
        tap_ok(strlen(text) == 59, "a typical token (default relay, two IPv4 addresses) is 59 characters (got %zu)", strlen(text));
        tap_ok(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:") == strlen(text),
               "every character of a token is in the QR code's alphanumeric set");
        q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (tap_ok(q != NULL, "libqrencode encodes the typical token")) {
                tap_ok(q->version <= 4, "the typical token fits QR version 4 at ECC level M (got version %d)", q->version);
                QRcode_free(q);
        }

        parse_address(&a, "2001:db8:1234:5678::20");
        tap_ok(token_add_address(&t, &a) == 0, "an IPv6 address joins the two IPv4 addresses");
        encode(&t, text);
        /* 1 + 16 + 1 + 2 + 2 * 4 + 16 + 4 = 48 bytes: 77 base32 characters. */
        tap_ok(strlen(text) == PLEN + 77, "the token with 2 IPv4 and 1 IPv6 addresses is %zu characters (got %zu)",
               PLEN + 77, strlen(text));
        q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (tap_ok(q != NULL, "libqrencode encodes the token with the most addresses")) {
                tap_diag("the token with the most addresses and the default relay needs QR version %d at ECC level M", q->version);
                QRcode_free(q);
        }
}

/* ---- decoding errors ---- */

static void test_simple_errors(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX], bad[KAIROS_TOKEN_TEXT_MAX + 64];
        struct kairos_token t, d;
        struct token_error err;
        static const char bad_chars[] = "018@";

        expect_error("", TOKEN_EMPTY, "an empty token");
        expect_error(" \t\r\n  ", TOKEN_EMPTY, "a token of whitespace only");
        expect_error("https://example.com/x", TOKEN_URL, "a web address");
        expect_error("  HTTP://EXAMPLE.COM/", TOKEN_URL, "an uppercase web address after blanks");
        expect_error("WORMHOLE:ABCDEFGH", TOKEN_NOT_A_TOKEN, "another prefix");
        expect_error("KAIRO:ABCDEFGH", TOKEN_NOT_A_TOKEN, "a misspelt prefix");
        expect_error("MZXW6YTBOI", TOKEN_NOT_A_TOKEN, "base32 without the prefix");
        expect_error("KAIROS:", TOKEN_TRUNCATED, "the prefix alone");

        typical_token(&t);
        encode(&t, text);
        for (const char *c = bad_chars; *c; c++) {
                size_t pos = 5 + (size_t) (c - bad_chars) * 11; /* inside the base32 part */
                char where[32];
                strcpy(bad, text);
                bad[PLEN + pos] = *c;
                if (expect_error(bad, TOKEN_CHARACTER, "a character outside base32")) {
                        snprintf(where, sizeof where, "%zu", pos + 1);
                        token_decode(bad, &d, &err);
                        if (!tap_ok(strstr(err.message, where) && strchr(err.message, *c),
                                    "the message names the bad character '%c' and its position %zu", *c, pos + 1))
                                printf("#   got:      %s\n", err.message);
                }
        }
        strcpy(bad, text);
        bad[PLEN + 3] = (char) 0xc3;
        expect_error(bad, TOKEN_CHARACTER, "a byte that is not ASCII");
        strcpy(bad, text);
        bad[PLEN + 3] = '\x01';
        expect_error(bad, TOKEN_CHARACTER, "a control character");
}

static void test_truncated(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX], cut[KAIROS_TOKEN_TEXT_MAX];
        struct kairos_token t[3];
        struct kairos_address a;

        typical_token(&t[0]);
        t[1] = t[0];
        parse_address(&a, "2001:db8::7");
        token_add_address(&t[1], &a);
        token_new(&t[2]);
        t[2].n_relays = 2;
        strcpy(t[2].relays[0], "tcp:relay.example.org:4001");
        strcpy(t[2].relays[1], "tcp:[2001:db8::1]:4001");

        for (size_t k = 0; k < 3; k++) {
                size_t len, wrong = 0, wrong_at = 0;
                struct token_error err;
                struct kairos_token d;
                int r;

                encode(&t[k], text);
                len = strlen(text);
                for (size_t at = PLEN + 1; at < len; at++) {
                        memcpy(cut, text, at);
                        cut[at] = '\0';
                        r = token_decode(cut, &d, &err);
                        if (r != -EINVAL || err.code != TOKEN_TRUNCATED || !err.message[0]) {
                                if (!wrong++)
                                        wrong_at = at;
                        }
                }
                tap_ok(wrong == 0, "token %zu cut at each of its %zu shorter lengths: always TOKEN_TRUNCATED", k + 1, len - PLEN - 1);
                if (wrong) {
                        memcpy(cut, text, wrong_at);
                        cut[wrong_at] = '\0';
                        token_decode(cut, &d, &err);
                        printf("#   got:      %zu wrong, first at %zu characters: %s \"%s\"\n#   expected: TOKEN_TRUNCATED\n",
                               wrong, wrong_at, code_name(err.code), err.message);
                }
        }
}

static void test_typos(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX], bad[KAIROS_TOKEN_TEXT_MAX];
        size_t count[TOKEN_RELAY + 1] = {}, total = 0, successes = 0, others = 0;
        struct kairos_token t, d;
        struct token_error err;

        /* Every substitution in the typical token, then random ones in random tokens. */
        typical_token(&t);
        encode(&t, text);
        for (size_t i = PLEN; text[i]; i++)
                for (const char *c = b32; *c; c++) {
                        if (*c == text[i])
                                continue;
                        strcpy(bad, text);
                        bad[i] = *c;
                        if (token_decode(bad, &d, &err) == 0)
                                successes++;
                        else
                                count[err.code]++;
                        total++;
                }
        for (int i = 0; i < 5000; i++) {
                size_t len, at;
                char c;

                random_token(&t);
                encode(&t, text);
                len = strlen(text);
                at = PLEN + randombytes_uniform((uint32_t) (len - PLEN));
                do
                        c = b32[randombytes_uniform(32)];
                while (c == text[at]);
                strcpy(bad, text);
                bad[at] = c;
                if (token_decode(bad, &d, &err) == 0)
                        successes++;
                else
                        count[err.code]++;
                total++;
        }
        others = total - successes - count[TOKEN_TYPO] - count[TOKEN_TRUNCATED] - count[TOKEN_LAYOUT];
        tap_ok(successes == 0, "none of %zu single-character substitutions decodes (got %zu)", total, successes);
        tap_ok(others == 0, "every substitution is TOKEN_TYPO, TOKEN_TRUNCATED or TOKEN_LAYOUT (got %zu others)", others);
        tap_ok(count[TOKEN_TYPO] * 100 >= total * 95, "at least 95%% of substitutions are TOKEN_TYPO (got %zu of %zu)",
               count[TOKEN_TYPO], total);
        tap_diag("substitutions: %zu typo, %zu truncated, %zu layout, %zu other", count[TOKEN_TYPO],
                 count[TOKEN_TRUNCATED], count[TOKEN_LAYOUT], others);
}

/* A character inserted or dropped anywhere: never a token; a typo, or (when
 * the shifted bits change the layout byte) cut short or followed by more. */
static void test_insert_delete(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX], bad[KAIROS_TOKEN_TEXT_MAX + 1];
        size_t decoded = 0, unexpected = 0, typo = 0;
        enum token_error_code first = TOKEN_OK;

        for (int i = 0; i < 4000; i++) {
                struct kairos_token t, d;
                struct token_error err;
                size_t len, at;

                random_token(&t);
                encode(&t, text);
                len = strlen(text);
                at = PLEN + randombytes_uniform((uint32_t) (len - PLEN + (i % 2 == 0)));
                memcpy(bad, text, at);
                if (i % 2 == 0) {
                        bad[at] = b32[randombytes_uniform(32)];
                        strcpy(bad + at + 1, text + at);
                } else
                        strcpy(bad + at, text + at + 1);
                if (token_decode(bad, &d, &err) == 0)
                        decoded++;
                else if (err.code == TOKEN_TYPO)
                        typo++;
                else if (err.code != TOKEN_TRUNCATED && err.code != TOKEN_TRAILING && !unexpected++)
                        first = err.code;
        }
        tap_ok(decoded == 0, "no token with a character inserted or dropped decodes (got %zu of 4000)", decoded);
        tap_ok(unexpected == 0, "a character inserted or dropped is TOKEN_TYPO, TOKEN_TRUNCATED or TOKEN_TRAILING (got %zu others, first %s)",
               unexpected, code_name(first));
        tap_diag("insertions and deletions: %zu of 4000 are TOKEN_TYPO", typo);
}

static void test_trailing(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX + 2048];
        uint8_t bin[64], rest[2 + 8];
        struct kairos_token t;
        size_t n;

        typical_token(&t);
        encode(&t, text);
        strcat(text, "ABCDEFGQ"); /* 52 + 8 characters: five more whole bytes, as Q leaves zero trailing bits */
        expect_error(text, TOKEN_TRAILING, "a valid token followed by 8 base32 characters");

        /* The binary token followed by 1 to 3 more bytes, encoded together. */
        rest[0] = 0x1b, rest[1] = 0xd4;
        memcpy(rest + 2, (const uint8_t[]) { 192, 0, 2, 7, 198, 51, 100, 7 }, 8);
        n = hand_binary(bin, 1, 2, rest, sizeof rest);
        for (size_t extra = 1; extra <= 3; extra++) {
                char what[64];

                hand_token(bin, n, 0, extra, text);
                snprintf(what, sizeof what, "a valid binary token followed by %zu more bytes", extra);
                expect_error(text, TOKEN_TRAILING, what);
        }

        encode(&t, text);
        n = strlen(text);
        memset(text + n, 'A', 2000);
        text[n + 2000] = '\0';
        expect_error(text, TOKEN_TRAILING, "a token followed by 2000 characters");
}

static void test_version_layout(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX];
        uint8_t bin[64];
        size_t n;

        n = hand_binary(bin, 2, 0, NULL, 0);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_VERSION, "version 2 with a valid check value");
        hand_token(bin, n, 1, 0, text);
        expect_error(text, TOKEN_TYPO, "version 2 with a wrong check value");
        n = hand_binary(bin, 0xff, 0, NULL, 0);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_VERSION, "version 255 with a valid check value");

        n = hand_binary(bin, 1, 0, NULL, 0);
        hand_token(bin, n, 0, 0, text);
        {
                struct kairos_token t;
                struct token_error err;
                int r = token_decode(text, &t, &err);
                tap_ok(r == 0 && t.n_addresses == 0 && t.n_relays == 0 && !t.no_relay && t.port == KAIROS_DEFAULT_TUNNEL_PORT,
                       "a hand-built minimal token (no addresses, default relay) decodes (got %d %s)", r, err.message);
        }
        n = hand_binary(bin, 1, 1u << 5, NULL, 0);
        hand_token(bin, n, 0, 0, text);
        {
                struct kairos_token t;
                struct token_error err;
                int r = token_decode(text, &t, &err);
                tap_ok(r == 0 && t.no_relay && t.n_relays == 0,
                       "layout bit 5 decodes as \"no relay at all\" (got %d %s)", r, err.message);
                t.n_relays = 1;
                strcpy(t.relays[0], "tcp:relay.example:4001");
                tap_ok(token_encode(&t, text, sizeof text) == -EINVAL, "a token with no relay and a relay is not encoded");
        }
        n = hand_binary(bin, 1, 1u << 5 | 1u << 3, (const uint8_t[]) { 6, 'r', ':', '4', '0', '0', '1' }, 7);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_LAYOUT, "\"no relay\" and one relay in the layout, valid check value");

        for (unsigned bit = 6; bit < 8; bit++) {
                char what[64];
                n = hand_binary(bin, 1, (uint8_t) (1u << bit), NULL, 0);
                hand_token(bin, n, 0, 0, text);
                snprintf(what, sizeof what, "reserved layout bit %u set, valid check value", bit);
                expect_error(text, TOKEN_LAYOUT, what);
        }
        n = hand_binary(bin, 1, 3, (const uint8_t[]) { 0x1b, 0xd4, 192, 0, 2, 1, 192, 0, 2, 2, 192, 0, 2, 3 }, 14);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_LAYOUT, "three IPv4 addresses in the layout, valid check value");
        n = hand_binary(bin, 1, 0x20, NULL, 0);
        hand_token(bin, n, 1, 0, text);
        expect_error(text, TOKEN_TYPO, "a reserved layout bit with a wrong check value");

        /* A relay that is not host:port, with a valid check value. */
        n = hand_binary(bin, 1, 1 << 3, (const uint8_t[]) { 8, 'n', 'o', '-', 'p', 'o', 'r', 't', '!' }, 9);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_RELAY, "a relay \"no-port!\", valid check value");
        n = hand_binary(bin, 1, 1 << 3, (const uint8_t[]) { 6, 'a', 0, 'b', ':', '4', '1' }, 7);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_RELAY, "a relay holding a NUL byte, valid check value");
}

static void test_addresses(void) {
        static const char *const impossible[] = {
                "0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "169.254.1.1", "240.0.0.1",
                "::1", "::", "fe80::1", "ff02::1", "::ffff:192.0.2.1",
        };
        static char text[KAIROS_TOKEN_TEXT_MAX];
        uint8_t bin[64], rest[2 + 16];
        size_t n;

        for (size_t i = 0; i < sizeof impossible / sizeof impossible[0]; i++) {
                struct kairos_address a;
                struct kairos_token t;
                struct token_error err;
                char what[96];

                parse_address(&a, impossible[i]);
                rest[0] = 0x1b, rest[1] = 0xd4;
                memcpy(rest + 2, a.bytes, a.family == AF_INET ? 4 : 16);
                n = hand_binary(bin, 1, a.family == AF_INET ? 1 : 4, rest, a.family == AF_INET ? 6 : 18);
                hand_token(bin, n, 0, 0, text);
                snprintf(what, sizeof what, "the address %s, valid check value", impossible[i]);
                if (expect_error(text, TOKEN_ADDRESS, what)) {
                        token_decode(text, &t, &err);
                        if (!tap_ok(strstr(err.message, impossible[i]) != NULL, "the message names the address %s", impossible[i]))
                                printf("#   got:      %s\n", err.message);
                }
                tap_ok(!token_address_usable(&a), "token_address_usable refuses %s", impossible[i]);
        }
        n = hand_binary(bin, 1, 1, (const uint8_t[]) { 0, 0, 192, 0, 2, 1 }, 6);
        hand_token(bin, n, 0, 0, text);
        expect_error(text, TOKEN_ADDRESS, "tunnel port 0, valid check value");
}

/* ---- what is forgiven ---- */

static void test_forgiving(void) {
        static char text[KAIROS_TOKEN_TEXT_MAX], v[KAIROS_TOKEN_TEXT_MAX * 2];
        struct kairos_token t;
        struct kairos_address a;
        const char *sep[] = { " ", "-", "  ", " - " };

        typical_token(&t);
        t.n_relays = 1;
        strcpy(t.relays[0], "tcp:relay.example:4001");
        parse_address(&a, "2001:db8::5");
        token_add_address(&t, &a);
        encode(&t, text);

        for (int variant = 0; variant < 8; variant++) {
                struct kairos_token d;
                struct token_error err;
                const char *what = "", *diff;
                size_t o = 0;
                int r;

                switch (variant) {
                case 0: case 1: case 2: case 3:
                        memcpy(v, text, PLEN);
                        o = PLEN;
                        for (size_t i = PLEN; text[i]; i++) {
                                if (i > PLEN && (i - PLEN) % 4 == 0)
                                        o += (size_t) sprintf(v + o, "%s", sep[variant]);
                                v[o++] = text[i];
                        }
                        v[o] = '\0';
                        what = (const char *[]) { "in groups of 4 split by spaces", "in groups of 4 split by dashes",
                                                  "in groups of 4 split by two spaces", "in groups of 4 split by \" - \"" }[variant];
                        break;
                case 4:
                        for (o = 0; text[o]; o++)
                                v[o] = (char) (text[o] >= 'A' && text[o] <= 'Z' ? text[o] + 32 : text[o]);
                        v[o] = '\0';
                        what = "all lowercase, prefix included";
                        break;
                case 5:
                        snprintf(v, sizeof v, " \t %s\r\n", text);
                        what = "with leading blanks and a trailing CR LF";
                        break;
                case 6:
                        snprintf(v, sizeof v, "kairos:%s\n", text + PLEN);
                        what = "with a lowercase prefix \"kairos:\" and a newline";
                        break;
                case 7:
                        snprintf(v, sizeof v, "Kairos: %s", text + PLEN);
                        what = "with \"Kairos:\" and a space after the prefix";
                        break;
                }
                r = token_decode(v, &d, &err);
                diff = r < 0 ? err.message : token_diff(&t, &d);
                if (!tap_ok(!diff, "the token %s decodes to the same token", what))
                        printf("#   input:    \"%s\"\n#   got:      %s\n", v, diff);
        }
}

/* ---- addresses and relays ---- */

static void test_add_address(void) {
        struct kairos_token t;
        struct kairos_address a;
        char s[64];
        int r;

        token_new(&t);
        parse_address(&a, "2001:db8::1");
        tap_ok(token_add_address(&t, &a) == 0, "the first IPv6 address is added");
        parse_address(&a, "198.51.100.1");
        tap_ok(token_add_address(&t, &a) == 0, "the first IPv4 address is added");
        parse_address(&a, "192.0.2.1");
        tap_ok(token_add_address(&t, &a) == 0, "the second IPv4 address is added");
        parse_address(&a, "203.0.113.1");
        r = token_add_address(&t, &a);
        tap_ok(r == -ENOSPC, "a third IPv4 address is -ENOSPC (got %d)", r);
        parse_address(&a, "2001:db8::2");
        r = token_add_address(&t, &a);
        tap_ok(r == -ENOSPC, "a second IPv6 address is -ENOSPC (got %d)", r);
        tap_ok(t.n_addresses == 3 && t.addresses[0].family == AF_INET && t.addresses[1].family == AF_INET &&
               t.addresses[2].family == AF_INET6, "the token keeps IPv4 addresses before the IPv6 one, whatever the order added");
        address_to_string(&t.addresses[0], s, sizeof s);
        tap_str_eq(s, "198.51.100.1", "the first IPv4 address stays first");

        token_new(&t);
        parse_address(&a, "127.0.0.1");
        r = token_add_address(&t, &a);
        tap_ok(r == -EINVAL && t.n_addresses == 0, "a loopback address is -EINVAL and not added (got %d)", r);
        a.family = AF_UNIX;
        r = token_add_address(&t, &a);
        tap_ok(r == -EINVAL, "an address that is neither IPv4 nor IPv6 is -EINVAL (got %d)", r);

        typical_token(&t);
        t.port = 0;
        r = token_encode(&t, s, sizeof s);
        tap_ok(r == -EINVAL, "token_encode refuses tunnel port 0 with addresses (got %d)", r);
        typical_token(&t);
        r = token_encode(&t, s, 20);
        tap_ok(r == -ENOBUFS, "token_encode into 20 bytes is -ENOBUFS (got %d)", r);
}

static void test_relay_parse(void) {
        static const char *const bad[] = {
                "relay.example:4001", "udp:relay.example:4001", "tcp:relay.example:0", "tcp:relay.example:70000",
                "tcp::4001", "tcp:[]:4001", "tcp:2001:db8::1:4001", "tcp:relay.example:4001x", "tcp:relay.example:4001 ",
                "tcp:relay.example", "tcp:relay.example:", "tcp:relay.example:+4001", "tcp:relay.example:-1",
                "tcp:[::1]4001", "tcp:[::1:4001", "tcp:relay example:4001", "tcp:relay.example:99999999999999999999",
                "TCP:relay.example:4001",
        };
        char host[256];
        uint16_t port = 0;
        int r;

        r = relay_parse("tcp:relay-1.example:4001", host, sizeof host, &port);
        tap_ok(r == 0 && !strcmp(host, "relay-1.example") && port == 4001,
               "tcp:relay-1.example:4001 is host relay-1.example, port 4001 (got %d %s %u)", r, r == 0 ? host : "", port);
        r = relay_parse("tcp:[::1]:4001", host, sizeof host, &port);
        tap_ok(r == 0 && !strcmp(host, "::1") && port == 4001,
               "tcp:[::1]:4001 is host ::1, port 4001 (got %d %s %u)", r, r == 0 ? host : "", port);
        r = relay_parse("tcp:192.0.2.1:65535", host, sizeof host, &port);
        tap_ok(r == 0 && !strcmp(host, "192.0.2.1") && port == 65535, "tcp:192.0.2.1:65535 is accepted (got %d)", r);
        r = relay_parse(KAIROS_DEFAULT_RELAY, host, sizeof host, &port);
        tap_ok(r == 0 && !strcmp(host, "transit.magic-wormhole.io") && port == 4001, "the default relay parses (got %d)", r);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                r = relay_parse(bad[i], host, sizeof host, &port);
                tap_ok(r == -EINVAL, "relay_parse refuses \"%s\" with -EINVAL (got %d)", bad[i], r);
        }
        r = relay_parse("tcp:relay.example:4001", host, 8, &port);
        tap_ok(r == -EINVAL, "relay_parse refuses a host that does not fit the buffer (got %d)", r);
}

int main(void) {
        if (sodium_init() < 0) {
                printf("Bail out! sodium_init failed\n");
                return 99;
        }
        test_round_trip();
        test_qr();
        test_simple_errors();
        test_truncated();
        test_typos();
        test_insert_delete();
        test_trailing();
        test_version_layout();
        test_addresses();
        test_forgiving();
        test_add_address();
        test_relay_parse();
        return tap_done();
}

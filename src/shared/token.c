/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "macro.h"
#include "token.h"

#define CHECK_SIZE 4
#define LAYOUT_NO_RELAY (1u << 5)
#define BINARY_MAX (1 + KAIROS_SECRET_SIZE + 1 + 2 + 4 * KAIROS_TOKEN_MAX_IPV4 + \
                    16 * KAIROS_TOKEN_MAX_IPV6 + KAIROS_TOKEN_MAX_RELAYS * 256 + CHECK_SIZE)

void token_new(struct kairos_token *t) {
        *t = (struct kairos_token) {};
        randombytes_buf(t->secret, sizeof t->secret);
        t->port = KAIROS_DEFAULT_TUNNEL_PORT;
}

void token_clear(struct kairos_token *t) {
        sodium_memzero(t, sizeof *t);
}

static void check_value(const uint8_t *data, size_t n, uint8_t out[CHECK_SIZE]) {
        static const uint8_t key[] = "kairos token check";
        crypto_generichash(out, CHECK_SIZE, data, n, key, sizeof key - 1);
}

bool token_address_usable(const struct kairos_address *a) {
        const uint8_t *b = a->bytes;

        if (a->family == AF_INET) {
                if (b[0] == 0 || b[0] == 127 || b[0] >= 224)  /* this net, loopback, multicast, reserved */
                        return false;
                if (b[0] == 169 && b[1] == 254)                /* link-local */
                        return false;
                return true;
        }
        if (a->family == AF_INET6) {
                static const uint8_t loopback[16] = { [15] = 1 }, unspecified[16] = {};
                static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
                if (!memcmp(b, loopback, 16) || !memcmp(b, unspecified, 16) || !memcmp(b, v4mapped, 12))
                        return false;
                if (b[0] == 0xff)                              /* multicast */
                        return false;
                if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)     /* link-local */
                        return false;
                return true;
        }
        return false;
}

static size_t count_family(const struct kairos_token *t, int family) {
        size_t n = 0;
        for (size_t i = 0; i < t->n_addresses; i++)
                n += t->addresses[i].family == family;
        return n;
}

int token_add_address(struct kairos_token *t, const struct kairos_address *a) {
        if (!token_address_usable(a))
                return -EINVAL;
        if (count_family(t, a->family) >= (a->family == AF_INET ? KAIROS_TOKEN_MAX_IPV4 : KAIROS_TOKEN_MAX_IPV6))
                return -ENOSPC;
        /* Keep IPv4 before IPv6, the order of the encoding. */
        size_t at = t->n_addresses;
        if (a->family == AF_INET)
                at = count_family(t, AF_INET);
        memmove(t->addresses + at + 1, t->addresses + at, (t->n_addresses - at) * sizeof *a);
        t->addresses[at] = *a;
        t->n_addresses++;
        return 0;
}

int relay_parse(const char *text, char *host, size_t host_size, uint16_t *port) {
        const char *h, *colon, *end;
        char *endp;
        unsigned long p;
        size_t hl;

        if (strncmp(text, "tcp:", 4) != 0)
                return -EINVAL;
        h = text + 4;
        if (*h == '[') {
                end = strchr(h, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                h++;
                hl = (size_t) (end - h);
                colon = end + 1;
        } else {
                colon = strrchr(h, ':');
                if (!colon)
                        return -EINVAL;
                hl = (size_t) (colon - h);
                if (memchr(h, ':', hl)) /* an IPv6 address needs brackets */
                        return -EINVAL;
        }
        if (hl == 0 || hl > 253 || hl >= host_size)
                return -EINVAL;
        for (size_t i = 0; i < hl; i++)
                if (!isalnum((unsigned char) h[i]) && !strchr(".-_:", h[i]))
                        return -EINVAL;
        if (!isdigit((unsigned char) colon[1]))
                return -EINVAL;
        errno = 0;
        p = strtoul(colon + 1, &endp, 10);
        if (errno || *endp || p == 0 || p > 65535)
                return -EINVAL;
        memcpy(host, h, hl);
        host[hl] = '\0';
        *port = (uint16_t) p;
        return 0;
}

void address_to_string(const struct kairos_address *a, char *out, size_t size) {
        if (!inet_ntop(a->family, a->bytes, out, (socklen_t) size))
                snprintf(out, size, "?");
}

int token_encode(const struct kairos_token *t, char *out, size_t size) {
        uint8_t bin[BINARY_MAX];
        size_t n = 0, n4 = count_family(t, AF_INET), n6 = count_family(t, AF_INET6);

        if (n4 > KAIROS_TOKEN_MAX_IPV4 || n6 > KAIROS_TOKEN_MAX_IPV6 || n4 + n6 != t->n_addresses ||
            t->n_relays > KAIROS_TOKEN_MAX_RELAYS || (t->no_relay && t->n_relays > 0))
                return -EINVAL;

        bin[n++] = KAIROS_TOKEN_VERSION;
        memcpy(bin + n, t->secret, KAIROS_SECRET_SIZE);
        n += KAIROS_SECRET_SIZE;
        bin[n++] = (uint8_t) (n4 | n6 << 2 | t->n_relays << 3 | (t->no_relay ? LAYOUT_NO_RELAY : 0));
        if (t->n_addresses > 0) {
                if (t->port == 0)
                        return -EINVAL;
                bin[n++] = (uint8_t) (t->port >> 8);
                bin[n++] = (uint8_t) t->port;
        }
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < t->n_addresses; i++) {
                        const struct kairos_address *a = &t->addresses[i];
                        if ((pass == 0) != (a->family == AF_INET))
                                continue;
                        if (!token_address_usable(a))
                                return -EINVAL;
                        memcpy(bin + n, a->bytes, a->family == AF_INET ? 4 : 16);
                        n += a->family == AF_INET ? 4 : 16;
                }
        for (size_t i = 0; i < t->n_relays; i++) {
                char host[256];
                uint16_t port;
                size_t l;

                if (relay_parse(t->relays[i], host, sizeof host, &port) < 0)
                        return -EINVAL;
                l = strlen(t->relays[i]) - 4; /* without "tcp:" */
                if (l > 255)
                        return -EINVAL;
                bin[n++] = (uint8_t) l;
                memcpy(bin + n, t->relays[i] + 4, l);
                n += l;
        }
        check_value(bin, n, bin + n);
        n += CHECK_SIZE;

        if (size < strlen(KAIROS_TOKEN_PREFIX) + base32_encoded_len(n) + 1)
                return -ENOBUFS;
        strcpy(out, KAIROS_TOKEN_PREFIX);
        base32_encode(bin, n, out + strlen(KAIROS_TOKEN_PREFIX));
        sodium_memzero(bin, sizeof bin);
        return 0;
}

_printf_(3, 4)
static int fail(struct token_error *err, enum token_error_code code, const char *fmt, ...) {
        va_list ap;

        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Layout of a decoded binary token: how long it must be, from its first bytes. */
static int expected_length(const uint8_t *bin, size_t n, size_t *ret) {
        size_t need = 1 + KAIROS_SECRET_SIZE + 1;
        unsigned layout, n4, n6, nr;

        if (n < need)
                return -EAGAIN;
        layout = bin[need - 1];
        n4 = layout & 3;
        n6 = (layout >> 2) & 1;
        nr = (layout >> 3) & 3;
        if (layout >> 6 || n4 > KAIROS_TOKEN_MAX_IPV4 || ((layout & LAYOUT_NO_RELAY) && nr > 0))
                return -EINVAL;
        if (n4 + n6 > 0)
                need += 2 + 4 * n4 + 16 * n6;
        for (unsigned i = 0; i < nr; i++) {
                if (n < need + 1)
                        return -EAGAIN;
                need += 1 + bin[need];
        }
        *ret = need + CHECK_SIZE;
        return 0;
}

static bool check_matches(const uint8_t *bin, size_t len) {
        uint8_t c[CHECK_SIZE];

        if (len < CHECK_SIZE)
                return false;
        check_value(bin, len - CHECK_SIZE, c);
        return sodium_memcmp(c, bin + len - CHECK_SIZE, CHECK_SIZE) == 0;
}

static bool looks_like_url(const char *s) {
        const char *colon = strstr(s, "://");
        if (!colon || colon == s)
                return false;
        for (const char *p = s; p < colon; p++)
                if (!isalpha((unsigned char) *p))
                        return false;
        return true;
}

static int parse_binary(const uint8_t *bin, struct kairos_token *t, struct token_error *err) {
        size_t at = 1, n4, n6, nr;

        memcpy(t->secret, bin + at, KAIROS_SECRET_SIZE);
        at += KAIROS_SECRET_SIZE;
        n4 = bin[at] & 3;
        n6 = (bin[at] >> 2) & 1;
        nr = (bin[at] >> 3) & 3;
        t->no_relay = bin[at] & LAYOUT_NO_RELAY;
        at++;
        t->port = KAIROS_DEFAULT_TUNNEL_PORT;
        if (n4 + n6 > 0) {
                t->port = (uint16_t) (bin[at] << 8 | bin[at + 1]);
                at += 2;
                if (t->port == 0)
                        return fail(err, TOKEN_ADDRESS, "The token names tunnel port 0, which no machine can listen on. Ask for a new QR code.");
        }
        for (size_t i = 0; i < n4 + n6; i++) {
                struct kairos_address *a = &t->addresses[t->n_addresses++];
                char s[64];

                a->family = i < n4 ? AF_INET : AF_INET6;
                memcpy(a->bytes, bin + at, i < n4 ? 4 : 16);
                at += i < n4 ? 4 : 16;
                if (!token_address_usable(a)) {
                        address_to_string(a, s, sizeof s);
                        return fail(err, TOKEN_ADDRESS,
                                    "The token holds the address %s, which no machine can be reached at. Ask for a new QR code.", s);
                }
        }
        for (size_t i = 0; i < nr; i++) {
                size_t l = bin[at++];
                char host[256];
                uint16_t port;

                t->n_relays++;
                memcpy(t->relays[i], "tcp:", 4);
                memcpy(t->relays[i] + 4, bin + at, l);
                t->relays[i][4 + l] = '\0';
                at += l;
                if (strlen(t->relays[i]) != 4 + l || relay_parse(t->relays[i], host, sizeof host, &port) < 0)
                        return fail(err, TOKEN_RELAY,
                                    "The token names relay %zu as something that is not host:port. Ask for a new QR code.", i + 1);
        }
        return 0;
}

static int decode(const char *text, char *clean, uint8_t *bin, size_t bin_size,
                  struct kairos_token *t, struct token_error *err) {
        static const size_t plen = sizeof KAIROS_TOKEN_PREFIX - 1;
        size_t n = 0, need = 0, bad = 0;
        int r;

        while (isspace((unsigned char) *text))
                text++;
        if (!*text)
                return fail(err, TOKEN_EMPTY, "The token is empty. Give the text under the QR code, or a picture of the QR code.");
        if (looks_like_url(text))
                return fail(err, TOKEN_URL, "This is a web address, not a kairos token. Use the QR code shown by kairos on the recovery machine's screen.");
        if (strncasecmp(text, KAIROS_TOKEN_PREFIX, plen) != 0)
                return fail(err, TOKEN_NOT_A_TOKEN, "This is not a kairos token: it does not start with \"%s\".", KAIROS_TOKEN_PREFIX);
        text += plen;

        /* What a person typing may add, and what is unambiguous to take back:
         * lowercase, and blanks or dashes between groups. */
        for (const char *p = text; *p; p++) {
                if (isspace((unsigned char) *p) || *p == '-')
                        continue;
                if ((unsigned char) *p >= 0x80 || !isprint((unsigned char) *p))
                        return fail(err, TOKEN_CHARACTER,
                                    "The token holds a byte (0x%02x) that is not a printable character: check what was pasted.",
                                    (unsigned char) *p);
                clean[n++] = (char) toupper((unsigned char) *p);
        }
        clean[n] = '\0';
        if (n == 0)
                return fail(err, TOKEN_TRUNCATED, "The token ends right after \"%s\": the rest is missing.", KAIROS_TOKEN_PREFIX);
        if (n > base32_encoded_len(BINARY_MAX) + 8)
                return fail(err, TOKEN_TRAILING, "The token is longer than any kairos token can be: something was appended to it.");

        r = base32_decode(clean, n, bin, bin_size, &bad);
        if (r == -EINVAL) {
                char c = clean[bad];
                return fail(err, TOKEN_CHARACTER, "Character %zu of the token, '%c', is not in a token%s. Check it against the screen.",
                            bad + 1, c,
                            c == '0' ? " (did you mean the letter O?)" :
                            c == '1' ? " (did you mean the letter I?)" :
                            c == '8' ? " (did you mean the letter B?)" : "");
        }
        if (r < 0) {
                /* A length base32 cannot produce, or stray bits in the last
                 * character: one character too many, too few, or misread;
                 * or cut off, if shorter than its layout says (whole groups
                 * of 8 characters always decode, and hold the layout). */
                r = base32_decode(clean, n / 8 * 8, bin, bin_size, NULL);
                if (r >= 0) {
                        int e = expected_length(bin, (size_t) r, &need);
                        if (e == -EAGAIN || (e == 0 && base32_encoded_len(need) > n))
                                return fail(err, TOKEN_TRUNCATED, "The token is cut short (%zu characters after \"%s\"): part of it is missing.",
                                            n, KAIROS_TOKEN_PREFIX);
                }
                return fail(err, TOKEN_TYPO, "The token has a character too many, too few, or a wrong last character (%zu characters after \"%s\"). Check it against the screen.",
                            n, KAIROS_TOKEN_PREFIX);
        }
        n = (size_t) r;

        r = expected_length(bin, n, &need);
        if (r == -EAGAIN)
                return fail(err, TOKEN_TRUNCATED, "The token is cut short (%zu bytes): part of it is missing.", n);
        if (bin[0] != KAIROS_TOKEN_VERSION) {
                if (check_matches(bin, n))
                        return fail(err, TOKEN_VERSION,
                                    "This token has format version %u, which this kairos-bridge does not know: update kairos-bridge.", bin[0]);
                return fail(err, TOKEN_TYPO, "The token does not check out: it was mistyped or misread. Check it against the screen.");
        }
        if (r < 0) {
                if (check_matches(bin, n))
                        return fail(err, TOKEN_LAYOUT, "The token's layout is not one this kairos-bridge knows: update kairos-bridge.");
                return fail(err, TOKEN_TYPO, "The token does not check out: it was mistyped or misread. Check it against the screen.");
        }
        if (n < need)
                return fail(err, TOKEN_TRUNCATED, "The token is cut short: %zu of its %zu bytes are there. The rest is missing.", n, need);
        if (!check_matches(bin, need))
                return fail(err, TOKEN_TYPO, "The token does not check out: it was mistyped or misread. Check it against the screen.");
        if (n > need)
                return fail(err, TOKEN_TRAILING, "The token is followed by %zu more bytes: something was appended to it.", n - need);

        return parse_binary(bin, t, err);
}

int token_decode(const char *text, struct kairos_token *t, struct token_error *err) {
        uint8_t bin[BINARY_MAX + 8];
        size_t len = strlen(text);
        char *clean;
        int r;

        *t = (struct kairos_token) {};
        *err = (struct token_error) {};
        clean = malloc(len + 1);
        if (!clean) {
                fail(err, TOKEN_EMPTY, "Out of memory.");
                return -ENOMEM;
        }
        r = decode(text, clean, bin, sizeof bin, t, err);
        sodium_memzero(bin, sizeof bin);
        sodium_memzero(clean, len + 1);
        free(clean);
        if (r < 0)
                token_clear(t);
        return r;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base32.h"
#include "macro.h"
#include "sealed.h"

#define CHECK_SIZE 4
#define CHECK_KEY "kairos sealed check"
#define HEADER_SIZE (1 + KEYS_ID_SIZE)
#define INNER_HEADER (1 + 32 + 64)
#define N_STRINGS 6
/* The largest inner part: the header, the time, six strings and lengths. */
#define INNER_MAX (INNER_HEADER + 8 + 2 * N_STRINGS + KAIROS_TOKEN_TEXT_MAX + SEALED_PASSWORD_MAX + \
                   SEALED_FINGERPRINT_MAX + SEALED_HOSTNAME_MAX + SEALED_MACHINE_ID_MAX + SEALED_REASON_MAX)
#define OUTER_MAX (HEADER_SIZE + crypto_box_SEALBYTES + INNER_MAX + CHECK_SIZE)

/* The strings of a code, in their order on the wire, with their limits. */
static size_t strings_of(const struct sealed_code *c, const char *ptrs[N_STRINGS], size_t max[N_STRINGS]) {
        const char *p[N_STRINGS] = { c->token, c->password, c->fingerprint, c->hostname, c->machine_id, c->reason };
        const size_t m[N_STRINGS] = { sizeof c->token, sizeof c->password, sizeof c->fingerprint,
                                      sizeof c->hostname, sizeof c->machine_id, sizeof c->reason };

        memcpy(ptrs, p, sizeof p);
        memcpy(max, m, sizeof m);
        return N_STRINGS;
}

static bool printable(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
                        return false;
        return true;
}

static void check_value(const uint8_t *data, size_t n, uint8_t out[CHECK_SIZE]) {
        static const uint8_t key[] = CHECK_KEY;

        crypto_generichash(out, CHECK_SIZE, data, n, key, sizeof key - 1);
}

static void sign_input(crypto_sign_state *st, const uint8_t recipient[KEYS_ID_SIZE], const uint8_t *body, size_t n) {
        static const uint8_t ctx[] = SEALED_SIGN_CONTEXT; /* with its NUL */

        crypto_sign_init(st);
        crypto_sign_update(st, ctx, sizeof ctx);
        crypto_sign_update(st, recipient, KEYS_ID_SIZE);
        crypto_sign_update(st, body, n);
}

int sealed_seal(const struct sealed_code *c, const struct machine_key *machine, const uint8_t op_pk[32],
                char *out, size_t size) {
        const char *s[N_STRINGS];
        size_t max[N_STRINGS], n = INNER_HEADER, outer_n;
        uint8_t *inner = NULL, *outer = NULL, recipient[KEYS_ID_SIZE];
        crypto_sign_state st;
        int r = -EINVAL;

        strings_of(c, s, max);
        inner = sodium_malloc(INNER_MAX);
        outer = malloc(OUTER_MAX);
        if (!inner || !outer) {
                r = -ENOMEM;
                goto finish;
        }
        operator_key_id(op_pk, recipient);
        inner[0] = SEALED_VERSION;
        memcpy(inner + 1, machine->pk, 32);
        for (int i = 0; i < 8; i++)
                inner[n++] = (uint8_t) (c->created >> (56 - 8 * i));
        for (size_t i = 0; i < N_STRINGS; i++) {
                size_t len = strnlen(s[i], max[i]);

                if (len == max[i] || !printable(s[i], len))
                        goto finish;
                inner[n++] = (uint8_t) (len >> 8);
                inner[n++] = (uint8_t) len;
                memcpy(inner + n, s[i], len);
                n += len;
        }
        sign_input(&st, recipient, inner + INNER_HEADER, n - INNER_HEADER);
        crypto_sign_final_create(&st, inner + 1 + 32, NULL, machine->sk);

        outer[0] = SEALED_VERSION;
        memcpy(outer + 1, recipient, KEYS_ID_SIZE);
        if (crypto_box_seal(outer + HEADER_SIZE, inner, n, op_pk) != 0)
                goto finish;
        outer_n = HEADER_SIZE + crypto_box_SEALBYTES + n;
        check_value(outer, outer_n, outer + outer_n);
        outer_n += CHECK_SIZE;
        if (size < strlen(SEALED_PREFIX) + base32_encoded_len(outer_n) + 1) {
                r = -ENOBUFS;
                goto finish;
        }
        memcpy(out, SEALED_PREFIX, strlen(SEALED_PREFIX));
        base32_encode(outer, outer_n, out + strlen(SEALED_PREFIX));
        r = 0;
finish:
        if (inner)
                sodium_free(inner);
        free(outer);
        return r;
}

static bool base32_char(char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= '2' && ch <= '7');
}

int sealed_find(const char *text, size_t size, size_t *pos, size_t *start, size_t *len) {
        const size_t plen = strlen(SEALED_PREFIX);

        for (size_t i = *pos; i + plen <= size; i++) {
                size_t end;

                if (memcmp(text + i, SEALED_PREFIX, plen) != 0)
                        continue;
                for (end = i + plen; end < size && base32_char(text[end]); end++)
                        ;
                *start = i;
                *len = end - i;
                *pos = end;
                return 0;
        }
        *pos = size;
        return -ENOENT;
}

static int fail(struct sealed_error *err, enum sealed_error_code code, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(struct sealed_error *err, enum sealed_error_code code, int r, const char *fmt, ...) {
        va_list ap;

        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        return r;
}

/* Decodes the outer part into *ret (malloc'ed), checked. */
static int outer_decode(const char *text, size_t len, uint8_t **ret, size_t *ret_n, struct sealed_error *err) {
        const size_t plen = strlen(SEALED_PREFIX);
        uint8_t check[CHECK_SIZE], *buf;
        size_t bad;
        int n;

        memset(err, 0, sizeof *err);
        if (len < plen || memcmp(text, SEALED_PREFIX, plen) != 0)
                return fail(err, SEALED_NOT_SEALED, -EINVAL, "This is not a sealed code (it does not start with %s).",
                            SEALED_PREFIX);
        if (len - plen > base32_encoded_len(OUTER_MAX))
                return fail(err, SEALED_DAMAGED, -EINVAL, "The sealed code is far too long to be one.");
        buf = malloc(OUTER_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = base32_decode(text + plen, len - plen, buf, OUTER_MAX + 1, &bad);
        if (n < 0 || (size_t) n < HEADER_SIZE + crypto_box_SEALBYTES + INNER_HEADER + CHECK_SIZE) {
                free(buf);
                return fail(err, SEALED_DAMAGED, -EINVAL,
                            "The sealed code is cut short or damaged: copy all of it, from %s to the end of its line.",
                            SEALED_PREFIX);
        }
        check_value(buf, (size_t) n - CHECK_SIZE, check);
        if (sodium_memcmp(check, buf + n - CHECK_SIZE, CHECK_SIZE) != 0) {
                free(buf);
                return fail(err, SEALED_DAMAGED, -EINVAL,
                            "The sealed code is damaged (its check value does not match): copy all of it, from %s to the end of its line.",
                            SEALED_PREFIX);
        }
        if (buf[0] != SEALED_VERSION) {
                unsigned v = buf[0];

                free(buf);
                return fail(err, SEALED_VERSION_NEW, -EINVAL,
                            "The sealed code has format version %u, which this kairos-bridge does not know: update kairos-bridge.",
                            v);
        }
        *ret = buf;
        *ret_n = (size_t) n - CHECK_SIZE;
        return 0;
}

int sealed_peek(const char *text, size_t len, uint8_t recipient[KEYS_ID_SIZE], struct sealed_error *err) {
        uint8_t *buf;
        size_t n;
        int r;

        r = outer_decode(text, len, &buf, &n, err);
        if (r < 0)
                return r;
        memcpy(recipient, buf + 1, KEYS_ID_SIZE);
        free(buf);
        return 0;
}

/* The body's strings into c; false if malformed. */
static bool parse_body(const uint8_t *p, size_t n, struct sealed_code *c) {
        const char *s[N_STRINGS];
        size_t max[N_STRINGS];

        if (n < 8)
                return false;
        c->created = 0;
        for (int i = 0; i < 8; i++)
                c->created = (c->created << 8) | p[i];
        p += 8, n -= 8;
        strings_of(c, s, max);
        for (size_t i = 0; i < N_STRINGS; i++) {
                size_t len;

                if (n < 2)
                        return false;
                len = (size_t) p[0] << 8 | p[1];
                p += 2, n -= 2;
                if (len > n || len >= max[i] || !printable((const char *) p, len))
                        return false;
                memcpy((char *) s[i], p, len);
                ((char *) s[i])[len] = '\0';
                p += len, n -= len;
        }
        return n == 0;
}

int sealed_open(const char *text, size_t len, const struct operator_key *op, struct sealed_code *c,
                struct sealed_error *err) {
        uint8_t *buf = NULL, *inner = NULL, ours[KEYS_ID_SIZE];
        crypto_sign_state st;
        size_t n, inner_n;
        char a[KEYS_ID_SIZE * 2 + 1], b[KEYS_ID_SIZE * 2 + 1];
        int r;

        memset(c, 0, sizeof *c);
        r = outer_decode(text, len, &buf, &n, err);
        if (r < 0)
                return r;
        operator_key_id(op->pk, ours);
        if (sodium_memcmp(ours, buf + 1, KEYS_ID_SIZE) != 0) {
                memcpy(err->recipient, buf + 1, KEYS_ID_SIZE);
                key_id_to_hex(buf + 1, a);
                key_id_to_hex(ours, b);
                r = fail(err, SEALED_OTHER_KEY, -EACCES,
                         "The sealed code is for another operator key (key id %s), not for yours (key id %s).", a, b);
                goto finish;
        }
        inner_n = n - HEADER_SIZE - crypto_box_SEALBYTES;
        inner = sodium_malloc(inner_n);
        if (!inner) {
                r = -ENOMEM;
                goto finish;
        }
        if (crypto_box_seal_open(inner, buf + HEADER_SIZE, n - HEADER_SIZE, op->pk, op->sk) != 0) {
                r = fail(err, SEALED_WRONG_KEY, -EACCES,
                         "The sealed code names your operator key but does not open with it: it was forged or damaged on its way.");
                goto finish;
        }
        if (inner[0] != SEALED_VERSION || !parse_body(inner + INNER_HEADER, inner_n - INNER_HEADER, c)) {
                r = fail(err, SEALED_BAD_INNER, -EBADMSG,
                         "The sealed code opens, but what it holds is malformed: it was not made by kairos-recovery.");
                goto finish;
        }
        sign_input(&st, ours, inner + INNER_HEADER, inner_n - INNER_HEADER);
        if (crypto_sign_final_verify(&st, inner + 1 + 32, inner + 1) != 0) {
                r = fail(err, SEALED_BAD_SIGNATURE, -EBADMSG,
                         "The sealed code's signature does not verify: it was not made by the machine key it names. Do not use it.");
                goto finish;
        }
        memcpy(c->signer, inner + 1, 32);
        err->code = SEALED_OK;
        r = 0;
finish:
        if (r < 0)
                sealed_code_clear(c);
        if (inner)
                sodium_free(inner);
        if (buf) {
                sodium_memzero(buf, n);
                free(buf);
        }
        return r;
}

void sealed_code_clear(struct sealed_code *c) {
        sodium_memzero(c, sizeof *c);
}

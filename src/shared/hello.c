/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

int hello_format(const struct kairos_hello *h, char *out, size_t size) {
        size_t at = 0;
        int n;

        n = snprintf(out, size, "kairos-hello %u\nhost %s\n", h->version, h->hostname);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        at = (size_t) n;
        for (size_t i = 0; i < h->n_keys && i < HELLO_MAX_KEYS; i++) {
                n = snprintf(out + at, size - at, "key %s\n", h->keys[i]);
                if (n < 0 || (size_t) n >= size - at)
                        return -ENOBUFS;
                at += (size_t) n;
        }
        return (int) at;
}

#define HOSTNAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

static int valid_hostname(const char *s, size_t len) {
        if (len == 0 || len >= HELLO_HOSTNAME_MAX)
                return 0;
        for (size_t i = 0; i < len; i++)
                if (!s[i] || !strchr(HOSTNAME_CHARS, s[i]))
                        return 0;
        return 1;
}

void hello_hostname_safe(const char *name, char out[HELLO_HOSTNAME_MAX]) {
        size_t n = 0;

        for (; name && name[n] && n < HELLO_HOSTNAME_MAX - 1; n++)
                out[n] = strchr(HOSTNAME_CHARS, name[n]) ? name[n] : '-';
        out[n] = '\0';
        if (n == 0)
                snprintf(out, HELLO_HOSTNAME_MAX, "localhost");
}

/* "TYPE BASE64": what an OpenSSH public key line holds, without a comment. */
static int valid_key(const char *s, size_t len) {
        const char *sp = memchr(s, ' ', len);
        size_t tl, bl;

        if (!sp || len >= HELLO_KEY_MAX)
                return 0;
        tl = (size_t) (sp - s);
        bl = len - tl - 1;
        if (tl == 0 || tl > 64 || bl < 16)
                return 0;
        for (size_t i = 0; i < tl; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789@.-", s[i]))
                        return 0;
        for (size_t i = tl + 1; i < len; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]))
                        return 0;
        return 1;
}

int hello_parse(const char *data, size_t len, struct kairos_hello *h, const char **why) {
        const char *p = data, *end = data + len;
        int first = 1, have_host = 0;

        *h = (struct kairos_hello) {};
        if (len > HELLO_MAX_SIZE) {
                *why = "hello too long";
                return -EBADMSG;
        }
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t l;

                if (!nl) {
                        *why = "hello line without end";
                        return -EBADMSG;
                }
                l = (size_t) (nl - p);
                for (size_t i = 0; i < l; i++)
                        if (p[i] < 0x20 || p[i] > 0x7e) {
                                *why = "hello holds a character that is not printable ASCII";
                                return -EBADMSG;
                        }
                if (first) {
                        if (l != 14 || memcmp(p, "kairos-hello ", 13) || p[13] < '1' || p[13] > '9') {
                                *why = "not a kairos hello";
                                return -EBADMSG;
                        }
                        h->version = (unsigned) (p[13] - '0');
                        first = 0;
                } else if (l > 5 && !memcmp(p, "host ", 5)) {
                        if (have_host || !valid_hostname(p + 5, l - 5)) {
                                *why = "hello with a bad or second host name";
                                return -EBADMSG;
                        }
                        memcpy(h->hostname, p + 5, l - 5);
                        h->hostname[l - 5] = '\0';
                        have_host = 1;
                } else if (l > 4 && !memcmp(p, "key ", 4)) {
                        if (h->n_keys >= HELLO_MAX_KEYS || !valid_key(p + 4, l - 4)) {
                                *why = "hello with a malformed host key or too many";
                                return -EBADMSG;
                        }
                        memcpy(h->keys[h->n_keys], p + 4, l - 4);
                        h->keys[h->n_keys][l - 4] = '\0';
                        h->n_keys++;
                }
                /* Other lines: for newer versions, skipped. */
                p = nl + 1;
        }
        if (first || !have_host) {
                *why = "hello without a host name";
                return -EBADMSG;
        }
        return 0;
}

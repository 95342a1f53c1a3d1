/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "base32.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void base32_encode(const uint8_t *in, size_t n, char *out) {
        uint32_t acc = 0;
        unsigned bits = 0;
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                acc = (acc << 8) | in[i];
                bits += 8;
                while (bits >= 5) {
                        out[o++] = alphabet[(acc >> (bits - 5)) & 31];
                        bits -= 5;
                }
        }
        if (bits > 0)
                out[o++] = alphabet[(acc << (5 - bits)) & 31];
        out[o] = '\0';
}

static int value_of(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= '2' && c <= '7')
                return c - '2' + 26;
        return -1;
}

int base32_decode(const char *in, size_t len, uint8_t *out, size_t out_size, size_t *bad_pos) {
        uint32_t acc = 0;
        unsigned bits = 0;
        size_t o = 0;

        /* Lengths 1, 3 and 6 mod 8 cannot come from whole bytes. */
        switch (len % 8) {
        case 1: case 3: case 6:
                return -EBADMSG;
        }

        for (size_t i = 0; i < len; i++) {
                int v = value_of(in[i]);
                if (v < 0) {
                        if (bad_pos)
                                *bad_pos = i;
                        return -EINVAL;
                }
                acc = (acc << 5) | (uint32_t) v;
                bits += 5;
                if (bits >= 8) {
                        if (o >= out_size)
                                return -ENOBUFS;
                        out[o++] = (uint8_t) (acc >> (bits - 8));
                        bits -= 8;
                }
        }
        if (acc & ((1u << bits) - 1))
                return -EBADMSG;
        return (int) o;
}

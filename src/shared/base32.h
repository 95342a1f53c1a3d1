/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* RFC 4648 base32, uppercase, without padding: the alphabet of a QR code's
 * alphanumeric mode, so a token costs 5.5 bits a character in the code. */

#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes, without the terminating NUL. */
static inline size_t base32_encoded_len(size_t n) {
        return (n * 8 + 4) / 5;
}

/* out must hold base32_encoded_len(n) + 1 bytes. */
void base32_encode(const uint8_t *in, size_t n, char *out);

/* Strict: only A-Z and 2-7, no padding, and the unused bits of the last
 * character must be zero (else a character was added or lost).
 * Returns the number of bytes written, -EINVAL with *bad_pos set on a
 * character outside the alphabet, -EBADMSG on non-zero trailing bits or an
 * impossible length, -ENOBUFS when out is too small. */
int base32_decode(const char *in, size_t len, uint8_t *out, size_t out_size, size_t *bad_pos);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* ChaCha20-Poly1305 (RFC 8439, 96-bit nonce), the AEAD of the tunnel.
 *
 * From OpenSSL's libcrypto rather than libsodium: libsodium 1.0.18 has no
 * AVX-512 Poly1305 and is 2.5 times slower on 16 KiB records (1419 against
 * 3580 MiB/s measured on the CI machine), and the cipher is what bounds the
 * tunnel's throughput. libcrypto is in every process that uses this already
 * (libssh and libcurl are built on it). Everything else (X25519, BLAKE2b,
 * random numbers, wiping) stays with libsodium; tests/unit/test-aead.c checks
 * that both libraries produce and accept the same bytes. */

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEY_SIZE 32
#define AEAD_NONCE_SIZE 12
#define AEAD_TAG_SIZE 16

/* Encrypts len bytes of plain into out and appends the tag: out needs
 * len + AEAD_TAG_SIZE bytes; out may be plain (in place).
 * Returns 0, -ENOMEM or -EIO when the library fails. */
int aead_seal(const uint8_t key[AEAD_KEY_SIZE], const uint8_t nonce[AEAD_NONCE_SIZE], const uint8_t *ad,
              size_t ad_len, const uint8_t *plain, size_t len, uint8_t *out);

/* Checks and decrypts len bytes (ciphertext and tag) into out (len -
 * AEAD_TAG_SIZE bytes, may be cipher). Returns 0, or -EBADMSG when the tag
 * does not match, and then out holds only zeros: nothing unauthenticated is
 * ever left for a caller to use by mistake. */
int aead_open(const uint8_t key[AEAD_KEY_SIZE], const uint8_t nonce[AEAD_NONCE_SIZE], const uint8_t *ad,
              size_t ad_len, const uint8_t *cipher, size_t len, uint8_t *out);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Noise Protocol Framework (revision 34), the parts kairos uses:
 * 25519 / ChaChaPoly / BLAKE2b with the NN, NNpsk0 and NNpsk2 patterns,
 * on libsodium's primitives. HMAC and HKDF are built exactly as the
 * specification defines them over BLAKE2b (HASHLEN 64, BLOCKLEN 128).
 *
 * The state is plain memory; noise_handshake_clear() and
 * noise_cipher_clear() wipe it. Nothing here does I/O. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_SIZE 32
#define NOISE_DH_SIZE 32
#define NOISE_HASH_SIZE 64
#define NOISE_TAG_SIZE 16
#define NOISE_MAX_MESSAGE 65535
/* The last nonce value is reserved by the specification; we stop well
 * before it, so a tunnel ends (and is reopened) instead of wrapping. */
#define NOISE_NONCE_LIMIT UINT64_C(0xfffffffffffff000)

enum noise_pattern {
        NOISE_NN,
        NOISE_NNPSK0,
        NOISE_NNPSK2,
};

struct noise_cipher {
        uint8_t k[NOISE_KEY_SIZE];
        uint64_t n;
        bool has_key;
};

struct noise_handshake {
        enum noise_pattern pattern;
        bool initiator;
        unsigned message; /* index of the next message in the pattern */
        struct noise_cipher cipher;
        uint8_t ck[NOISE_HASH_SIZE];
        uint8_t h[NOISE_HASH_SIZE];
        uint8_t e_priv[NOISE_DH_SIZE], e_pub[NOISE_DH_SIZE], re[NOISE_DH_SIZE];
        bool has_e, has_re;
        uint8_t psk[NOISE_KEY_SIZE];
};

/* psk: NOISE_KEY_SIZE bytes for the psk patterns, NULL for NN. */
int noise_handshake_init(struct noise_handshake *hs, enum noise_pattern pattern, bool initiator,
                         const uint8_t *prologue, size_t prologue_len, const uint8_t *psk);
/* Fixes the ephemeral key instead of a random one: for test vectors only. */
void noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t priv[NOISE_DH_SIZE]);

/* Next message (ours to write, or theirs to read) and whether it is done. */
bool noise_handshake_is_our_turn(const struct noise_handshake *hs);
bool noise_handshake_is_done(const struct noise_handshake *hs);

/* *out_len: in, the room in out; out, the message length. */
int noise_handshake_write(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                          uint8_t *out, size_t *out_len);
/* -EBADMSG when the message does not authenticate or is malformed. */
int noise_handshake_read(struct noise_handshake *hs, const uint8_t *msg, size_t msg_len,
                         uint8_t *payload, size_t *payload_len);

/* After the last message: the two transport ciphers (ours to send with, ours
 * to receive with) and the handshake hash. Wipes the handshake state. */
int noise_handshake_split(struct noise_handshake *hs, struct noise_cipher *send, struct noise_cipher *recv,
                          uint8_t handshake_hash[NOISE_HASH_SIZE]);
void noise_handshake_clear(struct noise_handshake *hs);

/* AEAD with the cipher's nonce, which then advances. out needs len + 16.
 * -EOVERFLOW when the nonce is used up; -EBADMSG when decryption fails (the
 * nonce does not advance then). */
int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
                         const uint8_t *plain, size_t len, uint8_t *out);
int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
                         const uint8_t *cipher, size_t len, uint8_t *out);
void noise_cipher_clear(struct noise_cipher *c);

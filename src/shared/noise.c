/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "aead.h"
#include "noise.h"

#define BLOCKLEN 128

/* The patterns as token strings, one string a message. */
static const char *const patterns[][3] = {
        [NOISE_NN] = { "e", "e ee", NULL },
        [NOISE_NNPSK0] = { "psk e", "e ee", NULL },
        [NOISE_NNPSK2] = { "e", "e ee psk", NULL },
};

static const char *const pattern_names[] = {
        [NOISE_NN] = "Noise_NN_25519_ChaChaPoly_BLAKE2b",
        [NOISE_NNPSK0] = "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b",
        [NOISE_NNPSK2] = "Noise_NNpsk2_25519_ChaChaPoly_BLAKE2b",
};

static void hash2(uint8_t out[NOISE_HASH_SIZE], const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
        crypto_generichash_state st;

        crypto_generichash_init(&st, NULL, 0, NOISE_HASH_SIZE);
        crypto_generichash_update(&st, a, al);
        crypto_generichash_update(&st, b, bl);
        crypto_generichash_final(&st, out, NOISE_HASH_SIZE);
        sodium_memzero(&st, sizeof st);
}

/* HMAC-HASH(key, data) as RFC 2104 defines it, with BLAKE2b's 128-byte
 * block: the Noise specification asks for HMAC, not keyed BLAKE2b. */
static void hmac(const uint8_t key[NOISE_HASH_SIZE], const uint8_t *data, size_t len, uint8_t out[NOISE_HASH_SIZE]) {
        uint8_t ipad[BLOCKLEN], opad[BLOCKLEN], inner[NOISE_HASH_SIZE];

        memset(ipad, 0x36, sizeof ipad);
        memset(opad, 0x5c, sizeof opad);
        for (size_t i = 0; i < NOISE_HASH_SIZE; i++) {
                ipad[i] ^= key[i];
                opad[i] ^= key[i];
        }
        hash2(inner, ipad, sizeof ipad, data, len);
        hash2(out, opad, sizeof opad, inner, sizeof inner);
        sodium_memzero(ipad, sizeof ipad);
        sodium_memzero(opad, sizeof opad);
        sodium_memzero(inner, sizeof inner);
}

/* HKDF(chaining_key, input_key_material, num_outputs) of the specification. */
static void hkdf(const uint8_t ck[NOISE_HASH_SIZE], const uint8_t *ikm, size_t ikm_len,
                 uint8_t *out1, uint8_t *out2, uint8_t *out3) {
        uint8_t temp[NOISE_HASH_SIZE], buf[NOISE_HASH_SIZE + 1];

        hmac(ck, ikm, ikm_len, temp);
        buf[0] = 1;
        hmac(temp, buf, 1, out1);
        memcpy(buf, out1, NOISE_HASH_SIZE);
        buf[NOISE_HASH_SIZE] = 2;
        hmac(temp, buf, sizeof buf, out2);
        if (out3) {
                memcpy(buf, out2, NOISE_HASH_SIZE);
                buf[NOISE_HASH_SIZE] = 3;
                hmac(temp, buf, sizeof buf, out3);
        }
        sodium_memzero(temp, sizeof temp);
        sodium_memzero(buf, sizeof buf);
}

static void nonce_bytes(uint64_t n, uint8_t out[AEAD_NONCE_SIZE]) {
        memset(out, 0, 4);
        for (int i = 0; i < 8; i++)
                out[4 + i] = (uint8_t) (n >> (8 * i));
}

int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
                         const uint8_t *plain, size_t len, uint8_t *out) {
        uint8_t nonce[AEAD_NONCE_SIZE];
        int r;

        if (!c->has_key) {
                memmove(out, plain, len);
                return 0;
        }
        if (c->n >= NOISE_NONCE_LIMIT)
                return -EOVERFLOW;
        nonce_bytes(c->n, nonce);
        r = aead_seal(c->k, nonce, ad, ad_len, plain, len, out);
        if (r < 0)
                return r;
        c->n++;
        return 0;
}

int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t ad_len,
                         const uint8_t *cipher, size_t len, uint8_t *out) {
        uint8_t nonce[AEAD_NONCE_SIZE];
        int r;

        if (!c->has_key) {
                memmove(out, cipher, len);
                return 0;
        }
        if (c->n >= NOISE_NONCE_LIMIT)
                return -EOVERFLOW;
        if (len < NOISE_TAG_SIZE)
                return -EBADMSG;
        nonce_bytes(c->n, nonce);
        r = aead_open(c->k, nonce, ad, ad_len, cipher, len, out);
        if (r < 0)
                return r;
        c->n++;
        return 0;
}

void noise_cipher_clear(struct noise_cipher *c) {
        sodium_memzero(c, sizeof *c);
}

static void mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len) {
        hash2(hs->h, hs->h, NOISE_HASH_SIZE, data, len);
}

static void set_key(struct noise_cipher *c, const uint8_t temp_k[NOISE_HASH_SIZE]) {
        memcpy(c->k, temp_k, NOISE_KEY_SIZE); /* truncated to 32 bytes, as HASHLEN is 64 */
        c->n = 0;
        c->has_key = true;
}

static void mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len) {
        uint8_t temp_k[NOISE_HASH_SIZE];

        hkdf(hs->ck, ikm, len, hs->ck, temp_k, NULL);
        set_key(&hs->cipher, temp_k);
        sodium_memzero(temp_k, sizeof temp_k);
}

static void mix_key_and_hash(struct noise_handshake *hs, const uint8_t *ikm, size_t len) {
        uint8_t temp_h[NOISE_HASH_SIZE], temp_k[NOISE_HASH_SIZE];

        hkdf(hs->ck, ikm, len, hs->ck, temp_h, temp_k);
        mix_hash(hs, temp_h, sizeof temp_h);
        set_key(&hs->cipher, temp_k);
        sodium_memzero(temp_h, sizeof temp_h);
        sodium_memzero(temp_k, sizeof temp_k);
}

int noise_handshake_init(struct noise_handshake *hs, enum noise_pattern pattern, bool initiator,
                         const uint8_t *prologue, size_t prologue_len, const uint8_t *psk) {
        const char *name;
        size_t len;

        if ((unsigned) pattern >= sizeof patterns / sizeof patterns[0])
                return -EINVAL;
        if ((pattern != NOISE_NN) != (psk != NULL))
                return -EINVAL;

        *hs = (struct noise_handshake) { .pattern = pattern, .initiator = initiator };
        name = pattern_names[pattern];
        len = strlen(name);
        if (len <= NOISE_HASH_SIZE)
                memcpy(hs->h, name, len); /* zero-padded */
        else
                hash2(hs->h, (const uint8_t *) name, len, NULL, 0);
        memcpy(hs->ck, hs->h, NOISE_HASH_SIZE);
        mix_hash(hs, prologue, prologue_len);
        if (psk)
                memcpy(hs->psk, psk, NOISE_KEY_SIZE);
        return 0;
}

void noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t priv[NOISE_DH_SIZE]) {
        memcpy(hs->e_priv, priv, NOISE_DH_SIZE);
        crypto_scalarmult_base(hs->e_pub, hs->e_priv);
        hs->has_e = true;
}

bool noise_handshake_is_done(const struct noise_handshake *hs) {
        return patterns[hs->pattern][hs->message] == NULL;
}

bool noise_handshake_is_our_turn(const struct noise_handshake *hs) {
        return !noise_handshake_is_done(hs) && (hs->message % 2 == 0) == hs->initiator;
}

static int dh_ee(struct noise_handshake *hs) {
        uint8_t shared[NOISE_DH_SIZE];

        /* libsodium refuses an all-zero result (a low-order point). */
        if (crypto_scalarmult(shared, hs->e_priv, hs->re) != 0)
                return -EBADMSG;
        mix_key(hs, shared, sizeof shared);
        sodium_memzero(shared, sizeof shared);
        return 0;
}

/* Runs the tokens of the current message; "e" is the only one whose bytes
 * go on the wire before the payload. */
static int run_tokens(struct noise_handshake *hs, bool writing, uint8_t *wire, size_t *at,
                      const uint8_t *in, size_t in_len) {
        const char *tok = patterns[hs->pattern][hs->message];

        while (*tok) {
                size_t l = strcspn(tok, " ");

                if (l == 1 && tok[0] == 'e') {
                        if (writing) {
                                if (!hs->has_e) {
                                        crypto_box_keypair(hs->e_pub, hs->e_priv);
                                        hs->has_e = true;
                                }
                                memcpy(wire + *at, hs->e_pub, NOISE_DH_SIZE);
                                mix_hash(hs, hs->e_pub, NOISE_DH_SIZE);
                                if (hs->pattern != NOISE_NN)
                                        mix_key(hs, hs->e_pub, NOISE_DH_SIZE);
                        } else {
                                if (in_len - *at < NOISE_DH_SIZE)
                                        return -EBADMSG;
                                memcpy(hs->re, in + *at, NOISE_DH_SIZE);
                                hs->has_re = true;
                                mix_hash(hs, hs->re, NOISE_DH_SIZE);
                                if (hs->pattern != NOISE_NN)
                                        mix_key(hs, hs->re, NOISE_DH_SIZE);
                        }
                        *at += NOISE_DH_SIZE;
                } else if (l == 2 && !strncmp(tok, "ee", 2)) {
                        int r = dh_ee(hs);
                        if (r < 0)
                                return r;
                } else if (l == 3 && !strncmp(tok, "psk", 3))
                        mix_key_and_hash(hs, hs->psk, NOISE_KEY_SIZE);
                else
                        return -EINVAL;
                tok += l;
                tok += strspn(tok, " ");
        }
        return 0;
}

int noise_handshake_write(struct noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                          uint8_t *out, size_t *out_len) {
        size_t at = 0, need;
        int r;

        if (!noise_handshake_is_our_turn(hs))
                return -EPROTO;
        need = NOISE_DH_SIZE + payload_len + NOISE_TAG_SIZE;
        if (need > *out_len || need > NOISE_MAX_MESSAGE)
                return -EMSGSIZE;

        r = run_tokens(hs, true, out, &at, NULL, 0);
        if (r < 0)
                return r;
        /* EncryptAndHash(payload) */
        r = noise_cipher_encrypt(&hs->cipher, hs->h, NOISE_HASH_SIZE, payload, payload_len, out + at);
        if (r < 0)
                return r;
        at += payload_len + (hs->cipher.has_key ? NOISE_TAG_SIZE : 0);
        mix_hash(hs, out + at - payload_len - (hs->cipher.has_key ? NOISE_TAG_SIZE : 0),
                 payload_len + (hs->cipher.has_key ? NOISE_TAG_SIZE : 0));
        hs->message++;
        *out_len = at;
        return 0;
}

int noise_handshake_read(struct noise_handshake *hs, const uint8_t *msg, size_t msg_len,
                         uint8_t *payload, size_t *payload_len) {
        size_t at = 0, clen, plen;
        int r;

        if (noise_handshake_is_done(hs) || noise_handshake_is_our_turn(hs))
                return -EPROTO;
        if (msg_len > NOISE_MAX_MESSAGE)
                return -EBADMSG;

        r = run_tokens(hs, false, NULL, &at, msg, msg_len);
        if (r < 0)
                return r;
        clen = msg_len - at;
        plen = hs->cipher.has_key ? clen - NOISE_TAG_SIZE : clen;
        if ((hs->cipher.has_key && clen < NOISE_TAG_SIZE) || plen > *payload_len)
                return -EBADMSG;
        /* DecryptAndHash(ciphertext) */
        r = noise_cipher_decrypt(&hs->cipher, hs->h, NOISE_HASH_SIZE, msg + at, clen, payload);
        if (r < 0)
                return r;
        mix_hash(hs, msg + at, clen);
        hs->message++;
        *payload_len = plen;
        return 0;
}

int noise_handshake_split(struct noise_handshake *hs, struct noise_cipher *send, struct noise_cipher *recv,
                          uint8_t handshake_hash[NOISE_HASH_SIZE]) {
        uint8_t k1[NOISE_HASH_SIZE], k2[NOISE_HASH_SIZE];

        if (!noise_handshake_is_done(hs))
                return -EPROTO;
        hkdf(hs->ck, NULL, 0, k1, k2, NULL);
        *send = *recv = (struct noise_cipher) {};
        set_key(hs->initiator ? send : recv, k1);
        set_key(hs->initiator ? recv : send, k2);
        if (handshake_hash)
                memcpy(handshake_hash, hs->h, NOISE_HASH_SIZE);
        sodium_memzero(k1, sizeof k1);
        sodium_memzero(k2, sizeof k2);
        noise_handshake_clear(hs);
        return 0;
}

void noise_handshake_clear(struct noise_handshake *hs) {
        sodium_memzero(hs, sizeof *hs);
}

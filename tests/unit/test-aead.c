/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tunnel's ChaCha20-Poly1305 comes from OpenSSL (src/shared/aead.c);
 * libsodium's implementation is the independent reference here: both must
 * produce and accept exactly the same bytes, for every length a record can
 * have, with and without associated data, in place and not. */
#include <errno.h>
#include <sodium.h>

#include "aead.h"
#include "record.h"
#include "tap.h"

#define MAX_LEN (RECORD_MAX_PAYLOAD + 1)

static uint8_t plain[MAX_LEN], ours[MAX_LEN + AEAD_TAG_SIZE], theirs[MAX_LEN + AEAD_TAG_SIZE],
        back[MAX_LEN];

/* Lengths: every small one, around 64-byte blocks, and random ones up to a full record. */
static size_t length_for(unsigned i) {
        if (i < 130)
                return i;
        if (i < 140)
                return MAX_LEN - (i - 130);
        return randombytes_uniform(MAX_LEN + 1);
}

int main(void) {
        unsigned same_seal = 0, we_open_theirs = 0, they_open_ours = 0, in_place = 0, refused = 0, wiped = 0;
        const unsigned rounds = 400;

        if (sodium_init() < 0)
                return 99;
        for (unsigned i = 0; i < rounds; i++) {
                uint8_t key[AEAD_KEY_SIZE], nonce[AEAD_NONCE_SIZE], ad[64];
                size_t len = length_for(i), ad_len = i % 3 == 0 ? 0 : randombytes_uniform(sizeof ad + 1);
                unsigned long long clen;

                randombytes_buf(key, sizeof key);
                randombytes_buf(nonce, sizeof nonce);
                randombytes_buf(ad, sizeof ad);
                randombytes_buf(plain, len);

                crypto_aead_chacha20poly1305_ietf_encrypt(theirs, &clen, plain, len, ad, ad_len, NULL, nonce, key);
                if (aead_seal(key, nonce, ad, ad_len, plain, len, ours) == 0 &&
                    memcmp(ours, theirs, len + AEAD_TAG_SIZE) == 0)
                        same_seal++;
                if (aead_open(key, nonce, ad, ad_len, theirs, len + AEAD_TAG_SIZE, back) == 0 &&
                    memcmp(back, plain, len) == 0)
                        we_open_theirs++;
                if (crypto_aead_chacha20poly1305_ietf_decrypt(back, NULL, NULL, ours, len + AEAD_TAG_SIZE, ad,
                                                              ad_len, nonce, key) == 0 &&
                    memcmp(back, plain, len) == 0)
                        they_open_ours++;

                /* In place, as records are sealed and opened. */
                memcpy(ours, plain, len);
                if (aead_seal(key, nonce, ad, ad_len, ours, len, ours) == 0 &&
                    memcmp(ours, theirs, len + AEAD_TAG_SIZE) == 0 &&
                    aead_open(key, nonce, ad, ad_len, ours, len + AEAD_TAG_SIZE, ours) == 0 &&
                    memcmp(ours, plain, len) == 0)
                        in_place++;

                /* One flipped bit anywhere (ciphertext, tag or associated data) is refused,
                 * and what OpenSSL decrypted before it knew is wiped. */
                memcpy(ours, theirs, len + AEAD_TAG_SIZE);
                if (ad_len > 0 && i % 2)
                        ad[randombytes_uniform((uint32_t) ad_len)] ^= 1;
                else
                        ours[randombytes_uniform((uint32_t) (len + AEAD_TAG_SIZE))] ^= 0x80;
                memset(back, 0xaa, len);
                if (aead_open(key, nonce, ad, ad_len, ours, len + AEAD_TAG_SIZE, back) == -EBADMSG)
                        refused++;
                if (sodium_is_zero(back, len))
                        wiped++;
        }
        tap_ok(same_seal == rounds, "sealed bytes equal libsodium's in %u of %u cases (lengths 0..%d)", same_seal,
               rounds, MAX_LEN);
        tap_ok(we_open_theirs == rounds, "what libsodium sealed opens in %u of %u cases", we_open_theirs, rounds);
        tap_ok(they_open_ours == rounds, "libsodium opens what we sealed in %u of %u cases", they_open_ours, rounds);
        tap_ok(in_place == rounds, "sealing and opening in place give the same bytes in %u of %u cases", in_place,
               rounds);
        tap_ok(refused == rounds, "a flipped bit is refused with -EBADMSG in %u of %u cases", refused, rounds);
        tap_ok(wiped == rounds, "after a refusal the output holds zeros only in %u of %u cases", wiped, rounds);
        tap_ok(aead_open(plain, plain, NULL, 0, plain, AEAD_TAG_SIZE - 1, back) == -EBADMSG,
               "a message shorter than a tag is refused");
        return tap_done();
}

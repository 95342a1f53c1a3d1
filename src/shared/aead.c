/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <string.h>

#include "aead.h"
#include "macro.h"

/* A context per call: EVP_CIPHER_CTX_new() costs far less than 16 KiB of
 * cipher, and nothing has to live as long as a tunnel or a thread. */
static inline void ctx_freep(EVP_CIPHER_CTX **c) {
        EVP_CIPHER_CTX_free(*c);
}

int aead_seal(const uint8_t key[AEAD_KEY_SIZE], const uint8_t nonce[AEAD_NONCE_SIZE], const uint8_t *ad,
              size_t ad_len, const uint8_t *plain, size_t len, uint8_t *out) {
        _cleanup_(ctx_freep) EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int n;

        if (!c)
                return -ENOMEM;
        if (len > INT_MAX || ad_len > INT_MAX)
                return -EMSGSIZE;
        if (EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) != 1 ||
            (ad_len > 0 && EVP_EncryptUpdate(c, NULL, &n, ad, (int) ad_len) != 1) ||
            (len > 0 && EVP_EncryptUpdate(c, out, &n, plain, (int) len) != 1) ||
            EVP_EncryptFinal_ex(c, out + len, &n) != 1 ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_SIZE, out + len) != 1)
                return -EIO;
        return 0;
}

int aead_open(const uint8_t key[AEAD_KEY_SIZE], const uint8_t nonce[AEAD_NONCE_SIZE], const uint8_t *ad,
              size_t ad_len, const uint8_t *cipher, size_t len, uint8_t *out) {
        _cleanup_(ctx_freep) EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        uint8_t tag[AEAD_TAG_SIZE];
        size_t plain_len;
        int n;

        if (!c)
                return -ENOMEM;
        if (len < AEAD_TAG_SIZE)
                return -EBADMSG;
        if (len > INT_MAX || ad_len > INT_MAX)
                return -EMSGSIZE;
        plain_len = len - AEAD_TAG_SIZE;
        /* The tag first: decrypting in place overwrites it when out == cipher. */
        memcpy(tag, cipher + plain_len, sizeof tag);
        if (EVP_DecryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) != 1 ||
            (ad_len > 0 && EVP_DecryptUpdate(c, NULL, &n, ad, (int) ad_len) != 1) ||
            (plain_len > 0 && EVP_DecryptUpdate(c, out, &n, cipher, (int) plain_len) != 1) ||
            EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_SIZE, tag) != 1)
                return -EIO;
        /* OpenSSL decrypts before it knows: on a bad tag, wipe what it wrote. */
        if (EVP_DecryptFinal_ex(c, out + plain_len, &n) != 1) {
                sodium_memzero(out, plain_len);
                return -EBADMSG;
        }
        return 0;
}

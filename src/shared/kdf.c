/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sodium.h>
#include <string.h>

#include "kdf.h"

/* BLAKE2b keyed with the secret over "kairos1 <label>" and a one-byte index. */
static void derive(const uint8_t secret[KAIROS_SECRET_SIZE], const char *label, uint8_t index,
                   uint8_t *out, size_t n) {
        crypto_generichash_state st;

        crypto_generichash_init(&st, secret, KAIROS_SECRET_SIZE, n);
        crypto_generichash_update(&st, (const uint8_t *) "kairos1 ", 8);
        crypto_generichash_update(&st, (const uint8_t *) label, strlen(label));
        crypto_generichash_update(&st, &index, 1);
        crypto_generichash_final(&st, out, n);
        sodium_memzero(&st, sizeof st);
}

void kdf_psk(const uint8_t secret[KAIROS_SECRET_SIZE], uint8_t out[KAIROS_PSK_SIZE]) {
        derive(secret, "noise psk", 0, out, KAIROS_PSK_SIZE);
}

static void derive_hex(const uint8_t secret[KAIROS_SECRET_SIZE], const char *label, uint8_t index,
                       char *out, size_t hex_len) {
        uint8_t raw[64];

        derive(secret, label, index, raw, hex_len / 2);
        sodium_bin2hex(out, hex_len + 1, raw, hex_len / 2);
        sodium_memzero(raw, sizeof raw);
}

void kdf_channel(const uint8_t secret[KAIROS_SECRET_SIZE], unsigned slot, char out[KAIROS_CHANNEL_HEX + 1]) {
        derive_hex(secret, "relay channel", (uint8_t) slot, out, KAIROS_CHANNEL_HEX);
}

void kdf_side(const uint8_t secret[KAIROS_SECRET_SIZE], enum kairos_role role, char out[KAIROS_SIDE_HEX + 1]) {
        derive_hex(secret, role == KAIROS_ROLE_DAEMON ? "relay side daemon" : "relay side bridge", 0,
                   out, KAIROS_SIDE_HEX);
}

void kdf_service_id(const uint8_t secret[KAIROS_SECRET_SIZE], char out[KAIROS_SERVICE_ID_HEX + 1]) {
        derive_hex(secret, "service id", 0, out, KAIROS_SERVICE_ID_HEX);
}

void kdf_password(const uint8_t secret[KAIROS_SECRET_SIZE], char out[KAIROS_PASSWORD_SIZE]) {
        static const char alphabet[] = KAIROS_PASSWORD_ALPHABET;
        const unsigned base = sizeof alphabet - 1, limit = 256 / base * base;
        uint8_t raw[64];
        size_t used = sizeof raw, o = 0;
        unsigned block = 0, chars = 0;

        /* Rejection sampling keeps every character uniform; a 64-byte block
         * almost always suffices, and the next block is there if not. */
        while (chars < KAIROS_PASSWORD_CHARS) {
                if (used == sizeof raw) {
                        derive(secret, "ssh password", (uint8_t) block++, raw, sizeof raw);
                        used = 0;
                }
                uint8_t b = raw[used++];
                if (b >= limit)
                        continue;
                if (chars > 0 && chars % 4 == 0)
                        out[o++] = '-';
                out[o++] = alphabet[b % base];
                chars++;
        }
        out[o] = '\0';
        sodium_memzero(raw, sizeof raw);
}

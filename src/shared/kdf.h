/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Everything both ends need, derived from the token's 128-bit secret with
 * keyed BLAKE2b and one label per use, so that no two uses share a key and
 * the relay, which sees channels and sides, learns nothing of the PSK or the
 * password. The labels are part of the wire format: tests pin the outputs. */

#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define KAIROS_PSK_SIZE 32
/* Channels ("slots") per secret at each relay: how many bridge connections
 * can pair at the same moment before one has to try another slot. */
#define KAIROS_RELAY_SLOTS 4
#define KAIROS_CHANNEL_HEX 64
#define KAIROS_SIDE_HEX 16
/* 16 characters in four groups: "abcd-efgh-jkmn-pqrs", log2(31)*16 = 79 bits. */
#define KAIROS_PASSWORD_CHARS 16
#define KAIROS_PASSWORD_SIZE (KAIROS_PASSWORD_CHARS + KAIROS_PASSWORD_CHARS / 4 - 1 + 1)
#define KAIROS_PASSWORD_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz"
#define KAIROS_SERVICE_ID_HEX 8

enum kairos_role {
        KAIROS_ROLE_DAEMON,
        KAIROS_ROLE_BRIDGE,
};

void kdf_psk(const uint8_t secret[KAIROS_SECRET_SIZE], uint8_t out[KAIROS_PSK_SIZE]);
/* 64 lowercase hex characters and a NUL; slot < KAIROS_RELAY_SLOTS. */
void kdf_channel(const uint8_t secret[KAIROS_SECRET_SIZE], unsigned slot, char out[KAIROS_CHANNEL_HEX + 1]);
/* 16 lowercase hex characters and a NUL: the same for every endpoint of a
 * role, so that the relay never pairs two bridge connections. */
void kdf_side(const uint8_t secret[KAIROS_SECRET_SIZE], enum kairos_role role, char out[KAIROS_SIDE_HEX + 1]);
/* The SSH password, from an alphabet without look-alikes (no 0 O 1 l I). */
void kdf_password(const uint8_t secret[KAIROS_SECRET_SIZE], char out[KAIROS_PASSWORD_SIZE]);
/* A short public name for this token, safe to log: tells two machines apart. */
void kdf_service_id(const uint8_t secret[KAIROS_SECRET_SIZE], char out[KAIROS_SERVICE_ID_HEX + 1]);

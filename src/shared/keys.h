/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The long-lived keys of unattended recovery, and their text forms.
 *
 *  - The operator's X25519 key pair (crypto_box): made once on a workstation
 *    by `kairos-bridge keygen`. Its public half goes into each machine's
 *    NotifyKey=; the machine seals its code to it; only the secret half,
 *    which never leaves the workstation, opens that code.
 *  - A machine's Ed25519 key (crypto_sign): made once on the machine by
 *    `kairos-recovery keygen-machine`. It signs what the machine seals, so
 *    the bridge can tell the operator which machine sent a code. Its public
 *    half goes into the operator's known_machines file.
 *
 * Every key has one text line: a prefix naming what it is, then uppercase
 * base32 (RFC 4648, no padding) of the key's bytes and a 4-byte check value
 * (keyed BLAKE2b), so that a key copied with a typo, or a key of the wrong
 * kind, is told as such:
 *
 *   KAIROS-OPERATOR-KEY:...          operator public key (32 bytes)
 *   KAIROS-OPERATOR-SECRET-KEY:...   operator secret key (32 bytes)
 *   KAIROS-MACHINE-KEY:...           machine public key (32 bytes)
 *   KAIROS-MACHINE-SECRET-KEY:...    machine secret key (its 32-byte seed)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_OPERATOR_PUBLIC_PREFIX "KAIROS-OPERATOR-KEY:"
#define KEYS_OPERATOR_SECRET_PREFIX "KAIROS-OPERATOR-SECRET-KEY:"
#define KEYS_MACHINE_PUBLIC_PREFIX "KAIROS-MACHINE-KEY:"
#define KEYS_MACHINE_SECRET_PREFIX "KAIROS-MACHINE-SECRET-KEY:"

#define KEYS_RAW_SIZE 32
/* The longest prefix, base32 of 36 bytes (58 characters) and a NUL. */
#define KEYS_TEXT_MAX 96

enum key_kind {
        KEY_OPERATOR_PUBLIC,
        KEY_OPERATOR_SECRET,
        KEY_MACHINE_PUBLIC,
        KEY_MACHINE_SECRET,
        _KEY_KIND_MAX,
};

/* An operator key pair: pk for crypto_box_seal, sk for crypto_box_seal_open. */
struct operator_key {
        uint8_t pk[32];
        uint8_t sk[32];
};

/* A machine signing key: sk as crypto_sign_detached() takes it (seed + pk). */
struct machine_key {
        uint8_t pk[32];
        uint8_t sk[64];
};

/* "operator public key", for messages. */
const char *key_kind_name(enum key_kind k);

/* Text form of 32 raw bytes of kind k into out (KEYS_TEXT_MAX bytes). */
void key_to_text(enum key_kind k, const uint8_t raw[KEYS_RAW_SIZE], char out[KEYS_TEXT_MAX]);

/* Parses the text form of a key of kind k. Leading and trailing whitespace
 * is forgiven. Returns 0; -EINVAL (not this kind: another prefix, or none),
 * -EBADMSG (a character outside base32, or the check value does not match:
 * a typo) or -ERANGE (too short or too long). why, when not NULL, gets one
 * sentence for the user. */
int key_from_text(enum key_kind k, const char *text, uint8_t raw[KEYS_RAW_SIZE], char *why, size_t why_size);

/* Which kind a text is by its prefix, or -1. */
int key_kind_of_text(const char *text);

/* New keys from libsodium's generator. */
void operator_key_new(struct operator_key *k);
void machine_key_new(struct machine_key *k);
/* A key pair from its secret half. */
void operator_key_from_secret(struct operator_key *k, const uint8_t sk[32]);
void machine_key_from_seed(struct machine_key *k, const uint8_t seed[32]);

/* A short identifier of an operator public key (the first bytes of its
 * BLAKE2b): sealed codes name their recipient with it, so that a bridge
 * given a code sealed to someone else says so instead of "damaged". */
#define KEYS_ID_SIZE 8
void operator_key_id(const uint8_t pk[32], uint8_t id[KEYS_ID_SIZE]);
/* Its hex form (KEYS_ID_SIZE * 2 + 1 bytes). */
void key_id_to_hex(const uint8_t id[KEYS_ID_SIZE], char *out);

/* Reads the first line of a key file holding a key of kind k. -ENOENT, -EACCES
 * etc. from open(); -EINVAL/-EBADMSG/-ERANGE as key_from_text(), with why. */
int key_read_file(const char *path, enum key_kind k, uint8_t raw[KEYS_RAW_SIZE], char *why, size_t why_size);

/* Writes text and a newline to a new file path with mode (O_EXCL: an
 * existing key is never overwritten: -EEXIST). The text is not kept in any
 * other buffer. */
int key_write_file(const char *path, const char *text, unsigned mode);

void operator_key_clear(struct operator_key *k);
void machine_key_clear(struct machine_key *k);

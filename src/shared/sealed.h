/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The sealed code: what a machine in recovery sends its operator out of
 * band (a webhook, a push message), so that nobody has to photograph its
 * screen. It holds what the QR code holds and a little more, signed by the
 * machine's key and sealed (crypto_box_seal) to one operator's key: only
 * that operator's secret key opens it, and the signature says which machine
 * made it.
 *
 * Text form, one line: "KAIROS-SEALED:" then uppercase base32 (no padding) of
 *
 *   version     1 byte   SEALED_VERSION
 *   recipient   8 bytes  operator_key_id() of the key it is sealed to
 *   box         crypto_box_seal() of the inner part (48 bytes more than it)
 *   check       4 bytes  keyed BLAKE2b of all the above: a code cut short
 *                        or mangled on its way is told as such
 *
 * The inner part:
 *
 *   version     1 byte   SEALED_VERSION
 *   signer     32 bytes  the machine's Ed25519 public key
 *   signature  64 bytes  crypto_sign_detached() over SEALED_SIGN_CONTEXT,
 *                        the recipient id and the body
 *   body:
 *     created   8 bytes  big endian, seconds since the epoch
 *     six strings, each 2 bytes big-endian length then bytes (printable
 *     ASCII only): token (the QR code's text), password, host key
 *     fingerprint, host name, machine id, reason
 *
 * Whoever knows where a machine sends its code can seal a code of their own
 * to the operator's public key: the signature is what tells the two apart.
 * It proves that the code was made with the machine's secret key, which
 * lies unencrypted in /etc/kairos and in the initramfs: anyone who could
 * read the machine's /boot could have copied it. */

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "token.h"

#define SEALED_PREFIX "KAIROS-SEALED:"
#define SEALED_VERSION 1
#define SEALED_SIGN_CONTEXT "kairos sealed code v1"

#define SEALED_PASSWORD_MAX 64
#define SEALED_FINGERPRINT_MAX 128
#define SEALED_HOSTNAME_MAX 256
#define SEALED_MACHINE_ID_MAX 64
#define SEALED_REASON_MAX 256

struct sealed_code {
        uint64_t created;
        char token[KAIROS_TOKEN_TEXT_MAX];
        char password[SEALED_PASSWORD_MAX];
        char fingerprint[SEALED_FINGERPRINT_MAX];
        char hostname[SEALED_HOSTNAME_MAX];
        char machine_id[SEALED_MACHINE_ID_MAX];
        char reason[SEALED_REASON_MAX];
        uint8_t signer[32]; /* set by sealed_open() */
};

/* The longest text form, with a NUL. */
#define SEALED_TEXT_MAX 4096

enum sealed_error_code {
        SEALED_OK,
        SEALED_NOT_SEALED,   /* no KAIROS-SEALED: prefix */
        SEALED_DAMAGED,      /* not base32, too short, check value wrong */
        SEALED_VERSION_NEW,  /* a newer kairos made it */
        SEALED_OTHER_KEY,    /* sealed to another operator key */
        SEALED_WRONG_KEY,    /* names our key, but it does not open */
        SEALED_BAD_INNER,    /* opened, but its inside is malformed */
        SEALED_BAD_SIGNATURE,
};

struct sealed_error {
        enum sealed_error_code code;
        uint8_t recipient[KEYS_ID_SIZE]; /* for SEALED_OTHER_KEY */
        char message[256];
};

/* Signs c (c->signer is ignored: the key's) with the machine key and seals
 * it to the operator public key op_pk. Texts longer than their limit or
 * with bytes outside printable ASCII are refused (-EINVAL). out gets the
 * text form (SEALED_TEXT_MAX is enough). 0 or -errno. */
int sealed_seal(const struct sealed_code *c, const struct machine_key *machine, const uint8_t op_pk[32],
                char *out, size_t size);

/* Finds the next sealed code in text (which may hold other words and
 * several codes, as a message body does) at or after *pos: sets *start and
 * *len to the code's extent (the prefix and the base32 after it) and *pos
 * past it. 0 found, -ENOENT none. */
int sealed_find(const char *text, size_t size, size_t *pos, size_t *start, size_t *len);

/* Reads the outer part of one code (text, len: as sealed_find() gives it)
 * and the recipient id, without opening it. 0 or -EINVAL with *err. */
int sealed_peek(const char *text, size_t len, uint8_t recipient[KEYS_ID_SIZE], struct sealed_error *err);

/* Opens one code with the operator key, checks its inside and its
 * signature; c->signer is the key that signed it (whether the bridge
 * knows it is its own business). 0 or -EINVAL (peek errors), -EACCES
 * (SEALED_OTHER_KEY, SEALED_WRONG_KEY), -EBADMSG (SEALED_BAD_INNER,
 * SEALED_BAD_SIGNATURE), with *err. c is wiped on error. */
int sealed_open(const char *text, size_t len, const struct operator_key *op, struct sealed_code *c,
                struct sealed_error *err);

void sealed_code_clear(struct sealed_code *c);

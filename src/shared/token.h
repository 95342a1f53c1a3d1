/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The token: what the QR code holds, and all a bridge needs to reach and
 * authenticate one recovery machine for one boot.
 *
 * Text form: "KAIROS:" followed by uppercase base32 (RFC 4648, no padding) of
 *
 *   version   1 byte   KAIROS_TOKEN_VERSION
 *   secret   16 bytes  from randombytes_buf(); every key is derived from it (kdf.h)
 *   layout    1 byte   bits 0-1: IPv4 addresses (0-2), bit 2: IPv6 addresses (0-1),
 *                      bits 3-4: relays (0-3), bit 5: no relay at all (the
 *                      machine waits at none; relays must then be 0), bits 6-7: zero
 *   port      2 bytes  big endian, tunnel port; only when there are addresses
 *   IPv4      4 bytes each, then IPv6 16 bytes each
 *   relays    1 byte length + "host:port" each; none means the default relay,
 *             unless bit 5 of the layout says that there is no relay
 *   check     4 bytes  BLAKE2b of all the above, so that a typo is told apart
 *                      from a token of another machine
 *
 * Every character of it is in a QR code's alphanumeric set. The default
 * token with two IPv4 addresses is 59 characters: QR version 4 at ECC level M. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define KAIROS_TOKEN_PREFIX "KAIROS:"
#define KAIROS_TOKEN_VERSION 1
#define KAIROS_SECRET_SIZE 16
#define KAIROS_TOKEN_MAX_IPV4 2
#define KAIROS_TOKEN_MAX_IPV6 1
#define KAIROS_TOKEN_MAX_ADDRESSES (KAIROS_TOKEN_MAX_IPV4 + KAIROS_TOKEN_MAX_IPV6)
#define KAIROS_TOKEN_MAX_RELAYS 3
/* "tcp:" + host (at most 253) + ":" + port, and a NUL. */
#define KAIROS_RELAY_TEXT_MAX 264
/* Longest text form, with the prefix and a NUL. */
#define KAIROS_TOKEN_TEXT_MAX 1400

#define KAIROS_DEFAULT_RELAY "tcp:transit.magic-wormhole.io:4001"
#define KAIROS_DEFAULT_TUNNEL_PORT 7140

struct kairos_address {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
};

struct kairos_token {
        uint8_t secret[KAIROS_SECRET_SIZE];
        uint16_t port;
        size_t n_addresses; /* IPv4 first, then IPv6 */
        struct kairos_address addresses[KAIROS_TOKEN_MAX_ADDRESSES];
        size_t n_relays; /* 0: the default relay, unless no_relay */
        bool no_relay;   /* the machine waits at no relay: only its addresses reach it */
        char relays[KAIROS_TOKEN_MAX_RELAYS][KAIROS_RELAY_TEXT_MAX]; /* "tcp:host:port" */
};

enum token_error_code {
        TOKEN_OK,
        TOKEN_EMPTY,
        TOKEN_URL,          /* a web address, as QR codes often hold */
        TOKEN_NOT_A_TOKEN,  /* no KAIROS: prefix */
        TOKEN_CHARACTER,    /* a character outside base32 */
        TOKEN_TRUNCATED,    /* shorter than its layout says */
        TOKEN_TYPO,         /* check value does not match */
        TOKEN_VERSION,      /* check value fine, version unknown: a newer kairos */
        TOKEN_TRAILING,     /* a valid token followed by more */
        TOKEN_LAYOUT,       /* reserved bits set, too many addresses */
        TOKEN_ADDRESS,      /* an address no machine can have: 0.0.0.0, loopback, multicast... */
        TOKEN_RELAY,        /* a relay that is not host:port */
};

struct token_error {
        enum token_error_code code;
        char message[256]; /* one sentence naming the problem and what to do */
};

/* A fresh secret from randombytes_buf(); no addresses, default relay. */
void token_new(struct kairos_token *t);

/* Text form into out (KAIROS_TOKEN_TEXT_MAX is always enough).
 * -EINVAL if t breaks the limits above. */
int token_encode(const struct kairos_token *t, char *out, size_t size);

/* Strict decoding of a token as a person or a camera gives it: leading and
 * trailing whitespace, spaces and dashes between groups and lowercase letters
 * are forgiven (unambiguous); everything else is an error with its code and
 * message in *err. Returns 0 or -EINVAL. */
int token_decode(const char *text, struct kairos_token *t, struct token_error *err);

/* Whether an address may stand in a token: IPv4 or IPv6, not unspecified,
 * loopback, link-local, multicast or broadcast. */
bool token_address_usable(const struct kairos_address *a);

/* Adds an address if the token has room for its family; -ENOSPC if not,
 * -EINVAL if it is not usable. */
int token_add_address(struct kairos_token *t, const struct kairos_address *a);

/* "tcp:HOST:PORT" (HOST may be [IPv6]) into host and port; -EINVAL if not. */
int relay_parse(const char *text, char *host, size_t host_size, uint16_t *port);

/* "192.0.2.7" or "2001:db8::1" */
void address_to_string(const struct kairos_address *a, char *out, size_t size);

/* Wipes the secret. */
void token_clear(struct kairos_token *t);

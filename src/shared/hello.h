/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The responder's hello, the first record it sends once the initiator has
 * proven the key: who the machine is and its SSH host keys, whole, so that
 * the bridge can write a known_hosts entry and ssh checks the host key
 * without a question. Text lines:
 *
 *   kairos-hello 1
 *   host recovery-box
 *   key ssh-ed25519 AAAAC3Nza...
 *
 * Unknown keywords are skipped (newer daemons may say more); anything not
 * printable ASCII, an overlong line or a malformed key is refused. */

#include <stddef.h>

#define KAIROS_PROTOCOL_VERSION 1
#define HELLO_MAX_KEYS 4
#define HELLO_HOSTNAME_MAX 254
#define HELLO_KEY_MAX 2048
#define HELLO_MAX_SIZE 12288

struct kairos_hello {
        unsigned version;
        char hostname[HELLO_HOSTNAME_MAX];
        size_t n_keys;
        char keys[HELLO_MAX_KEYS][HELLO_KEY_MAX]; /* "TYPE BASE64" */
};

/* Returns the length written, -ENOBUFS if out is too small. */
int hello_format(const struct kairos_hello *h, char *out, size_t size);
/* -EBADMSG with a reason in *why (static text) when malformed. */
int hello_parse(const char *data, size_t len, struct kairos_hello *h, const char **why);

/* name as a hello may carry it: every character a bridge would refuse
 * becomes '-', cut to fit; "localhost" when empty or NULL. */
void hello_hostname_safe(const char *name, char out[HELLO_HOSTNAME_MAX]);

/* The initiator's first record: proves it holds the key (key confirmation). */
#define CLIENT_HELLO "kairos-client 1\n"

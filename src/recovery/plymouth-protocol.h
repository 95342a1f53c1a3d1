/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* plymouthd's boot-client protocol, spoken on its socket directly so that
 * the message with the SSH password is never in anyone's argv (the
 * `plymouth display-message --text=...` client put it in
 * /proc/PID/cmdline for as long as it ran).
 *
 * From plymouth's src/ply-boot-protocol.h, src/client/ply-boot-client.c
 * and src/ply-boot-server.c:
 *   - the socket: abstract, "/org/freedesktop/plymouthd", address length
 *     trimmed to the name (no trailing NULs: they would be part of it);
 *   - a request without an argument: the command byte, then NUL;
 *   - with one: the command byte, \002, one byte holding the argument's
 *     length including its NUL, the argument and the NUL (so at most 254
 *     characters: plymouth's own client would wrap the byte at 255);
 *   - the answer to ping, show-message and hide-splash: one byte, ACK \006
 *     or NAK \025 (not root, or a command it does not know).
 * plymouthd reads the header with a blocking read after poll: a request
 * must go in one write, which a few hundred bytes into an empty stream
 * socket always do. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PLYMOUTH_SOCKET_NAME "/org/freedesktop/plymouthd"

#define PLYMOUTH_PING 'P'
#define PLYMOUTH_SHOW_MESSAGE 'M'
#define PLYMOUTH_HIDE_SPLASH 'H'

#define PLYMOUTH_ACK 0x06
#define PLYMOUTH_NAK 0x15

#define PLYMOUTH_ARGUMENT_MAX 254
/* command, \002, length, argument, NUL */
#define PLYMOUTH_REQUEST_MAX (3 + PLYMOUTH_ARGUMENT_MAX + 1)

/* A non-blocking, close-on-exec stream socket connected to plymouthd (the
 * name above, or `name` when not NULL: tests). Returns the fd, or
 * -ECONNREFUSED / -ENOENT when nothing listens there (no plymouthd),
 * -EAGAIN when its backlog is full, another -errno otherwise. */
int plymouth_connect(const char *name);

/* Encodes a request into buf (PLYMOUTH_REQUEST_MAX bytes); argument NULL
 * for none. Returns its length, or -EINVAL (argument too long, or a
 * command byte plymouthd would misread). */
ssize_t plymouth_request(uint8_t *buf, char command, const char *argument);

/* The one-byte answer: 1 ACK, 0 NAK, -EBADMSG anything else (the
 * answers with a payload belong to requests we never send). */
int plymouth_reply(uint8_t byte);

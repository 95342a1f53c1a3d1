/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Plymouth, when it runs: a message with the SSH password and a hint, and
 * the splash out of the way so that the console (and the QR code on it)
 * can be seen.
 *
 * Spoken to plymouthd on its own socket (plymouth-protocol.h), one
 * connection a chain that never blocks the caller's loop:
 *     ping                  (is plymouthd there at all, and ours to use?)
 *     display-message       (themes show it on the splash; "details"
 *                            prints it as a line)
 *     hide-splash           (the console shows; Esc brings the splash back,
 *                            and the message says Esc shows the code)
 * Each request has a deadline (5 s) for its one-byte answer; then the chain
 * stops: a hung plymouthd costs nothing but that connection. Without
 * plymouthd nothing happens, and nothing is logged above debug.
 *
 * Why the socket and not the `plymouth` client, for all three requests: the
 * message carries the SSH password, and a client's argv is world-readable
 * in /proc/PID/cmdline while it runs; no secret may be in any argv. Once the
 * message goes over the socket, the other two are three bytes more on the
 * same connection, and no child is left to spawn, watch, kill and reap.
 * The password never goes to the log. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "io.h"
#include "macro.h"

#define PLYMOUTH_TIMEOUT (5 * USEC_PER_SEC)

struct plymouth;

/* result: 1 the message is shown and the splash hidden; 0 no plymouthd;
 * otherwise -ETIMEDOUT (no answer in time), -EPERM (plymouthd refused the
 * ping: not root), -EIO (a request refused), -ECONNRESET (closed without
 * an answer), -EBADMSG (an answer that is not plymouth's).
 * After 1, redraw the consoles (display_redraw()): hiding the splash clears
 * the screen plymouth had.
 * Called from the loop after each plymouth_show() (the last one only, if
 * several came while a chain ran). */
typedef void (*plymouth_done_t)(struct plymouth *p, int result, void *userdata);

int plymouth_new(sd_event *event, plymouth_done_t done, void *userdata, struct plymouth **ret);
/* Closes a connection still open. */
struct plymouth *plymouth_free(struct plymouth *p);

/* Shows the message for password (NULL or "": no password yet) and hides
 * the splash. Returns at once: 0, or -ENOMEM. Called again while a chain
 * runs, the newest message is shown once it is done. */
int plymouth_show(struct plymouth *p, const char *password);
/* Another abstract socket name than plymouthd's (tests). */
int plymouth_set_socket(struct plymouth *p, const char *name);
/* Deadline for each request's answer (0 keeps the current one). */
void plymouth_set_timeout(struct plymouth *p, usec_t timeout);
bool plymouth_busy(const struct plymouth *p);

/* The message for a password, into buf. */
void plymouth_message(const char *password, char *buf, size_t size);

static inline void plymouth_freep(struct plymouth **p) {
        if (*p)
                plymouth_free(*p);
}
#define _cleanup_plymouth_ _cleanup_(plymouth_freep)

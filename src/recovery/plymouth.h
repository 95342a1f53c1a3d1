/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Plymouth, when it runs: a message with the SSH password and a hint, and
 * the splash out of the way so that the console (and the QR code on it)
 * can be seen.
 *
 * Done with the `plymouth` client, as a chain of child processes that never
 * blocks the caller's loop:
 *     plymouth --ping                       (is plymouthd there at all?)
 *     plymouth display-message --text=...   (themes show it on the splash;
 *                                            "details" prints it as a line)
 *     plymouth hide-splash                  (the console shows; Esc brings
 *                                            the splash back, and the
 *                                            message says Esc shows the code)
 * Each child gets /dev/null as stdin, stdout and stderr, the default signal
 * mask and dispositions, and a deadline (5 s; then SIGKILL): a hung
 * plymouthd costs nothing but that child. Without the client or without
 * plymouthd nothing happens, and nothing is logged above debug.
 *
 * Children are watched through a pidfd on the loop, so the caller's signal
 * mask does not matter (no SIGCHLD source needed); the caller must not reap
 * children it did not start (no waitpid(-1)).
 *
 * The password is in the message's argv, so for the client's few
 * milliseconds it is in /proc/PID/cmdline, readable by root alone on a
 * recovery system where nothing else runs; it never goes to the log. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "io.h"
#include "macro.h"

#define PLYMOUTH_TIMEOUT (5 * USEC_PER_SEC)

struct plymouth;

/* result: 1 the message is shown and the splash hidden; 0 no plymouth
 * (client or daemon absent); -ETIMEDOUT, -EIO (a step failed) otherwise.
 * After 1, redraw the consoles (display_redraw()): hiding the splash clears
 * the screen plymouth had.
 * Called from the loop after each plymouth_show() (the last one only, if
 * several came while a chain ran). */
typedef void (*plymouth_done_t)(struct plymouth *p, int result, void *userdata);

int plymouth_new(sd_event *event, plymouth_done_t done, void *userdata, struct plymouth **ret);
/* Kills a client still running. */
struct plymouth *plymouth_free(struct plymouth *p);

/* Shows the message for password (NULL or "": no password yet) and hides
 * the splash. Returns at once: 0, or -ENOMEM. Called again while a chain
 * runs, the newest message is shown once it is done. */
int plymouth_show(struct plymouth *p, const char *password);
/* The client to run (default "plymouth", looked up in $PATH). */
int plymouth_set_client(struct plymouth *p, const char *path);
/* Deadline for each client (0 keeps the current one). */
void plymouth_set_timeout(struct plymouth *p, usec_t timeout);
bool plymouth_busy(const struct plymouth *p);

/* The message for a password, into buf. */
void plymouth_message(const char *password, char *buf, size_t size);

static inline void plymouth_freep(struct plymouth **p) {
        if (*p)
                plymouth_free(*p);
}
#define _cleanup_plymouth_ _cleanup_(plymouth_freep)

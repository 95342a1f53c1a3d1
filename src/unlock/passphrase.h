/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Called while waiting for input, whenever watch_fd (an inotify fd on the
 * request directory) is readable, and every second: > 0 to keep waiting,
 * 0 to stop (the request is gone), < 0 an error. */
typedef int (*passphrase_check_t)(void *userdata);

/* Reads one line (the newline not kept) from fd into buf (size bytes, the
 * line NUL-terminated): from a terminal with echo off (restored on every
 * path, also on Ctrl-C, which gives -EINTR), from a pipe or file byte by
 * byte so that the next line stays there for the next try. 0 and *ret_len,
 * -ENODATA at the end of input with nothing read, -ESTALE when check said
 * stop, -E2BIG for a line longer than size - 1 (the rest of it is dropped),
 * -EINTR when SIGINT or SIGTERM came, or -errno. buf is wiped on failure. */
int passphrase_read(int fd, int watch_fd, passphrase_check_t check, void *userdata, char *buf, size_t size,
                    size_t *ret_len);

/* Set by SIGINT/SIGTERM (passphrase_catch_signals()); polls return EINTR. */
extern volatile int passphrase_interrupted;
void passphrase_catch_signals(void);

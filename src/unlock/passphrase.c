/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the passphrase. On a terminal: echo off, canonical mode kept, so
 * the line editing a user expects (backspace, Ctrl-U) works and nothing
 * shows; the terminal is restored before returning, whatever happens. While
 * nobody types, the request directory is watched: when the console answers
 * first, we stop asking at once instead of sending a passphrase nobody
 * waits for any more. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "passphrase.h"

volatile int passphrase_interrupted;

static void on_signal(int sig) {
        passphrase_interrupted = sig;
}

void passphrase_catch_signals(void) {
        /* no SA_RESTART: poll() and read() return EINTR */
        struct sigaction sa = { .sa_handler = on_signal };

        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

/* Until fd is readable: 1, or what stops it. */
static int wait_input(int fd, int watch_fd, passphrase_check_t check, void *userdata) {
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = watch_fd, .events = POLLIN } };
                int r;

                if (passphrase_interrupted)
                        return -EINTR;
                r = poll(p, watch_fd >= 0 ? 2 : 1, 1000);
                if (r < 0 && errno == EINTR)
                        continue; /* passphrase_interrupted says if it was ours */
                if (r < 0)
                        return -errno;
                if (p[0].revents)
                        return 1;
                if (check) {
                        /* the watch fd is drained by check(), or a second passed */
                        r = check(userdata);
                        if (r <= 0)
                                return r < 0 ? r : -ESTALE;
                }
        }
}

int passphrase_read(int fd, int watch_fd, passphrase_check_t check, void *userdata, char *buf, size_t size,
                    size_t *ret_len) {
        struct termios old, quiet;
        bool tty = tcgetattr(fd, &old) >= 0;
        size_t n = 0;
        bool got_any = false, too_long = false;
        int r = 0;

        if (size == 0)
                return -EINVAL;
        if (tty) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHOE | ECHOK);
                quiet.c_lflag |= ICANON | ECHONL;
                if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
                        return -errno;
        }
        for (;;) {
                char c;
                ssize_t k;

                r = wait_input(fd, watch_fd, check, userdata);
                if (r < 0)
                        break;
                k = read(fd, &c, 1);
                if (k < 0 && errno == EINTR) {
                        if (passphrase_interrupted) {
                                r = -EINTR;
                                break;
                        }
                        continue;
                }
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0) {
                        r = got_any ? 0 : -ENODATA;
                        break;
                }
                got_any = true;
                if (c == '\n') {
                        r = 0;
                        break;
                }
                if (n + 1 < size)
                        buf[n++] = c;
                else
                        too_long = true;
        }
        if (tty)
                tcsetattr(fd, TCSAFLUSH, &old);
        if (r == 0 && too_long)
                r = -E2BIG;
        if (r == 0 && n > 0 && buf[n - 1] == '\r')
                n--; /* a line from a terminal in raw mode, or typed on Windows */
        if (r < 0) {
                sodium_memzero(buf, size);
                return r;
        }
        buf[n] = '\0';
        *ret_len = n;
        return 0;
}

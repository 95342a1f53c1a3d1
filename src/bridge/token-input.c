/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "qr-image.h"
#include "token-input.h"

void token_input_scrub(char *arg) {
        size_t n = strlen(arg);

        memset(arg, 'x', n);
}

/* A token is one line; anything much longer is not one. */
static int read_text(int fd, char *buf, size_t size) {
        size_t n = 0;

        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n == size - 1)
                        return -EFBIG;
        }
        buf[n] = '\0';
        if (memchr(buf, '\0', n))
                return -EBADMSG;
        return 0;
}

/* On a terminal: one line, ended by Enter (a person does not type Ctrl-D). */
static int read_line(int fd, char *buf, size_t size) {
        size_t n = 0;

        for (;;) {
                char c;
                ssize_t k = read(fd, &c, 1);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0 || c == '\n')
                        break;
                if (n == size - 1)
                        return -EFBIG;
                buf[n++] = c;
        }
        buf[n] = '\0';
        return 0;
}

static int decode(const char *text, const char *from, struct kairos_token *t) {
        struct token_error err;

        if (token_decode(text, t, &err) < 0) {
                log_error("%s: %s", from, err.message);
                return EX_DATAERR;
        }
        return 0;
}

#define TEXT_SIZE (KAIROS_TOKEN_TEXT_MAX * 2)

/* The token's text is the secret: wiped on every way out, errors too. */
static void text_wipe(char (*text)[TEXT_SIZE]) {
        sodium_memzero(*text, sizeof *text);
}

int token_input_read(enum token_source source, char *where, struct kairos_token *t) {
        _cleanup_(text_wipe) char text[TEXT_SIZE];
        int r, fd, code;

        switch (source) {
        case TOKEN_FROM_IMAGE: {
                struct qr_image_error err;
                r = qr_image_read_token(where, text, sizeof text, &err);
                if (r < 0) {
                        log_error("%s", err.message);
                        return r == -ENOENT ? EX_NOINPUT : r == -EACCES || r == -EIO ? EX_IOERR : EX_DATAERR;
                }
                code = decode(text, where, t);
                break;
        }
        case TOKEN_FROM_FILE:
        case TOKEN_FROM_STDIN:
                fd = source == TOKEN_FROM_STDIN ? STDIN_FILENO : open(where, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        r = negative_errno();
                        log_error_errno(r, "Cannot open the token file %s: %m", where);
                        return r == -ENOENT ? EX_NOINPUT : EX_IOERR;
                }
                if (source == TOKEN_FROM_STDIN && isatty(fd)) {
                        /* As wormhole receive asks for its code. */
                        fputs("Enter the token (the text under the QR code on the recovery machine's screen): ", stderr);
                        fflush(stderr);
                        r = read_line(fd, text, sizeof text);
                } else
                        r = read_text(fd, text, sizeof text);
                if (fd != STDIN_FILENO)
                        close(fd);
                if (r == -EFBIG || r == -EBADMSG) {
                        log_error("%s does not hold a token: it is binary or far too long. Give the text under the QR code, or use --qr-code-image for a picture.",
                                  source == TOKEN_FROM_STDIN ? "Standard input" : where);
                        return EX_DATAERR;
                }
                if (r < 0) {
                        log_error_errno(r, "Cannot read the token: %m");
                        return EX_IOERR;
                }
                code = decode(text, source == TOKEN_FROM_STDIN ? "standard input" : where, t);
                break;
        case TOKEN_FROM_ENV:
        case TOKEN_FROM_ARGUMENT:
                snprintf(text, sizeof text, "%s", where);
                sodium_memzero(where, strlen(where));
                code = decode(text, source == TOKEN_FROM_ENV ? "$KAIROS_TOKEN" : "the token argument", t);
                break;
        default:
                log_error("No token: give --qr-code-image PHOTO, --token-file FILE, --token - (standard input) or $KAIROS_TOKEN.");
                return EX_USAGE;
        }
        return code;
}

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
#include "kdf.h"
#include "qr-image.h"
#include "sealed-input.h"
#include "token-input.h"

static const struct sealed_options *sealed_opts;

void token_input_set_sealed(const struct sealed_options *o) {
        sealed_opts = o;
}

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

/* A sealed code: opened, its signer checked, and its token decoded. */
static int decode_sealed(const char *text, const char *from, struct kairos_token *t) {
        static const struct sealed_options defaults = {};
        struct sealed_code c;
        struct token_error err;
        char password[KAIROS_PASSWORD_SIZE];
        int code;

        code = sealed_input_open(text, strlen(text), sealed_opts ?: &defaults, &c);
        if (code != 0)
                return code;
        code = 0;
        if (token_decode(c.token, t, &err) < 0) {
                log_error("%s: the sealed code opens and is signed, but the token in it is not one: %s", from, err.message);
                code = EX_DATAERR;
        } else {
                /* The password travels too, for a person reading the code
                 * by other means; it must be the one the token gives. */
                kdf_password(t->secret, password);
                if (sodium_memcmp(password, c.password, sizeof password) != 0 || strlen(c.password) != strlen(password)) {
                        log_error("%s: the sealed code's password does not belong to its token: it was not made by kairos-recovery.", from);
                        token_clear(t);
                        code = EX_DATAERR;
                }
                sodium_memzero(password, sizeof password);
        }
        sealed_code_clear(&c);
        return code;
}

static int decode(const char *text, const char *from, struct kairos_token *t) {
        struct token_error err;

        if (sealed_input_present(text, strlen(text)))
                return decode_sealed(text, from, t);
        if (token_decode(text, t, &err) < 0) {
                log_error("%s: %s", from, err.message);
                return EX_DATAERR;
        }
        return 0;
}

/* A token is one line; a message body carrying sealed codes (one per
 * operator key, with words around them) is longer, but never this long. */
#define TEXT_SIZE (64 * 1024)

/* The text holds the secret: wiped on every way out, errors too. */
static void text_wipe(char **text) {
        if (*text) {
                sodium_memzero(*text, TEXT_SIZE);
                free(*text);
        }
}

int token_input_read(enum token_source source, char *where, struct kairos_token *t) {
        _cleanup_(text_wipe) char *text = NULL;
        int r, fd, code;

        text = calloc(1, TEXT_SIZE);
        if (!text) {
                if (source == TOKEN_FROM_ENV || source == TOKEN_FROM_ARGUMENT)
                        sodium_memzero(where, strlen(where));
                return EX_OSERR;
        }

        switch (source) {
        case TOKEN_FROM_IMAGE: {
                struct qr_image_error err;
                r = qr_image_read_token(where, text, TEXT_SIZE, &err);
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
                        r = read_line(fd, text, TEXT_SIZE);
                } else
                        r = read_text(fd, text, TEXT_SIZE);
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
                snprintf(text, TEXT_SIZE, "%s", where);
                sodium_memzero(where, strlen(where));
                code = decode(text, source == TOKEN_FROM_ENV ? "$KAIROS_TOKEN" : "the token argument", t);
                break;
        default:
                log_error("No token: give --qr-code-image PHOTO, --token-file FILE, --token - (standard input) or $KAIROS_TOKEN.");
                return EX_USAGE;
        }
        return code;
}

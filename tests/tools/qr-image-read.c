/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qr-image-read [-v] FILE: what kairos-bridge --qr-code-image reads from a
 * picture, for the tests.
 *
 * Prints the token's text on stdout and exits 0; or prints
 * "qr-image-read: CODE-NAME: message" on stderr and exits with the error's
 * code (qr-image.h: 1 missing ... 13 internal), 64 on a usage error. The
 * decoding time goes to stderr as a "# " line, for the eye only. -v logs
 * each scan. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "qr-image.h"
#include "token.h"

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
        char text[KAIROS_TOKEN_TEXT_MAX];
        struct qr_image_error err;
        const char *path;
        double t0;
        int r;

        if (argc == 3 && strcmp(argv[1], "-v") == 0) {
                log_set_max_level(LOG_DEBUG);
                path = argv[2];
        } else if (argc == 2 && argv[1][0] != '-') {
                path = argv[1];
        } else {
                fprintf(stderr, "usage: qr-image-read [-v] FILE\n");
                return 64;
        }

        t0 = now_ms();
        r = qr_image_read_token(path, text, sizeof text, &err);
        fprintf(stderr, "# %s: %.0f ms\n", path, now_ms() - t0);
        if (r < 0) {
                fprintf(stderr, "qr-image-read: %s: %s\n", qr_image_error_code_to_string(err.code), err.message);
                return err.code > 0 && err.code < 64 ? (int) err.code : 1;
        }
        printf("%s\n", text);
        return 0;
}

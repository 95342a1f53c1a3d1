/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The QR image reader on any bytes a user may hand the bridge as a picture:
 * format detection, the PNG, JPEG, HEIC/AVIF (libheif) and WebP decoders,
 * EXIF, orientation, the variants and zbar. Whatever the input: no crash, no
 * leak, no read out of bounds, a bounded time, and either a token or an
 * error with a code and a message.
 *
 * The EXIF parser also gets the raw input, both as a TIFF structure and as
 * an APP1 body: inside a picture it is only reached through a valid JPEG or
 * PNG, which random bytes rarely are. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "exif.h"
#include "fuzz.h"
#include "qr-image.h"
#include "token.h"

FUZZ_CORPUS("qr-image");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Small limits keep each run quick; the code paths are the same. */
        struct qr_image_limits limits = {
                .max_file_size = 1 << 20,
                .max_pixels = 1 << 20,
                .max_scans = 4,
                .max_msec = 1000,
        };
        char text[KAIROS_TOKEN_TEXT_MAX];
        struct qr_image_error err;
        int r;

        r = exif_orientation_from_tiff(data, size);
        FUZZ_ASSERT(r == -ENODATA || r == -EBADMSG || (r >= 1 && r <= 8));
        r = exif_orientation_from_app1(data, size);
        FUZZ_ASSERT(r == -ENODATA || r == -EBADMSG || (r >= 1 && r <= 8));

        r = qr_image_read_token_from_memory(data, size, "fuzz.img", &limits, text, sizeof text, &err);
        if (r < 0) {
                FUZZ_ASSERT(err.code > QR_IMAGE_OK && err.code < _QR_IMAGE_ERROR_MAX);
                FUZZ_ASSERT(memchr(err.message, '\0', sizeof err.message));
                FUZZ_ASSERT(err.message[0] != '\0');
                FUZZ_ASSERT(text[0] == '\0');
                /* The message is shown as it is: nothing unprintable from the input. */
                for (const char *p = err.message; *p; p++)
                        FUZZ_ASSERT((unsigned char) *p >= 0x20 && *p != 0x7f);
        } else {
                FUZZ_ASSERT(r == 0 && err.code == QR_IMAGE_OK);
                FUZZ_ASSERT(memchr(text, '\0', sizeof text));
                FUZZ_ASSERT(strncasecmp(text, KAIROS_TOKEN_PREFIX, strlen(KAIROS_TOKEN_PREFIX)) == 0);
        }
        return 0;
}

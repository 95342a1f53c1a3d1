/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kairos token from a picture of its QR code: `kairos-bridge
 * --qr-code-image FILE`.
 *
 * The picture may be a clean screenshot or a phone photo of the recovery
 * machine's screen: 12 megapixels, tilted, in perspective, blurred, noisy,
 * with moiré and JPEG artefacts, the code small in a large picture, light on
 * dark, taken sideways (EXIF orientation), or beside other QR codes (the one
 * whose text starts with "KAIROS:", in any case, is taken).
 *
 * PNG and JPEG, told apart by their first bytes, not by the file's name.
 * The picture becomes 8-bit grey and is scanned with zbar; when that finds
 * no token, variants are tried in turn (smaller, inverted, contrast
 * stretched, blurred), within a budget of scans and time, and the first
 * token found ends the search.
 *
 * Nothing here exits, prints or hangs on bad input: every failure is one of
 * the codes below, with a message of one sentence that names the file, the
 * problem and what to do, fit to show the user as it is (bytes from the
 * picture are shown only shortened and with anything unprintable replaced).
 *
 *   char text[KAIROS_TOKEN_TEXT_MAX];
 *   struct qr_image_error err;
 *
 *   r = qr_image_read_token(path, text, sizeof text, &err);
 *   if (r < 0)
 *           return log_error_errno(r, "%s", err.message);
 *   r = token_decode(text, &token, &token_err);
 *
 * The text is returned as the code holds it; token_decode() (token.h)
 * checks it. */

#include <stddef.h>
#include <stdint.h>

/* The codes, stable: the test tool qr-image-read exits with them. Each
 * comes with the negative errno named here as the return value; callers
 * switch on the code, the errno is for logs. */
enum qr_image_error_code {
        QR_IMAGE_OK = 0,
        QR_IMAGE_MISSING = 1,        /* -ENOENT: no such file */
        QR_IMAGE_UNREADABLE = 2,     /* open()/read()'s errno, -EISDIR, -EINVAL (a FIFO, a device) */
        QR_IMAGE_EMPTY = 3,          /* -ENODATA: 0 bytes */
        QR_IMAGE_NOT_AN_IMAGE = 4,   /* -EMEDIUMTYPE: text, or nothing we know */
        QR_IMAGE_UNSUPPORTED = 5,    /* -EOPNOTSUPP: a GIF, BMP, TIFF, SVG or PDF */
        QR_IMAGE_TRUNCATED = 6,      /* -EBADMSG: the file ends before the picture does */
        QR_IMAGE_CORRUPT = 7,        /* -EBADMSG: the decoder rejects the data */
        QR_IMAGE_TOO_LARGE = 8,      /* -EFBIG: more pixels or bytes than the limits */
        QR_IMAGE_NO_CODE = 9,        /* -ENOMSG: no QR code found */
        QR_IMAGE_NOT_A_TOKEN = 10,   /* -ENOMSG: QR codes, none with a kairos token */
        QR_IMAGE_SEVERAL_TOKENS = 11, /* -ENOTUNIQ: different kairos tokens in one picture */
        QR_IMAGE_NO_MEMORY = 12,     /* -ENOMEM */
        QR_IMAGE_INTERNAL = 13,      /* -EIO and the like: the QR reader itself failed */
        _QR_IMAGE_ERROR_MAX,
};

struct qr_image_error {
        enum qr_image_error_code code;
        char message[512]; /* one sentence; "" when code is QR_IMAGE_OK */
};

/* Bounds on the work one picture may cause. */
struct qr_image_limits {
        uint64_t max_file_size; /* bytes (qr_image_read_token() only) */
        uint64_t max_pixels;    /* width × height, checked before decoding */
        unsigned max_scans;     /* zbar runs on variants of the picture */
        unsigned max_msec;      /* no scan starts later than this after the call */
};

/* 100 megapixels hold any phone photo (a 12 MP one needs 12 MB in grey). */
#define QR_IMAGE_MAX_PIXELS (100ULL * 1000 * 1000)
#define QR_IMAGE_MAX_FILE_SIZE (256ULL * 1024 * 1024)
#define QR_IMAGE_MAX_SCANS 24
#define QR_IMAGE_MAX_MSEC 10000
#define QR_IMAGE_LIMITS_DEFAULT                                                            \
        ((struct qr_image_limits) {                                                        \
                .max_file_size = QR_IMAGE_MAX_FILE_SIZE,                                   \
                .max_pixels = QR_IMAGE_MAX_PIXELS,                                         \
                .max_scans = QR_IMAGE_MAX_SCANS,                                           \
                .max_msec = QR_IMAGE_MAX_MSEC,                                             \
        })

/* Reads the picture at path and puts the kairos token's text into text
 * (size bytes with the NUL; KAIROS_TOKEN_TEXT_MAX is enough for any token).
 * Returns 0 with err->code QR_IMAGE_OK, or a negative errno with err filled
 * in. err may not be NULL. Default limits. */
int qr_image_read_token(const char *path, char *text, size_t size, struct qr_image_error *err);

/* The same for a picture already in memory (tests, fuzzing, a picture from
 * a pipe). name is what messages call it ("photo.jpg", "the picture");
 * limits NULL means the defaults. */
int qr_image_read_token_from_memory(const void *data, size_t n, const char *name,
                                    const struct qr_image_limits *limits, char *text, size_t size,
                                    struct qr_image_error *err);

/* "missing", "not-a-token", ...: a stable short name of a code. */
const char *qr_image_error_code_to_string(enum qr_image_error_code code);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grey-image.h"
#include "image-format.h"
#include "image-load.h"
#include "log.h"
#include "macro.h"
#include "qr-image.h"
#include "qr-scan.h"
#include "qr-variants.h"
#include "token.h"

/* Larger pictures are first shrunk to this: zbar finds a code that fills
 * 15% of a 4096-pixel-wide picture easily, and 100 MP would take seconds. */
#define FULL_SIDE_MAX 4096
/* How much of a code's content a message shows. */
#define SHOWN_MAX 48

/* ---- messages ---------------------------------------------------------- */

_printf_(4, 5)
static int fail(struct qr_image_error *err, enum qr_image_error_code code, int r, const char *format, ...) {
        va_list ap;

        err->code = code;
        errno = -r; /* for a %m in the format */
        va_start(ap, format);
        vsnprintf(err->message, sizeof err->message, format, ap);
        va_end(ap);
        return r;
}

/* Outside bytes in a message: printable ASCII only, so that a code holding
 * escape sequences cannot take over the user's terminal; shortened. */
static void shown(const char *data, size_t size, char *out, size_t out_size) {
        size_t n = 0, limit = MIN(out_size - 1, (size_t) SHOWN_MAX);

        for (size_t i = 0; i < size && n < limit; i++)
                out[n++] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '?';
        if (size > n && n >= 3)
                memcpy(out + n - 3, "...", 3);
        out[n] = '\0';
}

/* A name for messages: control characters (a newline in a file name) are
 * replaced, a very long path keeps its end. */
static void shown_name(const char *name, char *out, size_t out_size) {
        size_t len = strlen(name), start = len > out_size - 1 ? len - (out_size - 4) : 0, n = 0;

        if (start > 0) {
                memcpy(out, "...", 3);
                n = 3;
        }
        for (size_t i = start; i < len && n < out_size - 1; i++)
                out[n++] = (unsigned char) name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
        out[n] = '\0';
}

/* ---- what the codes in a picture hold ---------------------------------- */

struct finds {
        char *text;          /* the caller's buffer */
        size_t size;
        size_t token_len;    /* > 0: a token is in text */
        size_t long_token;   /* length of a "KAIROS:" text too long for text */
        unsigned n_tokens;   /* different tokens in the current scan */
        unsigned n_codes;    /* codes in the current scan */
        unsigned most_codes; /* most codes any scan found */
        /* The first other code seen, to say what the picture holds instead. */
        bool have_other;
        char other[SHOWN_MAX + 1];
        bool other_url, other_binary;
        size_t other_size;
};

/* As token_decode() takes it: any case, after leading whitespace. */
static bool is_token(const char *data, size_t size) {
        size_t n = strlen(KAIROS_TOKEN_PREFIX), i = 0;

        while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
                i++;
        return size - i >= n && strncasecmp(data + i, KAIROS_TOKEN_PREFIX, n) == 0;
}

static int on_found(const char *data, size_t size, void *userdata) {
        struct finds *f = userdata;

        f->n_codes++;
        if (is_token(data, size) && !memchr(data, '\0', size)) {
                if (size >= f->size) {
                        f->long_token = size;
                        return 0;
                }
                /* The same token twice (zbar can report a code again) is one. */
                if (f->n_tokens > 0 && size == f->token_len && strncasecmp(f->text, data, size) == 0)
                        return 0;
                f->n_tokens++;
                if (f->n_tokens == 1) {
                        memcpy(f->text, data, size);
                        f->text[size] = '\0';
                        f->token_len = size;
                }
                return 0;
        }

        if (!f->have_other) {
                f->have_other = true;
                f->other_size = size;
                f->other_url = size > 7 && (strncasecmp(data, "http://", 7) == 0 || strncasecmp(data, "https://", 8) == 0);
                f->other_binary = memchr(data, '\0', size) != NULL;
                shown(data, size, f->other, sizeof f->other);
        }
        return 0;
}

static int fail_not_a_token(struct qr_image_error *err, const char *name, const struct finds *f) {
        char what[128], codes[64] = "a QR code";

        if (f->long_token > 0)
                return fail(err, QR_IMAGE_NOT_A_TOKEN, -ENOMSG,
                            "%s holds a QR code that starts like a kairos token but is %zu characters long, "
                            "more than any token: photograph the code on the recovery machine's screen",
                            name, f->long_token);

        if (f->other_url)
                snprintf(what, sizeof what, "a web address (%s)", f->other);
        else if (f->other_binary)
                snprintf(what, sizeof what, "binary data (%zu bytes)", f->other_size);
        else
                snprintf(what, sizeof what, "the text \"%s\"", f->other);
        if (f->most_codes > 1)
                snprintf(codes, sizeof codes, "%u QR codes, the first", f->most_codes);
        return fail(err, QR_IMAGE_NOT_A_TOKEN, -ENOMSG,
                    "%s holds %s with %s, not a kairos token: photograph the code on the recovery machine's screen",
                    name, codes, what);
}

/* ---- trying variants of the picture ------------------------------------ */

static int64_t now_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Scans the variants in turn until a token is found or the budget is
 * spent. Returns 0 with f filled in, or a negative errno (-ENOMEM, -EIO). */
static int scan_variants(struct qr_variants *v, const struct qr_image_limits *limits, int64_t start, struct finds *f) {
        _cleanup_(qr_scanner_freep) qr_scanner *scanner = NULL;
        unsigned scans = 0;
        int r;

        r = qr_scanner_new(&scanner);
        if (r < 0)
                return r;

        for (;;) {
                const struct grey_image *img;
                const char *what;
                int64_t t0 = now_msec();

                /* zbar cannot be interrupted: the budget bounds the scans
                 * started, and each is bounded by the picture's size. */
                if (scans >= limits->max_scans || t0 - start >= (int64_t) limits->max_msec) {
                        log_debug("QR image: budget spent after %u scans, %lld ms", scans, (long long) (t0 - start));
                        return 0;
                }
                r = qr_variants_next(v, &img, &what);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;

                f->n_codes = f->n_tokens = 0;
                r = qr_scanner_scan(scanner, img, on_found, f);
                scans++;
                log_debug("QR image: scan %u, %s: %d QR codes, %lld ms", scans, what, r,
                          (long long) (now_msec() - t0));
                if (r < 0)
                        return r;
                f->most_codes = MAX(f->most_codes, f->n_codes);
                if (f->n_tokens > 0)
                        return 0;
        }
}

/* ---- decoding ---------------------------------------------------------- */

static int decode_picture(const uint8_t *data, size_t n, enum image_format format, const char *name,
                          const struct qr_image_limits *limits, struct grey_image *out, struct qr_image_error *err) {
        _cleanup_(grey_image_freep) struct grey_image stored = {}, oriented = {};
        struct image_info info;
        char detail[sizeof info.detail];
        const char *fname = image_format_name(format);
        size_t k;
        int r;

        switch (format) {
        case IMAGE_FORMAT_PNG:
                r = image_load_png(data, n, limits->max_pixels, &stored, &info);
                break;
        case IMAGE_FORMAT_JPEG:
                r = image_load_jpeg(data, n, limits->max_pixels, &stored, &info);
                break;
        case IMAGE_FORMAT_HEIC:
        case IMAGE_FORMAT_AVIF:
                r = image_load_heif(data, n, limits->max_pixels, &stored, &info);
                break;
        default:
                r = image_load_webp(data, n, limits->max_pixels, &stored, &info);
                break;
        }

        shown(info.detail, strlen(info.detail), detail, sizeof detail);
        switch (r) {
        case 0:
                break;
        case -E2BIG:
                return fail(err, QR_IMAGE_TOO_LARGE, -EFBIG,
                            "%s is too large (%zux%zu pixels, at most %llu million): "
                            "scale it down or crop it around the QR code",
                            name, info.width, info.height, (unsigned long long) (limits->max_pixels / 1000000));
        case -ENODATA:
                return fail(err, QR_IMAGE_TRUNCATED, -EBADMSG,
                            "%s is cut short (the %s data ends before the picture does): copy the whole file again",
                            name, fname);
        case -ENOMEM:
                return fail(err, QR_IMAGE_NO_MEMORY, r, "There is not enough memory to read %s: free some and try again", name);
        default:
                return fail(err, QR_IMAGE_CORRUPT, -EBADMSG,
                            "%s is a damaged %s picture (%s): copy it again or take a new photo",
                            name, fname, detail[0] ? detail : "the decoder rejects it");
        }

        /* As a viewer shows it. zbar happens to read codes turned and
         * mirrored too, but nothing here should rest on that; and sizes in
         * logs and messages then match the picture the user sees. */
        if (info.orientation != 1) {
                r = grey_image_orient(&stored, info.orientation, &oriented);
                if (r < 0)
                        return fail(err, QR_IMAGE_NO_MEMORY, r, "There is not enough memory to read %s: free some and try again", name);
                grey_image_free(&stored);
                stored = oriented;
                oriented = (struct grey_image) {};
        }

        log_debug("QR image: %s, %zux%zu stored, EXIF orientation %d, shown %zux%zu", fname, info.width,
                  info.height, info.orientation, stored.width, stored.height);

        k = grey_image_shrink_factor(&stored, FULL_SIDE_MAX);
        if (k == 1) {
                *out = stored;
                stored = (struct grey_image) {};
                return 0;
        }
        r = grey_image_shrink(&stored, k, out);
        if (r < 0)
                return fail(err, QR_IMAGE_NO_MEMORY, r, "There is not enough memory to read %s: free some and try again", name);
        return 0;
}

int qr_image_read_token_from_memory(const void *data, size_t n, const char *name,
                                    const struct qr_image_limits *limits, char *text, size_t size,
                                    struct qr_image_error *err) {
        struct qr_image_limits lim = limits ? *limits : QR_IMAGE_LIMITS_DEFAULT;
        _cleanup_(qr_variants_freep) struct qr_variants *v = NULL;
        _cleanup_(grey_image_freep) struct grey_image full = {};
        struct finds f = { .text = text, .size = size };
        enum image_format format;
        char shown_as[160];
        int64_t start = now_msec();
        int r;

        *err = (struct qr_image_error) {};
        if (text && size > 0)
                text[0] = '\0';
        shown_name(name ? name : "The picture", shown_as, sizeof shown_as);
        name = shown_as;
        if (!text || size < sizeof KAIROS_TOKEN_PREFIX)
                return fail(err, QR_IMAGE_INTERNAL, -EINVAL, "No room for a token from %s", name);

        if (n == 0)
                return fail(err, QR_IMAGE_EMPTY, -ENODATA,
                            "%s is empty (0 bytes): copy the photo again, the transfer may have failed", name);

        format = image_format_detect(data, n);
        switch (format) {
        case IMAGE_FORMAT_PNG:
        case IMAGE_FORMAT_JPEG:
        case IMAGE_FORMAT_HEIC:
        case IMAGE_FORMAT_AVIF:
        case IMAGE_FORMAT_WEBP:
                break;
        case IMAGE_FORMAT_TEXT:
                return fail(err, QR_IMAGE_NOT_AN_IMAGE, -EMEDIUMTYPE,
                            "%s holds text, not a picture: give a photo of the QR code (PNG, JPEG, HEIC, WebP, AVIF), "
                            "or, if the file holds the token itself, use --token-file", name);
        case IMAGE_FORMAT_UNKNOWN:
                return fail(err, QR_IMAGE_NOT_AN_IMAGE, -EMEDIUMTYPE,
                            "%s is not a picture kairos reads (its first bytes match no picture format): "
                            "give a photo or screenshot of the QR code", name);
        case IMAGE_FORMAT_PDF:
                return fail(err, QR_IMAGE_UNSUPPORTED, -EOPNOTSUPP,
                            "%s is a PDF document, not a picture: take a screenshot of the QR code (PNG) and give that",
                            name);
        default:
                return fail(err, QR_IMAGE_UNSUPPORTED, -EOPNOTSUPP,
                            "%s is a %s picture, which kairos cannot read: convert it to PNG, JPEG, HEIC, WebP or AVIF "
                            "(or send a screenshot) and try again", name, image_format_name(format));
        }

        r = decode_picture(data, n, format, name, &lim, &full, err);
        if (r < 0)
                return r;
        r = qr_variants_new(&full, &v);
        if (r >= 0)
                r = scan_variants(v, &lim, start, &f);
        log_debug("QR image: %lld ms in all", (long long) (now_msec() - start));
        if (r == -ENOMEM)
                return fail(err, QR_IMAGE_NO_MEMORY, r, "There is not enough memory to read %s: free some and try again", name);
        if (r < 0)
                return fail(err, QR_IMAGE_INTERNAL, r, "The QR code reader failed on %s (%m)", name);

        if (f.n_tokens > 1) {
                text[0] = '\0';
                return fail(err, QR_IMAGE_SEVERAL_TOKENS, -ENOTUNIQ,
                            "%s shows %u different kairos tokens: crop the picture to the QR code of the machine to reach",
                            name, f.n_tokens);
        }
        if (f.n_tokens == 1)
                return 0;
        if (f.have_other || f.long_token > 0)
                return fail_not_a_token(err, name, &f);
        return fail(err, QR_IMAGE_NO_CODE, -ENOMSG,
                    "%s shows no QR code that can be read: take a closer, sharper photo with the whole code "
                    "in the picture, square to the screen", name);
}

/* ---- files ------------------------------------------------------------- */

static int read_file(const char *path, const char *name, const struct qr_image_limits *limits,
                     uint8_t **ret, size_t *ret_size, struct qr_image_error *err) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t n = 0;

        /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = negative_errno();

                if (r == -ENOENT || r == -ENOTDIR)
                        return fail(err, QR_IMAGE_MISSING, -ENOENT,
                                    "%s does not exist: check the path and the file name", name);
                return fail(err, QR_IMAGE_UNREADABLE, r, "%s cannot be opened (%m): check its permissions", name);
        }
        if (fstat(fd, &st) < 0)
                return fail(err, QR_IMAGE_UNREADABLE, negative_errno(), "%s cannot be read (%m)", name);
        if (S_ISDIR(st.st_mode))
                return fail(err, QR_IMAGE_UNREADABLE, -EISDIR,
                            "%s is a directory, not a picture: give the path of the photo or screenshot", name);
        /* A FIFO or a device may never end: only files. */
        if (!S_ISREG(st.st_mode))
                return fail(err, QR_IMAGE_UNREADABLE, -EINVAL,
                            "%s is not a regular file: save the picture to a file first", name);
        if ((uint64_t) st.st_size > limits->max_file_size)
                return fail(err, QR_IMAGE_TOO_LARGE, -EFBIG,
                            "%s is too large (%llu MiB, at most %llu MiB): scale it down or crop it around the QR code",
                            name, (unsigned long long) st.st_size >> 20,
                            (unsigned long long) limits->max_file_size >> 20);

        buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);
        if (!buf)
                return fail(err, QR_IMAGE_NO_MEMORY, -ENOMEM, "There is not enough memory to read %s", name);
        /* What the size said, no more: a file that grows meanwhile cannot
         * make this read without end; one that shrinks is read as it is. */
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, (size_t) st.st_size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return fail(err, QR_IMAGE_UNREADABLE, negative_errno(), "%s cannot be read (%m)", name);
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int qr_image_read_token(const char *path, char *text, size_t size, struct qr_image_error *err) {
        struct qr_image_limits limits = QR_IMAGE_LIMITS_DEFAULT;
        _cleanup_free_ uint8_t *data = NULL;
        char name[160];
        size_t n = 0;
        int r;

        *err = (struct qr_image_error) {};
        if (text && size > 0)
                text[0] = '\0';
        if (!path || !*path)
                return fail(err, QR_IMAGE_MISSING, -ENOENT, "No picture was named: give the path of a photo of the QR code");
        shown_name(path, name, sizeof name);

        r = read_file(path, name, &limits, &data, &n, err);
        if (r < 0)
                return r;
        return qr_image_read_token_from_memory(data, n, path, &limits, text, size, err);
}

const char *qr_image_error_code_to_string(enum qr_image_error_code code) {
        static const char *const names[_QR_IMAGE_ERROR_MAX] = {
                [QR_IMAGE_OK] = "ok",
                [QR_IMAGE_MISSING] = "missing",
                [QR_IMAGE_UNREADABLE] = "unreadable",
                [QR_IMAGE_EMPTY] = "empty",
                [QR_IMAGE_NOT_AN_IMAGE] = "not-an-image",
                [QR_IMAGE_UNSUPPORTED] = "unsupported-format",
                [QR_IMAGE_TRUNCATED] = "truncated",
                [QR_IMAGE_CORRUPT] = "corrupt",
                [QR_IMAGE_TOO_LARGE] = "too-large",
                [QR_IMAGE_NO_CODE] = "no-qr-code",
                [QR_IMAGE_NOT_A_TOKEN] = "not-a-token",
                [QR_IMAGE_SEVERAL_TOKENS] = "several-tokens",
                [QR_IMAGE_NO_MEMORY] = "no-memory",
                [QR_IMAGE_INTERNAL] = "internal",
        };

        return (unsigned) code < _QR_IMAGE_ERROR_MAX ? names[code] : "unknown";
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "qr.h"

#define PNG_MAX_PIXELS 8192

int qr_encode(const char *text, struct qr_code **ret) {
        struct qr_code *q;
        QRcode *c;

        if (!text || !*text)
                return -EINVAL;
        /* Version 0: the smallest that holds the text. QR_MODE_8 is only the
         * hint for what is not alphanumeric or numeric; libqrencode splits
         * the text into the cheapest modes itself, and case-sensitive keeps
         * it from folding lowercase into (larger) 8-bit runs. */
        errno = 0;
        c = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (!c)
                return errno == ERANGE ? -ERANGE : errno == ENOMEM ? -ENOMEM : -EINVAL;

        q = malloc(sizeof *q + (size_t) c->width * (size_t) c->width);
        if (!q) {
                QRcode_free(c);
                return -ENOMEM;
        }
        q->version = (unsigned) c->version;
        q->width = (unsigned) c->width;
        /* libqrencode keeps its own flags in the upper bits; bit 0 is "dark". */
        for (size_t i = 0; i < (size_t) q->width * q->width; i++)
                q->modules[i] = c->data[i] & 1;
        QRcode_free(c);
        *ret = q;
        return 0;
}

struct qr_code *qr_free(struct qr_code *q) {
        free(q);
        return NULL;
}

bool qr_module_dark(const struct qr_code *q, int x, int y) {
        if (x < 0 || y < 0 || (unsigned) x >= q->width || (unsigned) y >= q->width)
                return false;
        return q->modules[(size_t) y * q->width + (size_t) x];
}

unsigned qr_text_columns(const struct qr_code *q, unsigned quiet) {
        return q->width + 2 * quiet;
}

unsigned qr_text_rows(const struct qr_code *q, unsigned quiet) {
        return (q->width + 2 * quiet + 1) / 2;
}

size_t qr_text_row_size(const struct qr_code *q, unsigned quiet) {
        return 3 * (size_t) qr_text_columns(q, quiet);
}

/* Light: on the screen, a glyph. Inside the drawing (code and quiet zone) a
 * module is light unless it is a dark module of the code; past the quiet
 * zone is the dark screen. */
static bool light(const struct qr_code *q, unsigned quiet, int x, int y) {
        int edge = (int) (q->width + quiet);

        if (y >= edge)
                return false;
        return !qr_module_dark(q, x, y);
}

int qr_text_row(const struct qr_code *q, unsigned quiet, unsigned row, char *buf, size_t size) {
        int top = 2 * (int) row - (int) quiet;
        size_t n = 0;

        if (row >= qr_text_rows(q, quiet))
                return -ERANGE;
        if (size < qr_text_row_size(q, quiet) + 1)
                return -ENOBUFS;

        for (int x = -(int) quiet; x < (int) (q->width + quiet); x++) {
                bool up = light(q, quiet, x, top), down = light(q, quiet, x, top + 1);
                const char *g = up && down ? QR_GLYPH_FULL : up ? QR_GLYPH_UPPER : down ? QR_GLYPH_LOWER : " ";
                size_t l = strlen(g);

                memcpy(buf + n, g, l);
                n += l;
        }
        buf[n] = 0;
        return (int) n;
}

int qr_text(const struct qr_code *q, unsigned quiet, char **ret) {
        size_t row_size = qr_text_row_size(q, quiet) + 1, n = 0;
        unsigned rows = qr_text_rows(q, quiet);
        char *s;

        s = malloc(row_size * rows + 1);
        if (!s)
                return -ENOMEM;
        for (unsigned r = 0; r < rows; r++) {
                int l = qr_text_row(q, quiet, r, s + n, row_size);
                if (l < 0) {
                        free(s);
                        return l;
                }
                n += (size_t) l;
                s[n++] = '\n';
        }
        s[n] = 0;
        *ret = s;
        return 0;
}

/* ---- PNG ---- */

struct membuf {
        uint8_t *data;
        size_t size, allocated;
};

static void membuf_write(png_structp png, png_bytep data, png_size_t n) {
        struct membuf *m = png_get_io_ptr(png);

        if (m->size + n > m->allocated) {
                size_t a = MAX(m->allocated * 2, m->size + n + 4096);
                uint8_t *d = realloc(m->data, a);
                if (!d)
                        png_error(png, "out of memory");
                m->data = d;
                m->allocated = a;
        }
        memcpy(m->data + m->size, data, n);
        m->size += n;
}

static void membuf_flush(png_structp png) {
}

static void png_fail(png_structp png, png_const_charp message) {
        log_debug("libpng: %s", message);
        png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp message) {
        log_debug("libpng warning: %s", message);
}

/* The libpng part alone: after a longjmp nothing here is read again, so no
 * local can be stale; the caller frees. */
static int png_encode(png_structp png, png_infop info, struct membuf *m, const struct qr_code *q,
                      unsigned scale, unsigned quiet, uint8_t *row) {
        if (setjmp(png_jmpbuf(png)))
                return -ENOMEM;
        png_set_write_fn(png, m, membuf_write, membuf_flush);
        png_set_IHDR(png, info, (q->width + 2 * quiet) * scale, (q->width + 2 * quiet) * scale, 8,
                     PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (unsigned y = 0; y < (q->width + 2 * quiet) * scale; y++) {
                int my = (int) (y / scale) - (int) quiet;
                for (unsigned x = 0; x < (q->width + 2 * quiet) * scale; x++)
                        row[x] = qr_module_dark(q, (int) (x / scale) - (int) quiet, my) ? 0 : 255;
                png_write_row(png, row);
        }
        png_write_end(png, info);
        return 0;
}

int qr_png(const struct qr_code *q, unsigned scale, unsigned quiet, uint8_t **ret, size_t *ret_size) {
        _cleanup_free_ uint8_t *row = NULL;
        struct membuf m = {};
        png_structp png;
        png_infop info;
        int r;

        if (scale == 0 || (q->width + 2 * quiet) > PNG_MAX_PIXELS / scale)
                return -EINVAL;
        row = malloc((q->width + 2 * quiet) * scale);
        if (!row)
                return -ENOMEM;
        png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_warn);
        if (!png)
                return -ENOMEM;
        info = png_create_info_struct(png);
        if (!info) {
                png_destroy_write_struct(&png, NULL);
                return -ENOMEM;
        }
        r = png_encode(png, info, &m, q, scale, quiet, row);
        png_destroy_write_struct(&png, &info);
        if (r < 0) {
                free(m.data);
                return r;
        }
        *ret = m.data;
        *ret_size = m.size;
        return 0;
}

int qr_write_png(const struct qr_code *q, unsigned scale, unsigned quiet, const char *path) {
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size;
        int r;

        r = qr_png(q, scale, quiet, &data, &size);
        if (r < 0)
                return r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        /* mkostemp creates the file 0600 and exclusively: nobody else can
         * open it in between, whatever the umask. */
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = write_full(fd, data, size, USEC_INFINITY);
        if (r >= 0 && fchmod(fd, 0600) < 0)
                r = negative_errno();
        /* Synced before the rename, so that after a crash path is either the
         * old picture or the whole new one, never an empty file. */
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = negative_errno();
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

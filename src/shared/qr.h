/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The QR code of a token: the only user of libqrencode.
 *
 * Encoding: ECC level M (15 % of the code may be lost: a photo of a screen
 * with a reflection still decodes), the smallest version that holds the
 * text. A token is "KAIROS:" and uppercase base32, all in the QR code's
 * alphanumeric set, so libqrencode encodes it in alphanumeric mode
 * (5.5 bits a character): a typical token is version 4 (33x33 modules).
 *
 * Two renderings:
 *
 * Text, for consoles: UTF-8 half blocks, two module rows a text row. The
 * console is light on dark (a VT always is by default; serial terminals
 * almost always), and the glyphs are drawn in the foreground colour, so a
 * glyph cell is light and an empty cell is dark. The code is therefore
 * printed with LIGHT modules as glyphs and DARK modules as spaces: on the
 * screen it has its normal polarity (dark modules on a light field), which
 * every reader decodes; the other way round (glyphs for dark modules) shows
 * a negative that zbar and many phone readers do not decode at all.
 *   upper light, lower light   U+2588 FULL BLOCK
 *   upper light, lower dark    U+2580 UPPER HALF BLOCK
 *   upper dark,  lower light   U+2584 LOWER HALF BLOCK
 *   both dark                  space
 * Past the quiet zone (the lower half of the last row when the height is
 * odd) is the screen's own dark background. All four glyphs are in the
 * Linux console's default font (they come from code page 437).
 *
 * PNG, for qr.png: dark modules black on white, a whole number of pixels a
 * module, the standard quiet zone of 4 modules. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* On consoles: 2 modules (one text row above and below the code). The
 * standard asks for 4; on a screen, beyond our light border is the dark
 * screen, not a margin a reader could use anyway, and zbar and phone
 * readers decode with 2 (tests/integration/display-zbar.sh checks it on
 * a degraded, photo-like picture). 2 instead of 4 gives the text beside the
 * code 4 more of 80 columns and the screen 2 more rows: version 4 takes
 * 37 columns and 19 rows. */
#define QR_TEXT_QUIET_ZONE 2
#define QR_PNG_QUIET_ZONE 4
#define QR_PNG_SCALE 8

/* The glyphs, as UTF-8. */
#define QR_GLYPH_FULL "\xe2\x96\x88"  /* U+2588 */
#define QR_GLYPH_UPPER "\xe2\x96\x80" /* U+2580 */
#define QR_GLYPH_LOWER "\xe2\x96\x84" /* U+2584 */

struct qr_code {
        unsigned version; /* 1..40 */
        unsigned width;   /* modules a side, without quiet zone: 17 + 4 * version */
        uint8_t modules[]; /* width * width, row by row; 1 dark, 0 light */
};

/* Encodes text (NUL-terminated, not empty) at ECC level M in the smallest
 * version. -EINVAL for an empty text, -ERANGE if it does not fit version 40,
 * -ENOMEM. */
int qr_encode(const char *text, struct qr_code **ret);
struct qr_code *qr_free(struct qr_code *q);

/* Whether module (x, y) is dark; anything outside the code (the quiet zone
 * and beyond) is light. */
bool qr_module_dark(const struct qr_code *q, int x, int y);

/* Size of the half-block rendering with a quiet zone of `quiet` modules:
 * every text row is qr_text_columns() display columns. */
unsigned qr_text_columns(const struct qr_code *q, unsigned quiet);
unsigned qr_text_rows(const struct qr_code *q, unsigned quiet);
/* Bytes a text row takes (each glyph is at most 3 bytes), without the NUL. */
size_t qr_text_row_size(const struct qr_code *q, unsigned quiet);

/* Text row `row` (0 .. qr_text_rows() - 1), NUL-terminated, into buf of at
 * least qr_text_row_size() + 1 bytes. Returns the bytes written (without the
 * NUL), -ERANGE for a row past the end, -ENOBUFS if buf is too small. */
int qr_text_row(const struct qr_code *q, unsigned quiet, unsigned row, char *buf, size_t size);

/* The whole rendering, rows ended by "\n", as a new string. */
int qr_text(const struct qr_code *q, unsigned quiet, char **ret);

/* 8-bit greyscale PNG in memory: scale pixels a module, quiet modules of
 * white around. -EINVAL for scale 0 or a picture over 8192 pixels. */
int qr_png(const struct qr_code *q, unsigned scale, unsigned quiet, uint8_t **ret, size_t *ret_size);

/* Writes the PNG to path atomically: a temporary file in the same folder,
 * mode 0600 (the code is a root credential), synced, renamed over path. On
 * failure nothing is left behind and an existing path is untouched. */
int qr_write_png(const struct qr_code *q, unsigned scale, unsigned quiet, const char *path);

static inline void qr_freep(struct qr_code **q) {
        if (*q)
                qr_free(*q);
}
#define _cleanup_qr_ _cleanup_(qr_freep)

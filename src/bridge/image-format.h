/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a file is, from its first bytes: the name may lie (a text file saved
 * as photo.png, a HEIC photo renamed .jpg), its magic bytes do not. */

#include <stddef.h>
#include <stdint.h>

enum image_format {
        IMAGE_FORMAT_UNKNOWN,  /* binary, nothing we know */
        IMAGE_FORMAT_TEXT,     /* printable text: perhaps the token itself */
        IMAGE_FORMAT_PNG,
        IMAGE_FORMAT_JPEG,
        /* Pictures kairos does not read; named so the message can say what to do. */
        IMAGE_FORMAT_GIF,
        IMAGE_FORMAT_WEBP,
        IMAGE_FORMAT_HEIC,     /* what iPhones take by default */
        IMAGE_FORMAT_AVIF,
        IMAGE_FORMAT_BMP,
        IMAGE_FORMAT_TIFF,
        IMAGE_FORMAT_SVG,
        IMAGE_FORMAT_PDF,
        _IMAGE_FORMAT_MAX,
};

enum image_format image_format_detect(const uint8_t *data, size_t size);

/* "PNG", "HEIC", ...; "text" and "unknown" for the other two. */
const char *image_format_name(enum image_format f);

/* Whether image-load.h can decode it. */
static inline int image_format_readable(enum image_format f) {
        return f == IMAGE_FORMAT_PNG || f == IMAGE_FORMAT_JPEG || f == IMAGE_FORMAT_HEIC || f == IMAGE_FORMAT_AVIF ||
               f == IMAGE_FORMAT_WEBP;
}

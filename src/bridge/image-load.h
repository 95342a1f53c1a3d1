/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Picture decoders: bytes in memory to an 8-bit grey picture. Each outside
 * library is behind one file: libpng in image-png.c, libjpeg in
 * image-jpeg.c, libheif in image-heif.c, libwebp in image-webp.c. None ever
 * exits or prints: a library error becomes a return value (setjmp/longjmp
 * for libpng and libjpeg).
 *
 * Both return 0, or a negative errno:
 *   -E2BIG     more than max_pixels pixels (checked from the header, before
 *              the pixels are allocated: a small file can claim a huge picture)
 *   -ENODATA   the data ends before the picture does (a truncated file)
 *   -EBADMSG   anything else the decoder rejects (corrupt, unsupported variant)
 *   -ENOMEM
 * and on error leave the decoder's own words in detail (may be empty). */

#include <stddef.h>
#include <stdint.h>

#include "grey-image.h"

struct image_info {
        size_t width, height; /* as stored, before orientation */
        int orientation;      /* EXIF 1-8; 1 when absent or unreadable */
        char detail[160];     /* on error: what the decoder said */
};

/* The first bytes of a PNG file. */
#define PNG_MAGIC "\x89PNG\r\n\x1a\n"

/* PNG: palette, grey, RGB, with or without alpha (composited onto white,
 * as a viewer shows it), 1 to 16 bits, interlaced or not; EXIF orientation
 * from an eXIf chunk. */
int image_load_png(const uint8_t *data, size_t size, uint64_t max_pixels,
                   struct grey_image *out, struct image_info *info);

/* JPEG: baseline, progressive, arithmetic; grey, YCbCr, RGB, CMYK/YCCK;
 * EXIF orientation from APP1. */
int image_load_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                    struct grey_image *out, struct image_info *info);

/* HEIC and AVIF (libheif): the primary image, its luma, rotated and
 * mirrored as the file says (orientation is then 1). */
int image_load_heif(const uint8_t *data, size_t size, uint64_t max_pixels,
                    struct grey_image *out, struct image_info *info);

/* WebP, lossy or lossless, with alpha composited onto white. */
int image_load_webp(const uint8_t *data, size_t size, uint64_t max_pixels,
                    struct grey_image *out, struct image_info *info);

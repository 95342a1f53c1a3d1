/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An 8-bit grey picture and the few operations the QR reader tries on a
 * photo: orientation, downscaling, inversion, contrast stretch, blur. All
 * work in memory only, with no outside library, and every size is checked
 * before anything is allocated: the picture came from outside. */

#include <stddef.h>
#include <stdint.h>

struct grey_image {
        size_t width, height; /* rows are width bytes, no padding */
        uint8_t *pixels;
};

/* A picture of width × height, all pixels 0. -EINVAL for a zero or
 * overflowing size, -ENOMEM. */
int grey_image_alloc(struct grey_image *img, size_t width, size_t height);
void grey_image_free(struct grey_image *img);
/* For _cleanup_(grey_image_freep). */
void grey_image_freep(struct grey_image *img);

int grey_image_copy(const struct grey_image *in, struct grey_image *out);

/* The picture as it should be shown, given an EXIF orientation (1-8, TIFF
 * tag 274: how the stored rows map to the displayed picture). Orientation 1
 * or out of range: a plain copy. out is allocated here. */
int grey_image_orient(const struct grey_image *in, int orientation, struct grey_image *out);

/* Shrinks by an integer factor (≥ 2), averaging each factor × factor box:
 * area averaging also evens out sensor noise and a screen's pixel grid. A
 * side shorter than the factor keeps one pixel, from a clipped box. */
int grey_image_shrink(const struct grey_image *in, size_t factor, struct grey_image *out);

/* The smallest factor that brings the longer side to at most max_side (1 if
 * it is there already). */
size_t grey_image_shrink_factor(const struct grey_image *img, size_t max_side);

/* In place: light-on-dark becomes dark-on-light. */
void grey_image_invert(struct grey_image *img);

/* In place: maps the 1st..99th percentile of the grey levels onto 0..255,
 * for dim, low-contrast photos. */
void grey_image_stretch(struct grey_image *img);

/* A (2 radius + 1)² box blur into out, against moiré, a screen's pixel grid
 * and JPEG blocking, without shrinking. Edges repeat their outer pixels. */
int grey_image_blur(const struct grey_image *in, size_t radius, struct grey_image *out);

/* Enlarges by an integer factor (2-8), bilinear: a code only a hundred-odd
 * pixels wide (a photo from across the room) gets the pixels a module that
 * zbar's finder needs. -EINVAL for another factor. */
int grey_image_enlarge(const struct grey_image *in, size_t factor, struct grey_image *out);

/* Unsharp mask into out: the picture plus amount (1-8) times its
 * difference from a (2 radius + 1)² box blur. Gives an out-of-focus code
 * back some of its edges. */
int grey_image_sharpen(const struct grey_image *in, size_t radius, unsigned amount, struct grey_image *out);

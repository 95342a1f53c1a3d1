/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grey-image.h"
#include "macro.h"

int grey_image_alloc(struct grey_image *img, size_t width, size_t height) {
        *img = (struct grey_image) {};
        if (width == 0 || height == 0 || width > SIZE_MAX / height)
                return -EINVAL;
        img->pixels = calloc(width * height, 1);
        if (!img->pixels)
                return -ENOMEM;
        img->width = width;
        img->height = height;
        return 0;
}

void grey_image_free(struct grey_image *img) {
        free(img->pixels);
        *img = (struct grey_image) {};
}

void grey_image_freep(struct grey_image *img) {
        grey_image_free(img);
}

int grey_image_copy(const struct grey_image *in, struct grey_image *out) {
        int r;

        r = grey_image_alloc(out, in->width, in->height);
        if (r < 0)
                return r;
        memcpy(out->pixels, in->pixels, in->width * in->height);
        return 0;
}

int grey_image_orient(const struct grey_image *in, int orientation, struct grey_image *out) {
        size_t w = in->width, h = in->height;
        bool swap = orientation >= 5 && orientation <= 8;
        int r;

        r = grey_image_alloc(out, swap ? h : w, swap ? w : h);
        if (r < 0)
                return r;

        if (orientation < 2 || orientation > 8) {
                memcpy(out->pixels, in->pixels, w * h);
                return 0;
        }

        /* For each displayed pixel (x, y), the stored one it comes from
         * (TIFF 6.0, tag 274: where the stored 0th row and column go). */
        for (size_t y = 0; y < out->height; y++) {
                uint8_t *dst = out->pixels + y * out->width;

                for (size_t x = 0; x < out->width; x++) {
                        size_t sx, sy;

                        switch (orientation) {
                        case 2: sx = w - 1 - x; sy = y; break;         /* mirrored */
                        case 3: sx = w - 1 - x; sy = h - 1 - y; break; /* upside down */
                        case 4: sx = x; sy = h - 1 - y; break;         /* mirrored, upside down */
                        case 5: sx = y; sy = x; break;                 /* transposed */
                        case 6: sx = y; sy = h - 1 - x; break;         /* turned 90° clockwise */
                        case 7: sx = w - 1 - y; sy = h - 1 - x; break; /* transverse */
                        default: sx = w - 1 - y; sy = x; break;        /* 8: 90° counter-clockwise */
                        }
                        dst[x] = in->pixels[sy * w + sx];
                }
        }
        return 0;
}

size_t grey_image_shrink_factor(const struct grey_image *img, size_t max_side) {
        size_t side = MAX(img->width, img->height);

        if (max_side == 0)
                return 1;
        return MAX(side / max_side + (side % max_side != 0), (size_t) 1);
}

int grey_image_shrink(const struct grey_image *in, size_t k, struct grey_image *out) {
        size_t w = in->width, h = in->height, ow, oh;
        _cleanup_free_ uint64_t *acc = NULL;
        int r;

        if (k < 2)
                return -EINVAL;
        ow = MAX(w / k, (size_t) 1);
        oh = MAX(h / k, (size_t) 1);

        acc = calloc(ow, sizeof *acc);
        if (!acc)
                return -ENOMEM;
        r = grey_image_alloc(out, ow, oh);
        if (r < 0)
                return r;

        /* Boxes are clipped at the picture's edge (a thin picture); the rest
         * of the last partial box row or column is dropped. */
        for (size_t oy = 0; oy < oh; oy++) {
                size_t y0 = oy * k, y1 = MIN(y0 + k, h);
                uint8_t *dst = out->pixels + oy * ow;

                memset(acc, 0, ow * sizeof *acc);
                for (size_t y = y0; y < y1; y++) {
                        const uint8_t *row = in->pixels + y * w;

                        for (size_t ox = 0; ox < ow; ox++) {
                                size_t x1 = MIN(ox * k + k, w);

                                for (size_t x = ox * k; x < x1; x++)
                                        acc[ox] += row[x];
                        }
                }
                for (size_t ox = 0; ox < ow; ox++) {
                        uint64_t n = (uint64_t) (y1 - y0) * (MIN(ox * k + k, w) - ox * k);

                        dst[ox] = (uint8_t) ((acc[ox] + n / 2) / n);
                }
        }
        return 0;
}

void grey_image_invert(struct grey_image *img) {
        size_t n = img->width * img->height;

        for (size_t i = 0; i < n; i++)
                img->pixels[i] = (uint8_t) (255 - img->pixels[i]);
}

void grey_image_stretch(struct grey_image *img) {
        size_t n = img->width * img->height, hist[256] = {}, seen = 0;
        unsigned lo = 0, hi = 255;
        uint8_t lut[256];

        for (size_t i = 0; i < n; i++)
                hist[img->pixels[i]]++;

        /* Percentiles rather than the extremes: a few specks of glare or
         * dead pixels must not decide the range. */
        for (lo = 0; lo < 255; lo++)
                if ((seen += hist[lo]) > n / 100)
                        break;
        seen = 0;
        for (hi = 255; hi > 0; hi--)
                if ((seen += hist[hi]) > n / 100)
                        break;
        if (hi <= lo + 8)
                return; /* flat: nothing a stretch could bring out */

        for (unsigned v = 0; v < 256; v++)
                lut[v] = v <= lo ? 0 : v >= hi ? 255 : (uint8_t) ((v - lo) * 255 / (hi - lo));
        for (size_t i = 0; i < n; i++)
                img->pixels[i] = lut[img->pixels[i]];
}

static size_t clamp_index(ptrdiff_t i, size_t n) {
        return i < 0 ? 0 : (size_t) i >= n ? n - 1 : (size_t) i;
}

int grey_image_blur(const struct grey_image *in, size_t radius, struct grey_image *out) {
        size_t w = in->width, h = in->height, d = 2 * radius + 1;
        ptrdiff_t rad = (ptrdiff_t) radius;
        _cleanup_free_ uint32_t *cols = NULL;
        int r;

        if (radius == 0 || radius > 64)
                return -EINVAL;
        cols = calloc(w, sizeof *cols);
        if (!cols)
                return -ENOMEM;
        r = grey_image_alloc(out, w, h);
        if (r < 0)
                return r;

        /* Running sums, so that the cost does not grow with the radius:
         * cols[x] holds rows y - radius .. y + radius (indices clamped, so
         * edge rows count several times), the row sum slides along x. */
        for (ptrdiff_t i = -rad; i <= rad; i++) {
                const uint8_t *row = in->pixels + clamp_index(i, h) * w;

                for (size_t x = 0; x < w; x++)
                        cols[x] += row[x];
        }
        for (size_t y = 0; y < h; y++) {
                uint8_t *dst = out->pixels + y * w;
                uint32_t sum = 0;

                if (y > 0) {
                        const uint8_t *add = in->pixels + clamp_index((ptrdiff_t) y + rad, h) * w;
                        const uint8_t *sub = in->pixels + clamp_index((ptrdiff_t) y - rad - 1, h) * w;

                        for (size_t x = 0; x < w; x++)
                                cols[x] += (uint32_t) add[x] - sub[x];
                }
                for (ptrdiff_t i = -rad; i <= rad; i++)
                        sum += cols[clamp_index(i, w)];
                for (size_t x = 0; x < w; x++) {
                        dst[x] = (uint8_t) ((sum + d * d / 2) / (d * d));
                        sum += cols[clamp_index((ptrdiff_t) x + rad + 1, w)] - cols[clamp_index((ptrdiff_t) x - rad, w)];
                }
        }
        return 0;
}

int grey_image_enlarge(const struct grey_image *in, size_t factor, struct grey_image *out) {
        size_t w, h;
        int r;

        if (factor < 2 || factor > 8 || in->width == 0 || in->height == 0)
                return -EINVAL;
        if (in->width > SIZE_MAX / factor || in->height > SIZE_MAX / factor)
                return -EINVAL;
        w = in->width * factor;
        h = in->height * factor;
        r = grey_image_alloc(out, w, h);
        if (r < 0)
                return r;
        /* Bilinear, with sample centres aligned: each output pixel reads the
         * two by two input pixels around where it falls, in fixed point
         * (256ths of a pixel); before the first centre and after the last,
         * the edge pixel. */
        for (size_t y = 0; y < h; y++) {
                ptrdiff_t sy = (ptrdiff_t) ((2 * y + 1) * 256 / (2 * factor)) - 128;
                size_t y0, y1;
                uint32_t fy;
                const uint8_t *r0, *r1;
                uint8_t *dst = out->pixels + y * w;

                if (sy < 0)
                        sy = 0;
                y0 = clamp_index(sy / 256, in->height);
                y1 = clamp_index(sy / 256 + 1, in->height);
                fy = (uint32_t) (sy % 256);
                r0 = in->pixels + y0 * in->width;
                r1 = in->pixels + y1 * in->width;
                for (size_t x = 0; x < w; x++) {
                        ptrdiff_t sx = (ptrdiff_t) ((2 * x + 1) * 256 / (2 * factor)) - 128;
                        size_t x0, x1;
                        uint32_t fx, top, bottom;

                        if (sx < 0)
                                sx = 0;
                        x0 = clamp_index(sx / 256, in->width);
                        x1 = clamp_index(sx / 256 + 1, in->width);
                        fx = (uint32_t) (sx % 256);
                        top = r0[x0] * (256 - fx) + r0[x1] * fx;
                        bottom = r1[x0] * (256 - fx) + r1[x1] * fx;
                        dst[x] = (uint8_t) ((top * (256 - fy) + bottom * fy + 32768) >> 16);
                }
        }
        return 0;
}

int grey_image_sharpen(const struct grey_image *in, size_t radius, unsigned amount, struct grey_image *out) {
        _cleanup_(grey_image_freep) struct grey_image soft = {};
        int r;

        if (amount == 0 || amount > 8)
                return -EINVAL;
        r = grey_image_blur(in, radius, &soft);
        if (r < 0)
                return r;
        r = grey_image_alloc(out, in->width, in->height);
        if (r < 0)
                return r;
        /* Unsharp mask: what the blur took away, added back amount times. */
        for (size_t i = 0; i < in->width * in->height; i++) {
                int v = in->pixels[i] + (int) amount * (in->pixels[i] - soft.pixels[i]);

                out->pixels[i] = (uint8_t) (v < 0 ? 0 : v > 255 ? 255 : v);
        }
        return 0;
}

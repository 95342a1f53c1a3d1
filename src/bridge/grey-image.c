/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
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

int grey_image_downscale(const struct grey_image *in, size_t max_side, struct grey_image *out) {
        size_t w = in->width, h = in->height, side = MAX(w, h), k, ow, oh;
        _cleanup_free_ uint64_t *acc = NULL;
        int r;

        if (max_side == 0)
                return -EINVAL;
        k = side / max_side + (side % max_side != 0);
        if (k <= 1)
                return -EALREADY;
        /* A very thin picture keeps one pixel across; its boxes are clipped. */
        ow = MAX(w / k, (size_t) 1);
        oh = MAX(h / k, (size_t) 1);

        acc = calloc(ow, sizeof *acc);
        if (!acc)
                return -ENOMEM;
        r = grey_image_alloc(out, ow, oh);
        if (r < 0)
                return r;

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

int grey_image_blur(const struct grey_image *in, struct grey_image *out) {
        size_t w = in->width, h = in->height;
        int r;

        r = grey_image_alloc(out, w, h);
        if (r < 0)
                return r;

        /* Edges repeat their outermost pixels, so every sum has 9 terms. */
        for (size_t y = 0; y < h; y++) {
                const uint8_t *rows[3] = {
                        in->pixels + (y > 0 ? y - 1 : y) * w,
                        in->pixels + y * w,
                        in->pixels + (y + 1 < h ? y + 1 : y) * w,
                };

                for (size_t x = 0; x < w; x++) {
                        size_t xa = x > 0 ? x - 1 : x, xb = x + 1 < w ? x + 1 : x;
                        unsigned sum = 0;

                        for (size_t i = 0; i < 3; i++)
                                sum += rows[i][xa] + rows[i][x] + rows[i][xb];
                        out->pixels[y * w + x] = (uint8_t) ((sum + 4) / 9);
                }
        }
        return 0;
}

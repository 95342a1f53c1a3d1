/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"
#include "qr-variants.h"

enum op {
        OP_PLAIN,
        OP_INVERT,
        OP_STRETCH,
        OP_STRETCH_INVERT,
        OP_BLUR1,
        OP_BLUR2,
        OP_SHARPEN,
        OP_ENLARGE_SHARPEN,
        OP_ENLARGE_SHARPEN_INVERT,
};

static const char *const op_names[] = {
        [OP_PLAIN] = "plain",
        [OP_INVERT] = "inverted",
        [OP_STRETCH] = "stretched",
        [OP_STRETCH_INVERT] = "stretched, inverted",
        [OP_BLUR1] = "blurred 3x3",
        [OP_BLUR2] = "blurred 5x5",
        [OP_SHARPEN] = "sharpened",
        [OP_ENLARGE_SHARPEN] = "enlarged, sharpened",
        [OP_ENLARGE_SHARPEN_INVERT] = "enlarged, sharpened, inverted",
};

/* An enlarged variant stays under this many pixels: zbar's time grows with
 * them. A code far away in a picture larger than a quarter of this is
 * not enlarged (the picture would need cropping first). */
#define ENLARGE_MAX_PIXELS (8u * 1000 * 1000)

/* A size is either a factor (up to FACTOR_MAX) or the longest side wanted. */
#define FACTOR_MAX 8
/* Below this a QR code of the token's size (33-41 modules and the quiet
 * zone) has fewer than two pixels a module: not worth a scan. */
#define SIDE_MIN 80

static const struct step {
        unsigned size;
        enum op op;
} plan[] = {
        /* A phone photo shrunk first: quick, and usually enough. A picture
         * of 1600 pixels or less is scanned as it is. */
        { 1600, OP_PLAIN },
        { 1, OP_PLAIN },
        { 1000, OP_PLAIN },
        { 1000, OP_INVERT },
        { 1, OP_INVERT },
        { 2, OP_PLAIN },
        { 640, OP_PLAIN },
        { 1, OP_BLUR2 },
        { 1000, OP_STRETCH },
        { 1000, OP_STRETCH_INVERT },
        { 1, OP_BLUR1 },
        { 3, OP_PLAIN },
        { 2, OP_INVERT },
        { 640, OP_INVERT },
        { 1600, OP_INVERT },
        { 1600, OP_BLUR1 },
        { 2, OP_BLUR1 },
        /* Far away and out of focus (a code a hundred-odd pixels wide with
         * soft edges): zbar's finder needs a few pixels a module and edges
         * it can find; bilinear enlarging and an unsharp mask give both. */
        { 1, OP_ENLARGE_SHARPEN },
        { 1, OP_SHARPEN },
        { 1, OP_ENLARGE_SHARPEN_INVERT },
        { 1, OP_STRETCH },
};

struct qr_variants {
        struct grey_image full;
        struct {
                size_t factor;
                struct grey_image img;
        } shrunk[ELEMENTSOF(plan)];
        size_t n_shrunk;
        struct {
                size_t factor;
                enum op op;
        } tried[ELEMENTSOF(plan)];
        size_t n_tried;
        size_t next;
        struct grey_image work;
        char what[64];
};

int qr_variants_new(struct grey_image *full, struct qr_variants **ret) {
        struct qr_variants *v;

        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->full = *full;
        *full = (struct grey_image) {};
        *ret = v;
        return 0;
}

struct qr_variants *qr_variants_free(struct qr_variants *v) {
        if (!v)
                return NULL;
        grey_image_free(&v->full);
        for (size_t i = 0; i < v->n_shrunk; i++)
                grey_image_free(&v->shrunk[i].img);
        grey_image_free(&v->work);
        free(v);
        return NULL;
}

void qr_variants_freep(struct qr_variants **v) {
        *v = qr_variants_free(*v);
}

static size_t step_factor(const struct qr_variants *v, const struct step *s) {
        return s->size <= FACTOR_MAX ? s->size : grey_image_shrink_factor(&v->full, s->size);
}

static bool tried(const struct qr_variants *v, size_t factor, enum op op) {
        for (size_t i = 0; i < v->n_tried; i++)
                if (v->tried[i].factor == factor && v->tried[i].op == op)
                        return true;
        return false;
}

/* The full picture shrunk by factor, made once: later steps reuse it. */
static int shrunk(struct qr_variants *v, size_t factor, const struct grey_image **ret) {
        int r;

        if (factor == 1) {
                *ret = &v->full;
                return 0;
        }
        for (size_t i = 0; i < v->n_shrunk; i++)
                if (v->shrunk[i].factor == factor) {
                        *ret = &v->shrunk[i].img;
                        return 0;
                }
        /* Always from the full picture, so the box is exactly factor wide. */
        r = grey_image_shrink(&v->full, factor, &v->shrunk[v->n_shrunk].img);
        if (r < 0)
                return r;
        v->shrunk[v->n_shrunk].factor = factor;
        *ret = &v->shrunk[v->n_shrunk++].img;
        return 0;
}

static int apply(struct qr_variants *v, const struct grey_image *in, enum op op, const struct grey_image **ret) {
        int r;

        grey_image_free(&v->work);
        switch (op) {
        case OP_PLAIN:
                *ret = in;
                return 0;
        case OP_BLUR1:
        case OP_BLUR2:
                r = grey_image_blur(in, op == OP_BLUR1 ? 1 : 2, &v->work);
                break;
        case OP_SHARPEN:
                r = grey_image_sharpen(in, 1, 2, &v->work);
                break;
        case OP_ENLARGE_SHARPEN:
        case OP_ENLARGE_SHARPEN_INVERT: {
                _cleanup_(grey_image_freep) struct grey_image big = {};
                uint64_t px = (uint64_t) in->width * in->height;
                size_t k = px * 9 <= ENLARGE_MAX_PIXELS ? 3 : px * 4 <= ENLARGE_MAX_PIXELS ? 2 : 0;

                if (k == 0)
                        return -ERANGE; /* too large already: skipped */
                r = grey_image_enlarge(in, k, &big);
                if (r >= 0)
                        r = grey_image_sharpen(&big, k, 2, &v->work);
                if (r >= 0 && op == OP_ENLARGE_SHARPEN_INVERT)
                        grey_image_invert(&v->work);
                break;
        }
        default:
                r = grey_image_copy(in, &v->work);
                if (r < 0)
                        break;
                if (op == OP_STRETCH || op == OP_STRETCH_INVERT)
                        grey_image_stretch(&v->work);
                if (op == OP_INVERT || op == OP_STRETCH_INVERT)
                        grey_image_invert(&v->work);
        }
        if (r < 0)
                return r;
        *ret = &v->work;
        return 0;
}

int qr_variants_next(struct qr_variants *v, const struct grey_image **img, const char **what) {
        while (v->next < ELEMENTSOF(plan)) {
                const struct step *s = &plan[v->next++];
                size_t factor = step_factor(v, s);
                const struct grey_image *base;
                int r;

                if (tried(v, factor, s->op))
                        continue;
                if (factor > 1 && MIN(v->full.width, v->full.height) / factor < SIDE_MIN)
                        continue;
                v->tried[v->n_tried].factor = factor;
                v->tried[v->n_tried++].op = s->op;

                r = shrunk(v, factor, &base);
                if (r < 0)
                        return r;
                r = apply(v, base, s->op, img);
                if (r == -ERANGE)
                        continue;
                if (r < 0)
                        return r;
                snprintf(v->what, sizeof v->what, "%zux%zu %s", (*img)->width, (*img)->height, op_names[s->op]);
                *what = v->what;
                return 0;
        }
        return -ENOENT;
}

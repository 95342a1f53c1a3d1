/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <zbar.h>

#include "qr-scan.h"

struct qr_scanner {
        zbar_image_scanner_t *zbar;
};

int qr_scanner_new(qr_scanner **ret) {
        qr_scanner *s;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->zbar = zbar_image_scanner_create();
        if (!s->zbar) {
                free(s);
                return -ENOMEM;
        }
        /* Everything off, then QR codes on. zbar's own inverted-image retry
         * stays off: the caller decides which variants are worth the time. */
        zbar_image_scanner_set_config(s->zbar, 0, ZBAR_CFG_ENABLE, 0);
        zbar_image_scanner_set_config(s->zbar, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
        /* No caching of results between images: each attempt stands alone. */
        zbar_image_scanner_enable_cache(s->zbar, 0);
        *ret = s;
        return 0;
}

qr_scanner *qr_scanner_free(qr_scanner *s) {
        if (s) {
                zbar_image_scanner_destroy(s->zbar);
                free(s);
        }
        return NULL;
}

void qr_scanner_freep(qr_scanner **s) {
        *s = qr_scanner_free(*s);
}

int qr_scanner_scan(qr_scanner *s, const struct grey_image *img, qr_found_fn found, void *userdata) {
        zbar_image_t *z;
        int n, r = 0, count = 0;

        /* zbar takes unsigned sizes. */
        if (img->width > UINT_MAX || img->height > UINT_MAX)
                return -EINVAL;

        z = zbar_image_create();
        if (!z)
                return -ENOMEM;
        zbar_image_set_format(z, zbar_fourcc('Y', '8', '0', '0'));
        zbar_image_set_size(z, (unsigned) img->width, (unsigned) img->height);
        /* Borrowed pixels: no cleanup handler, the caller owns them. */
        zbar_image_set_data(z, img->pixels, img->width * img->height, NULL);

        n = zbar_scan_image(s->zbar, z);
        if (n < 0)
                r = -EIO;
        for (const zbar_symbol_t *sym = n > 0 ? zbar_image_first_symbol(z) : NULL; sym && r == 0;
             sym = zbar_symbol_next(sym)) {
                if (zbar_symbol_get_type(sym) != ZBAR_QRCODE)
                        continue;
                count++;
                r = found(zbar_symbol_get_data(sym), zbar_symbol_get_data_length(sym), userdata);
        }
        /* The results belong to the image; drop them before the next scan. */
        zbar_image_scanner_recycle_image(s->zbar, z);
        zbar_image_destroy(z);
        return r != 0 ? r : count;
}

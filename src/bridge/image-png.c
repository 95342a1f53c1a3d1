/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PNG to grey with libpng: the only file that uses it. */
#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exif.h"
#include "image-load.h"
#include "macro.h"

/* Everything the decoding step changes lives here, outside the frame that
 * calls setjmp(): after a longjmp only memory reached through a pointer is
 * reliable. */
struct png_job {
        const uint8_t *data;
        size_t size, pos;
        bool truncated;
        struct image_info *info;
        uint8_t *pixels;   /* width × height × channels, then compacted to grey */
        png_bytep *rows;
};

static void on_read(png_structp png, png_bytep out, size_t n) {
        struct png_job *job = png_get_io_ptr(png);

        if (job->size - job->pos < n) {
                job->truncated = true;
                png_error(png, "the data ends before the picture does");
        }
        memcpy(out, job->data + job->pos, n);
        job->pos += n;
}

static void on_error(png_structp png, png_const_charp message) {
        struct png_job *job = png_get_error_ptr(png);

        snprintf(job->info->detail, sizeof job->info->detail, "%s", message);
        png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
        /* libpng carries on after a warning (a bad ancillary chunk): so do we,
         * quietly, as the bridge prints nothing it cannot explain. */
}

static int decode(png_structp png, png_infop pinfo, struct png_job *job, uint64_t max_pixels) {
        png_uint_32 width, height, n_exif = 0;
        png_bytep exif = NULL;
        int bit_depth, color_type;
        size_t channels, rowbytes;

        if (setjmp(png_jmpbuf(png)))
                return job->truncated ? -ENODATA : -EBADMSG;

        png_set_read_fn(png, job, on_read);
        png_read_info(png, pinfo);
        png_get_IHDR(png, pinfo, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
        job->info->width = width;
        job->info->height = height;
        if ((uint64_t) width * height > max_pixels)
                return -E2BIG;

        /* Whatever the file holds, 8-bit grey with or without alpha comes out. */
        if (color_type == PNG_COLOR_TYPE_PALETTE)
                png_set_palette_to_rgb(png);
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
                png_set_expand_gray_1_2_4_to_8(png);
        if (png_get_valid(png, pinfo, PNG_INFO_tRNS))
                png_set_tRNS_to_alpha(png);
        if (bit_depth == 16)
                png_set_strip_16(png);
        if (color_type & PNG_COLOR_MASK_COLOR || color_type == PNG_COLOR_TYPE_PALETTE)
                png_set_rgb_to_gray_fixed(png, 1, -1, -1);
        png_set_interlace_handling(png);
        png_read_update_info(png, pinfo);

        channels = png_get_channels(png, pinfo);
        rowbytes = png_get_rowbytes(png, pinfo);
        if ((channels != 1 && channels != 2) || rowbytes != (size_t) width * channels) {
                snprintf(job->info->detail, sizeof job->info->detail, "unexpected layout after conversion");
                return -EBADMSG;
        }

        job->pixels = malloc((size_t) height * rowbytes);
        job->rows = malloc((size_t) height * sizeof *job->rows);
        if (!job->pixels || !job->rows)
                return -ENOMEM;
        for (size_t y = 0; y < height; y++)
                job->rows[y] = job->pixels + y * rowbytes;
        /* Interlaced pictures need every row at hand for each pass. */
        png_read_image(png, job->rows);

        /* eXIf before IDAT is all we look at: png_read_end() would reject a
         * file whose pixels are all there but whose tail is missing. */
        if (png_get_eXIf_1(png, pinfo, &n_exif, &exif) && exif) {
                int o = exif_orientation_from_tiff(exif, n_exif);
                if (o > 0)
                        job->info->orientation = o;
        }

        if (channels == 2) {
                /* Onto white, as a viewer shows it: a transparent background
                 * behind black modules must not turn black itself. In place,
                 * as each grey byte lands at or before the pair it came from. */
                size_t n = (size_t) width * height;

                for (size_t i = 0; i < n; i++) {
                        unsigned g = job->pixels[2 * i], a = job->pixels[2 * i + 1];
                        job->pixels[i] = (uint8_t) ((g * a + 255 * (255 - a) + 127) / 255);
                }
        }
        return 0;
}

int image_load_png(const uint8_t *data, size_t size, uint64_t max_pixels,
                   struct grey_image *out, struct image_info *info) {
        struct png_job job = { .data = data, .size = size, .info = info };
        png_structp png;
        png_infop pinfo;
        int r;

        *out = (struct grey_image) {};
        *info = (struct image_info) { .orientation = 1 };

        png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, on_error, on_warning);
        if (!png)
                return -ENOMEM;
        pinfo = png_create_info_struct(png);
        if (!pinfo) {
                png_destroy_read_struct(&png, NULL, NULL);
                return -ENOMEM;
        }

        r = decode(png, pinfo, &job, max_pixels);
        png_destroy_read_struct(&png, &pinfo, NULL);
        free(job.rows);
        if (r < 0) {
                free(job.pixels);
                return r;
        }

        out->width = info->width;
        out->height = info->height;
        out->pixels = job.pixels;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JPEG to grey with libjpeg(-turbo): the only file that uses it. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs FILE and size_t declared first. */
#include <jpeglib.h>
#include <jerror.h>

#include "exif.h"
#include "image-load.h"
#include "macro.h"

/* libjpeg's own memory for one picture (coefficient buffers of progressive
 * files): beyond this it fails cleanly rather than taking the machine's. */
#define JPEG_MEMORY_MAX (512L * 1024 * 1024)

/* As in image-png.c: what decode() changes lives outside its frame. */
struct jpeg_job {
        struct jpeg_decompress_struct cinfo;
        struct jpeg_error_mgr err;
        jmp_buf jump;
        bool created, truncated, out_of_memory;
        struct image_info *info;
        struct grey_image img;
        uint8_t *row;
};

static _Noreturn void fail(j_common_ptr cinfo) {
        struct jpeg_job *job = (struct jpeg_job *) cinfo->client_data;

        (*cinfo->err->format_message)(cinfo, job->info->detail);
        longjmp(job->jump, 1);
}

static void on_error_exit(j_common_ptr cinfo) {
        struct jpeg_job *job = (struct jpeg_job *) cinfo->client_data;

        /* libjpeg's default calls exit(): never in a program that reads files
         * from strangers. Running out of memory (or of JPEG_MEMORY_MAX) is
         * not the file's fault: told apart. */
        if (cinfo->err->msg_code == JERR_OUT_OF_MEMORY || cinfo->err->msg_code == JERR_NO_BACKING_STORE)
                job->out_of_memory = true;
        fail(cinfo);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
        struct jpeg_job *job = (struct jpeg_job *) cinfo->client_data;

        if (level >= 0)
                return; /* trace messages */
        /* The data source pads a short file with an end marker and warns:
         * the rest of the picture would be grey filler, so it is an error.
         * Other warnings (stray bytes between segments, as some cameras
         * write) leave a usable picture. */
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
                job->truncated = true;
                fail(cinfo);
        }
        cinfo->err->num_warnings++;
}

static void on_output_message(j_common_ptr cinfo) {
        /* Nothing goes to stderr behind the bridge's back. */
}

static int read_orientation(j_decompress_ptr cinfo) {
        for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
                int o;

                if (m->marker != JPEG_APP0 + 1)
                        continue;
                o = exif_orientation_from_app1(m->data, m->data_length);
                if (o > 0)
                        return o;
        }
        return 1;
}

/* Luminance from CMYK, as printed on white paper. Adobe's files store the
 * channels inverted (255: no ink). */
static uint8_t cmyk_to_grey(const uint8_t *p, bool adobe) {
        unsigned c = adobe ? 255u - p[0] : p[0], m = adobe ? 255u - p[1] : p[1];
        unsigned y = adobe ? 255u - p[2] : p[2], k = adobe ? 255u - p[3] : p[3];
        unsigned ink = (30 * c + 59 * m + 11 * y) / 100;

        return (uint8_t) ((255 - k) * (255 - ink) / 255);
}

static int decode(struct jpeg_job *job, const uint8_t *data, size_t size, uint64_t max_pixels) {
        struct jpeg_decompress_struct *cinfo = &job->cinfo;
        int r;

        if (setjmp(job->jump))
                return job->truncated ? -ENODATA : job->out_of_memory ? -ENOMEM : -EBADMSG;

        jpeg_create_decompress(cinfo);
        job->created = true;
        cinfo->client_data = job;
        cinfo->mem->max_memory_to_use = JPEG_MEMORY_MAX;
        jpeg_mem_src(cinfo, data, (unsigned long) size);
        jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
        jpeg_read_header(cinfo, TRUE);

        job->info->width = cinfo->image_width;
        job->info->height = cinfo->image_height;
        if ((uint64_t) cinfo->image_width * cinfo->image_height > max_pixels)
                return -E2BIG;
        job->info->orientation = read_orientation(cinfo);

        /* libjpeg gives grey directly from grey, YCbCr and RGB files (for
         * YCbCr it just skips the chroma); CMYK is converted here. */
        if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
                cinfo->out_color_space = JCS_CMYK;
        else
                cinfo->out_color_space = JCS_GRAYSCALE;

        jpeg_start_decompress(cinfo);
        if (cinfo->output_components != (cinfo->out_color_space == JCS_CMYK ? 4 : 1)) {
                snprintf(job->info->detail, sizeof job->info->detail, "unexpected number of components");
                return -EBADMSG;
        }
        r = grey_image_alloc(&job->img, cinfo->output_width, cinfo->output_height);
        if (r < 0)
                return r;
        if (cinfo->out_color_space == JCS_CMYK) {
                job->row = malloc((size_t) cinfo->output_width * 4);
                if (!job->row)
                        return -ENOMEM;
        }

        while (cinfo->output_scanline < cinfo->output_height) {
                uint8_t *dst = job->img.pixels + (size_t) cinfo->output_scanline * job->img.width;
                JSAMPROW row = job->row ? job->row : dst;

                if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
                        /* Only a suspending data source returns 0; ours never does. */
                        snprintf(job->info->detail, sizeof job->info->detail, "no scanline returned");
                        return -EBADMSG;
                }
                if (job->row)
                        for (size_t x = 0; x < job->img.width; x++)
                                dst[x] = cmyk_to_grey(job->row + 4 * x, cinfo->saw_Adobe_marker);
        }
        /* No jpeg_finish_decompress(): whatever follows the last row (junk,
         * a missing end marker) cannot spoil pixels we already have. */
        return 0;
}

int image_load_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                    struct grey_image *out, struct image_info *info) {
        _cleanup_free_ struct jpeg_job *job = NULL;
        int r;

        *out = (struct grey_image) {};
        *info = (struct image_info) { .orientation = 1 };

        job = calloc(1, sizeof *job);
        if (!job)
                return -ENOMEM;
        job->info = info;
        job->cinfo.err = jpeg_std_error(&job->err);
        job->err.error_exit = on_error_exit;
        job->err.emit_message = on_emit_message;
        job->err.output_message = on_output_message;
        /* fail() finds the job through client_data, set before anything can fail. */
        job->cinfo.client_data = job;

        r = decode(job, data, size, max_pixels);
        if (job->created)
                jpeg_destroy_decompress(&job->cinfo);
        free(job->row);
        if (r < 0) {
                grey_image_free(&job->img);
                return r;
        }
        *out = job->img;
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HEIC and AVIF to grey with libheif: the only file that uses it. HEIC is
 * what an iPhone takes by default; libheif decodes it with libde265, and
 * AVIF with dav1d or libaom, whichever Debian's libheif was built with. */
#include <errno.h>
#include <libheif/heif.h>
#include <stdio.h>
#include <string.h>

#include "image-load.h"
#include "macro.h"

static int error_code(struct heif_error e, struct image_info *info) {
        snprintf(info->detail, sizeof info->detail, "%s", e.message ? e.message : "");
        switch (e.code) {
        case heif_error_Ok:
                return 0;
        case heif_error_Memory_allocation_error:
                return -ENOMEM;
        case heif_error_Invalid_input:
                /* libheif says "end of data" as a sub-code of invalid input. */
                return e.subcode == heif_suberror_End_of_data ? -ENODATA : -EBADMSG;
        default:
                return -EBADMSG;
        }
}

int image_load_heif(const uint8_t *data, size_t size, uint64_t max_pixels, struct grey_image *out,
                    struct image_info *info) {
        struct heif_context *ctx = NULL;
        struct heif_image_handle *handle = NULL;
        struct heif_image *img = NULL;
        struct heif_decoding_options *opts = NULL;
        const uint8_t *plane;
        int stride, w, h, r;

        *info = (struct image_info) { .orientation = 1 };
        *out = (struct grey_image) {};
        ctx = heif_context_alloc();
        if (!ctx)
                return -ENOMEM;
        r = error_code(heif_context_read_from_memory_without_copy(ctx, data, size, NULL), info);
        if (r >= 0)
                r = error_code(heif_context_get_primary_image_handle(ctx, &handle), info);
        if (r < 0)
                goto finish;
        /* The size from the header, before any pixel is decoded: a small
         * file can claim a huge picture. libheif applies the rotation and
         * mirroring the file asks for (irot, imir) while decoding, so the
         * result is as a viewer shows it: orientation 1. */
        w = heif_image_handle_get_width(handle);
        h = heif_image_handle_get_height(handle);
        info->width = w > 0 ? (size_t) w : 0;
        info->height = h > 0 ? (size_t) h : 0;
        if (w <= 0 || h <= 0) {
                r = -EBADMSG;
                goto finish;
        }
        if ((uint64_t) w * (uint64_t) h > max_pixels) {
                r = -E2BIG;
                goto finish;
        }
        opts = heif_decoding_options_alloc();
        if (opts)
                opts->convert_hdr_to_8bit = 1;
        /* As stored first: a phone's HEIC is 8-bit YCbCr, and its luma
         * plane is all a QR code needs (libheif 1.15 converts nothing to
         * monochrome). Else, 10-bit or RGB-coded: 8-bit RGB, made grey here. */
        r = error_code(heif_decode_image(handle, &img, heif_colorspace_undefined, heif_chroma_undefined, opts), info);
        if (r < 0)
                goto finish;
        if ((heif_image_get_colorspace(img) == heif_colorspace_YCbCr ||
             heif_image_get_colorspace(img) == heif_colorspace_monochrome) &&
            heif_image_get_bits_per_pixel_range(img, heif_channel_Y) == 8) {
                plane = heif_image_get_plane_readonly(img, heif_channel_Y, &stride);
                w = heif_image_get_width(img, heif_channel_Y);
                h = heif_image_get_height(img, heif_channel_Y);
                if (!plane || w <= 0 || h <= 0 || stride < w || (uint64_t) w * (uint64_t) h > max_pixels) {
                        snprintf(info->detail, sizeof info->detail, "no usable luma plane");
                        r = -EBADMSG;
                        goto finish;
                }
                r = grey_image_alloc(out, (size_t) w, (size_t) h);
                if (r < 0)
                        goto finish;
                for (int y = 0; y < h; y++)
                        memcpy(out->pixels + (size_t) y * (size_t) w, plane + (size_t) y * (size_t) stride, (size_t) w);
        } else {
                heif_image_release(img);
                img = NULL;
                r = error_code(heif_decode_image(handle, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, opts), info);
                if (r < 0)
                        goto finish;
                plane = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
                w = heif_image_get_width(img, heif_channel_interleaved);
                h = heif_image_get_height(img, heif_channel_interleaved);
                if (!plane || w <= 0 || h <= 0 || stride / 3 < w || (uint64_t) w * (uint64_t) h > max_pixels) {
                        snprintf(info->detail, sizeof info->detail, "no usable RGB plane");
                        r = -EBADMSG;
                        goto finish;
                }
                r = grey_image_alloc(out, (size_t) w, (size_t) h);
                if (r < 0)
                        goto finish;
                for (int y = 0; y < h; y++) {
                        const uint8_t *p = plane + (size_t) y * (size_t) stride;

                        for (int x = 0; x < w; x++, p += 3)
                                out->pixels[(size_t) y * (size_t) w + (size_t) x] =
                                        (uint8_t) ((299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u);
                }
        }
        info->width = (size_t) w;
        info->height = (size_t) h;
finish:
        heif_decoding_options_free(opts);
        heif_image_release(img);
        heif_image_handle_release(handle);
        heif_context_free(ctx);
        if (r < 0)
                grey_image_free(out);
        return r;
}

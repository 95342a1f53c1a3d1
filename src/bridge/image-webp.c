/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* WebP to grey with libwebp: the only file that uses it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include "exif.h"
#include "image-load.h"
#include "macro.h"

/* A phone or an editor that keeps the camera's EXIF puts it in an "EXIF"
 * chunk of the extended (VP8X) container, with the orientation the picture
 * is to be shown in; libwebp's decoder does not apply it. The chunk holds
 * a TIFF structure; some writers put JPEG's "Exif\0\0" in front of it. */
static int read_orientation(const uint8_t *data, size_t size) {
        WebPData whole = { .bytes = data, .size = size };
        WebPChunkIterator it;
        WebPDemuxer *demux;
        int o = -ENODATA;

        demux = WebPDemux(&whole);
        if (!demux)
                return 1;
        if (WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & EXIF_FLAG && WebPDemuxGetChunk(demux, "EXIF", 1, &it)) {
                const uint8_t *p = it.chunk.bytes;
                size_t n = it.chunk.size;

                o = n >= 6 && !memcmp(p, "Exif\0\0", 6) ? exif_orientation_from_app1(p, n) :
                                                          exif_orientation_from_tiff(p, n);
                WebPDemuxReleaseChunkIterator(&it);
        }
        WebPDemuxDelete(demux);
        return o > 0 ? o : 1; /* a hint, not the picture: anything wrong is "as stored" */
}

int image_load_webp(const uint8_t *data, size_t size, uint64_t max_pixels, struct grey_image *out,
                    struct image_info *info) {
        WebPDecoderConfig config;
        int r;

        *info = (struct image_info) { .orientation = 1 };
        *out = (struct grey_image) {};
        if (!WebPInitDecoderConfig(&config))
                return -EBADMSG;
        /* The header alone first: sizes are checked before anything is
         * allocated. */
        switch (WebPGetFeatures(data, size, &config.input)) {
        case VP8_STATUS_OK:
                break;
        case VP8_STATUS_NOT_ENOUGH_DATA:
                snprintf(info->detail, sizeof info->detail, "the header is cut short");
                return -ENODATA;
        case VP8_STATUS_OUT_OF_MEMORY:
                return -ENOMEM;
        default:
                snprintf(info->detail, sizeof info->detail, "not a WebP bitstream libwebp reads");
                return -EBADMSG;
        }
        if (config.input.width <= 0 || config.input.height <= 0)
                return -EBADMSG;
        info->width = (size_t) config.input.width;
        info->height = (size_t) config.input.height;
        if ((uint64_t) info->width * info->height > max_pixels)
                return -E2BIG;

        config.output.colorspace = MODE_RGBA;
        switch (WebPDecode(data, size, &config)) {
        case VP8_STATUS_OK:
                break;
        case VP8_STATUS_NOT_ENOUGH_DATA:
                snprintf(info->detail, sizeof info->detail, "the data ends before the picture does");
                WebPFreeDecBuffer(&config.output);
                return -ENODATA;
        case VP8_STATUS_OUT_OF_MEMORY:
                WebPFreeDecBuffer(&config.output);
                return -ENOMEM;
        default:
                snprintf(info->detail, sizeof info->detail, "the bitstream is corrupt");
                WebPFreeDecBuffer(&config.output);
                return -EBADMSG;
        }
        r = grey_image_alloc(out, info->width, info->height);
        if (r >= 0) {
                const WebPRGBABuffer *b = &config.output.u.RGBA;

                for (size_t y = 0; y < info->height; y++) {
                        const uint8_t *p = b->rgba + y * (size_t) b->stride;

                        for (size_t x = 0; x < info->width; x++, p += 4) {
                                /* BT.601 luma, composited onto white as a viewer shows it. */
                                unsigned luma = (299u * p[0] + 587u * p[1] + 114u * p[2]) / 1000u;
                                out->pixels[y * info->width + x] = (uint8_t) ((luma * p[3] + 255u * (255u - p[3])) / 255u);
                        }
                }
        }
        WebPFreeDecBuffer(&config.output);
        if (r >= 0)
                info->orientation = read_orientation(data, size);
        return r;
}

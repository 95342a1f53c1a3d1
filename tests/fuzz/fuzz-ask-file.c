/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ask_parse() on any bytes, as kairos-unlock and the session helper's login
 * banner read the ask.* files of /run/systemd/ask-password. The input is
 * the file.
 *
 * Either no request (-EINVAL, and *ret untouched), or a request whose
 * Socket= is an absolute path that fits sun_path, whose Id= and Message=
 * are terminated within their arrays and hold only printable UTF-8 (no
 * control character that could reach the helper's terminal), and whose
 * PID= is not negative. */
#include <errno.h>
#include <string.h>

#include "ask-file.h"
#include "fuzz.h"

FUZZ_CORPUS("ask-file");

static void check_clean(const char *s, size_t size) {
        size_t len = strnlen(s, size);

        FUZZ_ASSERT(len < size);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                FUZZ_ASSERT(c >= 0x20 && c != 0x7f);
                /* no C1 control: U+0080-U+009F is 0xc2 0x80-0x9f in UTF-8 */
                if (c == 0xc2 && i + 1 < len)
                        FUZZ_ASSERT((unsigned char) s[i + 1] > 0x9f);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ask_request r, untouched;
        int ret;

        memset(&r, 0xa5, sizeof r);
        untouched = r;
        ret = ask_parse((const char *) data, size, &r);
        FUZZ_ASSERT(ret == 0 || ret == -EINVAL);
        if (ret < 0) {
                FUZZ_ASSERT(memcmp(&r, &untouched, sizeof r) == 0);
                return 0;
        }
        FUZZ_ASSERT(size <= ASK_FILE_MAX);
        FUZZ_ASSERT(strnlen(r.socket, sizeof r.socket) < sizeof r.socket);
        FUZZ_ASSERT(r.socket[0] == '/');
        FUZZ_ASSERT(r.name[0] == '\0');
        FUZZ_ASSERT(r.pid >= 0);
        check_clean(r.id, sizeof r.id);
        check_clean(r.message, sizeof r.message);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recovery.conf on any bytes: the input is a file's text, as it is (NUL
 * bytes, no final newline, no UTF-8 are all fair). It is read once onto the
 * defaults and once onto a configuration the kernel command line already
 * set, then checked (conf-fuzz.h). */
#include <stdlib.h>

#include "conf-fuzz.h"

FUZZ_CORPUS("conf");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct recovery_config *c = malloc(sizeof *c);
        int r;

        FUZZ_ASSERT(c);
        fuzz_diag_count = 0;
        conf_init_defaults(c);
        r = conf_parse_text(c, (const char *) data, size, "fuzz.conf", fuzz_diag, NULL);
        FUZZ_ASSERT(r >= 0);
        /* Every problem is reported, up to the limit and one line more. */
        FUZZ_ASSERT(fuzz_diag_count == (unsigned) r || (r > CONF_REPORT_MAX && fuzz_diag_count == CONF_REPORT_MAX + 1));
        fuzz_check_config(c);
        fuzz_check_render(c);

        conf_verify(c, fuzz_diag, NULL);
        FUZZ_ASSERT(!c->plain_ssh || c->plain_ssh_port != c->tunnel_port);
        fuzz_check_config(c);

        conf_init_defaults(c);
        conf_parse_cmdline(c, "kairos.recovery.relay=tcp:a.example:1,tcp:[2001:db8::1]:2 kairos.recovery.console=ttyS0",
                           fuzz_diag, NULL);
        conf_parse_text(c, (const char *) data, size, "fuzz.conf", fuzz_diag, NULL);
        fuzz_check_config(c);
        fuzz_check_render(c);
        free(c);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel command line on any bytes: the input up to its first NUL byte
 * (as in /proc/cmdline, which holds none) is the command line. It is read
 * onto the defaults and onto a configuration a file already set, then
 * checked (conf-fuzz.h). */
#include <stdlib.h>

#include "conf-fuzz.h"

FUZZ_CORPUS("cmdline");

static const char file[] = "Relay=tcp:relay.example:4001\nConsole=tty1\nPlainSSH=yes\nHostKey=/k\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct recovery_config *c = malloc(sizeof *c);
        char *text = malloc(size + 1);
        int r;

        FUZZ_ASSERT(c && text);
        memcpy(text, data, size);
        text[size] = '\0';

        fuzz_diag_count = 0;
        conf_init_defaults(c);
        r = conf_parse_cmdline(c, text, fuzz_diag, NULL);
        FUZZ_ASSERT(r >= 0);
        FUZZ_ASSERT(fuzz_diag_count == (unsigned) r || (r > CONF_REPORT_MAX && fuzz_diag_count == CONF_REPORT_MAX + 1));
        fuzz_check_config(c);
        fuzz_check_render(c);

        conf_init_defaults(c);
        FUZZ_ASSERT(conf_parse_text(c, file, strlen(file), "fuzz.conf", fuzz_diag, NULL) == 0);
        conf_parse_cmdline(c, text, fuzz_diag, NULL);
        conf_verify(c, fuzz_diag, NULL);
        FUZZ_ASSERT(!c->plain_ssh || c->plain_ssh_port != c->tunnel_port);
        fuzz_check_config(c);
        fuzz_check_render(c);
        free(text);
        free(c);
        return 0;
}

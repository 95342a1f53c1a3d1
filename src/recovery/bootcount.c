/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "bootcount.h"
#include "macro.h"

const char *bootcount_grubenv_path(void) {
        const char *p = getenv("KAIROS_GRUBENV");

        return p && *p ? p : "/boot/grub/grubenv";
}

/* grubenv: "# GRUB Environment Block", then NAME=VALUE lines, '#' padding
 * to 1024 bytes. */
static void value_of(const char *text, const char *name, char *out, size_t size) {
        size_t n = strlen(name);

        out[0] = '\0';
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (!strncmp(p, name, n) && p[n] == '=') {
                        size_t len = strcspn(p + n + 1, "\n");
                        snprintf(out, size, "%.*s", (int) MIN(len, size - 1), p + n + 1);
                        return;
                }
}

void bootcount_describe(FILE *f) {
        const char *path = bootcount_grubenv_path();
        char text[4096], tries[16], left[16];
        FILE *g = fopen(path, "re");
        size_t n = 0;

        if (g) {
                n = fread(text, 1, sizeof text - 1, g);
                fclose(g);
        }
        text[n] = '\0';
        value_of(text, "kairos_boot_tries", tries, sizeof tries);
        value_of(text, "kairos_boot_left", left, sizeof left);
        fprintf(f, "\n# GRUB boot counter (GRUB_KAIROS_RECOVERY_AFTER_FAILED_BOOTS= in /etc/default/grub, %s):\n", path);
        if (!g)
                fprintf(f, "#   no %s: no counter\n", path);
        else if (!tries[0])
                fprintf(f, "#   off, or no boot since update-grub turned it on\n");
        else if (!left[0])
                fprintf(f, "#   recovery entry after %s failed boots; the last boot completed\n", tries);
        else if (!strcmp(left, "0"))
                fprintf(f, "#   recovery entry after %s failed boots; 0 left: the next boot is \"kairos (remote recovery mode)\" "
                        "until a boot completes\n", tries);
        else
                fprintf(f, "#   recovery entry after %s failed boots; %s left before it (this boot has not completed yet, "
                        "or did not)\n", tries, left);
}

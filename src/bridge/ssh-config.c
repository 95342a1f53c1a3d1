/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "ssh-config.h"

bool ssh_config_name_valid(const char *name) {
        if (!*name || strlen(name) > 64 || *name == '-')
                return false;
        return name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")] == '\0';
}

/* One word for ssh's command lines (sh -c for ProxyCommand, OpenSSH's own
 * splitting for KnownHostsCommand): single quotes understood by both. A
 * path with a single quote or a '%' (ssh's token character) is refused. */
static int put_word(FILE *out, const char *w) {
        if (strpbrk(w, "'%\n"))
                return -EINVAL;
        if (w[strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:[]+=,@")] == '\0')
                fprintf(out, " %s", w);
        else
                fprintf(out, " '%s'", w);
        return 0;
}

int ssh_config_print(const struct ssh_config_options *o, FILE *out) {
        char self[PATH_MAX], num[16];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        int r = 0;

        if (n <= 0)
                snprintf(self, sizeof self, "kairos-bridge");
        else
                self[n] = '\0';
        fprintf(out, "# Add to ~/.ssh/config, then: ssh %s\n"
                     "# (written by kairos-bridge --ssh-config; the host key is checked against what the\n"
                     "# machine sends inside the tunnel, and nothing is stored in ~/.ssh/known_hosts)\n",
                o->name);
        fprintf(out, "Host %s\n", o->name);
        fprintf(out, "\tUser root\n");
        fprintf(out, "\tProxyCommand");
        r = put_word(out, self);
        fprintf(out, " --stdio -q --host-key-alias kairos-%s", o->name);
        for (size_t i = 0; r >= 0 && i < o->n_direct; i++) {
                fprintf(out, " --direct");
                r = put_word(out, o->direct[i]);
        }
        for (size_t i = 0; r >= 0 && i < o->n_relays; i++) {
                fprintf(out, " --relay");
                r = put_word(out, o->relays[i]);
        }
        if (o->direct_only)
                fprintf(out, " --direct-only");
        if (o->relay_only)
                fprintf(out, " --relay-only");
        if (o->timeout_sec) {
                snprintf(num, sizeof num, "%u", o->timeout_sec);
                fprintf(out, " --timeout %s", num);
        }
        if (r >= 0) {
                fprintf(out, o->image ? " --qr-code-image" : " --token-file");
                r = put_word(out, o->image ? o->image : o->token_file);
        }
        fprintf(out, "\n\tHostKeyAlias kairos-%s\n", o->name);
        fprintf(out, "\tKnownHostsCommand");
        if (r >= 0)
                r = put_word(out, self);
        fprintf(out, " --known-hosts %%H\n");
        fprintf(out, "\tUserKnownHostsFile none\n"
                     "\tGlobalKnownHostsFile none\n"
                     "\tStrictHostKeyChecking yes\n"
                     "\tUpdateHostKeys no\n");
        if (fflush(out) != 0)
                return -EIO;
        return r;
}

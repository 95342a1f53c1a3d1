/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-bridge keygen: the operator's key pair, made once on a workstation.
 * The secret half stays here (0600); the public half goes into each
 * machine's NotifyKey=, so that machines seal their codes to it. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "keygen.h"
#include "keys.h"
#include "known-machines.h"
#include "log.h"

static void help(void) {
        printf("Usage: kairos-bridge keygen [--output DIR]\n"
               "\n"
               "Makes the operator's key pair for sealed codes: DIR/operator.key (the secret\n"
               "key, mode 0600, never to leave this workstation) and DIR/operator.pub, and\n"
               "prints the public key for the machines' NotifyKey= setting.\n"
               "\n"
               "  -o --output DIR  where to write them (default $XDG_CONFIG_HOME/kairos-bridge,\n"
               "                   else ~/.config/kairos-bridge)\n"
               "\n"
               "Exit status: 0, 64 usage, 73 a key is there already (never overwritten).\n");
}

int bridge_keygen(int argc, char **argv) {
        static const struct option options[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        char dir[4096], secret_path[4200], public_path[4200], text[KEYS_TEXT_MAX];
        const char *out = NULL;
        struct operator_key k;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "o:h", options, NULL)) >= 0)
                switch (c) {
                case 'o': out = optarg; break;
                case 'h': help(); return 0;
                default: return EX_USAGE;
                }
        if (optind < argc) {
                log_error("kairos-bridge keygen takes no arguments; see kairos-bridge keygen --help.");
                return EX_USAGE;
        }
        if (out)
                snprintf(dir, sizeof dir, "%s", out);
        else if (bridge_config_dir(dir, sizeof dir) < 0) {
                log_error("Neither $XDG_CONFIG_HOME nor $HOME is set: give --output DIR.");
                return EX_USAGE;
        }
        if (!out) {
                /* ~/.config may not exist yet. */
                char parent[4096], *slash;

                snprintf(parent, sizeof parent, "%s", dir);
                slash = strrchr(parent, '/');
                if (slash && slash != parent) {
                        *slash = '\0';
                        (void) mkdir(parent, 0700);
                }
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                log_error_errno(-errno, "Cannot make %s: %m", dir);
                return EX_CANTCREAT;
        }
        snprintf(secret_path, sizeof secret_path, "%s/operator.key", dir);
        snprintf(public_path, sizeof public_path, "%s/operator.pub", dir);

        operator_key_new(&k);
        key_to_text(KEY_OPERATOR_SECRET, k.sk, text);
        r = key_write_file(secret_path, text, 0600);
        sodium_memzero(text, sizeof text);
        if (r < 0) {
                operator_key_clear(&k);
                if (r == -EEXIST) {
                        log_error("%s exists already: a key is never overwritten (every machine that has its public half "
                                  "would seal codes nobody can open). Remove it yourself first, or choose --output DIR.",
                                  secret_path);
                        return EX_CANTCREAT;
                }
                log_error_errno(r, "Cannot write %s: %m", secret_path);
                return EX_CANTCREAT;
        }
        key_to_text(KEY_OPERATOR_PUBLIC, k.pk, text);
        operator_key_clear(&k);
        (void) unlink(public_path);
        r = key_write_file(public_path, text, 0644);
        if (r < 0)
                log_warning_errno(r, "Cannot write %s: %m (the public key is printed below)", public_path);
        log_info("Secret key written to %s (keep it here: whoever has it opens the codes sent to you).", secret_path);
        log_info("Public key (also in %s); put it in each machine's /etc/kairos/recovery.conf as NotifyKey=:", public_path);
        printf("%s\n", text);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "dial.h"
#include "sealed-input.h"
#include "token-input.h"

#define BRIDGE_DEFAULT_LISTEN "127.0.0.1:2200"
#define BRIDGE_DEFAULT_TIMEOUT_SEC 60

struct bridge_args {
        enum token_source source;
        char *where; /* a path, or our copy of the token's text (a text source) */
        const char *listen;
        bool allow_remote, stdio, show_token, direct_only, relay_only, quiet;
        const char *ssh_config_name, *known_hosts_alias, *host_key_alias;
        unsigned timeout_sec;
        struct dial_options dial;
        struct sealed_options sealed;
        /* A picture's or token file's path, made absolute at once: a user
         * service (systemd-run --user) starts in $HOME, not where the
         * command was typed, and --ssh-config writes the path into a file
         * read from anywhere. */
        char abs_path[PATH_MAX];
};

#define BRIDGE_ARGS_INIT { .listen = BRIDGE_DEFAULT_LISTEN, .timeout_sec = BRIDGE_DEFAULT_TIMEOUT_SEC }

void bridge_help(void);
/* 1: go on; 0: done (--help, --version); -EINVAL (said why) or -ENOMEM. */
int bridge_parse_argv(struct bridge_args *a, int argc, char **argv);
/* Our copy of a token given as text: wiped, then freed. */
void bridge_args_forget_text(struct bridge_args *a);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* kairos-bridge --ssh-config NAME: a Host block for ~/.ssh/config with
 * which `ssh NAME` goes through `kairos-bridge --stdio` (ProxyCommand) and
 * checks the host key fully: the --stdio bridge stores the keys the machine
 * sent inside the tunnel under HostKeyAlias kairos-NAME, and ssh reads them
 * back through KnownHostsCommand (kairos-bridge --known-hosts). Nothing
 * lands in ~/.ssh/known_hosts, so the next recovery boot, with new keys,
 * gives no "REMOTE HOST IDENTIFICATION HAS CHANGED". */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ssh_config_options {
        const char *name;
        const char *image, *token_file; /* absolute; one of them */
        const char *const *direct;
        size_t n_direct;
        const char *const *relays;
        size_t n_relays;
        bool direct_only, relay_only;
        unsigned timeout_sec; /* 0: the default */
};

/* Letters, digits, '.', '-', '_': safe in a Host line and an alias. */
bool ssh_config_name_valid(const char *name);

/* This program's own path (/proc/self/exe), for the commands in the block. */
int ssh_config_print(const struct ssh_config_options *o, FILE *out);

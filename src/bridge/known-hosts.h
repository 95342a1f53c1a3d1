/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The bridge's own known_hosts file: the host keys the daemon sent in its
 * hello (inside the authenticated tunnel, so they are the machine's), under
 * an alias of the machine's service id. With the printed
 *   ssh -p 2200 -o HostKeyAlias=kairos-ID -o UserKnownHostsFile=FILE root@127.0.0.1
 * OpenSSH checks the host key fully and asks nothing, and the user's own
 * ~/.ssh/known_hosts is never touched. */

#include <stddef.h>
#include <stdio.h>

#include "hello.h"

/* $XDG_RUNTIME_DIR/kairos-bridge, else $XDG_CACHE_HOME/kairos-bridge, else
 * ~/.cache/kairos-bridge; created 0700. */
int known_hosts_dir(char *out, size_t size);

/* Rewrites the file dir/known_hosts so that it holds exactly the hello's
 * keys for alias (lines of other aliases are kept); 0600, atomic. */
int known_hosts_write(const char *dir, const char *alias, const struct kairos_hello *hello, char *path,
                      size_t path_size);

/* The new file's text: old's lines (old may be NULL) except alias's, each as
 * it was, then one line per hello key for alias. Pure, for the fuzz target. */
int known_hosts_rewrite(FILE *old, FILE *out, const char *alias, const struct kairos_hello *hello);

/* The lines of dir/known_hosts stored under alias, for ssh's
 * KnownHostsCommand (kairos-bridge --known-hosts). */
int known_hosts_print_alias(const char *alias, FILE *out);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The recovery authorized_keys file: OpenSSH's format, one key a line.
 * Lines with options are skipped with a warning (see the .c file). */

#include <libssh/libssh.h>
#include <stddef.h>

int authorized_keys_parse(const char *text, ssh_key **ret_keys, size_t *ret_n);
/* -errno if the file cannot be read. */
int authorized_keys_load(const char *path, ssh_key **ret_keys, size_t *ret_n);
void authorized_keys_free(ssh_key *keys, size_t n);

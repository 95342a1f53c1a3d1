/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pending requests of a password agent directory
 * (/run/systemd/ask-password): every ask.* file that parses and is still
 * live (ask_is_live()), sorted by name, so that two scans in a row list
 * them in the same order. */

#include <stddef.h>
#include <stdint.h>

#include "ask-file.h"

/* At most this many requests are looked at (a machine asks for a handful). */
#define ASK_DIR_MAX 64

/* CLOCK_MONOTONIC in µs, the clock of NotAfter=. */
uint64_t ask_now_usec(void);

/* Fills ret (room for max) and returns how many, or -errno when the
 * directory cannot be read. A directory that does not exist holds nothing
 * (0): systemd makes it only when something asks. Files that cannot be
 * read, are not regular files (or are symlinks), are too large or do not
 * parse are skipped. */
int ask_dir_scan(const char *dir, struct ask_request *ret, size_t max);

/* The request in list (n) whose file is name, or NULL. */
const struct ask_request *ask_find_name(const struct ask_request *list, size_t n, const char *name);

/* For the session's login banner: one line (with its newline) naming the
 * pending requests and `kairos-unlock`, or "" when nothing is asked. */
void ask_banner(const char *dir, char *out, size_t size);

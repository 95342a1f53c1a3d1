/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "hello.h"

/* The public halves of the host keys, as OpenSSH public key lines
 * ("TYPE BASE64"), for the hello: the bridge writes them to a known_hosts
 * file, so they must be exactly what the SSH server will present. */
int hostkeys_public(char *const *paths, size_t n, struct kairos_hello *hello);

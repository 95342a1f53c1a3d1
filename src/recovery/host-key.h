/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A host key for this boot kept in memory only, for when the runtime
 * directory cannot hold one (a full disk, a read-only /run): the session
 * helper makes it ("--generate-host-key -", it links libssh), the private
 * half goes into a sealed memfd that every session helper gets as
 * SESSION_FD_HOST_KEY, and the public line into pub. Returns the memfd. */
int host_key_in_memory(const char *helper, char *pub, size_t pub_size);

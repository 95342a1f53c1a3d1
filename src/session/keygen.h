/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A host key for this boot, when none is configured: the main process asks
 * for it with "kairos-recovery-session --generate-host-key PATH", since
 * the helper is what links libssh. Writes PATH (0600) and PATH.pub. */
int keygen_host_key(const char *path);

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A host key for this boot, when none is configured: the main process asks
 * for it with "kairos-recovery-session --generate-host-key PATH", since
 * the helper is what links libssh. Writes PATH (0600) and PATH.pub. */
int keygen_host_key(const char *path);

/* The same key on standard output instead, for a runtime directory that
 * cannot be written (full, read-only): the private key (OpenSSH format),
 * then the public key line. The main process keeps it in memory. */
int keygen_host_key_stdout(void);

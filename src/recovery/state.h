/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What kairos-recovery keeps in its runtime directory ($RUNTIME_DIRECTORY,
 * /run/kairos-recovery by default; the unit sets RuntimeDirectoryPreserve=
 * so it outlives a restart of the service within the boot):
 *
 *   secret            the token's 128-bit secret, hex, mode 0600: a
 *                     restart shows the same QR code and password, so a
 *                     photo already sent stays valid
 *   token             the current token text (0600), for "kairos-recovery show"
 *   qr.png            the QR code (0600: it is a root credential)
 *   host_ed25519_key  a host key made for this boot, when none is configured
 *   pid               the main process, for "kairos-recovery rotate"
 *
 * When the directory cannot be written (a read-only /run, a full disk),
 * the daemon keeps going with what it holds in memory and says so. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token.h"

#define STATE_DIR_DEFAULT "/run/kairos-recovery"

/* The runtime directory: $RUNTIME_DIRECTORY (first entry) or the default. */
const char *state_dir(void);

/* Creates the directory (0700) if needed. */
int state_prepare(const char *dir);

/* Loads the secret, or makes and stores a new one (created=true). Never
 * fails for want of storage: a secret that cannot be stored is still used,
 * and -EROFS/-ENOSPC/... comes back in *store_error. */
int state_load_or_create_secret(const char *dir, uint8_t secret[KAIROS_SECRET_SIZE], bool *created,
                                int *store_error);
/* A new secret, stored; the old one is gone. */
int state_rotate_secret(const char *dir, uint8_t secret[KAIROS_SECRET_SIZE]);

/* Writes name in dir atomically (temporary file, fsync, rename) with mode. */
int state_write_file(const char *dir, const char *name, const void *data, size_t len, unsigned mode);
/* Reads a small file (at most size - 1 bytes) into buf, NUL-terminated. */
int state_read_file(const char *dir, const char *name, char *buf, size_t size);

/* "SHA256:..." of an OpenSSH public key line ("TYPE BASE64 [comment]"), as
 * ssh-keygen -l prints it. */
int state_key_fingerprint(const char *pubkey_line, char *out, size_t size);

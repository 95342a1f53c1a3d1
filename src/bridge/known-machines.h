/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The operator's list of machines whose sealed codes the bridge accepts:
 * $XDG_CONFIG_HOME/kairos-bridge/known_machines (else
 * ~/.config/kairos-bridge/known_machines), one machine a line:
 *
 *   KAIROS-MACHINE-KEY:...  NAME
 *
 * NAME is the operator's own (the rest of the line, up to a '#'); blank lines
 * and lines starting with '#' are comments. A machine's public key is what
 * `kairos-recovery keygen-machine` printed on it. */

#include <stddef.h>
#include <stdint.h>

#define KNOWN_MACHINES_NAME_MAX 128

/* $XDG_CONFIG_HOME/kairos-bridge or ~/.config/kairos-bridge (not created). */
int bridge_config_dir(char *out, size_t size);

/* Looks key up in the file path. 1 and the name (maybe "") if listed, 0 if
 * not (also when the file does not exist), -errno if it cannot be read.
 * Lines that are not a machine key are skipped. */
int known_machines_find(const char *path, const uint8_t key[32], char *name, size_t name_size);

/* Appends key with name (printable ASCII; anything else becomes '?') to the
 * file, creating it 0600 and its folder 0700. */
int known_machines_add(const char *path, const uint8_t key[32], const char *name);

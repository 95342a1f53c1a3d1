/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The SSH algorithm policy of the session helper: which key exchanges, host
 * key algorithms, ciphers and MACs the libssh server offers, on the plain
 * SSH socket and behind the tunnel alike (one helper serves both).
 * kairos-recovery(8), "SSH ALGORITHMS", explains it for administrators;
 * tests/integration/ssh-audit.sh holds the server to it. */

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <stdbool.h>

/* Sets the policy on a bind before it accepts a connection: 0 or -errno
 * (with the reason logged). */
int ssh_policy_apply(ssh_bind bind);

/* Whether the policy serves a host key of this type: clients are offered
 * only the algorithms above, so a host key of another type could never be
 * used, and a session with no usable host key cannot start. */
bool ssh_policy_host_key_allowed(ssh_key key);

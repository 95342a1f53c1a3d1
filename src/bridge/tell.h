/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What kairos-bridge tells the user once the machine is reachable. */

/* On a terminal the password is printed (and a --json event); under
 * systemd it goes to a 0600 file of the user's own, and the journal only
 * says where. */
void tell_password(const char *password, const char *id);
/* The password file goes when the bridge ends. */
void forget_password_file(void);

/* The ssh command, always with the bridge's own known_hosts file (kh, or
 * /dev/null when it could not be written) and the machine's alias, so that
 * no per-boot key lands in ~/.ssh/known_hosts. listen: "ADDR:PORT" or the
 * path of a Unix socket (then through nc -U). */
void tell_ssh_command(const char *listen, const char *alias, const char *kh);

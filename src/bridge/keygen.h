/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* kairos-bridge keygen [--output DIR]: argv[0] is "keygen". Returns the
 * exit status. */
int bridge_keygen(int argc, char **argv);

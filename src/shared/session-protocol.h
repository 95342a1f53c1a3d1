/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between kairos-recovery (the main process) and each session helper it
 * fork+execs (kairos-recovery-session): what the helper is given, and what
 * it reports back. The helper starts with
 *
 *   fd 3   the connection: a direct tunnel, a relay connection that has
 *          already said "ok", or a plain SSH connection
 *   fd 4   a SOCK_SEQPACKET socket to the main process
 *
 * and nothing else: no loop, no relay sockets, no other session's fds.
 * Its first read on fd 4 is one datagram of "key value" lines (the
 * secret never goes through argv or the environment):
 *
 *   transport tunnel|ssh        tunnel: Noise responder first, then SSH
 *   secret HEX                  the token's 16-byte secret, 32 hex digits
 *   hostkey PATH                OpenSSH private key file (repeatable)
 *   authorized_keys PATH        optional
 *   hostname NAME
 *   peer TEXT                   "relay tcp:host:4001 slot 2", "direct 192.0.2.9:51234"
 *   max_auth_tries N            failures before the connection is dropped
 *   auth_timeout N              seconds for key exchange and authentication
 *
 * Then it sends one datagram per event, a line each:
 *
 *   tunnel-established
 *   tunnel-failed REASON
 *   auth-failed METHOD USER
 *   authenticated METHOD USER
 *   closed REASON
 *
 * The main process counts and logs these (STATUS=, the screen, the journal)
 * and holds the global limits; the helper exits when its connection ends. */

#define SESSION_FD_CONNECTION 3
#define SESSION_FD_CONTROL 4
#define SESSION_CONFIG_MAX 8192
#define SESSION_EVENT_MAX 512

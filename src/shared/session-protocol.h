/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Between kairos-recovery (the main process) and each session helper it
 * fork+execs (kairos-recovery-session): what the helper is given, and what
 * it reports back. The helper starts with
 *
 *   fd 3   the connection: a direct tunnel, a relay connection that has
 *          already said "ok", or a plain SSH connection
 *   fd 4   a SOCK_SEQPACKET socket to the main process
 *   fd 5   only when the runtime directory could not hold the host key:
 *          the key, in a sealed memfd ("hostkey /proc/self/fd/5")
 *
 * and nothing else: no loop, no relay sockets, no other session's fds.
 * Its first read on fd 4 is one datagram of "key value" lines (the
 * secret never goes through argv or the environment):
 *
 *   transport tunnel|ssh        tunnel: Noise responder first, then SSH
 *   secret HEX                  the token's 16-byte secret, 32 hex digits
 *   retired_secret HEX          optional, for a while after a rotate: the
 *                               secret before it; a tunnel made with it gets
 *                               ROTATED (tunnel.h) and nothing else
 *   hostkey PATH                OpenSSH private key file (repeatable, at
 *                               most HELLO_MAX_KEYS; absolute paths)
 *   authorized_keys PATH        optional; lines with options are refused
 *   hostname NAME               optional (gethostname()), for the hello
 *   peer TEXT                   "relay tcp:host:4001 slot 2", "direct 192.0.2.9:51234"
 *   max_auth_tries N            failures before the connection is dropped
 *                               (1-100, default 6)
 *   auth_timeout N              seconds from the start for the tunnel
 *                               handshake, key exchange and authentication
 *                               together (1-3600, default 120)
 *   handshake_timeout N         seconds from the start for the tunnel
 *                               handshake to its key confirmation: the time
 *                               a stranger can hold the helper (1-600,
 *                               default 10)
 *
 * transport, secret and one hostkey are required; unknown keys are
 * skipped, so that a newer main process can say more.
 *
 * Then it sends one datagram per event, a line each:
 *
 *   tunnel-proven               the first handshake message decrypted (sent
 *                               before the answer to it; the peer holds the
 *                               secret, or replays a message it saw)
 *   tunnel-established          after key confirmation, never before
 *   tunnel-rotated              final: the peer confirmed the retired
 *                               secret's key and was told it was rotated
 *   tunnel-failed REASON        final: nothing follows
 *   auth-failed METHOD USER     METHOD: password or publickey (an unknown
 *                               key offered counts, as in sshd)
 *   authenticated METHOD USER
 *   closed REASON               final, whenever the helper got past the
 *                               configuration (or "closed bad configuration")
 *
 * USER is what the client sent, made safe: printable ASCII without spaces,
 * at most 64 characters, "?" for anything else, "-" when empty. REASON is
 * free text, for example "client disconnected", "authentication timeout",
 * "key exchange timeout", "too many authentication failures", "connection
 * lost: ...", "tunnel: ...", "terminated by a signal", "host key unusable";
 * for tunnel-failed "the peer does not hold this token's secret",
 * "handshake timeout", "the peer broke the tunnel protocol".
 *
 * The main process counts and logs these (STATUS=, the screen, the journal)
 * and holds the global limits; the helper exits when its connection ends:
 * 0 when it served the connection (however that ended), 1 when it could not
 * (bad configuration, tunnel failed, unusable host key), 64 when not
 * started as described here. Once the SSH server runs, SIGTERM ends it
 * gracefully (its sessions' jobs get SIGHUP, then "closed terminated by a
 * signal"; before, SIGTERM just ends it); SIGUSR1 logs the state of every
 * channel. */

#define SESSION_FD_CONNECTION 3
#define SESSION_FD_CONTROL 4
#define SESSION_FD_HOST_KEY 5
#define SESSION_CONFIG_MAX 8192
#define SESSION_EVENT_MAX 512

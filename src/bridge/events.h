/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What kairos-bridge tells its user: log lines on stderr (or the journal),
 * and with --json one JSON object a line on stdout per event, for scripts:
 *   {"event":"connecting","service":"…"}
 *   {"event":"reachable","listen":"127.0.0.1:2200","via":"direct …","hostname":"…","service":"…",
 *    "known_hosts":"…","host_key_alias":"…"}
 *   {"event":"password","password":"…"} or {"event":"password","file":"…"}
 *   {"event":"ssh-command","command":"ssh -p …","argv":["ssh","-p",…]}
 *   {"event":"sessions","open":N}
 *   {"event":"interrupted","open":N}   (a first Ctrl-C with sessions open)
 *   {"event":"rejected","message":"…"}
 *   {"event":"warning","message":"…"} / {"event":"error","message":"…"}
 *   {"event":"stopped","exit":N}
 * Field names are an interface: kairos-bridge(1) lists them. */

#include <stdbool.h>

void events_set_json(bool on);
bool events_json(void);

/* Writes one event: pairs of key and string value, ended by NULL. */
void events_emit(const char *event, ...);
void events_emit_number(const char *event, const char *key, long value);
/* The ssh command: shown to a person, and as a command line and argv. */
void events_ssh_command(const char *const *argv);

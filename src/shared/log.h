/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging for all kairos programs. On a terminal: "LEVEL  message" lines on
 * stderr. When stderr is connected to the journal ($JOURNAL_STREAM matches),
 * structured entries through sd_journal_send() with PRIORITY, MESSAGE_ID and
 * any extra FIELD=value pairs. The log_* helpers return the (negative) error
 * they were given, so that "return log_error_errno(r, ...);" reads naturally.
 *
 * Secrets never go through these functions. */

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* MESSAGE_ID= of the events an administrator looks for in the journal
 * (journalctl MESSAGE_ID=...). Fixed: they are part of the interface. Random
 * 128-bit IDs (systemd-id128 new), each explained in catalog/kairos.catalog
 * (journalctl -x); tests/integration/journal-catalog.sh checks that every ID
 * here has its entry. */
#define MESSAGE_ID_RELAY_CONNECTED "a872c80333e84cef8bcab74b8802d214"
#define MESSAGE_ID_RELAY_LOST "47ba4b0883fe4670b470cb743aa159f7"
#define MESSAGE_ID_STARTED "a9715474194645ec8b3fd60c961c466d"
#define MESSAGE_ID_SESSION_OPENED "3d98442d61de4d9fb66cfc73ad37c1fb"
#define MESSAGE_ID_SESSION_CLOSED "f0402f5cb1984739b8a4e86eaf5b035e"
#define MESSAGE_ID_AUTH_FAILED "9d1c2c5222064f248cc9f7a262739b77"
#define MESSAGE_ID_TOKEN_ROTATED "8af372594a2444c5b0ff6019c6151638"
#define MESSAGE_ID_TUNNEL_FAILED "121ab2edd9a040d6b62232568015cfa1"
/* A waiting connection dropped for a newcomer, or a source refused. */
#define MESSAGE_ID_CONNECTION_DROPPED "60306c29056d4bb895d6d7a702275436"
/* The daemon cannot serve anyone: it stops (kairos-recovery(8), EXIT STATUS). */
#define MESSAGE_ID_HELPER_MISSING "447ca4a4ad1648429595c9d248bee6e4"
#define MESSAGE_ID_HOST_KEY_FAILED "8349d01b8db24fd5b31d0c7006d752ac"
/* kairos-bridge */
#define MESSAGE_ID_BRIDGE_REACHABLE "b5b3b3e221294f968ec879be031c6923"
#define MESSAGE_ID_BRIDGE_UNREACHABLE "a86685e2dbca4d0bae0914cb7d9e160f"
#define MESSAGE_ID_BRIDGE_STOPPED "c7d4a0c792484d61b3d3016c4566678f"
/* kairos-unlock: a passphrase given from a session opened the volume, or
 * was refused. */
#define MESSAGE_ID_UNLOCKED "c2139d30149c4f49bb9c3ef2ba3362ac"
#define MESSAGE_ID_UNLOCK_REFUSED "c04bcf8adc7543cfbeb7a066d552d8c6"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Force a target; by default log_open() looks at $JOURNAL_STREAM. */
void log_open(void);
/* Every entry to the journal (true) or to stderr (false), whatever stderr
 * is: kairos-unlock prints to its user and records in the journal. */
void log_force_journal(bool on);
int log_is_journal(void);

/* fields: NULL, or a NULL-terminated list of "FIELD=value" strings. */
int log_fullv(int level, int error, const char *message_id, const char *const *fields,
              const char *format, va_list ap) _printf_(5, 0);
int log_full(int level, int error, const char *format, ...) _printf_(3, 4);
int log_struct(int level, int error, const char *message_id, const char *const *fields,
               const char *format, ...) _printf_(5, 6);

#define log_debug(...) log_full(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_ERR, (e), __VA_ARGS__)
#define log_oom() log_full(LOG_ERR, -ENOMEM, "Out of memory.")

/* Called with every warning and error, whatever the maximum level (after
 * -q too): kairos-bridge --json turns them into events. */
void log_set_problem_hook(void (*hook)(int level, const char *text));

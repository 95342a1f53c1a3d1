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
#include <syslog.h>

#include "macro.h"

/* MESSAGE_ID= of the events an administrator looks for in the journal
 * (journalctl MESSAGE_ID=...). Fixed: they are part of the interface. */
#define MESSAGE_ID_RELAY_CONNECTED "5c1e2a4f6b7d48e9a0c3b2d1e4f50601"
#define MESSAGE_ID_RELAY_LOST "5c1e2a4f6b7d48e9a0c3b2d1e4f50602"
#define MESSAGE_ID_STARTED "5c1e2a4f6b7d48e9a0c3b2d1e4f50603"
#define MESSAGE_ID_SESSION_OPENED "5c1e2a4f6b7d48e9a0c3b2d1e4f50604"
#define MESSAGE_ID_SESSION_CLOSED "5c1e2a4f6b7d48e9a0c3b2d1e4f50605"
#define MESSAGE_ID_AUTH_FAILED "5c1e2a4f6b7d48e9a0c3b2d1e4f50606"
#define MESSAGE_ID_TOKEN_ROTATED "5c1e2a4f6b7d48e9a0c3b2d1e4f50607"
#define MESSAGE_ID_TUNNEL_FAILED "5c1e2a4f6b7d48e9a0c3b2d1e4f50608"
/* A waiting connection dropped for a newcomer, or a source refused. */
#define MESSAGE_ID_CONNECTION_DROPPED "60306c29056d4bb895d6d7a702275436"
/* kairos-bridge */
#define MESSAGE_ID_BRIDGE_REACHABLE "5c1e2a4f6b7d48e9a0c3b2d1e4f50611"
#define MESSAGE_ID_BRIDGE_UNREACHABLE "5c1e2a4f6b7d48e9a0c3b2d1e4f50612"
#define MESSAGE_ID_BRIDGE_STOPPED "5c1e2a4f6b7d48e9a0c3b2d1e4f50613"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Force a target; by default log_open() looks at $JOURNAL_STREAM. */
void log_open(void);
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

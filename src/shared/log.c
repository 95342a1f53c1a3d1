/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static int to_journal = -1; /* -1: not decided yet */

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}


/* $JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected to stderr;
 * it only counts when stderr is still that very stream (not redirected). */
static int stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return 0;
        if (fstat(STDERR_FILENO, &st) < 0)
                return 0;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_open(void) {
        to_journal = stderr_is_journal();
}

void log_force_journal(bool on) {
        to_journal = on;
}

int log_is_journal(void) {
        if (to_journal < 0)
                log_open();
        return to_journal;
}

static const char *level_name(int level) {
        switch (level) {
        case LOG_DEBUG: return "DEBUG";
        case LOG_INFO: return "INFO";
        case LOG_NOTICE: return "NOTICE";
        case LOG_WARNING: return "WARN";
        default: return "ERROR";
        }
}

static void (*problem_hook)(int level, const char *text);

void log_set_problem_hook(void (*hook)(int level, const char *text)) {
        problem_hook = hook;
}

int log_fullv(int level, int error, const char *message_id, const char *const *fields,
              const char *format, va_list ap) {
        int saved = errno;
        char text[2048];
        bool hooked = problem_hook && level <= LOG_WARNING;

        if (level > max_level && !hooked)
                return error < 0 ? error : -abs(error);

        /* %m in our formats means the error we were given, as in systemd. */
        errno = abs(error);
        vsnprintf(text, sizeof text, format, ap);
        if (hooked)
                problem_hook(level, text);
        if (level > max_level) {
                errno = saved;
                return error < 0 ? error : -abs(error);
        }

        if (log_is_journal()) {
                struct iovec iov[32];
                char prio[32], msg[2100], mid[64], err[32], ident[80];
                size_t n = 0;

                snprintf(prio, sizeof prio, "PRIORITY=%d", level);
                snprintf(msg, sizeof msg, "MESSAGE=%s", text);
                /* sd_journal_send() sets none: without it, journalctl -t
                 * and the short output would not name the program. */
                snprintf(ident, sizeof ident, "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
                iov[n++] = (struct iovec) { prio, strlen(prio) };
                iov[n++] = (struct iovec) { msg, strlen(msg) };
                iov[n++] = (struct iovec) { ident, strlen(ident) };
                if (message_id) {
                        snprintf(mid, sizeof mid, "MESSAGE_ID=%s", message_id);
                        iov[n++] = (struct iovec) { mid, strlen(mid) };
                }
                if (error) {
                        snprintf(err, sizeof err, "ERRNO=%d", abs(error));
                        iov[n++] = (struct iovec) { err, strlen(err) };
                }
                for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                        iov[n++] = (struct iovec) { (char *) fields[i], strlen(fields[i]) };
                sd_journal_sendv(iov, (int) n);
        } else
                fprintf(stderr, " %-6s %s\n", level_name(level), text);

        errno = saved;
        return error < 0 ? error : -abs(error);
}

int log_full(int level, int error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_fullv(level, error, NULL, NULL, format, ap);
        va_end(ap);
        return r;
}

int log_struct(int level, int error, const char *message_id, const char *const *fields,
               const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_fullv(level, error, message_id, fields, format, ap);
        va_end(ap);
        return r;
}

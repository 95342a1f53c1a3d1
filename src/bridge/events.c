/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "events.h"
#include "log.h"

static bool json;
/* Events come from the serving threads too: one whole line at a time. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        fputc('"', f);
}

static void on_problem(int level, const char *text) {
        events_emit(level <= LOG_ERR ? "error" : "warning", "message", text, NULL);
}

void events_set_json(bool on) {
        json = on;
        log_set_problem_hook(on ? on_problem : NULL);
}

bool events_json(void) {
        return json;
}

void events_emit(const char *event, ...) {
        va_list ap;
        const char *k;

        if (!json)
                return;
        pthread_mutex_lock(&out_lock);
        fputs("{\"event\":", stdout);
        json_string(stdout, event);
        va_start(ap, event);
        while ((k = va_arg(ap, const char *))) {
                const char *v = va_arg(ap, const char *);

                fputc(',', stdout);
                json_string(stdout, k);
                fputc(':', stdout);
                json_string(stdout, v ? v : "");
        }
        va_end(ap);
        fputs("}\n", stdout);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
}

void events_emit_number(const char *event, const char *key, long value) {
        if (!json)
                return;
        pthread_mutex_lock(&out_lock);
        fputs("{\"event\":", stdout);
        json_string(stdout, event);
        fputc(',', stdout);
        json_string(stdout, key);
        fprintf(stdout, ":%ld}\n", value);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
}

/* Quoted for a POSIX shell where needed: paths may hold spaces. */
static void shell_word(char *out, size_t size, const char *w) {
        size_t o = strlen(out);

        if (w[strcspn(w, " \t\n'\"\\$`*?[]{}()<>|&;#~!")] == '\0' && *w) {
                snprintf(out + o, size - o, "%s", w);
                return;
        }
        if (o + 1 < size)
                out[o++] = '\'', out[o] = '\0';
        for (; *w && o + 5 < size; w++) {
                if (*w == '\'') {
                        memcpy(out + o, "'\\''", 4);
                        o += 4;
                } else
                        out[o++] = *w;
                out[o] = '\0';
        }
        snprintf(out + o, size - o, "'");
}

void events_ssh_command(const char *const *argv) {
        char line[4096] = "";

        for (size_t i = 0; argv[i]; i++) {
                if (i > 0)
                        strncat(line, " ", sizeof line - strlen(line) - 1);
                shell_word(line, sizeof line, argv[i]);
        }
        log_info("To connect, keep this running and run in another terminal:");
        log_info("  %s", line);
        if (!json)
                return;
        pthread_mutex_lock(&out_lock);
        fputs("{\"event\":\"ssh-command\",\"command\":", stdout);
        json_string(stdout, line);
        fputs(",\"argv\":[", stdout);
        for (size_t i = 0; argv[i]; i++) {
                if (i > 0)
                        fputc(',', stdout);
                json_string(stdout, argv[i]);
        }
        fputs("]}\n", stdout);
        fflush(stdout);
        pthread_mutex_unlock(&out_lock);
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos.recovery.* on the kernel command line.
 *
 * Split and unquoted exactly as the kernel's parse_args() does (next_arg()
 * in lib/cmdline.c is ported below), so that what a user tests in GRUB is
 * what the kernel saw: whitespace separates parameters, double quotes keep
 * spaces together and are removed around a whole parameter or a whole value,
 * "--" ends the kernel's parameters (what follows is init's), and '-' and
 * '_' are the same in parameter names.
 *
 * rd.kairos.recovery.KEY= is read as kairos.recovery.KEY=, with a notice:
 * the daemon is the same in the initrd and on the installed system, so a
 * separate initrd-only form would only be a way to get it wrong, and taking
 * what a user obviously meant is better than ignoring it on a broken
 * machine. (rd.kairos.recovery alone is the generator's flag; neither it
 * nor kairos.recovery alone is a setting.) */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "conf-internal.h"
#include "log.h"

#define RD_PREFIX "rd." CONF_CMDLINE_PREFIX

/* The kernel's isspace() for the command line (ASCII: its 0xa0 quirk would
 * split UTF-8 text, which no other reader of /proc/cmdline does). */
static bool is_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
}

static char *skip_spaces(char *s) {
        while (is_space(*s))
                s++;
        return s;
}

/* lib/cmdline.c next_arg(): one parameter, NUL-terminated in place; *val
 * NULL when it has no '='. Returns where the next one starts. */
static char *next_arg(char *args, char **param, char **val) {
        size_t i, equals = 0;
        bool in_quote = false, quoted = false;

        if (*args == '"') {
                args++;
                in_quote = quoted = true;
        }
        for (i = 0; args[i]; i++) {
                if (is_space(args[i]) && !in_quote)
                        break;
                if (equals == 0 && args[i] == '=')
                        equals = i;
                if (args[i] == '"')
                        in_quote = !in_quote;
        }

        *param = args;
        if (equals == 0)
                *val = NULL;
        else {
                args[equals] = '\0';
                *val = args + equals + 1;
                /* Don't include quotes in value. */
                if (**val == '"') {
                        (*val)++;
                        if (args[i - 1] == '"')
                                args[i - 1] = '\0';
                }
        }
        if (quoted && i > 0 && args[i - 1] == '"')
                args[i - 1] = '\0';

        if (args[i]) {
                args[i] = '\0';
                args += i + 1;
        } else
                args += i;
        return skip_spaces(args);
}

static void parse_param(struct conf_ctx *x, const char *param, char *val) {
        char v[CONF_EXCERPT_MAX + 4];
        const char *name, *hint;
        bool rd = false;
        char *end;
        int k;

        if (!strncmp(param, CONF_CMDLINE_PREFIX, strlen(CONF_CMDLINE_PREFIX)))
                name = param + strlen(CONF_CMDLINE_PREFIX);
        else if (!strncmp(param, RD_PREFIX, strlen(RD_PREFIX))) {
                name = param + strlen(RD_PREFIX);
                rd = true;
        } else
                return; /* not ours */

        if (!conf_utf8_valid(param, strlen(param)) || conf_has_control(param, strlen(param), false)) {
                conf_report(x, "a %s parameter that is not clean UTF-8 text — ignored", CONF_CMDLINE_PREFIX "*");
                return;
        }
        conf_excerpt(param, v, sizeof v);
        k = conf_key_from_cmdline_name(name, strlen(name));
        if (k < 0) {
                hint = conf_key_suggest(name, strlen(name), true);
                conf_report(x, "unknown parameter %s — ignored%s%s%s%s", v, hint ? " (did you mean " : "",
                            hint ? CONF_CMDLINE_PREFIX : "", hint ?: "", hint ? "?)" : "");
                return;
        }
        if (rd)
                conf_report_level(x, LOG_NOTICE, "%s= is read as %s%s=", v, CONF_CMDLINE_PREFIX,
                                  conf_key_cmdline_name(k));
        if (!val) {
                if (!conf_key_is_boolean(k)) {
                        conf_report(x, "%s needs a value (%s=...) — ignored", v, v);
                        return;
                }
                val = (char *) "yes"; /* a bare flag, as systemd reads one */
        }
        if (!conf_utf8_valid(val, strlen(val)) || conf_has_control(val, strlen(val), true)) {
                conf_report(x, "%s= has a value that is not clean UTF-8 text — ignored", v);
                return;
        }

        /* Spaces inside quotes are the value's; around it, they are not. */
        val += strspn(val, " \t");
        end = val + strlen(val);
        while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
                *--end = '\0';
        x->key_text = param;
        conf_set(x, k, val);
}

int conf_parse_cmdline(struct recovery_config *c, const char *cmdline, conf_diag_t diag, void *userdata) {
        _cleanup_free_ char *copy = NULL;
        struct conf_ctx x;
        size_t len;
        char *p;

        conf_ctx_init(&x, c, CONF_SOURCE_CMDLINE, CONF_CMDLINE_SOURCE, diag, userdata);
        len = strnlen(cmdline, CONF_CMDLINE_MAX + 1);
        if (len > CONF_CMDLINE_MAX) {
                conf_report(&x, "longer than %d KiB — ignored", CONF_CMDLINE_MAX / 1024);
                return conf_ctx_finish(&x);
        }
        copy = strndup(cmdline, len);
        if (!copy) {
                conf_report(&x, "out of memory — ignored");
                return conf_ctx_finish(&x);
        }

        p = skip_spaces(copy);
        while (*p) {
                char *param, *val;

                p = next_arg(p, &param, &val);
                if (!val && !strcmp(param, "--"))
                        break;
                parse_param(&x, param, val);
        }
        return conf_ctx_finish(&x);
}

int conf_parse_cmdline_file(struct recovery_config *c, const char *path, conf_diag_t diag, void *userdata) {
        _cleanup_free_ char *text = NULL;
        struct conf_ctx x;
        size_t size;
        int r;

        r = conf_read_file(path, CONF_CMDLINE_MAX, &text, &size);
        if (r == -ENOENT) {
                log_debug("%s does not exist, no kernel command line.", path);
                return 0;
        }
        if (r < 0) {
                conf_ctx_init(&x, c, CONF_SOURCE_CMDLINE, path, diag, userdata);
                conf_report(&x, "cannot be read (%s) — ignored", r == -EINVAL ? "not a regular file" : strerror(-r));
                return conf_ctx_finish(&x);
        }
        if (strlen(text) < size) {
                conf_ctx_init(&x, c, CONF_SOURCE_CMDLINE, path, diag, userdata);
                conf_report(&x, "holds a NUL byte — read up to it");
                return conf_ctx_finish(&x) + conf_parse_cmdline(c, text, diag, userdata);
        }
        return conf_parse_cmdline(c, text, diag, userdata);
}

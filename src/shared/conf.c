/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recovery.conf: defaults, the file in systemd's style, the checks across
 * keys, loading all sources, and the text of the effective configuration.
 *
 * The file: "Key=Value" lines, "#" or ";" comments, blank lines, and an
 * optional [Recovery] header. Lines before any header belong to [Recovery]
 * (the file has only that section, so the header is optional). Other
 * sections are reported once and their lines ignored, except "X-" ones,
 * ignored silently as systemd does. Names are case-sensitive, as in
 * systemd. Whitespace around the key and the value is trimmed, and quotes
 * around the whole value are removed. No line continuation (no value needs
 * one). A line that cannot be trusted (too long, a NUL byte, not UTF-8, a
 * control character) is reported and skipped as a whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conf-internal.h"
#include "log.h"

void conf_init_defaults(struct recovery_config *c) {
        *c = (struct recovery_config) {
                .n_relays = 1,
                .tunnel_port = KAIROS_DEFAULT_TUNNEL_PORT,
                .plain_ssh = false,
                .plain_ssh_port = CONF_DEFAULT_PLAIN_SSH_PORT,
                .n_consoles = 0,
                .plymouth = CONF_PLYMOUTH_AUTO,
                .max_startups = CONF_DEFAULT_MAX_STARTUPS,
                .max_auth_tries = CONF_DEFAULT_MAX_AUTH_TRIES,
                .auth_timeout_sec = CONF_DEFAULT_AUTH_TIMEOUT_SEC,
                .handshake_timeout_sec = CONF_DEFAULT_HANDSHAKE_TIMEOUT_SEC,
                .waiter_replace_sec = CONF_DEFAULT_WAITER_REPLACE_SEC,
                .log_level = LOG_INFO,
        };
        strcpy(c->relays[0], KAIROS_DEFAULT_RELAY);
        strcpy(c->host_key, CONF_DEFAULT_HOST_KEY);
        strcpy(c->authorized_keys, CONF_DEFAULT_AUTHORIZED_KEYS);
        strcpy(c->machine_key, CONF_DEFAULT_MACHINE_KEY);
}

/* ---- the file ---- */

enum section { SECTION_RECOVERY, SECTION_OTHER };

static const char *trim(char *s, char **end) {
        char *e;

        s += strspn(s, " \t");
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
        *e = '\0';
        if (end)
                *end = e;
        return s;
}

static void parse_section(struct conf_ctx *x, char *line, size_t len, enum section *section) {
        char v[CONF_EXCERPT_MAX + 4];

        if (len < 2 || line[len - 1] != ']') {
                conf_excerpt(line, v, sizeof v);
                conf_report(x, "\"%s\" is not a section header — ignored", v);
                return;
        }
        line[len - 1] = '\0';
        if (!strcmp(line + 1, "Recovery")) {
                *section = SECTION_RECOVERY;
                return;
        }
        *section = SECTION_OTHER;
        if (!strncmp(line + 1, "X-", 2))
                return; /* extensions, for other tools */
        conf_excerpt(line + 1, v, sizeof v);
        conf_report(x, "unknown section [%s] — its lines are ignored%s", v,
                    !strcasecmp(line + 1, "Recovery") ? " (did you mean [Recovery]?)" : "");
}

static void parse_line(struct conf_ctx *x, const char *raw, size_t len, enum section *section) {
        char buf[CONF_LINE_MAX + 1], v[CONF_EXCERPT_MAX + 4], *line, *eq, *vend;
        const char *key, *value, *hint;
        size_t vlen;
        int k;

        if (len > CONF_LINE_MAX) {
                conf_report(x, "line is longer than %d bytes — ignored", CONF_LINE_MAX);
                return;
        }
        if (memchr(raw, '\0', len)) {
                conf_report(x, "line holds a NUL byte — ignored");
                return;
        }
        if (len > 0 && raw[len - 1] == '\r')
                len--; /* written on Windows */
        if (!conf_utf8_valid(raw, len)) {
                conf_report(x, "line is not valid UTF-8 — ignored");
                return;
        }
        if (conf_has_control(raw, len, true)) {
                conf_report(x, "line holds a control character — ignored");
                return;
        }
        memcpy(buf, raw, len);
        buf[len] = '\0';
        line = (char *) trim(buf, NULL);
        if (!*line || *line == '#' || *line == ';')
                return;
        if (*line == '[') {
                parse_section(x, line, strlen(line), section);
                return;
        }
        if (*section != SECTION_RECOVERY)
                return;

        eq = strchr(line, '=');
        if (!eq) {
                conf_excerpt(line, v, sizeof v);
                conf_report(x, "\"%s\" is not Key=Value — ignored", v);
                return;
        }
        *eq = '\0';
        key = trim(line, NULL);
        value = trim(eq + 1, &vend);
        vlen = (size_t) (vend - value);
        if (vlen >= 2 && (*value == '"' || *value == '\'') && vend[-1] == *value) {
                vend[-1] = '\0';
                value++;
        }
        if (!*key) {
                conf_report(x, "a value without a key — ignored");
                return;
        }
        k = conf_key_from_name(key, strlen(key));
        if (k < 0) {
                hint = conf_key_suggest(key, strlen(key), false);
                conf_excerpt(key, v, sizeof v);
                conf_report(x, "unknown key \"%s\" — ignored%s%s%s", v, hint ? " (did you mean " : "",
                            hint ?: "", hint ? "?)" : "");
                return;
        }
        x->key_text = conf_key_name(k);
        conf_set(x, k, value);
}

int conf_parse_text(struct recovery_config *c, const char *text, size_t size, const char *filename,
                    conf_diag_t diag, void *userdata) {
        enum section section = SECTION_RECOVERY;
        const char *p = text, *end = text + size;
        struct conf_ctx x;

        conf_ctx_init(&x, c, CONF_SOURCE_FILE, filename, diag, userdata);
        if (strlen(filename) < sizeof c->file)
                strcpy(c->file, filename);
        if (size >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
                p += 3; /* a byte order mark, as some editors write */
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);

                x.line++;
                parse_line(&x, p, len, &section);
                p += len + (nl ? 1 : 0);
        }
        return conf_ctx_finish(&x);
}

int conf_read_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        /* O_NONBLOCK: a FIFO put in its place must not hang the daemon. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        /* st_size is 0 for /proc files: read to the end, one byte past max. */
        buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;
        while (n <= max) {
                ssize_t l = read(fd, buf + n, max + 1 - n);

                if (l < 0 && errno == EINTR)
                        continue;
                if (l < 0)
                        return negative_errno();
                if (l == 0)
                        break;
                n += (size_t) l;
        }
        if (n > max)
                return -EFBIG;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int conf_parse_file(struct recovery_config *c, const char *path, conf_diag_t diag, void *userdata) {
        _cleanup_free_ char *text = NULL;
        struct conf_ctx x;
        size_t size;
        int r;

        r = conf_read_file(path, CONF_FILE_MAX, &text, &size);
        if (r == -ENOENT) {
                log_debug("%s does not exist, using the defaults.", path);
                return 0;
        }
        if (r < 0) {
                conf_ctx_init(&x, c, CONF_SOURCE_FILE, path, diag, userdata);
                if (r == -EINVAL)
                        conf_report(&x, "not a regular file — ignored");
                else if (r == -EFBIG)
                        conf_report(&x, "larger than %d KiB — ignored", CONF_FILE_MAX / 1024);
                else
                        conf_report(&x, "cannot be read (%s) — ignored", strerror(-r));
                return conf_ctx_finish(&x);
        }
        return conf_parse_text(c, text, size, path, diag, userdata);
}

/* ---- the whole ---- */

int conf_verify(struct recovery_config *c, conf_diag_t diag, void *userdata) {
        struct conf_ctx x;

        conf_ctx_init(&x, c, CONF_SOURCE_DEFAULT, "configuration", diag, userdata);
        /* Run by hand, both would be bound: the tunnel is what recovery
         * needs, plain SSH is the opt-in extra, so that one gives way. */
        if (c->plain_ssh && c->plain_ssh_port == c->tunnel_port) {
                conf_report(&x, "PlainSSHPort=%u is the tunnel port too — plain SSH stays off", c->plain_ssh_port);
                c->plain_ssh = false;
        }
        return conf_ctx_finish(&x);
}

int conf_load(struct recovery_config *c, const char *path, const char *cmdline, conf_diag_t diag,
              void *userdata) {
        int problems = 0;

        conf_init_defaults(c);
        /* The default file is optional; a file named on purpose (--config)
         * that is not there is a mistake worth a word: most likely a typo,
         * and the defaults are not what was meant. Still no failure. */
        if (path && access(path, F_OK) < 0 && errno == ENOENT) {
                struct conf_ctx x;

                conf_ctx_init(&x, c, CONF_SOURCE_FILE, path, diag, userdata);
                conf_report(&x, "does not exist — using the built-in defaults");
                problems += conf_ctx_finish(&x);
        } else
                problems += conf_parse_file(c, path ?: CONF_DEFAULT_PATH, diag, userdata);
        if (cmdline)
                problems += conf_parse_cmdline(c, cmdline, diag, userdata);
        else
                problems += conf_parse_cmdline_file(c, "/proc/cmdline", diag, userdata);
        problems += conf_verify(c, diag, userdata);
        return problems;
}

bool conf_equal(const struct recovery_config *a, const struct recovery_config *b) {
        if (a->n_relays != b->n_relays || a->n_consoles != b->n_consoles || a->n_notify_keys != b->n_notify_keys)
                return false;
        for (size_t i = 0; i < a->n_notify_keys; i++)
                if (strcmp(a->notify_keys[i], b->notify_keys[i]))
                        return false;
        for (size_t i = 0; i < a->n_relays; i++)
                if (strcmp(a->relays[i], b->relays[i]))
                        return false;
        for (size_t i = 0; i < a->n_consoles; i++)
                if (strcmp(a->consoles[i], b->consoles[i]))
                        return false;
        return a->tunnel_port == b->tunnel_port && a->plain_ssh == b->plain_ssh &&
               a->plain_ssh_port == b->plain_ssh_port && a->plymouth == b->plymouth &&
               !strcmp(a->host_key, b->host_key) && !strcmp(a->authorized_keys, b->authorized_keys) &&
               a->max_startups == b->max_startups && a->max_auth_tries == b->max_auth_tries &&
               a->auth_timeout_sec == b->auth_timeout_sec &&
               a->handshake_timeout_sec == b->handshake_timeout_sec && a->waiter_replace_sec == b->waiter_replace_sec &&
               a->log_level == b->log_level && !strcmp(a->notify_url, b->notify_url) &&
               !strcmp(a->notify_ca, b->notify_ca) && a->notify_format == b->notify_format &&
               !strcmp(a->machine_key, b->machine_key) && a->auto_recovery == b->auto_recovery &&
               !strcmp(a->auto_recovery_units, b->auto_recovery_units) && a->unlock == b->unlock;
}

/* ---- show-config ---- */

static const char *none_means(enum conf_key k) {
        switch (k) {
        case CONF_KEY_RELAY: return "no relay: the direct path only";
        case CONF_KEY_CONSOLE: return "none given: the active consoles";
        case CONF_KEY_HOST_KEY: return "none: a new host key every boot";
        case CONF_KEY_AUTHORIZED_KEYS: return "none: no public key logins";
        case CONF_KEY_NOTIFY_KEY: return "none: the code is sealed to nobody and not sent";
        case CONF_KEY_NOTIFY_URL: return "none: the code is not sent";
        case CONF_KEY_NOTIFY_CA: return "none: the system's certificate authorities only";
        case CONF_KEY_AUTO_RECOVERY_UNITS: return "none: no unit's failure starts recovery";
        default: return NULL;
        }
}

/* A value that reading the file would change (whitespace at either end,
 * which is trimmed, or a pair of quotes around it, which is removed) goes
 * out in quotes, so that the text reads back as the same configuration. */
static void render_value(FILE *f, const char *name, const char *value) {
        size_t n = strlen(value);
        bool quote = n > 0 && (strchr(" \t", value[0]) || strchr(" \t", value[n - 1]) ||
                               (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]));

        fprintf(f, quote ? "%s=\"%s\"\n" : "%s=%s\n", name, value);
}

static void render_key(const struct recovery_config *c, enum conf_key k, FILE *f) {
        const struct conf_origin *o = &c->origin[k];
        const char *name = conf_key_name(k);
        char value[CONF_PATH_MAX];

        if (o->source == CONF_SOURCE_FILE && o->line > 0)
                fprintf(f, "# from %s:%u\n", *c->file ? c->file : "the configuration file", o->line);
        else if (o->source == CONF_SOURCE_FILE)
                fprintf(f, "# from %s\n", *c->file ? c->file : "the configuration file");
        else if (o->source == CONF_SOURCE_CMDLINE)
                fprintf(f, "# from the kernel command line (%s%s=)\n", CONF_CMDLINE_PREFIX,
                        conf_key_cmdline_name(k));

        /* Lists one entry a line: the first replaces the default, the
         * others add to it, as when the file is read. */
        if (k == CONF_KEY_RELAY || k == CONF_KEY_CONSOLE || k == CONF_KEY_NOTIFY_KEY) {
                size_t n = k == CONF_KEY_RELAY ? c->n_relays : k == CONF_KEY_CONSOLE ? c->n_consoles : c->n_notify_keys;

                if (n == 0)
                        fprintf(f, "# %s\n%s=\n", none_means(k), name);
                for (size_t i = 0; i < n; i++)
                        render_value(f, name, k == CONF_KEY_RELAY ? c->relays[i] :
                                              k == CONF_KEY_CONSOLE ? c->consoles[i] : c->notify_keys[i]);
                return;
        }
        conf_format_value(c, k, value, sizeof value);
        if (!*value && none_means(k))
                fprintf(f, "# %s\n", none_means(k));
        render_value(f, name, value);
}

int conf_render(const struct recovery_config *c, char **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        FILE *f;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fputs("# The effective configuration of kairos-recovery: the built-in defaults,\n"
              "# then " CONF_DEFAULT_PATH " (or the file given), then the kernel\n"
              "# command line (" CONF_CMDLINE_PREFIX "*). Read as recovery.conf, it gives\n"
              "# the same configuration.\n"
              "[Recovery]\n", f);
        for (int k = 0; k < _CONF_KEY_MAX; k++)
                render_key(c, k, f);
        if (fclose(f) != 0 || !text)
                return -ENOMEM;
        *ret = TAKE_PTR(text);
        return 0;
}

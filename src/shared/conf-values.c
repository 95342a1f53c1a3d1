/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The keys of recovery.conf and of the kernel command line, and the one
 * setter per key both use: the value is checked, a bad one is reported with
 * what is kept instead, a good one is stored with its origin. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "conf-internal.h"
#include "log.h"

static const struct {
        const char *name, *cmdline;
} keys[_CONF_KEY_MAX] = {
        [CONF_KEY_RELAY] = { "Relay", "relay" },
        [CONF_KEY_TUNNEL_PORT] = { "TunnelPort", "tunnel_port" },
        [CONF_KEY_PLAIN_SSH] = { "PlainSSH", "plain_ssh" },
        [CONF_KEY_PLAIN_SSH_PORT] = { "PlainSSHPort", "plain_ssh_port" },
        [CONF_KEY_CONSOLE] = { "Console", "console" },
        [CONF_KEY_PLYMOUTH] = { "Plymouth", "plymouth" },
        [CONF_KEY_HOST_KEY] = { "HostKey", "host_key" },
        [CONF_KEY_AUTHORIZED_KEYS] = { "AuthorizedKeys", "authorized_keys" },
        [CONF_KEY_MAX_STARTUPS] = { "MaxStartups", "max_startups" },
        [CONF_KEY_MAX_AUTH_TRIES] = { "MaxAuthTries", "max_auth_tries" },
        [CONF_KEY_AUTH_TIMEOUT] = { "AuthTimeoutSec", "auth_timeout_sec" },
        [CONF_KEY_HANDSHAKE_TIMEOUT] = { "HandshakeTimeoutSec", "handshake_timeout_sec" },
        [CONF_KEY_WAITER_REPLACE] = { "WaiterReplaceSec", "waiter_replace_sec" },
        [CONF_KEY_LOG_LEVEL] = { "LogLevel", "log_level" },
        [CONF_KEY_NOTIFY_KEY] = { "NotifyKey", "notify_key" },
        [CONF_KEY_NOTIFY_URL] = { "NotifyURL", "notify_url" },
        [CONF_KEY_NOTIFY_CA] = { "NotifyCA", "notify_ca" },
        [CONF_KEY_NOTIFY_FORMAT] = { "NotifyFormat", "notify_format" },
        [CONF_KEY_MACHINE_KEY] = { "MachineKey", "machine_key" },
        [CONF_KEY_AUTO_RECOVERY] = { "AutoRecovery", "auto_recovery" },
        [CONF_KEY_AUTO_RECOVERY_UNITS] = { "AutoRecoveryUnits", "auto_recovery_units" },
        [CONF_KEY_UNLOCK] = { "Unlock", "unlock" },
};

static const char *const log_levels[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

const char *conf_key_name(enum conf_key k) {
        return (unsigned) k < _CONF_KEY_MAX ? keys[k].name : NULL;
}

const char *conf_key_cmdline_name(enum conf_key k) {
        return (unsigned) k < _CONF_KEY_MAX ? keys[k].cmdline : NULL;
}

const char *conf_notify_format_to_string(enum conf_notify_format f) {
        return f == CONF_NOTIFY_NTFY ? "ntfy" : "plain";
}

const char *conf_plymouth_to_string(enum conf_plymouth p) {
        switch (p) {
        case CONF_PLYMOUTH_YES: return "yes";
        case CONF_PLYMOUTH_NO: return "no";
        default: return "auto";
        }
}

const char *conf_log_level_to_string(int level) {
        return level >= 0 && level < (int) ELEMENTSOF(log_levels) ? log_levels[level] : NULL;
}

bool conf_key_is_boolean(enum conf_key k) {
        return k == CONF_KEY_PLAIN_SSH || k == CONF_KEY_PLYMOUTH || k == CONF_KEY_AUTO_RECOVERY || k == CONF_KEY_UNLOCK;
}

int conf_key_from_name(const char *name, size_t len) {
        for (int k = 0; k < _CONF_KEY_MAX; k++)
                if (strlen(keys[k].name) == len && !memcmp(keys[k].name, name, len))
                        return k;
        return -1;
}

/* The kernel's parameq(): '-' and '_' are the same. */
int conf_key_from_cmdline_name(const char *name, size_t len) {
        for (int k = 0; k < _CONF_KEY_MAX; k++) {
                const char *n = keys[k].cmdline;
                size_t i;

                if (strlen(n) != len)
                        continue;
                for (i = 0; i < len; i++)
                        if (n[i] != name[i] && !(n[i] == '_' && name[i] == '-'))
                                break;
                if (i == len)
                        return k;
        }
        return -1;
}

/* Lowercase, without '_' and '-': "Tunnel_Port", "tunnel-port" and
 * "TunnelPort" all become "tunnelport". */
static size_t fold(const char *s, size_t len, char *out, size_t size) {
        size_t n = 0;

        for (size_t i = 0; i < len && n + 1 < size; i++)
                if (s[i] != '_' && s[i] != '-')
                        out[n++] = (char) tolower((unsigned char) s[i]);
        out[n] = '\0';
        return n;
}

static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb) {
        size_t row[64];

        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];

                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
                        diag = up;
                }
        }
        return row[lb];
}

const char *conf_key_suggest(const char *name, size_t len, bool cmdline) {
        char want[64], have[64];
        size_t lw, best = 3;
        const char *found = NULL;

        if (len >= sizeof want)
                return NULL;
        lw = fold(name, len, want, sizeof want);
        if (lw < 3)
                return NULL;
        for (int k = 0; k < _CONF_KEY_MAX; k++) {
                size_t lh = fold(keys[k].name, strlen(keys[k].name), have, sizeof have);
                size_t d;

                /* The distance is at least the difference of the lengths. */
                if ((lw > lh ? lw - lh : lh - lw) >= best)
                        continue;
                d = edit_distance(want, lw, have, lh);

                if (d < best) {
                        best = d;
                        found = cmdline ? keys[k].cmdline : keys[k].name;
                }
        }
        return found;
}

/* ---- values ---- */

void conf_format_value(const struct recovery_config *c, enum conf_key k, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        switch (k) {
        case CONF_KEY_RELAY:
                for (size_t i = 0; i < c->n_relays; i++)
                        n += (size_t) snprintf(buf + MIN(n, size - 1), size - MIN(n, size - 1), "%s%s",
                                               i ? " " : "", c->relays[i]);
                break;
        case CONF_KEY_CONSOLE:
                for (size_t i = 0; i < c->n_consoles; i++)
                        n += (size_t) snprintf(buf + MIN(n, size - 1), size - MIN(n, size - 1), "%s%s",
                                               i ? " " : "", c->consoles[i]);
                break;
        case CONF_KEY_TUNNEL_PORT: snprintf(buf, size, "%u", c->tunnel_port); break;
        case CONF_KEY_PLAIN_SSH_PORT: snprintf(buf, size, "%u", c->plain_ssh_port); break;
        case CONF_KEY_PLAIN_SSH: snprintf(buf, size, "%s", c->plain_ssh ? "yes" : "no"); break;
        case CONF_KEY_PLYMOUTH: snprintf(buf, size, "%s", conf_plymouth_to_string(c->plymouth)); break;
        case CONF_KEY_HOST_KEY: snprintf(buf, size, "%s", c->host_key); break;
        case CONF_KEY_AUTHORIZED_KEYS: snprintf(buf, size, "%s", c->authorized_keys); break;
        case CONF_KEY_MAX_STARTUPS: snprintf(buf, size, "%u", c->max_startups); break;
        case CONF_KEY_MAX_AUTH_TRIES: snprintf(buf, size, "%u", c->max_auth_tries); break;
        case CONF_KEY_AUTH_TIMEOUT: snprintf(buf, size, "%u", c->auth_timeout_sec); break;
        case CONF_KEY_HANDSHAKE_TIMEOUT: snprintf(buf, size, "%u", c->handshake_timeout_sec); break;
        case CONF_KEY_WAITER_REPLACE: snprintf(buf, size, "%u", c->waiter_replace_sec); break;
        case CONF_KEY_LOG_LEVEL:
                snprintf(buf, size, "%s", conf_log_level_to_string(c->log_level) ?: "info");
                break;
        case CONF_KEY_NOTIFY_KEY:
                for (size_t i = 0; i < c->n_notify_keys; i++)
                        n += (size_t) snprintf(buf + MIN(n, size - 1), size - MIN(n, size - 1), "%s%s",
                                               i ? " " : "", c->notify_keys[i]);
                break;
        case CONF_KEY_NOTIFY_URL: snprintf(buf, size, "%s", c->notify_url); break;
        case CONF_KEY_NOTIFY_CA: snprintf(buf, size, "%s", c->notify_ca); break;
        case CONF_KEY_NOTIFY_FORMAT: snprintf(buf, size, "%s", conf_notify_format_to_string(c->notify_format)); break;
        case CONF_KEY_MACHINE_KEY: snprintf(buf, size, "%s", c->machine_key); break;
        case CONF_KEY_AUTO_RECOVERY: snprintf(buf, size, "%s", c->auto_recovery ? "yes" : "no"); break;
        case CONF_KEY_AUTO_RECOVERY_UNITS: snprintf(buf, size, "%s", c->auto_recovery_units); break;
        case CONF_KEY_UNLOCK: snprintf(buf, size, "%s", c->unlock ? "yes" : "no"); break;
        default: break;
        }
}

/* "... — keeping 7140": what stays, bounded. */
static const char *kept(struct conf_ctx *x, enum conf_key k, char *buf, size_t size) {
        char full[CONF_PATH_MAX];

        conf_format_value(x->c, k, full, sizeof full);
        if (!*full)
                return "none";
        conf_excerpt(full, buf, size);
        return buf;
}

static void bad_value(struct conf_ctx *x, enum conf_key k, const char *value, const char *what) {
        char v[CONF_EXCERPT_MAX + 4], keep[CONF_EXCERPT_MAX + 4];

        conf_excerpt(value, v, sizeof v);
        conf_report(x, "%s=%s is not %s — keeping %s", x->key_text, v, what, kept(x, k, keep, sizeof keep));
}

static void stored(struct conf_ctx *x, enum conf_key k) {
        x->c->origin[k] = (struct conf_origin) { x->kind, x->kind == CONF_SOURCE_FILE ? x->line : 0 };
}

/* Decimal digits only (no sign, no spaces inside), at most max. */
static bool parse_number(const char *s, unsigned long max, unsigned long *ret) {
        unsigned long v = 0;

        if (!*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (unsigned long) (*s - '0');
                if (v > max)
                        return false;
        }
        *ret = v;
        return true;
}

static int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (!strcasecmp(s, yes[i]))
                        return 1;
                if (!strcasecmp(s, no[i]))
                        return 0;
        }
        return -EINVAL;
}

/* Seconds, as systemd writes time spans: "30", "45s", "2min", "1h 30min". */
static bool parse_seconds(const char *s, unsigned long max, unsigned long *ret) {
        static const struct {
                const char *unit;
                unsigned long factor;
        } units[] = {
                { "", 1 },        { "s", 1 },       { "sec", 1 },     { "second", 1 }, { "seconds", 1 },
                { "m", 60 },      { "min", 60 },    { "minute", 60 }, { "minutes", 60 },
                { "h", 3600 },    { "hr", 3600 },   { "hour", 3600 }, { "hours", 3600 },
        };
        unsigned long total = 0;
        bool any = false;

        for (;;) {
                unsigned long v = 0, factor = 0;
                const char *u;
                size_t ul;

                s += strspn(s, " \t");
                if (!*s)
                        break;
                if (*s < '0' || *s > '9')
                        return false;
                for (; *s >= '0' && *s <= '9'; s++)
                        if ((v = v * 10 + (unsigned long) (*s - '0')) > max)
                                return false;
                s += strspn(s, " \t");
                u = s;
                while (isalpha((unsigned char) *s))
                        s++;
                ul = (size_t) (s - u);
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (strlen(units[i].unit) == ul && !strncasecmp(units[i].unit, u, ul))
                                factor = units[i].factor;
                if (factor == 0 || v > max / factor || (total += v * factor) > max)
                        return false;
                any = true;
        }
        if (!any)
                return false;
        *ret = total;
        return true;
}

static int parse_log_level(const char *s) {
        unsigned long v;

        if (parse_number(s, 7, &v))
                return (int) v;
        for (size_t i = 0; i < ELEMENTSOF(log_levels); i++)
                if (!strcasecmp(s, log_levels[i]))
                        return (int) i;
        if (!strcasecmp(s, "error"))
                return LOG_ERR;
        if (!strcasecmp(s, "warn"))
                return LOG_WARNING;
        return -EINVAL;
}

/* ---- lists ---- */

static bool console_name_valid(const char *s) {
        if (!isalpha((unsigned char) s[0]) || strlen(s) >= CONF_CONSOLE_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_.:+-", *s))
                        return false;
        return true;
}

static void add_relay(struct conf_ctx *x, const char *entry) {
        struct recovery_config *c = x->c;
        char host[256], text[KAIROS_RELAY_TEXT_MAX], v[CONF_EXCERPT_MAX + 4];
        uint16_t port;

        conf_excerpt(entry, v, sizeof v);
        if (relay_parse(entry, host, sizeof host, &port) < 0) {
                x->list_rejected[CONF_LIST_RELAY]++;
                x->list_line[CONF_LIST_RELAY] = x->line;
                conf_report(x, "%s=%s is not tcp:HOST:PORT — ignored", x->key_text, v);
                return;
        }
        /* Its shortest form: no leading zeros, brackets only around IPv6.
         * relay_parse() takes a bracketed host of 253 characters, which
         * with brackets and port no longer fits. */
        if (snprintf(text, sizeof text, strchr(host, ':') ? "tcp:[%s]:%u" : "tcp:%s:%u", host, port) >=
            (int) sizeof text) {
                x->list_rejected[CONF_LIST_RELAY]++;
                x->list_line[CONF_LIST_RELAY] = x->line;
                conf_report(x, "%s=%s is too long — ignored", x->key_text, v);
                return;
        }
        for (size_t i = 0; i < c->n_relays; i++)
                if (!strcasecmp(c->relays[i], text)) {
                        conf_report_level(x, LOG_NOTICE, "%s=%s is listed already — ignored", x->key_text, v);
                        return;
                }
        if (c->n_relays >= CONF_MAX_RELAYS) {
                conf_report(x, "%s=%s: more than %d relays — ignored", x->key_text, v, CONF_MAX_RELAYS);
                return;
        }
        memcpy(c->relays[c->n_relays++], text, sizeof text);
}

static void add_console(struct conf_ctx *x, const char *entry) {
        struct recovery_config *c = x->c;
        char v[CONF_EXCERPT_MAX + 4];

        conf_excerpt(entry, v, sizeof v);
        /* "/dev/ttyS0" is what people write, and means ttyS0. */
        if (!strncmp(entry, "/dev/", 5))
                entry += 5;
        if (!console_name_valid(entry)) {
                x->list_rejected[CONF_LIST_CONSOLE]++;
                x->list_line[CONF_LIST_CONSOLE] = x->line;
                conf_report(x, "%s=%s is not a console device name (such as tty1 or ttyS0) — ignored",
                            x->key_text, v);
                return;
        }
        for (size_t i = 0; i < c->n_consoles; i++)
                if (!strcmp(c->consoles[i], entry)) {
                        conf_report_level(x, LOG_NOTICE, "%s=%s is listed already — ignored", x->key_text, v);
                        return;
                }
        if (c->n_consoles >= CONF_MAX_CONSOLES) {
                conf_report(x, "%s=%s: more than %d consoles — ignored", x->key_text, v, CONF_MAX_CONSOLES);
                return;
        }
        strcpy(c->consoles[c->n_consoles++], entry);
}

static void add_notify_key(struct conf_ctx *x, const char *entry) {
        struct recovery_config *c = x->c;
        char v[CONF_EXCERPT_MAX + 4], why[256], text[KEYS_TEXT_MAX];
        uint8_t raw[KEYS_RAW_SIZE];

        conf_excerpt(entry, v, sizeof v);
        if (key_from_text(KEY_OPERATOR_PUBLIC, entry, raw, why, sizeof why) < 0) {
                x->list_rejected[CONF_LIST_NOTIFY_KEY]++;
                x->list_line[CONF_LIST_NOTIFY_KEY] = x->line;
                conf_report(x, "%s=%s is not an operator public key (%s) — ignored", x->key_text, v, why);
                return;
        }
        key_to_text(KEY_OPERATOR_PUBLIC, raw, text);
        for (size_t i = 0; i < c->n_notify_keys; i++)
                if (!strcmp(c->notify_keys[i], text)) {
                        conf_report_level(x, LOG_NOTICE, "%s=%s is listed already — ignored", x->key_text, v);
                        return;
                }
        if (c->n_notify_keys >= CONF_MAX_NOTIFY_KEYS) {
                conf_report(x, "%s=%s: more than %d keys — ignored", x->key_text, v, CONF_MAX_NOTIFY_KEYS);
                return;
        }
        strcpy(c->notify_keys[c->n_notify_keys++], text);
}

/* Entries are separated by commas and/or whitespace, in the file as on the
 * command line. The first assignment in a source replaces the list; an
 * assignment without entries empties it. */
static void set_list(struct conf_ctx *x, enum conf_key k, const char *value) {
        int l = k == CONF_KEY_RELAY ? CONF_LIST_RELAY : k == CONF_KEY_CONSOLE ? CONF_LIST_CONSOLE : CONF_LIST_NOTIFY_KEY;
        size_t *n = k == CONF_KEY_RELAY ? &x->c->n_relays : k == CONF_KEY_CONSOLE ? &x->c->n_consoles : &x->c->n_notify_keys;
        const char *p = value + strspn(value, ", \t");

        if (!x->list_assigned[l] || !*p) {
                *n = 0;
                x->list_assigned[l] = true;
                x->list_rejected[l] = 0;
                stored(x, k); /* show-config points where the list starts */
        }
        while (*p) {
                size_t len = strcspn(p, ", \t");
                char entry[KAIROS_RELAY_TEXT_MAX + 1];

                if (len >= sizeof entry) {
                        x->list_rejected[l]++;
                        x->list_line[l] = x->line;
                        char v[CONF_EXCERPT_MAX + 4];

                        memcpy(entry, p, sizeof entry - 1);
                        entry[sizeof entry - 1] = '\0';
                        conf_excerpt(entry, v, sizeof v);
                        conf_report(x, "%s=%s is too long — ignored", x->key_text, v);
                } else {
                        memcpy(entry, p, len);
                        entry[len] = '\0';
                        if (k == CONF_KEY_RELAY)
                                add_relay(x, entry);
                        else if (k == CONF_KEY_CONSOLE)
                                add_console(x, entry);
                        else
                                add_notify_key(x, entry);
                }
                p += len;
                p += strspn(p, ", \t");
        }
}

/* ---- the setter ---- */

/* Each returns NULL, or what the value should have been. */
static const char *set_port(uint16_t *field, const char *value) {
        unsigned long v;

        if (!parse_number(value, 65535, &v) || v == 0)
                return "a port (1-65535)";
        *field = (uint16_t) v;
        return NULL;
}

static const char *set_unsigned(unsigned *field, const char *value, unsigned long min, unsigned long max,
                                bool seconds, char *what, size_t size) {
        unsigned long v;

        if ((seconds ? !parse_seconds(value, max, &v) : !parse_number(value, max, &v)) || v < min) {
                snprintf(what, size, seconds ? "a time from %lus to %lus" : "a number from %lu to %lu", min, max);
                return what;
        }
        *field = (unsigned) v;
        return NULL;
}

/* Empty: none (see conf.h). Relative paths would depend on the daemon's
 * working directory, which nobody reading the file knows. */
static const char *set_path(char *field, const char *value) {
        if (*value && value[0] != '/')
                return "an absolute path";
        if (strlen(value) >= CONF_PATH_MAX)
                return "a path of at most 4095 bytes";
        strcpy(field, value);
        return NULL;
}

/* Empty: none. Only what libcurl is asked to speak, and nothing a header
 * or a log line could be broken by. */
static const char *set_url(char *field, const char *value) {
        if (*value && strncasecmp(value, "https://", 8) && strncasecmp(value, "http://", 7))
                return "an https:// (or http://) URL";
        if (strlen(value) >= CONF_URL_MAX)
                return "a URL of at most 1023 bytes";
        for (const char *p = value; *p; p++)
                if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
                        return "a URL without spaces or other characters to escape";
        strcpy(field, value);
        return NULL;
}

/* Unit names ("foo.service", "bar@x.mount"), separated by commas or spaces,
 * stored separated by one space: what a generator writes drop-ins for. */
static const char *set_units(char *field, const char *value) {
        char out[CONF_UNITS_MAX];
        size_t n = 0;

        for (const char *p = value + strspn(value, ", \t"); *p; p += strspn(p, ", \t")) {
                size_t len = strcspn(p, ", \t");
                const char *dot = memchr(p, '.', len);

                if (!dot || dot == p || dot == p + len - 1)
                        return "unit names such as foo.service";
                for (size_t i = 0; i < len; i++)
                        if (!isalnum((unsigned char) p[i]) && !strchr(":-_.@\\", p[i]))
                                return "unit names such as foo.service";
                if (n + len + 2 > sizeof out)
                        return "a list of at most 1023 bytes";
                if (n)
                        out[n++] = ' ';
                memcpy(out + n, p, len);
                n += len;
                p += len;
        }
        out[n] = '\0';
        memcpy(field, out, n + 1);
        return NULL;
}

static const char *set_notify_format(enum conf_notify_format *field, const char *value) {
        if (!strcasecmp(value, "plain"))
                *field = CONF_NOTIFY_PLAIN;
        else if (!strcasecmp(value, "ntfy"))
                *field = CONF_NOTIFY_NTFY;
        else
                return "plain or ntfy";
        return NULL;
}

static const char *set_plymouth(enum conf_plymouth *field, const char *value) {
        int r;

        if (!strcasecmp(value, "auto")) {
                *field = CONF_PLYMOUTH_AUTO;
                return NULL;
        }
        if ((r = parse_boolean(value)) < 0)
                return "auto, yes or no";
        *field = r ? CONF_PLYMOUTH_YES : CONF_PLYMOUTH_NO;
        return NULL;
}

void conf_set(struct conf_ctx *x, enum conf_key k, const char *value) {
        struct recovery_config *c = x->c;
        const char *bad = NULL;
        char what[96];
        int r;

        switch (k) {
        case CONF_KEY_RELAY:
        case CONF_KEY_CONSOLE:
        case CONF_KEY_NOTIFY_KEY:
                set_list(x, k, value); /* reports entry by entry */
                return;
        case CONF_KEY_TUNNEL_PORT: bad = set_port(&c->tunnel_port, value); break;
        case CONF_KEY_PLAIN_SSH_PORT: bad = set_port(&c->plain_ssh_port, value); break;
        case CONF_KEY_PLAIN_SSH:
                if ((r = parse_boolean(value)) < 0)
                        bad = "a boolean (yes or no)";
                else
                        c->plain_ssh = r;
                break;
        case CONF_KEY_PLYMOUTH: bad = set_plymouth(&c->plymouth, value); break;
        case CONF_KEY_HOST_KEY: bad = set_path(c->host_key, value); break;
        case CONF_KEY_AUTHORIZED_KEYS: bad = set_path(c->authorized_keys, value); break;
        case CONF_KEY_MAX_STARTUPS:
                bad = set_unsigned(&c->max_startups, value, 1, 1000, false, what, sizeof what);
                break;
        case CONF_KEY_MAX_AUTH_TRIES:
                bad = set_unsigned(&c->max_auth_tries, value, 1, 100, false, what, sizeof what);
                break;
        case CONF_KEY_AUTH_TIMEOUT:
                bad = set_unsigned(&c->auth_timeout_sec, value, 1, 3600, true, what, sizeof what);
                break;
        case CONF_KEY_HANDSHAKE_TIMEOUT:
                /* Over 10 min a stranger could hold a helper as long as a login. */
                bad = set_unsigned(&c->handshake_timeout_sec, value, 1, 600, true, what, sizeof what);
                break;
        case CONF_KEY_WAITER_REPLACE:
                /* Below 30 s a waiter would be replaced faster than a relay
                 * on a slow link registers it. */
                bad = set_unsigned(&c->waiter_replace_sec, value, 30, 86400, true, what, sizeof what);
                break;
        case CONF_KEY_LOG_LEVEL:
                if ((r = parse_log_level(value)) < 0)
                        bad = "a log level (err, warning, notice, info, debug or 0-7)";
                else
                        c->log_level = r;
                break;
        case CONF_KEY_NOTIFY_URL: bad = set_url(c->notify_url, value); break;
        case CONF_KEY_NOTIFY_CA: bad = set_path(c->notify_ca, value); break;
        case CONF_KEY_NOTIFY_FORMAT: bad = set_notify_format(&c->notify_format, value); break;
        case CONF_KEY_MACHINE_KEY: bad = set_path(c->machine_key, value); break;
        case CONF_KEY_AUTO_RECOVERY:
                if ((r = parse_boolean(value)) < 0)
                        bad = "a boolean (yes or no)";
                else
                        c->auto_recovery = r;
                break;
        case CONF_KEY_AUTO_RECOVERY_UNITS: bad = set_units(c->auto_recovery_units, value); break;
        case CONF_KEY_UNLOCK:
                if ((r = parse_boolean(value)) < 0)
                        bad = "a boolean (yes or no)";
                else
                        c->unlock = r;
                break;
        default:
                return;
        }
        if (bad)
                bad_value(x, k, value, bad);
        else
                stored(x, k);
}

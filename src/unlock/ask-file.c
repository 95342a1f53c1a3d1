/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ask.* file parser: systemd's INI dialect, as far as an ask file uses
 * it. Lines end at '\n'; leading and trailing whitespace is dropped; '#'
 * and ';' start comments; "[Section]" switches sections; "Key=Value" sets.
 * Nothing here reads a file or the clock: the fuzz target and the unit
 * test drive it with bytes. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "ask-file.h"
#include "macro.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
}

static int hex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n) {
        size_t len;
        uint32_t cp;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2, cp = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                len = 3, cp = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                len = 4, cp = s[0] & 0x07;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        /* C1 controls (U+0080-U+009F) act as escapes on some terminals */
        if (cp >= 0x80 && cp <= 0x9f)
                return 0;
        return len;
}

void ask_clean_text(const char *in, size_t len, char *out, size_t size) {
        unsigned char raw[ASK_FILE_MAX];
        size_t n = 0, o = 0;

        if (size == 0)
                return;
        /* 1. undo systemd's cescape() */
        for (size_t i = 0; i < len && n < sizeof raw; i++) {
                char c = in[i];
                if (c != '\\' || i + 1 >= len) {
                        raw[n++] = (unsigned char) c;
                        continue;
                }
                c = in[++i];
                switch (c) {
                case 'n': raw[n++] = '\n'; break;
                case 't': raw[n++] = '\t'; break;
                case 'r': raw[n++] = '\r'; break;
                case 'a': raw[n++] = '\a'; break;
                case 'b': raw[n++] = '\b'; break;
                case 'f': raw[n++] = '\f'; break;
                case 'v': raw[n++] = '\v'; break;
                case 'x':
                        if (i + 2 < len && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                                raw[n++] = (unsigned char) (hex(in[i + 1]) << 4 | hex(in[i + 2]));
                                i += 2;
                        } else
                                raw[n++] = 'x';
                        break;
                default: raw[n++] = (unsigned char) c; break; /* \\ \" \' and the unknown */
                }
        }
        /* 2. printable UTF-8 only */
        for (size_t i = 0; i < n;) {
                size_t l = utf8_len(raw + i, n - i);
                if (l == 0 || raw[i] < 0x20 || raw[i] == 0x7f) {
                        if (o + 1 >= size)
                                break;
                        out[o++] = '?';
                        i += l ? l : 1;
                        continue;
                }
                if (o + l >= size)
                        break;
                memcpy(out + o, raw + i, l);
                o += l;
                i += l;
        }
        out[o] = '\0';
}

static int parse_u64(const char *s, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0 || len > 20)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int parse_bool(const char *s, size_t len) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strlen(yes[i]) == len && !strncasecmp(s, yes[i], len))
                        return 1;
                if (strlen(no[i]) == len && !strncasecmp(s, no[i], len))
                        return 0;
        }
        return -EINVAL;
}

static bool key_is(const char *key, size_t klen, const char *name) {
        return strlen(name) == klen && !memcmp(key, name, klen);
}

/* One "Key=Value" line of the [Ask] section. */
static int parse_assignment(struct ask_request *r, const char *line, size_t len, bool *have_socket) {
        const char *eq = memchr(line, '=', len);
        const char *key = line, *val;
        size_t klen, vlen;
        uint64_t u;
        int b;

        if (!eq)
                return -EINVAL; /* systemd's parser rejects such a line */
        klen = (size_t) (eq - line);
        while (klen > 0 && is_blank(key[klen - 1]))
                klen--;
        val = eq + 1;
        vlen = len - (size_t) (val - line);
        while (vlen > 0 && is_blank(*val))
                val++, vlen--;

        if (key_is(key, klen, "Socket")) {
                /* An absolute path that fits sun_path, no control bytes. */
                if (vlen == 0) {
                        *have_socket = false;
                        return 0;
                }
                if (val[0] != '/' || vlen >= sizeof r->socket)
                        return -EINVAL;
                for (size_t i = 0; i < vlen; i++)
                        if ((unsigned char) val[i] < 0x20 || val[i] == 0x7f)
                                return -EINVAL;
                memcpy(r->socket, val, vlen);
                r->socket[vlen] = '\0';
                *have_socket = true;
        } else if (key_is(key, klen, "PID")) {
                if (parse_u64(val, vlen, &u) < 0 || u > INT32_MAX)
                        return -EINVAL;
                r->pid = (pid_t) u;
        } else if (key_is(key, klen, "NotAfter")) {
                if (parse_u64(val, vlen, &u) < 0)
                        return -EINVAL;
                r->not_after = u;
        } else if (key_is(key, klen, "Echo") || key_is(key, klen, "AcceptCached")) {
                if ((b = parse_bool(val, vlen)) < 0)
                        return -EINVAL;
                if (key[0] == 'E')
                        r->echo = b;
                else
                        r->accept_cached = b;
        } else if (key_is(key, klen, "Message"))
                ask_clean_text(val, vlen, r->message, sizeof r->message);
        else if (key_is(key, klen, "Id"))
                ask_clean_text(val, vlen, r->id, sizeof r->id);
        /* Icon=, Silent=, Keyring= and what a later systemd adds: not ours */
        return 0;
}

int ask_parse(const char *text, size_t size, struct ask_request *ret) {
        struct ask_request r = {};
        bool in_ask = false, seen_ask = false, have_socket = false;
        const char *p = text, *end = text + size;

        if (!text || size > ASK_FILE_MAX || memchr(text, '\0', size))
                return -EINVAL;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *line = p, *le = nl ? nl : end;
                size_t len;

                p = nl ? nl + 1 : end;
                while (line < le && is_blank(*line))
                        line++;
                while (le > line && is_blank(le[-1]))
                        le--;
                len = (size_t) (le - line);
                if (len == 0 || line[0] == '#' || line[0] == ';')
                        continue;
                if (line[0] == '[') {
                        if (line[len - 1] != ']')
                                return -EINVAL;
                        in_ask = len == 5 && !memcmp(line, "[Ask]", 5);
                        seen_ask = seen_ask || in_ask;
                        continue;
                }
                if (!in_ask)
                        continue;
                if (parse_assignment(&r, line, len, &have_socket) < 0)
                        return -EINVAL;
        }
        if (!seen_ask || !have_socket)
                return -EINVAL;
        *ret = r;
        return 0;
}

static bool pid_alive_kill(pid_t pid) {
        return kill(pid, 0) >= 0 || errno != ESRCH;
}

bool ask_is_live(const struct ask_request *r, uint64_t now_usec, bool (*pid_alive)(pid_t pid)) {
        if (r->not_after > 0 && now_usec > r->not_after)
                return false;
        if (r->pid > 0 && !(pid_alive ?: pid_alive_kill)(r->pid))
                return false;
        return true;
}

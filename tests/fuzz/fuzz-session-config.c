/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session helper's inputs that are not libssh's: the configuration
 * datagram (config_parse(), from the main process, not NUL-terminated) and
 * control_sanitize(), which turns the user name a client sent into text for
 * the event line and the journal. The datagram does not cross a trust
 * boundary (both processes are root); it is here because a parser that
 * handles the secret must fail cleanly whatever it is given.
 * Input: the datagram; its first byte also sets the sanitizer's room.
 *
 * Oracle: a datagram that parses has a transport, a secret, 1 to 4 absolute
 * host key paths, a hostname and a peer, and bounds respected; one that does
 * not leaves no secret and nothing allocated behind, and a reason that never
 * quotes the secret's digits. The sanitized name is printable ASCII without
 * blanks, at most 64 characters, never empty, within its buffer. */
#include <stdbool.h>
#include <string.h>
#include <syslog.h>

#include "control.h"
#include "fuzz.h"
#include "log.h"

FUZZ_CORPUS("session-config");

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        log_set_max_level(LOG_CRIT);
        return 0;
}

static bool all_zero(const void *p, size_t n) {
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                if (b[i])
                        return false;
        return true;
}

static void check_sanitize(const uint8_t *data, size_t size) {
        size_t room = size > 0 ? data[0] % 80 : 0;
        char *in = strndup((const char *) data, size), *out = malloc(room ? room : 1);
        size_t len;

        if (!in || !out)
                abort();
        control_sanitize(in, out, room);
        if (room > 0) {
                len = strlen(out);
                FUZZ_ASSERT(len < room && len <= 64);
                FUZZ_ASSERT(len > 0 || room == 1);
                for (size_t i = 0; i < len; i++)
                        FUZZ_ASSERT(out[i] > ' ' && out[i] < 0x7f);
        }
        free(in);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct session_config c;
        char why[128];
        int r;

        check_sanitize(data, size);

        r = config_parse((const char *) data, size, &c, why, sizeof why);
        FUZZ_ASSERT(memchr(why, '\0', sizeof why));
        if (r < 0) {
                FUZZ_ASSERT(why[0]);
                FUZZ_ASSERT(!c.have_secret && all_zero(c.secret, sizeof c.secret));
                FUZZ_ASSERT(c.n_hostkeys == 0 && !c.authorized_keys);
                /* "secret" followed by hex digits: the reason must not echo them. */
                for (const uint8_t *p = data; (p = memmem(p, size - (size_t) (p - data), "secret ", 7)); p++) {
                        char value[9];
                        if (size - (size_t) (p - data) < 7 + 8)
                                break;
                        memcpy(value, p + 7, 8);
                        value[8] = '\0';
                        if (strspn(value, "0123456789abcdefABCDEF") == 8)
                                FUZZ_ASSERT(!strstr(why, value));
                }
                return 0;
        }
        FUZZ_ASSERT(c.transport == SESSION_TRANSPORT_SSH || c.transport == SESSION_TRANSPORT_TUNNEL);
        FUZZ_ASSERT(c.have_secret);
        FUZZ_ASSERT(c.n_hostkeys >= 1 && c.n_hostkeys <= HELLO_MAX_KEYS);
        for (size_t i = 0; i < c.n_hostkeys; i++)
                FUZZ_ASSERT(c.hostkeys[i] && c.hostkeys[i][0] == '/');
        FUZZ_ASSERT(!c.authorized_keys || c.authorized_keys[0] == '/');
        FUZZ_ASSERT(memchr(c.hostname, '\0', sizeof c.hostname) && c.hostname[0]);
        FUZZ_ASSERT(memchr(c.peer, '\0', sizeof c.peer) && c.peer[0]);
        FUZZ_ASSERT(c.max_auth_tries >= 1 && c.max_auth_tries <= 100);
        FUZZ_ASSERT(c.auth_timeout >= 1 && c.auth_timeout <= 3600);
        config_done(&c);
        FUZZ_ASSERT(all_zero(&c, sizeof c));
        return 0;
}

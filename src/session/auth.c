/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authorized-keys.h"
#include "log.h"
#include "server.h"

/* Each failed password costs the client this much more, up to the cap:
 * online guessing gets nowhere near the password's 79 bits anyway, but
 * there is no reason to make it cheap. */
#define AUTH_DELAY_STEP_MSEC 1000
#define AUTH_DELAY_MAX_MSEC 4000

static bool key_authorized(struct server *s, ssh_key key) {
        for (size_t i = 0; key && i < s->n_authorized; i++)
                if (ssh_key_cmp(key, s->authorized[i], SSH_KEY_CMP_PUBLIC) == 0)
                        return true;
        return false;
}

/* The password as a person may type it, like the token: any case, with or
 * without the dashes, spaces anywhere. The alphabet has one case and no
 * dash or space (kdf.h), so this folds no two passwords together and the
 * strength is unchanged. Into out, at most size - 1 characters; false if
 * longer (not the password anyway). */
static bool password_normalize(const char *in, char *out, size_t size) {
        size_t n = 0;

        for (; *in; in++) {
                char c = *in;

                if (c == '-' || c == ' ' || c == '\t')
                        continue;
                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                if (n + 1 >= size)
                        return false;
                out[n++] = c;
        }
        out[n] = '\0';
        return true;
}

static bool password_matches(struct server *s, const char *given) {
        char a[256], b[256];
        bool ok;

        if (!given || !password_normalize(given, a, sizeof a) || !password_normalize(s->password, b, sizeof b))
                ok = false;
        else
                /* Both normalized, then compared in constant time. */
                ok = strlen(a) == strlen(b) && sodium_memcmp(a, b, strlen(b)) == 0;
        sodium_memzero(a, sizeof a);
        sodium_memzero(b, sizeof b);
        return ok;
}

static void sleep_msec(unsigned msec) {
        struct timespec ts = { .tv_sec = msec / 1000, .tv_nsec = (long) (msec % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void success(struct server *s, ssh_message msg, const char *method, const char *user) {
        if (ssh_message_auth_reply_success(msg, 0) != SSH_OK) {
                server_end(s, "cannot confirm authentication");
                return;
        }
        s->authenticated = true;
        /* No further authentication can happen on this connection. */
        sodium_memzero(s->password, sizeof s->password);
        control_event("authenticated %s %s", method, user);
        log_info("Authenticated %s (%s) from %s.", user, method, s->config->peer);
}

static void failure(struct server *s, ssh_message msg, const char *method, const char *user, bool slow) {
        s->auth_failures++;
        control_event("auth-failed %s %s", method, user);
        log_notice("Failed %s authentication for %s from %s (%u of %u).", method, user, s->config->peer,
                   s->auth_failures, s->config->max_auth_tries);
        if (slow)
                sleep_msec(MIN(s->auth_failures * AUTH_DELAY_STEP_MSEC, AUTH_DELAY_MAX_MSEC));
        if (s->auth_failures >= s->config->max_auth_tries) {
                ssh_session_set_disconnect_message(s->ssh, "Too many authentication failures");
                server_end(s, "too many authentication failures");
                return;
        }
        ssh_message_reply_default(msg);
}

/* libssh 0.10 marks these message accessors deprecated in favour of server
 * callbacks, but a session with server callbacks never queues messages,
 * and only a queued message lets the reply to a direct-tcpip channel open
 * wait for the connection to its target (forward.c). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void auth_handle(struct server *s, ssh_message msg) {
        char user[80];

        control_sanitize(ssh_message_auth_user(msg), user, sizeof user);
        if (s->authenticated) {
                ssh_message_reply_default(msg);
                return;
        }
        /* Every session is root's: a login as another name would still get
         * root, so it is refused rather than silently mapped (and counts as
         * a try, as an unknown user does in sshd). The client may ask again
         * with another name: each request is checked. */
        if (strcmp(ssh_message_auth_user(msg) ?: "", "root") != 0 &&
            (ssh_message_subtype(msg) == SSH_AUTH_METHOD_PASSWORD || ssh_message_subtype(msg) == SSH_AUTH_METHOD_PUBLICKEY)) {
                log_notice("User name \"%s\" refused from %s: only root can log in.", user, s->config->peer);
                failure(s, msg, ssh_message_subtype(msg) == SSH_AUTH_METHOD_PASSWORD ? "password" : "publickey", user,
                        false);
                return;
        }
        switch (ssh_message_subtype(msg)) {
        case SSH_AUTH_METHOD_PASSWORD:
                if (password_matches(s, ssh_message_auth_password(msg)))
                        success(s, msg, "password", user);
                else
                        failure(s, msg, "password", user, true);
                return;
        case SSH_AUTH_METHOD_PUBLICKEY: {
                bool known = key_authorized(s, ssh_message_auth_pubkey(msg));

                switch (ssh_message_auth_publickey_state(msg)) {
                case SSH_PUBLICKEY_STATE_NONE:
                        /* "Would this key do?" A known key gets a yes and a
                         * signature follows; an unknown one counts as a try,
                         * as in sshd, without the delay (nothing to guess). */
                        if (known)
                                ssh_message_auth_reply_pk_ok_simple(msg);
                        else
                                failure(s, msg, "publickey", user, false);
                        return;
                case SSH_PUBLICKEY_STATE_VALID:
                        /* libssh verified the signature over this session. */
                        if (known)
                                success(s, msg, "publickey", user);
                        else
                                failure(s, msg, "publickey", user, true);
                        return;
                default:
                        failure(s, msg, "publickey", user, true);
                        return;
                }
        }
        default:
                /* "none" (the client asking what it may use) and methods we
                 * do not offer: the reply lists password and publickey. */
                ssh_message_reply_default(msg);
        }
}
#pragma GCC diagnostic pop

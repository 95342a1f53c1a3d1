/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "session-protocol.h"

static int control_fd = -1;

static int parse_unsigned(const char *value, unsigned min, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!*value || *value == '-' || *value == '+')
                return -EINVAL;
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || *end || v < min || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int parse_line(struct session_config *c, const char *key, const char *value, char *why, size_t why_size) {
        if (!strcmp(key, "transport")) {
                if (!strcmp(value, "ssh"))
                        c->transport = SESSION_TRANSPORT_SSH;
                else if (!strcmp(value, "tunnel"))
                        c->transport = SESSION_TRANSPORT_TUNNEL;
                else
                        goto bad;
        } else if (!strcmp(key, "secret") || !strcmp(key, "retired_secret")) {
                bool retired = key[0] == 'r';
                uint8_t *into = retired ? c->retired_secret : c->secret;
                size_t n = 0;

                if (strlen(value) != 2 * KAIROS_SECRET_SIZE ||
                    sodium_hex2bin(into, KAIROS_SECRET_SIZE, value, strlen(value), NULL, &n, NULL) < 0 ||
                    n != KAIROS_SECRET_SIZE) {
                        /* Never echo the value: it may be most of a secret. */
                        snprintf(why, why_size, "%s is not %d hex digits", key, 2 * KAIROS_SECRET_SIZE);
                        return -EINVAL;
                }
                if (retired)
                        c->have_retired_secret = true;
                else
                        c->have_secret = true;
        } else if (!strcmp(key, "hostkey")) {
                if (c->n_hostkeys >= ELEMENTSOF(c->hostkeys)) {
                        snprintf(why, why_size, "more than %zu host keys", ELEMENTSOF(c->hostkeys));
                        return -EINVAL;
                }
                if (*value != '/')
                        goto bad;
                c->hostkeys[c->n_hostkeys] = strdup(value);
                if (!c->hostkeys[c->n_hostkeys])
                        return -ENOMEM;
                c->n_hostkeys++;
        } else if (!strcmp(key, "authorized_keys")) {
                if (*value != '/')
                        goto bad;
                free(c->authorized_keys);
                c->authorized_keys = strdup(value);
                if (!c->authorized_keys)
                        return -ENOMEM;
        } else if (!strcmp(key, "hostname")) {
                if (!*value || strlen(value) >= sizeof c->hostname)
                        goto bad;
                snprintf(c->hostname, sizeof c->hostname, "%s", value);
        } else if (!strcmp(key, "peer"))
                snprintf(c->peer, sizeof c->peer, "%s", value);
        else if (!strcmp(key, "max_auth_tries")) {
                if (parse_unsigned(value, 1, 100, &c->max_auth_tries) < 0)
                        goto bad;
        } else if (!strcmp(key, "auth_timeout")) {
                if (parse_unsigned(value, 1, 3600, &c->auth_timeout) < 0)
                        goto bad;
        } else if (!strcmp(key, "handshake_timeout")) {
                if (parse_unsigned(value, 1, 600, &c->handshake_timeout) < 0)
                        goto bad;
        } else
                log_debug("Skipping unknown configuration key \"%s\".", key);
        return 0;
bad:
        snprintf(why, why_size, "bad value for %s", key);
        return -EINVAL;
}

int config_parse(const char *text, size_t len, struct session_config *c, char *why, size_t why_size) {
        _cleanup_free_ char *copy = NULL;
        char *line, *save = NULL;
        int r = 0;

        *c = (struct session_config) {
                .max_auth_tries = SESSION_DEFAULT_MAX_AUTH_TRIES,
                .auth_timeout = SESSION_DEFAULT_AUTH_TIMEOUT,
                .handshake_timeout = SESSION_DEFAULT_HANDSHAKE_TIMEOUT,
        };
        snprintf(why, why_size, "malformed");
        if (memchr(text, '\0', len))
                return -EINVAL;
        copy = strndup(text, len);
        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *value = strchr(line, ' ');

                if (!value) {
                        snprintf(why, why_size, "a line without a value");
                        r = -EINVAL;
                        break;
                }
                *value++ = '\0';
                r = parse_line(c, line, value, why, why_size);
                if (r < 0)
                        break;
        }
        sodium_memzero(copy, len);
        if (r >= 0 && c->transport == SESSION_TRANSPORT_UNSET) {
                snprintf(why, why_size, "no transport");
                r = -EINVAL;
        }
        if (r >= 0 && !c->have_secret) {
                snprintf(why, why_size, "no secret");
                r = -EINVAL;
        }
        if (r >= 0 && c->n_hostkeys == 0) {
                snprintf(why, why_size, "no host key");
                r = -EINVAL;
        }
        if (r >= 0 && !c->hostname[0] && gethostname(c->hostname, sizeof c->hostname - 1) < 0)
                snprintf(c->hostname, sizeof c->hostname, "localhost");
        if (r >= 0 && !c->peer[0])
                snprintf(c->peer, sizeof c->peer, "unknown");
        if (r < 0)
                config_done(c);
        return r;
}

void config_done(struct session_config *c) {
        for (size_t i = 0; i < c->n_hostkeys; i++)
                free(c->hostkeys[i]);
        free(c->authorized_keys);
        sodium_memzero(c, sizeof *c);
}

int control_read_config(int fd, struct session_config *c, usec_t deadline) {
        char buf[SESSION_CONFIG_MAX], why[128];
        ssize_t n;
        int r;

        for (;;) {
                n = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
                if (n >= 0 || (errno != EAGAIN && errno != EINTR))
                        break;
                r = fd_wait(fd, POLLIN, deadline);
                if (r < 0)
                        return log_error_errno(r, "No configuration from the main process: %m");
        }
        if (n < 0)
                return log_error_errno(negative_errno(), "Cannot read the configuration: %m");
        if (n == 0)
                return log_error_errno(-ECONNRESET, "The main process closed the control socket before the configuration.");
        if ((size_t) n > sizeof buf) {
                sodium_memzero(buf, sizeof buf);
                return log_error_errno(-EMSGSIZE, "The configuration is larger than %d bytes.", SESSION_CONFIG_MAX);
        }
        r = config_parse(buf, (size_t) n, c, why, sizeof why);
        sodium_memzero(buf, sizeof buf);
        if (r < 0)
                return log_error_errno(r, "Bad configuration from the main process: %s.", why);
        return 0;
}

void control_set_fd(int fd) {
        control_fd = fd;
}

void control_event(const char *format, ...) {
        char text[SESSION_EVENT_MAX];
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(text, sizeof text, format, ap);
        va_end(ap);
        if (n < 0)
                return;
        log_debug("Event: %s", text);
        if (control_fd < 0)
                return;
        /* SEQPACKET keeps each event one datagram; never block on a busy
         * main process for long, and never die of SIGPIPE. */
        for (unsigned attempt = 0;; attempt++) {
                int r = 0;

                if (send(control_fd, text, MIN((size_t) n, sizeof text - 1), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
                        return;
                r = negative_errno();
                if (r == -EAGAIN && attempt == 0 &&
                    fd_wait(control_fd, POLLOUT, deadline_after(2 * USEC_PER_SEC)) >= 0)
                        continue;
                log_warning_errno(r, "Cannot report \"%s\" to the main process: %m", text);
                return;
        }
}

void control_sanitize(const char *in, char *out, size_t size) {
        size_t i = 0;

        if (size == 0)
                return;
        for (; in && in[i] && i < 64 && i + 1 < size; i++)
                out[i] = in[i] > ' ' && in[i] < 0x7f ? in[i] : '?';
        if (i == 0 && size > 1)
                out[i++] = '-';
        out[i] = '\0';
}

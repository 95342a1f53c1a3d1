/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "relay.h"

int relay_request(const char *channel, const char *side, char *out, size_t size) {
        int n = snprintf(out, size, "please relay %s for side %s\n", channel, side);

        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return n;
}

static int classify(const char *line, size_t len) {
        if (len == 2 && !memcmp(line, "ok", 2))
                return 1;
        if (len == 9 && !memcmp(line, "impatient", 9))
                return -EBUSY;
        if (len == 13 && !memcmp(line, "bad handshake", 13))
                return -EPROTO;
        return -EBADMSG;
}

int relay_reply_feed(struct relay_reply *r, const uint8_t *data, size_t len, size_t *consumed) {
        for (size_t i = 0; i < len; i++) {
                if (data[i] == '\n') {
                        *consumed = i + 1;
                        return classify(r->buf, r->len);
                }
                if (r->len >= sizeof r->buf) {
                        *consumed = i;
                        return -EBADMSG;
                }
                r->buf[r->len++] = (char) data[i];
        }
        *consumed = len;
        return 0;
}

int relay_wait_paired(int fd, const char *channel, const char *side, usec_t deadline) {
        struct relay_reply reply = {};
        char line[RELAY_LINE_MAX];
        int n, r;

        n = relay_request(channel, side, line, sizeof line);
        if (n < 0)
                return n;
        r = write_full(fd, line, (size_t) n, deadline);
        if (r < 0)
                return r;
        for (;;) {
                uint8_t b;
                size_t used;
                ssize_t k = read(fd, &b, 1);

                if (k == 0)
                        return -ECONNRESET;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        r = fd_wait(fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = relay_reply_feed(&reply, &b, 1, &used);
                if (r != 0)
                        return r > 0 ? 0 : r;
        }
}

const char *relay_strerror(int error) {
        switch (error) {
        case -EBUSY: return "the relay says we were impatient (bytes sent before pairing)";
        case -EPROTO: return "the relay did not understand our request (bad handshake)";
        case -EBADMSG: return "the relay answered something that is not the transit relay protocol";
        case -ECONNRESET: return "the relay closed the connection without pairing (another connection took this slot, or the relay went away)";
        case -ETIMEDOUT: return "nobody paired with us at the relay in time";
        case -ECONNREFUSED: return "the relay refused the connection (not running at that address?)";
        default: return strerror(-error);
        }
}

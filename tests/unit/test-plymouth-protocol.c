/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plymouth-protocol.h: the bytes of each request as plymouth's own client
 * writes them (ply_boot_client_get_request_string(): "%s\002%c%s" and the
 * NUL, or the command and the NUL), the one-byte answers, and the socket
 * name bound the way plymouthd binds it (abstract, trimmed length). The
 * real plymouthd answers in tests/integration/plymouth.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "plymouth-protocol.h"
#include "tap.h"

static void test_requests(void) {
        uint8_t buf[PLYMOUTH_REQUEST_MAX];
        char arg[PLYMOUTH_ARGUMENT_MAX + 2];
        ssize_t n;

        n = plymouth_request(buf, PLYMOUTH_PING, NULL);
        tap_ok(n == 2 && memcmp(buf, "P\0", 2) == 0, "ping is 'P' NUL");
        n = plymouth_request(buf, PLYMOUTH_HIDE_SPLASH, NULL);
        tap_ok(n == 2 && memcmp(buf, "H\0", 2) == 0, "hide-splash is 'H' NUL");

        n = plymouth_request(buf, PLYMOUTH_SHOW_MESSAGE, "hi there");
        tap_ok(n == 12 && memcmp(buf, "M\002\011hi there\0", 12) == 0,
               "display-message: 'M', \\002, length with the NUL (9), text, NUL (got %zd bytes)", n);
        n = plymouth_request(buf, PLYMOUTH_SHOW_MESSAGE, "");
        tap_ok(n == 4 && memcmp(buf, "M\002\001\0", 4) == 0, "an empty argument: length 1, just the NUL");

        memset(arg, 'a', PLYMOUTH_ARGUMENT_MAX);
        arg[PLYMOUTH_ARGUMENT_MAX] = '\0';
        n = plymouth_request(buf, PLYMOUTH_SHOW_MESSAGE, arg);
        tap_ok(n == PLYMOUTH_REQUEST_MAX && buf[2] == 255 && buf[PLYMOUTH_REQUEST_MAX - 1] == '\0',
               "254 characters: the length byte is 255, the request fills the buffer");
        arg[PLYMOUTH_ARGUMENT_MAX] = 'a';
        arg[PLYMOUTH_ARGUMENT_MAX + 1] = '\0';
        tap_ok(plymouth_request(buf, PLYMOUTH_SHOW_MESSAGE, arg) == -EINVAL,
               "255 characters are refused (the length byte would wrap to 0)");
        tap_ok(plymouth_request(buf, '\002', NULL) == -EINVAL && plymouth_request(buf, '\0', NULL) == -EINVAL,
               "command bytes plymouthd would misread are refused");
}

static void test_replies(void) {
        tap_ok(plymouth_reply(0x06) == 1, "ACK \\006 is 1");
        tap_ok(plymouth_reply(0x15) == 0, "NAK \\025 is 0");
        /* Every other byte, the answers with a payload (\002, \t, \005)
         * among them: we never ask what they answer. */
        int bad = 0;
        for (int b = 0; b < 256; b++)
                if (b != 0x06 && b != 0x15 && plymouth_reply((uint8_t) b) != -EBADMSG)
                        bad++;
        tap_ok(bad == 0, "every other byte is -EBADMSG (%d were not)", bad);
}

static void test_connect(void) {
        char name[64];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int l, c, a;
        uint8_t req[PLYMOUTH_REQUEST_MAX], got[PLYMOUTH_REQUEST_MAX];
        ssize_t n;

        snprintf(name, sizeof name, "/kairos-test/plymouthd-%d", (int) getpid());
        tap_ok(plymouth_connect(name) == -ECONNREFUSED, "nobody on the name: -ECONNREFUSED (no plymouthd)");

        /* Bound as plymouthd binds it: ply_listen_to_unix_socket() with
         * PLY_UNIX_SOCKET_TYPE_TRIMMED_ABSTRACT. */
        memcpy(sa.sun_path + 1, name, strlen(name));
        l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (!tap_ok(l >= 0 && bind(l, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) == 0 &&
                    listen(l, 1) == 0, "a listener on the trimmed abstract name"))
                return;
        c = plymouth_connect(name);
        tap_ok(c >= 0, "plymouth_connect() reaches it (%d)", c);
        if (c < 0) {
                close(l);
                return;
        }
        tap_ok((fcntl(c, F_GETFL) & O_NONBLOCK) && (fcntl(c, F_GETFD) & FD_CLOEXEC), "non-blocking and close-on-exec");
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        n = plymouth_request(req, PLYMOUTH_SHOW_MESSAGE, "x");
        tap_ok(a >= 0 && send(c, req, (size_t) n, 0) == n && recv(a, got, sizeof got, 0) == n && memcmp(got, "M\002\002x\0", 5) == 0,
               "a request arrives whole");
        close(a);
        close(c);
        close(l);
}

int main(void) {
        test_requests();
        test_replies();
        test_connect();
        return tap_done();
}

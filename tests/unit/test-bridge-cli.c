/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-bridge's command line and what it prints for scripts: the forms of
 * --listen, --direct and --relay accepted when the options are read (and
 * the ones refused: issue 15's "--relay 127.0.0.1:4001", "--direct HOST");
 * --ssh-config's names and Host block (absolute paths, quoting, no '%' or
 * quote that ssh would misread); --json lines that are valid JSON whatever
 * a message holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "events.h"
#include "serve.h"
#include "ssh-config.h"
#include "tap.h"

static void test_forms(void) {
        static const char *const listen_ok[] = { "127.0.0.1:2200", "127.0.0.1:0", "[::1]:2200", "[::1]:0",
                                                 "/run/user/0/kairos.sock", "./kairos.sock" };
        static const char *const listen_bad[] = { "2200", "127.0.0.1", "127.0.0.1:", ":2200", "127.0.0.1:99999",
                                                  "localhost", "[::1]", "" };
        static const char *const direct_ok[] = { "192.0.2.7:7140", "[2001:db8::7]:7140", "host.example:7140" };
        static const char *const direct_bad[] = { "192.0.2.7", "[2001:db8::7]", "192.0.2.7:", "192.0.2.7:0",
                                                  "192.0.2.7:70000", "tcp:192.0.2.7:7140", "" };
        static const char *const relay_ok[] = { "tcp:relay.example.org:4001", "tcp:127.0.0.1:4001", "tcp:[2001:db8::1]:4001" };
        static const char *const relay_bad[] = { "127.0.0.1:4001", "relay.example.org:4001", "tcp:relay.example.org",
                                                 "udp:relay:4001", "tcp::4001", "" };
        char host[256];
        uint16_t port;

        for (size_t i = 0; i < sizeof listen_ok / sizeof *listen_ok; i++)
                tap_ok(bridge_listen_check(listen_ok[i]) == 0, "--listen %s accepted", listen_ok[i]);
        for (size_t i = 0; i < sizeof listen_bad / sizeof *listen_bad; i++)
                tap_ok(bridge_listen_check(listen_bad[i]) < 0, "--listen '%s' refused", listen_bad[i]);
        tap_ok(bridge_listen_is_unix("/tmp/x.sock") && !bridge_listen_is_unix("127.0.0.1:2200"),
               "a slash makes --listen a Unix socket");
        for (size_t i = 0; i < sizeof direct_ok / sizeof *direct_ok; i++)
                tap_ok(dial_parse_direct(direct_ok[i], host, sizeof host, &port) == 0 && port == 7140,
                       "--direct %s accepted (host %s)", direct_ok[i], host);
        for (size_t i = 0; i < sizeof direct_bad / sizeof *direct_bad; i++)
                tap_ok(dial_parse_direct(direct_bad[i], host, sizeof host, &port) < 0, "--direct '%s' refused", direct_bad[i]);
        for (size_t i = 0; i < sizeof relay_ok / sizeof *relay_ok; i++)
                tap_ok(relay_parse(relay_ok[i], host, sizeof host, &port) == 0 && port == 4001, "--relay %s accepted",
                       relay_ok[i]);
        for (size_t i = 0; i < sizeof relay_bad / sizeof *relay_bad; i++)
                tap_ok(relay_parse(relay_bad[i], host, sizeof host, &port) < 0, "--relay '%s' refused", relay_bad[i]);
}

/* What f printed, as a string (caller frees). */
static char *slurp(FILE *f) {
        long n;
        char *s;

        fflush(f);
        n = ftell(f);
        rewind(f);
        s = calloc(1, (size_t) n + 1);
        if (s && fread(s, 1, (size_t) n, f) != (size_t) n)
                s[0] = '\0';
        return s;
}

static void test_ssh_config(void) {
        const char *direct[] = { "192.0.2.7:7140" }, *relays[] = { "tcp:relay.example.org:4001" };
        struct ssh_config_options o = {
                .name = "rescue", .image = "/home/me/Photos/screen shot.jpg",
                .direct = direct, .n_direct = 1, .relays = relays, .n_relays = 1, .direct_only = false,
                .timeout_sec = 30,
        };
        FILE *f = tmpfile();
        char *out;
        int r;

        tap_ok(ssh_config_name_valid("rescue") && ssh_config_name_valid("db-1.example_2"), "plain host names are valid");
        tap_ok(!ssh_config_name_valid("") && !ssh_config_name_valid("a b") && !ssh_config_name_valid("a%h") &&
                       !ssh_config_name_valid("-oProxyCommand=x") && !ssh_config_name_valid("a*") &&
                       !ssh_config_name_valid("a\nHost b"),
               "names with blanks, tokens, patterns, a leading dash or a newline are not");

        r = ssh_config_print(&o, f);
        out = slurp(f);
        tap_ok(r == 0 && out, "a Host block is printed");
        tap_ok(strstr(out, "\nHost rescue\n") != NULL, "it starts Host rescue");
        tap_ok(strstr(out, " --stdio -q --host-key-alias kairos-rescue --direct 192.0.2.7:7140 --relay tcp:relay.example.org:4001 "
                           "--timeout 30 --qr-code-image '/home/me/Photos/screen shot.jpg'\n") != NULL,
               "ProxyCommand carries the paths, the timeout and the quoted picture path");
        tap_ok(strstr(out, "\tHostKeyAlias kairos-rescue\n") && strstr(out, " --known-hosts %H\n") &&
                       strstr(out, "\tUserKnownHostsFile none\n") && strstr(out, "\tStrictHostKeyChecking yes\n"),
               "the key is pinned through KnownHostsCommand and nothing else");
        free(out);
        fclose(f);

        o.image = "/tmp/100%.jpg";
        f = tmpfile();
        tap_ok(ssh_config_print(&o, f) == -EINVAL, "a path with '%%' (an ssh token) is refused");
        fclose(f);
        o.image = "/tmp/it's.jpg";
        f = tmpfile();
        tap_ok(ssh_config_print(&o, f) == -EINVAL, "a path with a single quote is refused");
        fclose(f);
}

static void test_json(void) {
        const char *argv[] = { "ssh", "-o", "UserKnownHostsFile=/tmp/a b/known_hosts", "root@127.0.0.1", NULL };
        char path[] = "/tmp/test-bridge-cli.XXXXXX", buf[4096];
        int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
        ssize_t n;

        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        events_emit("nothing", "x", "y", NULL); /* not on: no output */
        events_set_json(true);
        events_emit("error", "message", "a \"quoted\" back\\slash, a tab\there and a newline\n", NULL);
        events_emit_number("sessions", "open", 3);
        events_ssh_command(argv);
        events_set_json(false);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
        unlink(path);

        tap_ok(strstr(buf, "nothing") == NULL, "without --json no event is written");
        tap_ok(strstr(buf, "{\"event\":\"error\",\"message\":\"a \\\"quoted\\\" back\\\\slash, a tab\\u0009here and a newline\\u000a\"}\n") != NULL,
               "quotes, backslashes and control characters are escaped");
        tap_ok(strstr(buf, "{\"event\":\"sessions\",\"open\":3}\n") != NULL, "numbers are numbers");
        tap_ok(strstr(buf, "\"command\":\"ssh -o 'UserKnownHostsFile=/tmp/a b/known_hosts' root@127.0.0.1\"") != NULL &&
                       strstr(buf, "\"argv\":[\"ssh\",\"-o\",\"UserKnownHostsFile=/tmp/a b/known_hosts\",\"root@127.0.0.1\"]") != NULL,
               "the ssh command comes quoted for a shell and as an argv");
        {
                size_t lines = 0;
                for (const char *p = buf; *p; p++)
                        lines += *p == '\n';
                tap_ok(lines == 3, "one line an event (%zu)", lines);
        }
}

int main(void) {
        test_forms();
        test_ssh_config();
        test_json();
        return tap_done();
}

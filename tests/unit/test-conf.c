/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration (conf.h): the defaults; every key in the file and on the
 * kernel command line; list replacement and reset; every class of problem
 * reported with its file and line while the value stays; the command line
 * over the file; the kernel's quoting; files that are missing, unreadable
 * or garbage; show-config read back. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"

struct diag {
        int level;
        char source[128];
        unsigned line;
        char message[512];
};

static struct diag diags[64];
static size_t n_diags;

static void collect(int level, const char *source, unsigned line, const char *message, void *userdata) {
        if (n_diags < sizeof diags / sizeof diags[0]) {
                struct diag *d = &diags[n_diags];

                d->level = level;
                snprintf(d->source, sizeof d->source, "%s", source);
                d->line = line;
                snprintf(d->message, sizeof d->message, "%s", message);
        }
        n_diags++;
}

static void show_diags(void) {
        for (size_t i = 0; i < n_diags && i < sizeof diags / sizeof diags[0]; i++)
                tap_diag("  %s:%u: %s", diags[i].source, diags[i].line, diags[i].message);
}

/* Exactly this message at source:line among the diagnostics. */
static int has_diag(const char *source, unsigned line, const char *message) {
        for (size_t i = 0; i < n_diags && i < sizeof diags / sizeof diags[0]; i++)
                if (diags[i].line == line && !strcmp(diags[i].source, source) && !strcmp(diags[i].message, message))
                        return 1;
        return 0;
}

static int diag_ok(const char *source, unsigned line, const char *message) {
        int ok = tap_ok(has_diag(source, line, message), "reported %s:%u: %s", source, line, message);
        if (!ok)
                show_diags();
        return ok;
}

static struct recovery_config cfg;

/* The defaults, then text as recovery.conf; returns the problems. */
static int parse(const char *text) {
        n_diags = 0;
        conf_init_defaults(&cfg);
        return conf_parse_text(&cfg, text, strlen(text), "recovery.conf", collect, NULL);
}

static int parse_cmdline(const char *cmdline) {
        n_diags = 0;
        return conf_parse_cmdline(&cfg, cmdline, collect, NULL);
}

static int relays_are(const char *const *want, size_t n) {
        int ok = cfg.n_relays == n;

        for (size_t i = 0; ok && i < n; i++)
                ok = !strcmp(cfg.relays[i], want[i]);
        if (!ok)
                for (size_t i = 0; i < cfg.n_relays; i++)
                        tap_diag("  relay %zu: %s", i, cfg.relays[i]);
        return ok;
}

#define RELAYS(...) relays_are((const char *const[]) { __VA_ARGS__ }, \
                               sizeof((const char *const[]) { __VA_ARGS__ }) / sizeof(const char *))

static void test_defaults(void) {
        conf_init_defaults(&cfg);
        tap_ok(cfg.n_relays == 1 && !strcmp(cfg.relays[0], KAIROS_DEFAULT_RELAY), "default relay: %s", KAIROS_DEFAULT_RELAY);
        tap_ok(cfg.tunnel_port == 7140, "default tunnel port 7140");
        tap_ok(!cfg.plain_ssh && cfg.plain_ssh_port == 2222, "plain SSH off by default, port 2222");
        tap_ok(cfg.n_consoles == 0, "no consoles by default: the active ones");
        tap_ok(cfg.plymouth == CONF_PLYMOUTH_AUTO, "plymouth auto by default");
        tap_str_eq(cfg.host_key, "/etc/kairos/recovery_host_ed25519_key", "default host key path");
        tap_str_eq(cfg.authorized_keys, "/etc/kairos/authorized_keys", "default authorized_keys path");
        tap_ok(cfg.max_startups == 10 && cfg.max_auth_tries == 3 && cfg.auth_timeout_sec == 30 &&
               cfg.waiter_replace_sec == 240, "default limits 10, 3, 30 s, 240 s");
        tap_ok(cfg.log_level == LOG_INFO, "default log level info");
        for (int k = 0; k < _CONF_KEY_MAX; k++)
                if (cfg.origin[k].source != CONF_SOURCE_DEFAULT)
                        tap_ok(0, "origin of %s is the default", conf_key_name(k));
}

static void test_every_key_file(void) {
        int r = parse("# all keys\n"
                      "[Recovery]\n"
                      "Relay = tcp:relay.example.org:4001\n"
                      "Relay=tcp:[2001:db8::7]:04002 tcp:b.example:1,tcp:c.example:2\n"
                      "TunnelPort=7141\n"
                      "PlainSSH=yes\n"
                      "PlainSSHPort=2200\n"
                      "Console=ttyS0\n"
                      "Console=/dev/tty1, hvc0\n"
                      "Plymouth=no\n"
                      "HostKey=\"/etc/kairos/my key\"\n"
                      "AuthorizedKeys=\n"
                      "MaxStartups=20\n"
                      "MaxAuthTries=6\n"
                      "AuthTimeoutSec=1min 30s\n"
                      "WaiterReplaceSec=5min\n"
                      "LogLevel=debug\n");

        tap_ok(r == 0, "a file setting every key: no problem (%d)", r);
        if (r)
                show_diags();
        tap_ok(RELAYS("tcp:relay.example.org:4001", "tcp:[2001:db8::7]:4002", "tcp:b.example:1", "tcp:c.example:2"),
               "Relay=: default replaced, repeated and space/comma lists add, written in the shortest form");
        tap_ok(cfg.tunnel_port == 7141, "TunnelPort=");
        tap_ok(cfg.plain_ssh && cfg.plain_ssh_port == 2200, "PlainSSH=, PlainSSHPort=");
        tap_ok(cfg.n_consoles == 3 && !strcmp(cfg.consoles[0], "ttyS0") && !strcmp(cfg.consoles[1], "tty1") &&
               !strcmp(cfg.consoles[2], "hvc0"), "Console=: a list, /dev/ taken off");
        tap_ok(cfg.plymouth == CONF_PLYMOUTH_NO, "Plymouth=no");
        tap_str_eq(cfg.host_key, "/etc/kairos/my key", "HostKey=: quotes around the value removed, inner space kept");
        tap_str_eq(cfg.authorized_keys, "", "AuthorizedKeys= (empty): none");
        tap_ok(cfg.max_startups == 20 && cfg.max_auth_tries == 6, "MaxStartups=, MaxAuthTries=");
        tap_ok(cfg.auth_timeout_sec == 90 && cfg.waiter_replace_sec == 300, "time spans: 1min 30s, 5min");
        tap_ok(cfg.log_level == LOG_DEBUG, "LogLevel=debug");
        tap_ok(cfg.origin[CONF_KEY_TUNNEL_PORT].source == CONF_SOURCE_FILE && cfg.origin[CONF_KEY_TUNNEL_PORT].line == 5,
               "origin of TunnelPort: the file, line 5");

        r = parse("Plymouth=auto\nPlainSSH=off\nLogLevel=3\nMaxStartups=1\nAuthTimeoutSec=3600\nWaiterReplaceSec=86400s\n");
        tap_ok(r == 0 && cfg.plymouth == CONF_PLYMOUTH_AUTO && !cfg.plain_ssh && cfg.log_level == LOG_ERR &&
               cfg.max_startups == 1 && cfg.auth_timeout_sec == 3600 && cfg.waiter_replace_sec == 86400,
               "no header needed; the ends of the ranges are allowed");
        r = parse("Plymouth=1\nPlainSSH=TRUE\nLogLevel=warn\n");
        tap_ok(r == 0 && cfg.plymouth == CONF_PLYMOUTH_YES && cfg.plain_ssh && cfg.log_level == LOG_WARNING,
               "booleans in any case, 1 for plymouth, warn for warning");
}

static void test_every_key_cmdline(void) {
        int r;

        conf_init_defaults(&cfg);
        r = parse_cmdline("BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet rd.kairos.recovery systemd.unit=kairos-recovery.target "
                          "kairos.recovery.relay=tcp:a:4001,tcp:b:4001 kairos.recovery.console=ttyS0,tty1 "
                          "kairos.recovery.plymouth=0 kairos.recovery.tunnel_port=7000 "
                          "kairos.recovery.host_key=/run/k kairos.recovery.authorized_keys=/run/ak "
                          "kairos.recovery.plain_ssh=1 kairos.recovery.plain_ssh_port=2022 "
                          "kairos.recovery.max_startups=5 kairos.recovery.max_auth_tries=2 "
                          "kairos.recovery.auth_timeout_sec=10 kairos.recovery.waiter_replace_sec=60 "
                          "kairos.recovery.log_level=debug console=ttyS0,115200n8\n");
        tap_ok(r == 0, "a command line setting every key, among others: no problem (%d)", r);
        if (r)
                show_diags();
        tap_ok(RELAYS("tcp:a:4001", "tcp:b:4001"), "kairos.recovery.relay=: a comma-separated list");
        tap_ok(cfg.n_consoles == 2 && !strcmp(cfg.consoles[0], "ttyS0") && !strcmp(cfg.consoles[1], "tty1"),
               "kairos.recovery.console=ttyS0,tty1; the kernel's console= untouched");
        tap_ok(cfg.plymouth == CONF_PLYMOUTH_NO && cfg.tunnel_port == 7000 && cfg.plain_ssh && cfg.plain_ssh_port == 2022,
               "plymouth=0, tunnel_port=, plain_ssh=1, plain_ssh_port=");
        tap_ok(!strcmp(cfg.host_key, "/run/k") && !strcmp(cfg.authorized_keys, "/run/ak"), "host_key=, authorized_keys=");
        tap_ok(cfg.max_startups == 5 && cfg.max_auth_tries == 2 && cfg.auth_timeout_sec == 10 &&
               cfg.waiter_replace_sec == 60 && cfg.log_level == LOG_DEBUG, "the limits and log_level=");
        tap_ok(cfg.origin[CONF_KEY_RELAY].source == CONF_SOURCE_CMDLINE, "origin: the command line");
        for (int k = 0; k < _CONF_KEY_MAX; k++)
                if (!conf_key_cmdline_name(k) || !conf_key_name(k))
                        tap_ok(0, "key %d has both names", k);
}

static void test_lists(void) {
        int r;

        r = parse("Relay=\n");
        tap_ok(r == 0 && cfg.n_relays == 0, "Relay= alone: no relay");
        parse("Relay=tcp:a:1\nRelay=\nRelay=tcp:b:2\n");
        tap_ok(RELAYS("tcp:b:2"), "Relay= empties the list, later ones add again");
        parse("Console=tty1\nConsole=\n");
        tap_ok(cfg.n_consoles == 0, "Console= empties the list");

        r = parse("Relay=tcp:a:1\nRelay=TCP:a:1\nRelay=tcp:A:01\n");
        tap_ok(RELAYS("tcp:a:1"), "a relay listed twice counts once");
        diag_ok("recovery.conf", 3, "Relay=tcp:A:01 is listed already — ignored");
        diag_ok("recovery.conf", 2, "Relay=TCP:a:1 is not tcp:HOST:PORT — ignored");

        r = parse("Relay=tcp:r1:1 tcp:r2:1 tcp:r3:1 tcp:r4:1 tcp:r5:1 tcp:r6:1 tcp:r7:1 tcp:r8:1\nRelay=tcp:r9:1\n");
        tap_ok(cfg.n_relays == CONF_MAX_RELAYS && r == 1, "at most %d relays", CONF_MAX_RELAYS);
        diag_ok("recovery.conf", 2, "Relay=tcp:r9:1: more than 8 relays — ignored");

        r = parse("Relay=relay.example.org:4001\n");
        tap_ok(RELAYS(KAIROS_DEFAULT_RELAY) && r == 2, "all relays bad: the default relay stays");
        diag_ok("recovery.conf", 1, "Relay=relay.example.org:4001 is not tcp:HOST:PORT — ignored");
        diag_ok("recovery.conf", 1, "no valid relay given — keeping " KAIROS_DEFAULT_RELAY);
        parse("Relay=bad\nRelay=tcp:good:1\n");
        tap_ok(RELAYS("tcp:good:1") && n_diags == 1, "a bad entry, then a good one: the good one only");

        parse("Console=ttyS0\n");
        r = parse_cmdline("kairos.recovery.console=tty1 kairos.recovery.console=ttyS1");
        tap_ok(r == 0 && cfg.n_consoles == 2 && !strcmp(cfg.consoles[0], "tty1") && !strcmp(cfg.consoles[1], "ttyS1"),
               "command line: the first replaces the file's list, the second adds");
        r = parse_cmdline("kairos.recovery.console=");
        tap_ok(r == 0 && cfg.n_consoles == 0, "command line: an empty value empties the list");
        parse("Relay=tcp:mine:4001\n");
        r = parse_cmdline("kairos.recovery.relay=tcp:x:0,115200");
        tap_ok(RELAYS("tcp:mine:4001") && r == 3, "command line: no valid relay keeps the file's");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "no valid relay given — keeping tcp:mine:4001");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "kairos.recovery.relay=tcp:x:0 is not tcp:HOST:PORT — ignored");
        {
                char line[700] = "Relay=tcp:[";
                size_t l = strlen(line);

                memset(line + l, ':', 253);
                /* 264 characters: the longest entry read, and relay_parse() takes it. */
                strcpy(line + l + 253, "]:4001\nRelay=tcp:[");
                l = strlen(line);
                memset(line + l, ':', 250);
                strcpy(line + l + 250, "]:1\n");
                r = parse(line);
                tap_ok(r == 1 && cfg.n_relays == 1 && strlen(cfg.relays[0]) == 258,
                       "a relay that relay_parse() takes but that no longer fits with its brackets is refused");
                tap_ok(n_diags == 1 && strstr(diags[0].message, "... is too long — ignored"), "... and reported");
        }

        r = parse("Console=ttyS0,115200n8 ../x\n");
        tap_ok(cfg.n_consoles == 1 && !strcmp(cfg.consoles[0], "ttyS0") && r == 2, "console names are checked");
        diag_ok("recovery.conf", 1, "Console=115200n8 is not a console device name (such as tty1 or ttyS0) — ignored");
}

static void test_errors(void) {
        int r;

        r = parse("[Recovery]\n"
                  "\n"
                  "TunnelPort=70000\n"                  /* 3 */
                  "PlainSSHPort=0\n"                    /* 4 */
                  "PlainSSH=maybe\n"                    /* 5 */
                  "Plymouth=sometimes\n"                /* 6 */
                  "HostKey=keys/host\n"                 /* 7 */
                  "MaxStartups=1001\n"                  /* 8 */
                  "MaxAuthTries=-1\n"                   /* 9 */
                  "AuthTimeoutSec=30ms\n"               /* 10 */
                  "WaiterReplaceSec=10\n"               /* 11 */
                  "Relais=tcp:a:1\n"                    /* 12 */
                  "LogLevel=loud\n"                     /* 13 */
                  "just words\n"                        /* 14 */
                  "=5\n"                                /* 15 */
                  "tunnelport=1\n"                      /* 16 */
                  "TunnelPort=99999999999999999999999\n" /* 17 */
                  "AuthTimeoutSec=0\n");                /* 18 */
        tap_ok(r == 16, "16 problems reported (%d)", r);
        diag_ok("recovery.conf", 3, "TunnelPort=70000 is not a port (1-65535) — keeping 7140");
        diag_ok("recovery.conf", 4, "PlainSSHPort=0 is not a port (1-65535) — keeping 2222");
        diag_ok("recovery.conf", 5, "PlainSSH=maybe is not a boolean (yes or no) — keeping no");
        diag_ok("recovery.conf", 6, "Plymouth=sometimes is not auto, yes or no — keeping auto");
        diag_ok("recovery.conf", 7, "HostKey=keys/host is not an absolute path — keeping " CONF_DEFAULT_HOST_KEY);
        diag_ok("recovery.conf", 8, "MaxStartups=1001 is not a number from 1 to 1000 — keeping 10");
        diag_ok("recovery.conf", 9, "MaxAuthTries=-1 is not a number from 1 to 100 — keeping 3");
        diag_ok("recovery.conf", 10, "AuthTimeoutSec=30ms is not a time from 1s to 3600s — keeping 30");
        diag_ok("recovery.conf", 11, "WaiterReplaceSec=10 is not a time from 30s to 86400s — keeping 240");
        diag_ok("recovery.conf", 12, "unknown key \"Relais\" — ignored (did you mean Relay?)");
        diag_ok("recovery.conf", 13,
                "LogLevel=loud is not a log level (err, warning, notice, info, debug or 0-7) — keeping info");
        diag_ok("recovery.conf", 14, "\"just words\" is not Key=Value — ignored");
        diag_ok("recovery.conf", 15, "a value without a key — ignored");
        diag_ok("recovery.conf", 16, "unknown key \"tunnelport\" — ignored (did you mean TunnelPort?)");
        diag_ok("recovery.conf", 17, "TunnelPort=99999999999999999999999 is not a port (1-65535) — keeping 7140");
        tap_ok(diags[0].level == LOG_WARNING, "problems are warnings");
        tap_ok(cfg.tunnel_port == 7140 && cfg.plain_ssh_port == 2222 && !cfg.plain_ssh &&
               cfg.plymouth == CONF_PLYMOUTH_AUTO && !strcmp(cfg.host_key, CONF_DEFAULT_HOST_KEY) &&
               cfg.max_startups == 10 && cfg.max_auth_tries == 3 && cfg.auth_timeout_sec == 30 &&
               cfg.waiter_replace_sec == 240 && cfg.log_level == LOG_INFO, "every bad value left the default");

        r = parse("Tunnel\tPort=1\nHostKey=a\tb\n");
        tap_ok(r == 2, "tabs inside a line are text...");
        diag_ok("recovery.conf", 1, "unknown key \"Tunnel Port\" — ignored (did you mean TunnelPort?)");
        diag_ok("recovery.conf", 2, "HostKey=a b is not an absolute path — keeping " CONF_DEFAULT_HOST_KEY);

        r = parse("TunnelPort=7141\nTunnelPort=x\n");
        tap_ok(cfg.tunnel_port == 7141 && r == 1, "a bad value keeps the value before it, not the default");
        diag_ok("recovery.conf", 2, "TunnelPort=x is not a port (1-65535) — keeping 7141");

        r = parse("[Network]\nTunnelPort=1\n[X-Vendor]\nFoo=bar\n[recovery]\nTunnelPort=2\n[Recovery\n[Recovery]\nTunnelPort=3\n");
        tap_ok(cfg.tunnel_port == 3 && r == 3, "other sections: reported once, their lines ignored; X- silently");
        diag_ok("recovery.conf", 1, "unknown section [Network] — its lines are ignored");
        diag_ok("recovery.conf", 5, "unknown section [recovery] — its lines are ignored (did you mean [Recovery]?)");
        diag_ok("recovery.conf", 7, "\"[Recovery\" is not a section header — ignored");

        r = parse("\xef\xbb\xbf# comment\r\n; also a comment\r\n  TunnelPort  =  7142  \r\n\t\n");
        tap_ok(r == 0 && cfg.tunnel_port == 7142, "byte order mark, CRLF, both comments, spaces around = are fine");

        r = parse("TunnelPort=7143\nHostKey=/a\x01" "b\nTunnelPort=7\xff" "1\nLogLevel=debug");
        tap_ok(cfg.tunnel_port == 7143 && !strcmp(cfg.host_key, CONF_DEFAULT_HOST_KEY) && r == 2 &&
               cfg.log_level == LOG_DEBUG, "control characters and bad UTF-8: the line is skipped; no final newline is fine");
        diag_ok("recovery.conf", 2, "line holds a control character — ignored");
        diag_ok("recovery.conf", 3, "line is not valid UTF-8 — ignored");

        n_diags = 0;
        conf_init_defaults(&cfg);
        r = conf_parse_text(&cfg, "TunnelPort=1\0\nTunnelPort=2\n", 26, "recovery.conf", collect, NULL);
        tap_ok(cfg.tunnel_port == 2 && r == 1, "a NUL byte: that line is skipped, the next one read");
        diag_ok("recovery.conf", 1, "line holds a NUL byte — ignored");

        r = parse("PlainSSH=yes\nPlainSSHPort=7140\n");
        tap_ok(r == 0, "equal ports are fine for one file...");
        n_diags = 0;
        r = conf_verify(&cfg, collect, NULL);
        tap_ok(r == 1 && !cfg.plain_ssh, "...but conf_verify() turns plain SSH off");
        diag_ok("configuration", 0, "PlainSSHPort=7140 is the tunnel port too — plain SSH stays off");
}

static void test_cmdline(void) {
        int r;

        parse("TunnelPort=7141\nHostKey=/etc/k\nRelay=tcp:file:1\n");
        r = parse_cmdline("kairos.recovery.tunnel_port=7150");
        tap_ok(r == 0 && cfg.tunnel_port == 7150 && !strcmp(cfg.host_key, "/etc/k") && RELAYS("tcp:file:1"),
               "the command line overrides the file, key by key");
        r = parse_cmdline("kairos.recovery.tunnel_port=70000");
        tap_ok(r == 1 && cfg.tunnel_port == 7150, "a bad value on the command line keeps what was there");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "kairos.recovery.tunnel_port=70000 is not a port (1-65535) — keeping 7150");

        r = parse_cmdline("\"kairos.recovery.host_key=/a b\" x");
        tap_ok(r == 0, "a whole parameter in quotes");
        tap_str_eq(cfg.host_key, "/a b", "... its value keeps the space");
        parse_cmdline("kairos.recovery.authorized_keys=\"/c d\" kairos.recovery.host_key=\"/e\"f");
        tap_str_eq(cfg.authorized_keys, "/c d", "a value in quotes");
        tap_str_eq(cfg.host_key, "/e\"f", "a quote inside a value stays, as the kernel leaves it");
        parse_cmdline("kairos.recovery.tunnel_port=1 -- kairos.recovery.tunnel_port=2");
        tap_ok(cfg.tunnel_port == 1, "after --, parameters are init's");
        parse_cmdline("kairos.recovery.tunnel-port=3 kairos.recovery.plain-ssh");
        tap_ok(cfg.tunnel_port == 3 && cfg.plain_ssh, "- and _ are the same; a bare boolean means yes");
        r = parse_cmdline("rd.kairos.recovery.tunnel_port=4 rd.kairos.recovery kairos.recovery kairos.recovery=1");
        tap_ok(cfg.tunnel_port == 4 && r == 1, "rd.kairos.recovery.* is read, with a notice; the flags are not settings");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "rd.kairos.recovery.tunnel_port= is read as kairos.recovery.tunnel_port=");
        tap_ok(n_diags > 0 && diags[0].level == LOG_NOTICE, "... a notice, not a warning");
        r = parse_cmdline("kairos.recovery.relais=tcp:a:1 kairos.recovery.relay kairos.recovery.=1 kairos.recovery.host_key=\"/x\ty\"");
        tap_ok(r == 3, "unknown parameters and missing values reported (%d)", r);
        diag_ok(CONF_CMDLINE_SOURCE, 0, "unknown parameter kairos.recovery.relais — ignored (did you mean kairos.recovery.relay?)");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "kairos.recovery.relay needs a value (kairos.recovery.relay=...) — ignored");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "unknown parameter kairos.recovery. — ignored");
        tap_str_eq(cfg.host_key, "/x\ty", "a tab inside quotes is kept");
        r = parse_cmdline("kairos.recovery.host_key=\"/a\nb\" kairos.recovery.max_startups=\xc3\x28");
        tap_ok(r == 2 && !strcmp(cfg.host_key, "/x\ty"), "control characters and bad UTF-8 on the command line");
        diag_ok(CONF_CMDLINE_SOURCE, 0, "kairos.recovery.max_startups= has a value that is not clean UTF-8 text — ignored");
        r = parse_cmdline("\"kairos.recovery.relay=tcp:q:1   ");
        tap_ok(r == 0 && RELAYS("tcp:q:1"), "an unterminated quote runs to the end, spaces trimmed");
        r = parse_cmdline("");
        tap_ok(r == 0, "an empty command line");
}

static void test_garbage(void) {
        size_t big = CONF_FILE_MAX;
        char *buf = malloc(big + 1);
        uint32_t s = 12345;
        int r;

        for (size_t i = 0; i < big; i++) {
                s = s * 1103515245u + 12345u;
                buf[i] = (char) (s >> 16);
        }
        n_diags = 0;
        conf_init_defaults(&cfg);
        r = conf_parse_text(&cfg, buf, big, "random", collect, NULL);
        tap_ok(r > CONF_REPORT_MAX && n_diags == CONF_REPORT_MAX + 1, "1 MiB of random bytes: %d problems, %zu reported", r, n_diags);
        tap_ok(n_diags > 0 && strstr(diags[n_diags > 64 ? 63 : n_diags - 1].message, "more problems not shown") != NULL,
               "the last report counts the rest");
        tap_ok(cfg.tunnel_port == 7140 && cfg.n_relays == 1, "and the defaults stand");

        memset(buf, 'a', big);
        memcpy(buf, "HostKey=/", 9);
        memcpy(buf + big - 20, "\nTunnelPort=7144\n", 17);
        n_diags = 0;
        conf_init_defaults(&cfg);
        r = conf_parse_text(&cfg, buf, big - 3, "recovery.conf", collect, NULL);
        tap_ok(r == 1 && cfg.tunnel_port == 7144 && !strcmp(cfg.host_key, CONF_DEFAULT_HOST_KEY), "a huge line is skipped");
        diag_ok("recovery.conf", 1, "line is longer than 8192 bytes — ignored");

        memcpy(buf, "HostKey=/", 9);
        memset(buf + 9, 'b', 5000);
        buf[5009] = '\0';
        r = parse(buf);
        tap_ok(r == 1 && !strcmp(cfg.host_key, CONF_DEFAULT_HOST_KEY), "a path too long for PATH_MAX is refused");
        tap_ok(n_diags == 1 && strlen(diags[0].message) < 200, "... with a short message: %s", diags[0].message);

        for (size_t i = 0; i < 100000; i++)
                buf[i] = "kairos.recovery.relay=\" ,\t\n="[i % 29];
        buf[100000] = '\0';
        r = parse_cmdline(buf);
        tap_ok(r >= 0, "a long garbage command line: %d problems", r);
        memset(buf, 'x', CONF_CMDLINE_MAX + 1);
        buf[CONF_CMDLINE_MAX + 1] = '\0';
        r = parse_cmdline(buf);
        tap_ok(r == 1, "a command line longer than %d bytes is reported", CONF_CMDLINE_MAX);
        free(buf);
}

static void test_files(void) {
        char dir[] = "/tmp/test-conf-XXXXXX", path[128];
        FILE *f;
        int r;

        if (!mkdtemp(dir)) {
                tap_ok(0, "mkdtemp: %s", strerror(errno));
                return;
        }
        snprintf(path, sizeof path, "%s/missing.conf", dir);
        n_diags = 0;
        conf_init_defaults(&cfg);
        r = conf_parse_file(&cfg, path, collect, NULL);
        tap_ok(r == 0 && n_diags == 0 && cfg.tunnel_port == 7140, "a missing file: the defaults, nothing reported");

        r = conf_parse_file(&cfg, dir, collect, NULL);
        tap_ok(r == 1, "a directory is reported");
        diag_ok(dir, 0, "not a regular file — ignored");

        snprintf(path, sizeof path, "%s/fifo", dir);
        if (mkfifo(path, 0600) == 0) {
                n_diags = 0;
                r = conf_parse_file(&cfg, path, collect, NULL);
                tap_ok(r == 1 && n_diags == 1, "a FIFO is reported, not waited on");
                unlink(path);
        }

        snprintf(path, sizeof path, "%s/big.conf", dir);
        f = fopen(path, "w");
        if (f && ftruncate(fileno(f), CONF_FILE_MAX + 1) == 0) {
                fclose(f);
                n_diags = 0;
                r = conf_parse_file(&cfg, path, collect, NULL);
                tap_ok(r == 1, "a file over 1 MiB is reported");
                diag_ok(path, 0, "larger than 1024 KiB — ignored");
        } else if (f)
                fclose(f);
        unlink(path);

        snprintf(path, sizeof path, "%s/recovery.conf", dir);
        f = fopen(path, "w");
        fputs("TunnelPort=7145\nPlainSSH=yes\nRelay=tcp:file:1\n", f);
        fclose(f);
        if (geteuid() != 0) {
                chmod(path, 0);
                n_diags = 0;
                r = conf_parse_file(&cfg, path, collect, NULL);
                tap_ok(r == 1, "an unreadable file is reported");
                diag_ok(path, 0, "cannot be read (Permission denied) — ignored");
                chmod(path, 0644);
        }

        n_diags = 0;
        r = conf_load(&cfg, path, "quiet kairos.recovery.plain_ssh=no kairos.recovery.relay=tcp:cmd:1", collect, NULL);
        tap_ok(r == 0 && cfg.tunnel_port == 7145 && !cfg.plain_ssh && RELAYS("tcp:cmd:1"),
               "conf_load(): defaults, file, command line");
        tap_str_eq(cfg.file, path, "the file is remembered for show-config");

        snprintf(path, sizeof path, "%s/cmdline", dir);
        f = fopen(path, "w");
        fputs("ro kairos.recovery.tunnel_port=7146\n", f);
        fclose(f);
        conf_init_defaults(&cfg);
        r = conf_parse_cmdline_file(&cfg, path, collect, NULL);
        tap_ok(r == 0 && cfg.tunnel_port == 7146, "a command line read from a file, with its newline");
        n_diags = 0;
        r = conf_parse_cmdline_file(&cfg, dir, collect, NULL);
        tap_ok(r == 1 && n_diags == 1, "a command line file that is a directory is reported");
        diag_ok(dir, 0, "cannot be read (not a regular file) — ignored");
        n_diags = 0;
        r = conf_parse_cmdline_file(&cfg, "/nonexistent/cmdline", collect, NULL);
        tap_ok(r == 0 && n_diags == 0, "a missing command line file is no problem");
        f = fopen(path, "w");
        fwrite("kairos.recovery.tunnel_port=7147\0kairos.recovery.tunnel_port=7148", 1, 66, f);
        fclose(f);
        n_diags = 0;
        r = conf_parse_cmdline_file(&cfg, path, collect, NULL);
        tap_ok(r == 1 && cfg.tunnel_port == 7147, "a NUL byte in a command line file: read up to it");
        diag_ok(path, 0, "holds a NUL byte — read up to it");
        unlink(path);
        snprintf(path, sizeof path, "%s/recovery.conf", dir);
        unlink(path);
        rmdir(dir);

        conf_init_defaults(&cfg);
        r = conf_parse_cmdline_file(&cfg, "/proc/cmdline", collect, NULL);
        tap_ok(r >= 0, "this machine's /proc/cmdline reads (%d problems)", r);
        n_diags = 0;
        r = conf_load(&cfg, "/nonexistent/recovery.conf", NULL, collect, NULL);
        tap_ok(r >= 1 && cfg.origin[CONF_KEY_TUNNEL_PORT].source != CONF_SOURCE_FILE,
               "conf_load() without a file and with /proc/cmdline (%d problems)", r);
        diag_ok("/nonexistent/recovery.conf", 0, "does not exist — using the built-in defaults");
        /* The default reporter: log_warning() with CONFIG_FILE= and
         * CONFIG_LINE=, on stderr here. */
        conf_init_defaults(&cfg);
        r = conf_parse_text(&cfg, "X=1\n", 4, "recovery.conf", NULL, NULL);
        r += conf_parse_cmdline(&cfg, "kairos.recovery.x=1", NULL, NULL);
        tap_ok(r == 2, "without a callback, problems are logged");
}

static void test_render(void) {
        struct recovery_config again;
        char *text = NULL;
        int r;

        conf_init_defaults(&cfg);
        tap_ok(conf_render(&cfg, &text) == 0 && text, "the defaults render");
        tap_ok(strstr(text, "\n[Recovery]\nRelay=" KAIROS_DEFAULT_RELAY "\nTunnelPort=7140\nPlainSSH=no\n") != NULL,
               "as recovery.conf lines");
        tap_ok(strstr(text, "# none given: the active consoles\nConsole=\n") != NULL, "an empty list says what it means");
        conf_init_defaults(&again);
        r = conf_parse_text(&again, text, strlen(text), "rendered", collect, NULL);
        tap_ok(r == 0 && conf_equal(&cfg, &again), "and read back as the same configuration");
        free(text);

        parse("Relay=\nConsole=ttyS0\nConsole=tty1\nHostKey=\nLogLevel=7\n");
        parse_cmdline("kairos.recovery.tunnel_port=7001");
        text = NULL;
        tap_ok(conf_render(&cfg, &text) == 0, "a changed configuration renders");
        tap_ok(strstr(text, "# no relay: the direct path only\nRelay=\n") != NULL, "no relay");
        tap_ok(strstr(text, "# from recovery.conf:2\nConsole=ttyS0\nConsole=tty1\n") != NULL, "a list, with its origin");
        tap_ok(strstr(text, "# from the kernel command line (kairos.recovery.tunnel_port=)\nTunnelPort=7001\n") != NULL,
               "a value from the command line");
        tap_ok(strstr(text, "LogLevel=debug\n") != NULL, "log level by name");
        conf_init_defaults(&again);
        r = conf_parse_text(&again, text, strlen(text), "rendered", collect, NULL);
        tap_ok(r == 0 && conf_equal(&cfg, &again), "read back as the same configuration");
        if (r || !conf_equal(&cfg, &again))
                tap_diag("%s", text);
        free(text);

        /* Found by fuzz-conf: a quoted path that ends in a tab was rendered
         * bare, and reading it back trimmed the tab. */
        parse("HostKey=\"/etc/kairos/key\t\"\nAuthorizedKeys='/root/\"keys\"'\n");
        text = NULL;
        tap_ok(conf_render(&cfg, &text) == 0, "values with a tab at the end and with quotes around them render");
        tap_ok(text && strstr(text, "HostKey=\"/etc/kairos/key\t\"\n") != NULL, "in quotes, so the tab is kept");
        conf_init_defaults(&again);
        r = text ? conf_parse_text(&again, text, strlen(text), "rendered", collect, NULL) : -1;
        tap_ok(r == 0 && conf_equal(&cfg, &again) && !strcmp(again.authorized_keys, "/root/\"keys\""),
               "and read back as the same configuration (got AuthorizedKeys=%s)", again.authorized_keys);
        free(text);
}

/* The keys of sending the code out of band (NotifyKey= and the others). */
static void test_notify(void) {
        struct operator_key a, b;
        char ka[KEYS_TEXT_MAX], kb[KEYS_TEXT_MAX], text[1024], *rendered = NULL;
        struct recovery_config again;
        int r;

        operator_key_new(&a);
        operator_key_new(&b);
        key_to_text(KEY_OPERATOR_PUBLIC, a.pk, ka);
        key_to_text(KEY_OPERATOR_PUBLIC, b.pk, kb);

        conf_init_defaults(&cfg);
        tap_ok(cfg.n_notify_keys == 0 && !cfg.notify_url[0] && !cfg.notify_ca[0] && cfg.notify_format == CONF_NOTIFY_PLAIN,
               "by default no NotifyKey=, no NotifyURL= (nothing is sent), no NotifyCA=, NotifyFormat=plain");
        tap_str_eq(cfg.machine_key, "/etc/kairos/machine_signing_key", "default MachineKey=");

        snprintf(text, sizeof text,
                 "NotifyKey=%s\nNotifyKey= %s , %s\nNotifyURL=https://push.example.org/kairos?x=1\n"
                 "NotifyCA=/etc/kairos/ca.pem\nNotifyFormat=ntfy\nMachineKey=/etc/kairos/mk\n", ka, kb, ka);
        r = parse(text);
        tap_ok(r == 1 && cfg.n_notify_keys == 2 && !strcmp(cfg.notify_keys[0], ka) && !strcmp(cfg.notify_keys[1], kb),
               "NotifyKey=: several, a repeated key reported once and ignored (%d problems)", r);
        tap_str_eq(cfg.notify_url, "https://push.example.org/kairos?x=1", "NotifyURL=");
        tap_ok(!strcmp(cfg.notify_ca, "/etc/kairos/ca.pem") && cfg.notify_format == CONF_NOTIFY_NTFY &&
               !strcmp(cfg.machine_key, "/etc/kairos/mk"), "NotifyCA=, NotifyFormat=ntfy, MachineKey=");

        /* Bad values: reported with the line, the value kept. */
        snprintf(text, sizeof text, "NotifyKey=%s\nNotifyKey=KAIROS-OPERATOR-KEY:AAAA\nNotifyURL=ftp://x\n"
                 "NotifyURL=https://a b\nNotifyFormat=json\nNotifyCA=ca.pem\n", kb);
        r = parse(text);
        tap_ok(r == 5 && cfg.n_notify_keys == 1 && !cfg.notify_url[0] && cfg.notify_format == CONF_NOTIFY_PLAIN &&
               !cfg.notify_ca[0], "a cut key, a URL that is not https, one with a space, an unknown format and a "
               "relative CA path: five problems, values kept (%d)", r);
        diag_ok("recovery.conf", 3, "NotifyURL=ftp://x is not an https:// (or http://) URL — keeping none");
        diag_ok("recovery.conf", 5, "NotifyFormat=json is not plain or ntfy — keeping plain");
        tap_ok(has_diag("recovery.conf", 2, "NotifyKey=KAIROS-OPERATOR-KEY:AAAA is not an operator public key "
                        "(The operator public key is cut short or has more after it.) — ignored"), "a cut key is named");
        ka[30] = ka[30] == 'A' ? 'B' : 'A';
        snprintf(text, sizeof text, "NotifyKey=%s\n", ka);
        r = parse(text);
        tap_ok(r == 1 && cfg.n_notify_keys == 0 && n_diags == 1 && strstr(diags[0].message, "typo"),
               "a key with a typo is reported as one: %s", diags[0].message);
        ka[30] = ka[30] == 'A' ? 'B' : 'A';

        /* The kernel command line, over the file. */
        snprintf(text, sizeof text, "NotifyKey=%s\nNotifyURL=https://file.example/\n", ka);
        parse(text);
        snprintf(text, sizeof text, "quiet kairos.recovery.notify_key=%s kairos.recovery.notify_url=https://10.0.2.2:8443/hook "
                 "kairos.recovery.notify_ca=/etc/kairos/test-ca.pem kairos.recovery.notify_format=plain "
                 "kairos.recovery.machine_key=/run/mk", kb);
        r = parse_cmdline(text);
        tap_ok(r == 0 && cfg.n_notify_keys == 1 && !strcmp(cfg.notify_keys[0], kb) &&
               !strcmp(cfg.notify_url, "https://10.0.2.2:8443/hook") && !strcmp(cfg.notify_ca, "/etc/kairos/test-ca.pem") &&
               !strcmp(cfg.machine_key, "/run/mk") && cfg.origin[CONF_KEY_NOTIFY_URL].source == CONF_SOURCE_CMDLINE,
               "kairos.recovery.notify_key=, notify_url=, notify_ca=, notify_format=, machine_key= replace the file's");

        /* show-config reads back as the same. */
        snprintf(text, sizeof text, "NotifyKey=%s %s\nNotifyURL=https://x.example/\nNotifyFormat=ntfy\n", ka, kb);
        parse(text);
        tap_ok(conf_render(&cfg, &rendered) == 0 && strstr(rendered, "NotifyFormat=ntfy\n"), "show-config renders them");
        conf_init_defaults(&again);
        r = conf_parse_text(&again, rendered, strlen(rendered), "rendered", collect, NULL);
        tap_ok(r == 0 && conf_equal(&cfg, &again), "and reads back as the same configuration");
        free(rendered);
        parse("");
        rendered = NULL;
        tap_ok(conf_render(&cfg, &rendered) == 0 && strstr(rendered, "# none: the code is not sent\nNotifyURL=\n"),
               "without NotifyURL= it says that nothing is sent");
        free(rendered);
        operator_key_clear(&a);
        operator_key_clear(&b);
}

/* Falling into recovery by itself. */
static void test_auto_recovery(void) {
        int r;

        conf_init_defaults(&cfg);
        tap_ok(!cfg.auto_recovery && !cfg.auto_recovery_units[0], "AutoRecovery= is off by default, no units");
        r = parse("AutoRecovery=yes\nAutoRecoveryUnits=data.mount, app@1.service  backup.service\n");
        tap_ok(r == 0 && cfg.auto_recovery, "AutoRecovery=yes");
        tap_str_eq(cfg.auto_recovery_units, "data.mount app@1.service backup.service",
                   "AutoRecoveryUnits=: commas and spaces, stored one space apart");
        r = parse("AutoRecovery=perhaps\nAutoRecoveryUnits=rm -rf\nAutoRecoveryUnits=a.service;reboot\n");
        tap_ok(r == 3 && !cfg.auto_recovery && !cfg.auto_recovery_units[0], "bad values reported, kept (%d)", r);
        diag_ok("recovery.conf", 2, "AutoRecoveryUnits=rm -rf is not unit names such as foo.service — keeping none");
        parse("AutoRecoveryUnits=a.service\n");
        r = parse_cmdline("kairos.recovery.auto_recovery kairos.recovery.auto_recovery_units=b.service,c.target");
        tap_ok(r == 0 && cfg.auto_recovery && !strcmp(cfg.auto_recovery_units, "b.service c.target") &&
               cfg.origin[CONF_KEY_AUTO_RECOVERY].source == CONF_SOURCE_CMDLINE,
               "kairos.recovery.auto_recovery (a bare flag: yes), auto_recovery_units= replaces the file's");
        parse_cmdline("kairos.recovery.auto_recovery=0");
        tap_ok(!cfg.auto_recovery, "kairos.recovery.auto_recovery=0 turns it off");
}

/* Unlocking an encrypted root from afar (the initramfs generator reads it). */
static void test_unlock(void) {
        int r;

        conf_init_defaults(&cfg);
        tap_ok(!cfg.unlock, "Unlock= is off by default");
        r = parse("Unlock=yes\n");
        tap_ok(r == 0 && cfg.unlock && cfg.origin[CONF_KEY_UNLOCK].source == CONF_SOURCE_FILE, "Unlock=yes");
        r = parse("Unlock=sometimes\n");
        tap_ok(r == 1 && !cfg.unlock, "a bad Unlock= is reported and the default kept (%d)", r);
        parse("Unlock=yes\n");
        r = parse_cmdline("kairos.recovery.unlock=0");
        tap_ok(r == 0 && !cfg.unlock && cfg.origin[CONF_KEY_UNLOCK].source == CONF_SOURCE_CMDLINE,
               "kairos.recovery.unlock=0 turns the file's Unlock=yes off");
        r = parse_cmdline("kairos.recovery.unlock");
        tap_ok(r == 0 && cfg.unlock, "kairos.recovery.unlock (a bare flag: yes)");
}

int main(void) {
        test_defaults();
        test_every_key_file();
        test_every_key_cmdline();
        test_lists();
        test_errors();
        test_cmdline();
        test_garbage();
        test_files();
        test_render();
        test_notify();
        test_auto_recovery();
        test_unlock();
        return tap_done();
}

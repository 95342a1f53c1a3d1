/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session helper's inputs: the configuration datagram from the main
 * process, the authorized_keys file, and client text put into events. */
#include <errno.h>
#include <libssh/libssh.h>
#include <sodium.h>
#include <string.h>

#include "authorized-keys.h"
#include "control.h"
#include "log.h"
#include "tap.h"

#define SECRET "00112233445566778899aabbccddeeff"
#define KEY1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ66fHdN09rsuABR8lMvZn7s2ujEGMuYrxQGzKnfvaLC"
#define KEY2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILU59gyMD7pmeqi8IsFUbkj7BewjZNcULBNNJj3aay0E"

static int parse(const char *text, struct session_config *c, char *why) {
        return config_parse(text, strlen(text), c, why, 128);
}

static void test_config(void) {
        struct session_config c;
        char why[128];
        int r;

        r = parse("transport tunnel\nsecret " SECRET "\nhostkey /etc/k1\nhostkey /etc/k2\n"
                  "authorized_keys /etc/ak\nhostname box\npeer relay tcp:r:4001 slot 2\n"
                  "max_auth_tries 4\nauth_timeout 30\nfuture-key whatever\n",
                  &c, why);
        tap_ok(r == 0, "a full configuration parses (%d: %s)", r, r < 0 ? why : "");
        if (r == 0) {
                tap_ok(c.transport == SESSION_TRANSPORT_TUNNEL, "transport tunnel");
                tap_ok(c.secret[0] == 0x00 && c.secret[1] == 0x11 && c.secret[15] == 0xff, "secret decoded");
                tap_ok(c.n_hostkeys == 2 && !strcmp(c.hostkeys[1], "/etc/k2"), "two host keys");
                tap_ok(c.authorized_keys && !strcmp(c.authorized_keys, "/etc/ak"), "authorized_keys");
                tap_ok(!strcmp(c.hostname, "box"), "hostname");
                tap_ok(!strcmp(c.peer, "relay tcp:r:4001 slot 2"), "peer keeps its spaces");
                tap_ok(c.max_auth_tries == 4 && c.auth_timeout == 30, "limits");
                config_done(&c);
                tap_ok(c.hostkeys[0] == NULL && c.secret[0] == 0 && c.secret[1] == 0, "config_done wipes");
        }

        r = parse("transport ssh\nsecret " SECRET "\nhostkey /k\n", &c, why);
        tap_ok(r == 0 && c.max_auth_tries == SESSION_DEFAULT_MAX_AUTH_TRIES &&
                       c.auth_timeout == SESSION_DEFAULT_AUTH_TIMEOUT && c.hostname[0] && !strcmp(c.peer, "unknown"),
               "defaults for the optional keys");
        if (r == 0)
                config_done(&c);

        r = parse("transport tunnel\nsecret " SECRET "\nretired_secret ffeeddccbbaa99887766554433221100\nhostkey /k\n", &c,
                  why);
        tap_ok(r == 0 && c.have_retired_secret && c.retired_secret[0] == 0xff && c.retired_secret[15] == 0x00 &&
                       c.secret[0] == 0x00,
               "retired_secret (after a rotate) decoded beside the secret");
        if (r == 0) {
                config_done(&c);
                tap_ok(!c.have_retired_secret && c.retired_secret[0] == 0, "config_done wipes the retired secret too");
        }
        r = parse("transport tunnel\nsecret " SECRET "\nretired_secret 0011\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL && strstr(why, "retired_secret") && !strstr(why, "0011"),
               "short retired_secret refused without echoing it (%s)", why);
        r = parse("transport tunnel\nretired_secret " SECRET "\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL && strstr(why, "secret"), "a retired secret alone is no secret: refused (%s)", why);

        r = parse("transport ssh\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL && strstr(why, "secret"), "no secret: refused (%s)", why);
        r = parse("secret " SECRET "\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL && strstr(why, "transport"), "no transport: refused (%s)", why);
        r = parse("transport ssh\nsecret " SECRET "\n", &c, why);
        tap_ok(r == -EINVAL && strstr(why, "host key"), "no host key: refused (%s)", why);
        r = parse("transport ssh\nsecret 0011\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL && !strstr(why, "0011"), "short secret refused without echoing it (%s)", why);
        r = parse("transport ssh\nsecret " SECRET "zz\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL, "overlong secret refused");
        r = parse("transport ssh\nsecret 0g112233445566778899aabbccddeeff\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL, "non-hex secret refused");
        r = parse("transport telnet\nsecret " SECRET "\nhostkey /k\n", &c, why);
        tap_ok(r == -EINVAL, "unknown transport refused");
        r = parse("transport ssh\nsecret " SECRET "\nhostkey relative/k\n", &c, why);
        tap_ok(r == -EINVAL, "relative host key path refused");
        r = parse("transport ssh\nsecret " SECRET "\nhostkey /k\nmax_auth_tries 0\n", &c, why);
        tap_ok(r == -EINVAL, "max_auth_tries 0 refused");
        r = parse("transport ssh\nsecret " SECRET "\nhostkey /k\nauth_timeout -5\n", &c, why);
        tap_ok(r == -EINVAL, "negative auth_timeout refused");
        r = parse("transport ssh\nsecret " SECRET "\nhostkey /k\nauth_timeout 12x\n", &c, why);
        tap_ok(r == -EINVAL, "auth_timeout with junk refused");
        r = parse("transport ssh\nsecret " SECRET "\nhostkey\n", &c, why);
        tap_ok(r == -EINVAL, "a key without a value refused");
        r = parse("transport ssh\nsecret " SECRET "\nhostkey /1\nhostkey /2\nhostkey /3\nhostkey /4\nhostkey /5\n", &c,
                  why);
        tap_ok(r == -EINVAL, "more host keys than the hello holds refused");
        r = config_parse("transport ssh\0secret", 20, &c, why, sizeof why);
        tap_ok(r == -EINVAL, "a NUL in the datagram refused");
}

static void test_sanitize(void) {
        char out[80];
        char longname[200];

        control_sanitize("root", out, sizeof out);
        tap_str_eq(out, "root", "a plain user name stays");
        control_sanitize("a b\nc\033[1m", out, sizeof out);
        tap_str_eq(out, "a?b?c?[1m", "spaces and control characters become ?");
        control_sanitize("", out, sizeof out);
        tap_str_eq(out, "-", "an empty name becomes -");
        control_sanitize(NULL, out, sizeof out);
        tap_str_eq(out, "-", "no name becomes -");
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = '\0';
        control_sanitize(longname, out, sizeof out);
        tap_ok(strlen(out) == 64, "long names are cut at 64 (%zu)", strlen(out));
        control_sanitize("\xc3\xa9t\xc3\xa9", out, sizeof out);
        tap_str_eq(out, "??t??", "non-ASCII becomes ?");
}

static void test_authorized_keys(void) {
        ssh_key *keys = NULL, k1 = NULL, k2 = NULL;
        size_t n = 0;
        int r;

        ssh_pki_import_pubkey_base64(strchr(KEY1, ' ') + 1, SSH_KEYTYPE_ED25519, &k1);
        ssh_pki_import_pubkey_base64(strchr(KEY2, ' ') + 1, SSH_KEYTYPE_ED25519, &k2);
        tap_ok(k1 && k2, "test keys import");

        r = authorized_keys_parse("# comment\n\n" KEY1 " alice@laptop\r\n"
                                  "command=\"/bin/false\" " KEY2 "\n"
                                  "ssh-ed25519 notbase64!\n"
                                  "unknown-type AAAA\n"
                                  "  " KEY2 "\n",
                                  &keys, &n);
        tap_ok(r == 0, "authorized_keys parses");
        tap_ok(n == 2, "two usable keys: plain lines only (%zu)", n);
        if (n == 2 && k1 && k2) {
                tap_ok(ssh_key_cmp(keys[0], k1, SSH_KEY_CMP_PUBLIC) == 0, "first key with a comment and CRLF");
                tap_ok(ssh_key_cmp(keys[1], k2, SSH_KEY_CMP_PUBLIC) == 0, "indented key");
        }
        authorized_keys_free(keys, n);

        r = authorized_keys_parse("", &keys, &n);
        tap_ok(r == 0 && n == 0, "an empty file has no keys");
        authorized_keys_free(keys, n);
        r = authorized_keys_load("/nonexistent/authorized_keys", &keys, &n);
        tap_ok(r == -ENOENT, "a missing file is -ENOENT (%d)", r);
        ssh_key_free(k1);
        ssh_key_free(k2);
}

int main(void) {
        if (sodium_init() < 0 || ssh_init() < 0)
                return 1;
        /* The skipped lines warn; the test output stays TAP only. */
        log_set_max_level(LOG_EMERG);
        test_config();
        test_sanitize();
        test_authorized_keys();
        ssh_finalize();
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}

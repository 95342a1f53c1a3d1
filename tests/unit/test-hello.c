/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The responder's hello: format/parse round trips with 0 to 4 host keys, and
 * every way a malformed hello is refused. Parsing always gets an exact-size
 * heap copy, so a sanitizer build catches any read past the end. */
#include <errno.h>

#include "hello.h"
#include "tap.h"

/* Real public keys (ssh-keygen output, comment removed). */
static const char *const keys[] = {
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2ennAip5kXazWB7cbH54ipW/EnAojok/8TIG/pt",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO5mLQVrz2y0rNjKHTztmySApDvQ5ZuQPrB4UV8Gl"
        "+B02/tIWQbms2A4DW3cvoUPTgXfzjLy0Y2FLlsl0T0G/Po=",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCnbVdwTaBRBC8LFiFI48UsM+RxS/RqUEtjkZRCwjEmuDvzla+pNKC1h8q6t2nCqEc7HRXYN87pqCaz"
        "PMWUq+2Ky8ko7jLO6dqvmIV8856a59ash96tBgBzsbvuFQpgosrklf2/4WBwR4eTOu+GrJEascMm4cpU03vVhXAlH0AIBniU+bfxLaTlJ+CxoZ986+9f"
        "Td9EhJPQNSNK3as+UDtFuBE8qqVe5f01iM9Ry1rHUSlNZYjG86/zXtjmlbXtV/6OFbZzFIVO559jtmt5Q3eZetl2vCWsA9ZlbpizPizVRAmFYdQeiseDq"
        "7dLwCmQjk2sNDIF928zs6GiLMCZ7mbp",
        "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIE0k8lT7JkkOo2m7j3Q4bOZQ7g1Zq9PqQ3wUoF1xTz4jAAAA"
        "BHNzaDo=",
};
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2ennAip5kXazWB7cbH54ipW/EnAojok/8TIG/pt"

static struct kairos_hello h; /* large: keep it off the stack */

static int parse(const char *data, size_t len, const char **why) {
        char *copy = malloc(len ? len : 1);
        int r;

        memcpy(copy, data, len);
        *why = NULL;
        r = hello_parse(copy, len, &h, why);
        free(copy);
        return r;
}

static void test_round_trip(void) {
        static struct kairos_hello in;
        static char buf[HELLO_MAX_SIZE];
        int len;

        for (size_t n = 0; n <= HELLO_MAX_KEYS; n++) {
                const char *why;
                int r, same;

                in = (struct kairos_hello) { .version = KAIROS_PROTOCOL_VERSION, .n_keys = n };
                snprintf(in.hostname, sizeof in.hostname, "recovery-box-%zu.example.org", n);
                for (size_t i = 0; i < n; i++)
                        snprintf(in.keys[i], sizeof in.keys[i], "%s", keys[i]);
                len = hello_format(&in, buf, sizeof buf);
                tap_ok(len > 0 && (size_t) len == strlen(buf), "a hello with %zu keys formats (got %d)", n, len);
                r = parse(buf, (size_t) len, &why);
                same = r == 0 && h.version == in.version && !strcmp(h.hostname, in.hostname) && h.n_keys == n;
                for (size_t i = 0; same && i < n; i++)
                        same = !strcmp(h.keys[i], in.keys[i]);
                if (!tap_ok(same, "a hello with %zu keys parses back to the same version, host and keys", n))
                        printf("#   got:      %d (%s)\n#   input:    %s\n", r, why ? why : "", buf);
        }
        {
                static const char start[] = "kairos-hello 1\nhost recovery-box-4.example.org\nkey ssh-ed25519 AAAA";
                if (!tap_ok(!strncmp(buf, start, sizeof start - 1),
                            "the text form is the lines \"kairos-hello 1\", \"host NAME\", \"key TYPE BASE64\"..."))
                        printf("#   got:      %s\n#   expected: %s...\n", buf, start);
        }

        /* The largest hello: 4 keys of the longest length, the longest host name. */
        in = (struct kairos_hello) { .version = KAIROS_PROTOCOL_VERSION, .n_keys = HELLO_MAX_KEYS };
        memset(in.hostname, 'h', HELLO_HOSTNAME_MAX - 1);
        for (size_t i = 0; i < HELLO_MAX_KEYS; i++) {
                memset(in.keys[i], 'A', HELLO_KEY_MAX - 1);
                memcpy(in.keys[i], "ssh-rsa ", 8);
        }
        len = hello_format(&in, buf, sizeof buf);
        tap_ok(len > 0, "the largest hello (4 keys of %d characters, a %d-character host) fits HELLO_MAX_SIZE (got %d)",
               HELLO_KEY_MAX - 1, HELLO_HOSTNAME_MAX - 1, len);
        if (len > 0) {
                const char *why;
                int r = parse(buf, (size_t) len, &why);
                tap_ok(r == 0 && h.n_keys == 4 && strlen(h.hostname) == HELLO_HOSTNAME_MAX - 1 &&
                       strlen(h.keys[3]) == HELLO_KEY_MAX - 1, "the largest hello parses back whole (got %d %s)", r, why ? why : "");
        }
        len = hello_format(&in, buf, 100);
        tap_ok(len == -ENOBUFS, "formatting into too small a buffer is -ENOBUFS (got %d)", len);
}

static void expect_ok(const char *text, const char *what) {
        const char *why;
        int r = parse(text, strlen(text), &why);
        if (!tap_ok(r == 0, "%s is accepted", what))
                printf("#   got:      %d (%s)\n#   input:    %s\n", r, why ? why : "", text);
}

static void expect_bad_len(const char *text, size_t len, const char *what) {
        const char *why;
        int r = parse(text, len, &why);
        int ok = r == -EBADMSG && why && *why;

        tap_ok(ok, "%s is refused with -EBADMSG and a reason%s%s", what, why ? ": " : "", why ? why : "");
        if (!ok)
                printf("#   got:      %d\n#   expected: -EBADMSG\n", r);
}

static void expect_bad(const char *text, const char *what) {
        expect_bad_len(text, strlen(text), what);
}

static void test_rejections(void) {
        static char big[HELLO_MAX_SIZE + 200], line[HELLO_KEY_MAX + 64];

        expect_bad("", "an empty hello");
        expect_bad("host box\nkey " ED25519 "\n", "a hello without its first line");
        expect_bad("key " ED25519 "\nkairos-hello 1\nhost box\n", "a hello whose first line is a key");
        expect_bad("kairos-hello 0\nhost box\n", "version line \"kairos-hello 0\"");
        expect_bad("kairos-hello 10\nhost box\n", "version line \"kairos-hello 10\"");
        expect_bad("kairos-hello\nhost box\n", "version line without a number");
        expect_bad("kairos-hello  1\nhost box\n", "version line with two spaces");
        expect_bad("Kairos-hello 1\nhost box\n", "version line with a capital letter");
        expect_bad("kairos-client 1\n", "the client's hello");
        expect_bad("kairos-hello 1\r\nhost box\r\n", "CR LF line ends");
        expect_bad("kairos-hello 1\nhost caf\xc3\xa9\n", "a host name that is not ASCII");
        expect_bad("kairos-hello 1\nhost box\nx-note caf\xc3\xa9\n", "non-ASCII in an unknown line");
        expect_bad("kairos-hello 1\nhost box\nx-note a\tb\n", "a tab in an unknown line");
        expect_bad_len("kairos-hello 1\nhost b\0x\n", sizeof "kairos-hello 1\nhost b\0x\n" - 1, "a NUL byte inside the host name");
        expect_bad("kairos-hello 1\n", "a hello without a host");
        expect_bad("kairos-hello 1\nkey " ED25519 "\n", "a hello with a key but no host");
        expect_bad("kairos-hello 1\nhost \n", "an empty host name");
        expect_bad("kairos-hello 1\nhost box one\n", "a host name with a space");
        expect_bad("kairos-hello 1\nhost box/1\n", "a host name with a slash");
        expect_bad("kairos-hello 1\nhost box;rm\n", "a host name with a semicolon");
        expect_bad("kairos-hello 1\nhost box\nhost other\n", "a second host line");
        expect_bad("kairos-hello 1\nhost box", "a last line without its newline");
        expect_bad("kairos-hello 1\nhost box\nkey ssh-ed25519AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2e\n", "a key without a space");
        expect_bad("kairos-hello 1\nhost box\nkey " ED25519 " root@box\n", "a key with a comment");
        expect_bad("kairos-hello 1\nhost box\nkey ssh-ed25519 AAAA\n", "a key with too short a base64 part");
        expect_bad("kairos-hello 1\nhost box\nkey SSH-ED25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2e\n", "a key type in capitals");
        expect_bad("kairos-hello 1\nhost box\nkey  AAAAC3NzaC1lZDI1NTE5AAAAIC7eI2e\n", "a key with an empty type");
        expect_bad("kairos-hello 1\nhost box\nkey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC7e!2e\n", "a key with '!' in its base64");
        expect_bad("kairos-hello 1\nhost box\nkey " ED25519 "\nkey " ED25519 "\nkey " ED25519 "\nkey " ED25519 "\nkey " ED25519 "\n",
                   "a hello with 5 keys");

        memset(line, 'h', HELLO_HOSTNAME_MAX);
        snprintf(big, sizeof big, "kairos-hello 1\nhost %.*s\n", HELLO_HOSTNAME_MAX, line);
        expect_bad(big, "a host name of HELLO_HOSTNAME_MAX characters");
        snprintf(big, sizeof big, "kairos-hello 1\nhost %.*s\n", HELLO_HOSTNAME_MAX - 1, line);
        expect_ok(big, "a host name of HELLO_HOSTNAME_MAX - 1 characters");

        memset(line, 'A', sizeof line);
        snprintf(big, sizeof big, "kairos-hello 1\nhost box\nkey ssh-rsa %.*s\n", HELLO_KEY_MAX - 8, line);
        expect_bad(big, "a key of HELLO_KEY_MAX characters");
        snprintf(big, sizeof big, "kairos-hello 1\nhost box\nkey ssh-rsa %.*s\n", HELLO_KEY_MAX - 9, line);
        expect_ok(big, "a key of HELLO_KEY_MAX - 1 characters");

        /* Overlong input: a valid hello padded with unknown lines. */
        snprintf(big, sizeof big, "kairos-hello 1\nhost box\n");
        while (strlen(big) < HELLO_MAX_SIZE + 10)
                strcat(big, "x-padding 0123456789\n");
        expect_bad(big, "a hello longer than HELLO_MAX_SIZE");
        big[HELLO_MAX_SIZE] = '\0';
        big[HELLO_MAX_SIZE - 1] = '\n';
        expect_ok(big, "a hello of exactly HELLO_MAX_SIZE bytes");
}

static void test_unknown_lines(void) {
        const char *why;
        const char *text = "kairos-hello 2\n"
                           "x-uptime 12345\n"
                           "\n"
                           "host box\n"
                           "host\n"
                           "keys are below\n"
                           "key " ED25519 "\n"
                           "fingerprint SHA256:abc\n";
        int r = parse(text, strlen(text), &why);

        tap_ok(r == 0 && h.version == 2 && !strcmp(h.hostname, "box") && h.n_keys == 1 && !strcmp(h.keys[0], ED25519),
               "unknown lines (and a newer version) are skipped: host and key still read (got %d %s)", r, why ? why : "");
}

int main(void) {
        test_round_trip();
        test_rejections();
        test_unknown_lines();
        return tap_done();
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keys and sealed codes (keys.h, sealed.h): text forms, typos, the wrong
 * kind of key, sealing to one operator and opening with another, damage on
 * the way, and finding codes inside a message body. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealed.h"
#include "tap.h"

static void fill(struct sealed_code *c) {
        memset(c, 0, sizeof *c);
        c->created = 1700000000;
        snprintf(c->token, sizeof c->token, "KAIROS:AEAAAAAAAAAAAAAAAAAAAAAAAABUAAAAAAAAA");
        snprintf(c->password, sizeof c->password, "abcd-efgh-jkmn");
        snprintf(c->fingerprint, sizeof c->fingerprint, "SHA256:abcdefghijklmnop");
        snprintf(c->hostname, sizeof c->hostname, "server-7");
        snprintf(c->machine_id, sizeof c->machine_id, "0123456789abcdef0123456789abcdef");
        snprintf(c->reason, sizeof c->reason, "root device never appeared");
}

static void test_keys(void) {
        struct operator_key op;
        uint8_t raw[32];
        char text[KEYS_TEXT_MAX], why[256];

        operator_key_new(&op);
        key_to_text(KEY_OPERATOR_PUBLIC, op.pk, text);
        tap_ok(!strncmp(text, "KAIROS-OPERATOR-KEY:", 20), "an operator public key reads KAIROS-OPERATOR-KEY:...");
        tap_ok(strlen(text) < KEYS_TEXT_MAX, "its text fits KEYS_TEXT_MAX (%zu)", strlen(text));
        tap_ok(key_from_text(KEY_OPERATOR_PUBLIC, text, raw, why, sizeof why) == 0 && !memcmp(raw, op.pk, 32),
               "it parses back to the same key");
        tap_ok(key_kind_of_text(text) == KEY_OPERATOR_PUBLIC, "its kind is known by its prefix");
        tap_ok(key_from_text(KEY_MACHINE_PUBLIC, text, raw, why, sizeof why) == -EINVAL && strstr(why, "operator public key"),
               "given where a machine key belongs, it is named: %s", why);
        text[25] = text[25] == 'A' ? 'B' : 'A';
        tap_ok(key_from_text(KEY_OPERATOR_PUBLIC, text, raw, why, sizeof why) == -EBADMSG && strstr(why, "typo"),
               "one character changed is a typo: %s", why);
        text[30] = '\0';
        tap_ok(key_from_text(KEY_OPERATOR_PUBLIC, text, raw, why, sizeof why) == -ERANGE, "cut short: %s", why);
        tap_ok(key_from_text(KEY_OPERATOR_PUBLIC, "hello", raw, why, sizeof why) == -EINVAL, "not a key: %s", why);

        /* A secret key's text relabelled as public fails its check value. */
        key_to_text(KEY_OPERATOR_SECRET, op.sk, text);
        memmove(text + strlen("KAIROS-OPERATOR-KEY:"), text + strlen("KAIROS-OPERATOR-SECRET-KEY:"),
                strlen(text + strlen("KAIROS-OPERATOR-SECRET-KEY:")) + 1);
        memcpy(text, "KAIROS-OPERATOR-KEY:", 20);
        tap_ok(key_from_text(KEY_OPERATOR_PUBLIC, text, raw, why, sizeof why) == -EBADMSG,
               "a secret key relabelled as a public one does not pass");
        operator_key_clear(&op);
}

static void test_files(void) {
        char dir[] = "/tmp/test-sealed-XXXXXX", path[64], text[KEYS_TEXT_MAX], why[256];
        struct machine_key m;
        struct stat st;
        uint8_t raw[32];

        if (!mkdtemp(dir))
                abort();
        snprintf(path, sizeof path, "%s/key", dir);
        machine_key_new(&m);
        key_to_text(KEY_MACHINE_SECRET, m.sk, text); /* the seed is the first half */
        tap_ok(key_write_file(path, text, 0600) == 0, "a key file is written");
        tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
        tap_ok(key_write_file(path, text, 0600) == -EEXIST, "an existing key is never overwritten");
        tap_ok(key_read_file(path, KEY_MACHINE_SECRET, raw, why, sizeof why) == 0 && !memcmp(raw, m.sk, 32),
               "and read back");
        unlink(path);
        rmdir(dir);
}

static void test_seal(void) {
        struct operator_key op, other;
        struct machine_key m;
        struct sealed_code c, got;
        struct sealed_error err;
        static char text[SEALED_TEXT_MAX], body[3 * SEALED_TEXT_MAX];
        size_t pos = 0, start, len;
        uint8_t id[KEYS_ID_SIZE], want[KEYS_ID_SIZE];

        operator_key_new(&op);
        operator_key_new(&other);
        machine_key_new(&m);
        fill(&c);
        tap_ok(sealed_seal(&c, &m, op.pk, text, sizeof text) == 0, "a code is sealed");
        printf("# %zu characters\n", strlen(text));
        tap_ok(!strncmp(text, SEALED_PREFIX, strlen(SEALED_PREFIX)), "it reads KAIROS-SEALED:...");
        tap_ok(!strstr(text, c.token + 7) && !strstr(text, c.password) && !strstr(text, c.hostname),
               "neither the token, the password nor the host name are in it in the clear");
        tap_ok(sealed_open(text, strlen(text), &op, &got, &err) == 0, "the operator's key opens it");
        tap_ok(got.created == c.created && !strcmp(got.token, c.token) && !strcmp(got.password, c.password) &&
               !strcmp(got.fingerprint, c.fingerprint) && !strcmp(got.hostname, c.hostname) &&
               !strcmp(got.machine_id, c.machine_id) && !strcmp(got.reason, c.reason),
               "with all it holds");
        tap_ok(!memcmp(got.signer, m.pk, 32), "and the machine key that signed it");
        tap_ok(sealed_open(text, strlen(text), &other, &got, &err) == -EACCES && err.code == SEALED_OTHER_KEY,
               "another operator's key: %s", err.message);
        operator_key_id(op.pk, want);
        tap_ok(sealed_peek(text, strlen(text), id, &err) == 0 && !memcmp(id, want, sizeof id),
               "peek names the recipient's key id");

        /* Damage on the way: a character changed, the code cut short. */
        {
                char saved = text[40];

                text[40] = saved == 'A' ? 'B' : 'A';
                tap_ok(sealed_open(text, strlen(text), &op, &got, &err) == -EINVAL && err.code == SEALED_DAMAGED,
                       "a character changed: %s", err.message);
                text[40] = saved;
        }
        tap_ok(sealed_open(text, strlen(text) - 10, &op, &got, &err) == -EINVAL && err.code == SEALED_DAMAGED,
               "cut short: %s", err.message);
        tap_ok(sealed_open("KAIROS:ABC", 10, &op, &got, &err) == -EINVAL && err.code == SEALED_NOT_SEALED,
               "a plain token is not a sealed code");

        /* In a message body, among other words, with a code for someone else. */
        {
                static char other_text[SEALED_TEXT_MAX];
                int found = 0, opened = 0;

                sealed_seal(&c, &m, other.pk, other_text, sizeof other_text);
                snprintf(body, sizeof body, "{\"message\": \"kairos: recovery\\n%s\\n%s\"}", other_text, text);
                while (sealed_find(body, strlen(body), &pos, &start, &len) == 0) {
                        found++;
                        if (sealed_open(body + start, len, &op, &got, &err) == 0)
                                opened++;
                }
                tap_ok(found == 2 && opened == 1, "a JSON body with two codes: both found, ours opened (%d, %d)", found, opened);
        }

        /* What cannot be sealed. */
        snprintf(c.reason, sizeof c.reason, "bad\nline");
        tap_ok(sealed_seal(&c, &m, op.pk, text, sizeof text) == -EINVAL, "a control character is refused");
        fill(&c);
        memset(c.hostname, 'h', sizeof c.hostname);
        tap_ok(sealed_seal(&c, &m, op.pk, text, sizeof text) == -EINVAL, "an unterminated string is refused");
        fill(&c);
        memset(c.token, 'A', sizeof c.token - 1);
        c.token[sizeof c.token - 1] = '\0';
        memset(c.reason, 'r', sizeof c.reason - 1);
        c.reason[sizeof c.reason - 1] = '\0';
        memset(c.hostname, 'h', sizeof c.hostname - 1);
        c.hostname[sizeof c.hostname - 1] = '\0';
        tap_ok(sealed_seal(&c, &m, op.pk, text, sizeof text) == 0, "the longest code fits SEALED_TEXT_MAX");
        printf("# %zu characters\n", strlen(text));
        tap_ok(sealed_open(text, strlen(text), &op, &got, &err) == 0, "and opens");
        sealed_code_clear(&got);
        operator_key_clear(&op);
        operator_key_clear(&other);
        machine_key_clear(&m);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        test_keys();
        test_files();
        test_seal();
        return tap_done();
}

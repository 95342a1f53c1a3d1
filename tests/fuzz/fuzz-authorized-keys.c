/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* authorized_keys_parse() on any text: the recovery authorized_keys file
 * is the administrator's, but it is often pasted together from elsewhere,
 * and the keys in it are what libssh compares an attacker's offered key
 * with. Input: the file's bytes (the loader reads up to the first NUL).
 *
 * Oracle: no crash or leak; at most 256 keys, and never more than there are
 * lines whose first word is a key type (a line with options in front, such
 * as command="..." or restrict, is refused, never half honoured); every key
 * returned is a public key that exports and imports back to an equal key. */
#include <libssh/libssh.h>
#include <string.h>
#include <syslog.h>

#include "authorized-keys.h"
#include "fuzz.h"
#include "log.h"

FUZZ_CORPUS("authorized-keys");

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* One warning per skipped line would be most of the run time. */
        log_set_max_level(LOG_CRIT);
        return 0;
}

/* Lines whose first word (after blanks) is a key type libssh knows. */
static size_t candidate_lines(const char *text) {
        size_t n = 0;

        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n"), w;
                char word[128];

                p += strspn(p, " \t");
                len = strcspn(p, "\n");
                w = strcspn(p, " \t\r\n");
                if (w > 0 && w < sizeof word) {
                        memcpy(word, p, w);
                        word[w] = '\0';
                        if (ssh_key_type_from_name(word) != SSH_KEYTYPE_UNKNOWN)
                                n++;
                }
                p += len;
                p += *p == '\n';
        }
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = strndup((const char *) data, size);
        ssh_key *keys = NULL;
        size_t n = 0;

        if (!text)
                abort();
        FUZZ_ASSERT(authorized_keys_parse(text, &keys, &n) == 0);
        FUZZ_ASSERT(n <= 256);
        FUZZ_ASSERT(n <= candidate_lines(text));
        for (size_t i = 0; i < n; i++) {
                char *b64 = NULL;
                ssh_key again = NULL;

                FUZZ_ASSERT(keys[i]);
                FUZZ_ASSERT(ssh_key_is_public(keys[i]) == 1);
                FUZZ_ASSERT(ssh_key_is_private(keys[i]) == 0);
                FUZZ_ASSERT(ssh_pki_export_pubkey_base64(keys[i], &b64) == SSH_OK);
                FUZZ_ASSERT(ssh_pki_import_pubkey_base64(b64, ssh_key_type(keys[i]), &again) == SSH_OK);
                FUZZ_ASSERT(ssh_key_cmp(again, keys[i], SSH_KEY_CMP_PUBLIC) == 0);
                ssh_key_free(again);
                ssh_string_free_char(b64);
        }
        authorized_keys_free(keys, n);
        free(text);
        return 0;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authorized-keys.h"
#include "log.h"

#define AUTHORIZED_KEYS_MAX 256
#define AUTHORIZED_KEYS_FILE_MAX (1024 * 1024)

/* One line: "TYPE BASE64 [COMMENT]". Lines with options in front
 * (command=, from=, restrict...) are refused rather than half honoured:
 * this server could not enforce them, and a key meant to be restricted
 * must not become a full root login. */
static int parse_line(char *line, ssh_key *ret, const char **why) {
        char *type, *b64, *again = NULL, *save = NULL;
        enum ssh_keytypes_e t;

        type = strtok_r(line, " \t", &save);
        if (!type || *type == '#')
                return 0;
        t = ssh_key_type_from_name(type);
        if (t == SSH_KEYTYPE_UNKNOWN) {
                *why = "options or an unknown key type";
                return -EINVAL;
        }
        b64 = strtok_r(NULL, " \t", &save);
        if (!b64 || ssh_pki_import_pubkey_base64(b64, t, ret) != SSH_OK) {
                *why = "a malformed key";
                return -EINVAL;
        }
        /* libssh imports some keys it cannot use (an RSA key with an empty
         * modulus, found by fuzzing): keep only what exports back. */
        if (ssh_pki_export_pubkey_base64(*ret, &again) != SSH_OK) {
                ssh_key_free(*ret);
                *ret = NULL;
                *why = "a malformed key";
                return -EINVAL;
        }
        ssh_string_free_char(again);
        return 1;
}

int authorized_keys_parse(const char *text, ssh_key **ret_keys, size_t *ret_n) {
        _cleanup_free_ char *copy = strdup(text);
        ssh_key *keys = NULL;
        size_t n = 0, lineno = 0;
        char *line, *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *why = NULL;
                ssh_key key = NULL;
                int r;

                lineno++;
                line[strcspn(line, "\r")] = '\0';
                r = parse_line(line, &key, &why);
                if (r < 0)
                        log_warning("authorized_keys line %zu skipped: %s.", lineno, why);
                if (r <= 0)
                        continue;
                if (n >= AUTHORIZED_KEYS_MAX) {
                        ssh_key_free(key);
                        log_warning("authorized_keys: more than %d keys, the rest skipped.", AUTHORIZED_KEYS_MAX);
                        break;
                }
                if (n % 16 == 0) {
                        ssh_key *k = realloc(keys, (n + 16) * sizeof *keys);
                        if (!k) {
                                ssh_key_free(key);
                                authorized_keys_free(keys, n);
                                return -ENOMEM;
                        }
                        keys = k;
                }
                keys[n++] = key;
        }
        *ret_keys = keys;
        *ret_n = n;
        return 0;
}

int authorized_keys_load(const char *path, ssh_key **ret_keys, size_t *ret_n) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (!f)
                return negative_errno();
        text = malloc(AUTHORIZED_KEYS_FILE_MAX + 1);
        if (!text)
                return -ENOMEM;
        len = fread(text, 1, AUTHORIZED_KEYS_FILE_MAX, f);
        if (ferror(f))
                return -EIO;
        text[len] = '\0';
        return authorized_keys_parse(text, ret_keys, ret_n);
}

void authorized_keys_free(ssh_key *keys, size_t n) {
        for (size_t i = 0; i < n; i++)
                ssh_key_free(keys[i]);
        free(keys);
}


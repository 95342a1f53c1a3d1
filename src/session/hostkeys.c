/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <string.h>

#include "hostkeys.h"
#include "log.h"
#include "ssh-policy.h"

static const char *key_type_name(ssh_key key) {
        enum ssh_keytypes_e type = ssh_key_type(key);

        /* ssh_key_type_to_char() says "ecdsa" for every curve; known_hosts
         * needs the full algorithm name. */
        if (type == SSH_KEYTYPE_ECDSA_P256 || type == SSH_KEYTYPE_ECDSA_P384 || type == SSH_KEYTYPE_ECDSA_P521)
                return ssh_pki_key_ecdsa_name(key);
        return ssh_key_type_to_char(type);
}

int hostkeys_public(char *const *paths, size_t n, struct kairos_hello *hello) {
        hello->n_keys = 0;
        for (size_t i = 0; i < n && hello->n_keys < HELLO_MAX_KEYS; i++) {
                ssh_key key = NULL;
                char *b64 = NULL;
                const char *type;
                int r;

                if (ssh_pki_import_privkey_file(paths[i], NULL, NULL, NULL, &key) != SSH_OK)
                        return log_error_errno(-EINVAL, "Cannot load host key %s.", paths[i]);
                /* The SSH server leaves it out (and says so): so does the hello. */
                if (!ssh_policy_host_key_allowed(key)) {
                        ssh_key_free(key);
                        continue;
                }
                type = key_type_name(key);
                if (!type || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
                        ssh_key_free(key);
                        return log_error_errno(-EINVAL, "Cannot export the public half of host key %s.", paths[i]);
                }
                r = snprintf(hello->keys[hello->n_keys], sizeof hello->keys[0], "%s %s", type, b64);
                ssh_string_free_char(b64);
                ssh_key_free(key);
                if (r < 0 || (size_t) r >= sizeof hello->keys[0])
                        return log_error_errno(-ENOBUFS, "Host key %s is too large for the hello.", paths[i]);
                hello->n_keys++;
        }
        return 0;
}

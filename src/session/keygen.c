/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keygen.h"
#include "log.h"
#include "macro.h"

int keygen_host_key(const char *path) {
        char tmp[4096], pub[4100], *b64 = NULL;
        ssh_key key = NULL;
        FILE *f;
        int r = -EIO;

        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp ||
            snprintf(pub, sizeof pub, "%s.pub", path) >= (int) sizeof pub)
                return -ENAMETOOLONG;
        umask(077);
        if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
                return log_error_errno(-EIO, "Cannot generate an Ed25519 host key.");
        unlink(tmp);
        if (ssh_pki_export_privkey_file(key, NULL, NULL, NULL, tmp) != SSH_OK) {
                log_error("Cannot write the host key to %s.", tmp);
                goto out;
        }
        if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
                goto out;
        f = fopen(pub, "we");
        if (!f) {
                r = log_error_errno(-errno, "Cannot write %s: %m", pub);
                goto out;
        }
        fprintf(f, "%s %s kairos-recovery\n", ssh_key_type_to_char(ssh_key_type(key)), b64);
        if (fclose(f) != 0 || chmod(tmp, 0600) < 0 || rename(tmp, path) < 0) {
                r = log_error_errno(-errno, "Cannot store the host key in %s: %m", path);
                goto out;
        }
        r = 0;
out:
        if (r < 0)
                unlink(tmp);
        ssh_string_free_char(b64);
        ssh_key_free(key);
        return r;
}

int keygen_host_key_stdout(void) {
        char *priv = NULL, *b64 = NULL;
        ssh_key key = NULL;
        int r = -EIO;

        if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK)
                return log_error_errno(-EIO, "Cannot generate an Ed25519 host key.");
        if (ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) != SSH_OK ||
            ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
                log_error("Cannot export the host key.");
        else if (printf("%s%s %s kairos-recovery\n", priv, ssh_key_type_to_char(ssh_key_type(key)), b64) < 0 ||
                 fflush(stdout) != 0)
                r = log_error_errno(-errno, "Cannot write the host key: %m");
        else
                r = 0;
        if (priv) {
                explicit_bzero(priv, strlen(priv));
                ssh_string_free_char(priv);
        }
        ssh_string_free_char(b64);
        ssh_key_free(key);
        return r;
}

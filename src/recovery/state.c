/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "state.h"

const char *state_dir(void) {
        static char dir[PATH_MAX];
        const char *e = getenv("RUNTIME_DIRECTORY");

        if (!e || !*e)
                return STATE_DIR_DEFAULT;
        /* systemd passes a colon-separated list when there are several. */
        snprintf(dir, sizeof dir, "%.*s", (int) strcspn(e, ":"), e);
        return dir;
}

int state_prepare(const char *dir) {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

int state_write_file(const char *dir, const char *name, const void *data, size_t len, unsigned mode) {
        char tmp[PATH_MAX], path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path ||
            snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return negative_errno();
        /* The umask could have taken bits away, never added: set exactly. */
        if (fchmod(fd, mode) < 0 || write(fd, data, len) != (ssize_t) len || fsync(fd) < 0) {
                r = errno ? negative_errno() : -EIO;
                unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                r = negative_errno();
                unlink(tmp);
                return r;
        }
        return 0;
}

int state_read_file(const char *dir, const char *name, char *buf, size_t size) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int) sizeof path)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        return (int) n;
}

static int store_secret(const char *dir, const uint8_t secret[KAIROS_SECRET_SIZE]) {
        char hex[KAIROS_SECRET_SIZE * 2 + 2];
        int r;

        sodium_bin2hex(hex, sizeof hex, secret, KAIROS_SECRET_SIZE);
        strcat(hex, "\n");
        r = state_write_file(dir, "secret", hex, strlen(hex), 0600);
        sodium_memzero(hex, sizeof hex);
        return r;
}

int state_load_or_create_secret(const char *dir, uint8_t secret[KAIROS_SECRET_SIZE], bool *created,
                                int *store_error) {
        char hex[128];
        size_t bin_len = 0;
        struct stat st;
        char path[PATH_MAX];
        int n;

        *created = false;
        *store_error = 0;
        n = state_read_file(dir, "secret", hex, sizeof hex);
        snprintf(path, sizeof path, "%s/secret", dir);
        /* Only a file that nobody else could have written or read counts. */
        if (n > 0 && stat(path, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077) == 0 &&
            sodium_hex2bin(secret, KAIROS_SECRET_SIZE, hex, (size_t) n, "\n", &bin_len, NULL) == 0 &&
            bin_len == KAIROS_SECRET_SIZE) {
                sodium_memzero(hex, sizeof hex);
                return 0;
        }
        sodium_memzero(hex, sizeof hex);
        randombytes_buf(secret, KAIROS_SECRET_SIZE);
        *created = true;
        *store_error = store_secret(dir, secret);
        return 0;
}

int state_rotate_secret(const char *dir, uint8_t secret[KAIROS_SECRET_SIZE]) {
        randombytes_buf(secret, KAIROS_SECRET_SIZE);
        return store_secret(dir, secret);
}

int state_key_fingerprint(const char *line, char *out, size_t size) {
        const char *b64 = strchr(line, ' ');
        uint8_t blob[4096], digest[crypto_hash_sha256_BYTES];
        char enc[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
        size_t blob_len = 0, l;

        if (!b64)
                return -EINVAL;
        b64++;
        l = strcspn(b64, " \n");
        if (sodium_base642bin(blob, sizeof blob, b64, l, NULL, &blob_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 || blob_len == 0)
                return -EINVAL;
        crypto_hash_sha256(digest, blob, blob_len);
        sodium_bin2base64(enc, sizeof enc, digest, sizeof digest, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
        if (snprintf(out, size, "SHA256:%s", enc) >= (int) size)
                return -ENOBUFS;
        return 0;
}

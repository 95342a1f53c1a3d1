/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base32.h"
#include "keys.h"
#include "macro.h"

#define CHECK_SIZE 4
/* Part of the text form: a key copied by hand with a typo is told apart from
 * a key of another machine. The kind is in the key, so that a secret key
 * text relabelled as a public one does not pass the check. */
#define CHECK_KEY "kairos key check"
#define ID_KEY "kairos operator key id"

static const char *const prefixes[_KEY_KIND_MAX] = {
        [KEY_OPERATOR_PUBLIC] = KEYS_OPERATOR_PUBLIC_PREFIX,
        [KEY_OPERATOR_SECRET] = KEYS_OPERATOR_SECRET_PREFIX,
        [KEY_MACHINE_PUBLIC] = KEYS_MACHINE_PUBLIC_PREFIX,
        [KEY_MACHINE_SECRET] = KEYS_MACHINE_SECRET_PREFIX,
};

static const char *const names[_KEY_KIND_MAX] = {
        [KEY_OPERATOR_PUBLIC] = "operator public key",
        [KEY_OPERATOR_SECRET] = "operator secret key",
        [KEY_MACHINE_PUBLIC] = "machine public key",
        [KEY_MACHINE_SECRET] = "machine secret key",
};

const char *key_kind_name(enum key_kind k) {
        return k >= 0 && k < _KEY_KIND_MAX ? names[k] : "key";
}

static void check_value(enum key_kind k, const uint8_t raw[KEYS_RAW_SIZE], uint8_t out[CHECK_SIZE]) {
        static const uint8_t key[] = CHECK_KEY;
        crypto_generichash_state st;
        uint8_t kind = (uint8_t) k;

        crypto_generichash_init(&st, key, sizeof key - 1, CHECK_SIZE);
        crypto_generichash_update(&st, &kind, 1);
        crypto_generichash_update(&st, raw, KEYS_RAW_SIZE);
        crypto_generichash_final(&st, out, CHECK_SIZE);
}

void key_to_text(enum key_kind k, const uint8_t raw[KEYS_RAW_SIZE], char out[KEYS_TEXT_MAX]) {
        uint8_t buf[KEYS_RAW_SIZE + CHECK_SIZE];
        size_t n = strlen(prefixes[k]);

        memcpy(buf, raw, KEYS_RAW_SIZE);
        check_value(k, raw, buf + KEYS_RAW_SIZE);
        memcpy(out, prefixes[k], n);
        base32_encode(buf, sizeof buf, out + n);
        sodium_memzero(buf, sizeof buf);
}

int key_kind_of_text(const char *text) {
        while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
                text++;
        for (int k = 0; k < _KEY_KIND_MAX; k++)
                if (!strncmp(text, prefixes[k], strlen(prefixes[k])))
                        return k;
        return -1;
}

/* One sentence for the user, and the error. */
#define why_set(why, size, r, fmt, ...) \
        ({ if ((why) && (size)) snprintf((why), (size), fmt, __VA_ARGS__); (r); })

int key_from_text(enum key_kind k, const char *text, uint8_t raw[KEYS_RAW_SIZE], char *why, size_t why_size) {
        uint8_t buf[KEYS_RAW_SIZE + CHECK_SIZE + 1], check[CHECK_SIZE];
        size_t len, bad;
        const char *body;
        int kind, r;

        while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
                text++;
        kind = key_kind_of_text(text);
        if (kind < 0) {
                if (why && why_size)
                        snprintf(why, why_size, "This is not a kairos key (the %s starts with %s).", names[k], prefixes[k]);
                return -EINVAL;
        }
        if (kind != (int) k) {
                if (why && why_size)
                        snprintf(why, why_size, "This is the %s, not the %s asked for.", names[kind], names[k]);
                return -EINVAL;
        }
        body = text + strlen(prefixes[k]);
        len = strlen(body);
        while (len > 0 && (body[len - 1] == ' ' || body[len - 1] == '\t' || body[len - 1] == '\n' || body[len - 1] == '\r'))
                len--;
        if (len != base32_encoded_len(KEYS_RAW_SIZE + CHECK_SIZE))
                return why_set(why, why_size, -ERANGE, "The %s is cut short or has more after it.", names[k]);
        r = base32_decode(body, len, buf, sizeof buf, &bad);
        if (r != KEYS_RAW_SIZE + CHECK_SIZE) {
                sodium_memzero(buf, sizeof buf);
                return why_set(why, why_size, -EBADMSG, "The %s holds a character that cannot be in it (copied wrong?).", names[k]);
        }
        check_value(k, buf, check);
        if (sodium_memcmp(check, buf + KEYS_RAW_SIZE, CHECK_SIZE) != 0) {
                sodium_memzero(buf, sizeof buf);
                return why_set(why, why_size, -EBADMSG, "The %s has a typo: its check value does not match.", names[k]);
        }
        memcpy(raw, buf, KEYS_RAW_SIZE);
        sodium_memzero(buf, sizeof buf);
        return 0;
}

void operator_key_new(struct operator_key *k) {
        crypto_box_keypair(k->pk, k->sk);
}

void operator_key_from_secret(struct operator_key *k, const uint8_t sk[32]) {
        memcpy(k->sk, sk, 32);
        crypto_scalarmult_base(k->pk, k->sk);
}

void machine_key_new(struct machine_key *k) {
        crypto_sign_keypair(k->pk, k->sk);
}

void machine_key_from_seed(struct machine_key *k, const uint8_t seed[32]) {
        crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

void operator_key_id(const uint8_t pk[32], uint8_t id[KEYS_ID_SIZE]) {
        static const uint8_t key[] = ID_KEY;

        crypto_generichash(id, KEYS_ID_SIZE, pk, 32, key, sizeof key - 1);
}

void key_id_to_hex(const uint8_t id[KEYS_ID_SIZE], char *out) {
        sodium_bin2hex(out, KEYS_ID_SIZE * 2 + 1, id, KEYS_ID_SIZE);
}

int key_read_file(const char *path, enum key_kind k, uint8_t raw[KEYS_RAW_SIZE], char *why, size_t why_size) {
        char text[256];
        ssize_t n;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = read(fd, text, sizeof text - 1);
        r = n < 0 ? negative_errno() : 0;
        close(fd);
        if (r < 0)
                return r;
        text[n] = '\0';
        /* The first line: a file may carry a comment after it. */
        text[strcspn(text, "\n")] = '\0';
        r = key_from_text(k, text, raw, why, why_size);
        sodium_memzero(text, sizeof text);
        return r;
}

int key_write_file(const char *path, const char *text, unsigned mode) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(text);

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0)
                return negative_errno();
        if (fchmod(fd, mode) < 0)
                return negative_errno();
        if (write(fd, text, n) != (ssize_t) n || write(fd, "\n", 1) != 1) {
                int r = negative_errno();
                unlink(path);
                return r;
        }
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

void operator_key_clear(struct operator_key *k) {
        sodium_memzero(k, sizeof *k);
}

void machine_key_clear(struct machine_key *k) {
        sodium_memzero(k, sizeof *k);
}

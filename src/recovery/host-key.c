/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host-key.h"
#include "io.h"
#include "log.h"
#include "macro.h"

#define PRIVATE_END "-----END OPENSSH PRIVATE KEY-----\n"

/* Runs the helper's key generator with its standard output on a pipe. */
static int generate(const char *helper, char *buf, size_t size, size_t *len) {
        int p[2], status = 0, r = 0;
        size_t n = 0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                r = negative_errno();
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                if (dup2(p[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execl(helper, "kairos-recovery-session", "--generate-host-key", "-", (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        for (;;) {
                ssize_t k = read(p[0], buf + n, size - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        if (k < 0)
                                r = negative_errno();
                        break;
                }
                n += (size_t) k;
                if (n >= size - 1)
                        break;
        }
        close(p[0]);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                r = r ?: -EIO;
        buf[n] = '\0';
        *len = n;
        return r;
}

int host_key_in_memory(const char *helper, char *pub, size_t pub_size) {
        char buf[4096], *end;
        size_t len = 0, priv_len;
        int fd = -EBADF, r;

        r = generate(helper, buf, sizeof buf, &len);
        end = r >= 0 ? strstr(buf, PRIVATE_END) : NULL;
        if (!end) {
                r = r < 0 ? r : -EBADMSG;
                goto out;
        }
        priv_len = (size_t) (end - buf) + strlen(PRIVATE_END);
        if (snprintf(pub, pub_size, "%.*s", (int) strcspn(buf + priv_len, "\n"), buf + priv_len) >= (int) pub_size ||
            !pub[0]) {
                r = -EBADMSG;
                goto out;
        }
        /* Sealed: a session helper can read it, nobody can change it. */
        fd = memfd_create("kairos-host-key", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0) {
                r = negative_errno();
                goto out;
        }
        if (write(fd, buf, priv_len) != (ssize_t) priv_len ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
                r = errno ? negative_errno() : -EIO;
                close(fd);
                goto out;
        }
        r = fd;
out:
        sodium_memzero(buf, sizeof buf);
        return r;
}

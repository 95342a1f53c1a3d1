/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "known-hosts.h"
#include "macro.h"

static int mkdir_private(const char *path) {
        struct stat st;

        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        if (lstat(path, &st) < 0)
                return negative_errno();
        /* Someone else's directory, or a symlink planted there: refuse. */
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                return -EPERM;
        return 0;
}

int known_hosts_dir(char *out, size_t size) {
        const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
        char cache[PATH_MAX];
        int r;

        if (xdg && *xdg == '/') {
                if (snprintf(out, size, "%s/kairos-bridge", xdg) >= (int) size)
                        return -ENAMETOOLONG;
                return mkdir_private(out);
        }
        if (!home || *home != '/') {
                struct passwd *pw = getpwuid(geteuid());
                home = pw ? pw->pw_dir : NULL;
        }
        if (!home)
                return -ENOENT;
        snprintf(cache, sizeof cache, "%s/.cache", home);
        r = mkdir_private(cache);
        if (r < 0 && r != -EPERM)
                return r;
        if (snprintf(out, size, "%s/.cache/kairos-bridge", home) >= (int) size)
                return -ENAMETOOLONG;
        return mkdir_private(out);
}

int known_hosts_write(const char *dir, const char *alias, const struct kairos_hello *hello, char *path,
                      size_t path_size) {
        char tmp[PATH_MAX], line[HELLO_KEY_MAX + 300];
        _cleanup_fclose_ FILE *old = NULL;
        FILE *f;
        int fd, r = 0;
        size_t al = strlen(alias);

        if (snprintf(path, path_size, "%s/known_hosts", dir) >= (int) path_size ||
            snprintf(tmp, sizeof tmp, "%s/.known_hosts.%d", dir, (int) getpid()) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "we");
        if (!f) {
                close(fd);
                unlink(tmp);
                return -ENOMEM;
        }
        old = fopen(path, "re");
        while (old && fgets(line, sizeof line, old))
                if (strncmp(line, alias, al) != 0 || line[al] != ' ')
                        fputs(line, f);
        for (size_t i = 0; i < hello->n_keys; i++)
                fprintf(f, "%s %s\n", alias, hello->keys[i]);
        if (fflush(f) != 0 || fsync(fileno(f)) < 0)
                r = -EIO;
        fclose(f);
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                unlink(tmp);
        return r;
}

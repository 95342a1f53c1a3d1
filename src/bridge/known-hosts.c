/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
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
        const char *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME"), *cache_home = getenv("XDG_CACHE_HOME");
        char cache[PATH_MAX];
        int r;

        if (xdg && *xdg == '/') {
                if (snprintf(out, size, "%s/kairos-bridge", xdg) >= (int) size)
                        return -ENAMETOOLONG;
                return mkdir_private(out);
        }
        /* The XDG base directory rule: only an absolute path counts. */
        if (cache_home && *cache_home == '/') {
                r = mkdir_private(cache_home);
                if (r < 0 && r != -EPERM)
                        return r;
                if (snprintf(out, size, "%s/kairos-bridge", cache_home) >= (int) size)
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

int known_hosts_rewrite(FILE *old, FILE *out, const char *alias, const struct kairos_hello *hello) {
        _cleanup_free_ char *line = NULL;
        size_t al = strlen(alias), allocated = 0;
        bool newline = true;
        ssize_t n;

        /* Whole lines of any length (getline, not a fixed buffer: the tail
         * of a long line of another host must not be taken for a line of
         * its own), written back byte for byte, NULs included. */
        while (old && (n = getline(&line, &allocated, old)) > 0) {
                if ((size_t) n > al && !memcmp(line, alias, al) && line[al] == ' ')
                        continue;
                if (fwrite(line, 1, (size_t) n, out) != (size_t) n)
                        return -EIO;
                newline = line[n - 1] == '\n';
        }
        if (old && ferror(old))
                return -EIO;
        /* A last line without its newline would swallow our first line. */
        if (!newline && fputc('\n', out) == EOF)
                return -EIO;
        for (size_t i = 0; i < hello->n_keys; i++)
                if (fprintf(out, "%s %s\n", alias, hello->keys[i]) < 0)
                        return -EIO;
        return 0;
}

int known_hosts_write(const char *dir, const char *alias, const struct kairos_hello *hello, char *path,
                      size_t path_size) {
        char tmp[PATH_MAX];
        _cleanup_fclose_ FILE *old = NULL;
        FILE *f;
        int fd, r;

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
        r = known_hosts_rewrite(old, f, alias, hello);
        if (r >= 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0))
                r = -EIO;
        fclose(f);
        if (r >= 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                unlink(tmp);
        return r;
}

int known_hosts_print_alias(const char *alias, FILE *out) {
        char dir[PATH_MAX], path[PATH_MAX + 16];
        _cleanup_free_ char *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t al = strlen(alias), allocated = 0;
        ssize_t n;
        int r;

        r = known_hosts_dir(dir, sizeof dir);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "%s/known_hosts", dir);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        while ((n = getline(&line, &allocated, f)) > 0)
                if ((size_t) n > al && !memcmp(line, alias, al) && line[al] == ' ')
                        fwrite(line, 1, (size_t) n, out);
        return fflush(out) == 0 ? 0 : -EIO;
}

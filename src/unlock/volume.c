/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "volume.h"

int volume_from_cmdline(const char *cmdline, size_t len, char *name, size_t size) {
        const char *argv[3] = { NULL, NULL, NULL }, *p = cmdline, *end = cmdline + len, *base;
        size_t n = 0;

        while (p < end && n < 3) {
                const char *z = memchr(p, '\0', (size_t) (end - p));

                if (!z)
                        break; /* the last argument cut off: not one we read */
                argv[n++] = p;
                p = z + 1;
        }
        if (n < 3)
                return -ENOENT;
        base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        if (strcmp(base, "systemd-cryptsetup") || strcmp(argv[1], "attach") || !*argv[2] ||
            strlen(argv[2]) >= size || strchr(argv[2], '/'))
                return -ENOENT;
        snprintf(name, size, "%s", argv[2]);
        return 0;
}

int volume_of_asker(pid_t pid, char *name, size_t size) {
        char path[64], buf[4096];
        ssize_t k;
        int fd;

        if (pid <= 0)
                return -ENOENT;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        k = read(fd, buf, sizeof buf);
        close(fd);
        if (k < 0)
                return -EIO;
        return volume_from_cmdline(buf, (size_t) k, name, size);
}

bool volume_open(const char *name) {
        DIR *d = opendir("/sys/class/block");
        struct dirent *e;
        bool found = false;

        if (!d)
                return false;
        while (!found && (e = readdir(d))) {
                char path[300], got[VOLUME_NAME_MAX + 2];
                ssize_t k;
                int fd;

                if (strncmp(e->d_name, "dm-", 3))
                        continue;
                snprintf(path, sizeof path, "/sys/class/block/%s/dm/name", e->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                k = read(fd, got, sizeof got - 1);
                close(fd);
                if (k <= 0)
                        continue;
                got[k] = '\0';
                got[strcspn(got, "\n")] = '\0';
                found = !strcmp(got, name);
        }
        closedir(d);
        return found;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ask-dir.h"
#include "macro.h"

uint64_t ask_now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Reads one ask file below dirfd: 0, or -errno (skipped by the caller). */
static int read_one(int dirfd, const char *name, struct ask_request *ret) {
        _cleanup_close_ int fd = -EBADF;
        char buf[ASK_FILE_MAX + 1];
        struct stat st;
        size_t n = 0;
        ssize_t k;

        /* O_NONBLOCK: a FIFO planted here must not hang us. */
        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > ASK_FILE_MAX)
                return -EFBIG;
        while (n < sizeof buf) {
                k = read(fd, buf + n, sizeof buf - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > ASK_FILE_MAX)
                return -EFBIG;
        if (ask_parse(buf, n, ret) < 0)
                return -EINVAL;
        snprintf(ret->name, sizeof ret->name, "%s", name);
        return 0;
}

static int by_name(const void *a, const void *b) {
        return strcmp(((const struct ask_request *) a)->name, ((const struct ask_request *) b)->name);
}

int ask_dir_scan(const char *dir, struct ask_request *ret, size_t max) {
        uint64_t now = ask_now_usec();
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while (n < max && (errno = 0, de = readdir(d))) {
                if (strncmp(de->d_name, "ask.", 4) || strlen(de->d_name) >= ASK_NAME_MAX)
                        continue;
                if (read_one(dirfd(d), de->d_name, &ret[n]) < 0)
                        continue; /* gone meanwhile, or not a request */
                if (!ask_is_live(&ret[n], now, NULL))
                        continue;
                n++;
        }
        closedir(d);
        qsort(ret, n, sizeof *ret, by_name);
        return (int) n;
}

const struct ask_request *ask_find_name(const struct ask_request *list, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (!strcmp(list[i].name, name))
                        return &list[i];
        return NULL;
}

void ask_banner(const char *dir, char *out, size_t size) {
        struct ask_request *list;
        size_t len = 0;
        int n;

        if (size == 0)
                return;
        out[0] = '\0';
        list = calloc(ASK_DIR_MAX, sizeof *list);
        if (!list)
                return;
        n = ask_dir_scan(dir, list, ASK_DIR_MAX);
        if (n > 0) {
                len = (size_t) snprintf(out, size, "A passphrase is being asked for (");
                for (int i = 0; i < n && len < size; i++)
                        len += (size_t) snprintf(out + len, size - len, "%s%s", i ? ", " : "",
                                                 list[i].id[0] ? list[i].id : list[i].message);
                if (len < size)
                        snprintf(out + len, size - len, "): type kairos-unlock to give it from here.\n");
        }
        free(list);
}

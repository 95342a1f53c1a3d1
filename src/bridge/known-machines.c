/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "known-machines.h"
#include "macro.h"

int bridge_config_dir(char *out, size_t size) {
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        int n;

        if (xdg && xdg[0] == '/')
                n = snprintf(out, size, "%s/kairos-bridge", xdg);
        else if (home && home[0] == '/')
                n = snprintf(out, size, "%s/.config/kairos-bridge", home);
        else
                return -ENOENT;
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int known_machines_find(const char *path, const uint8_t key[32], char *name, size_t name_size) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[1024];

        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while (fgets(line, sizeof line, f)) {
                char *p = line, *rest, *hash;
                uint8_t raw[32];
                size_t n;

                p += strspn(p, " \t");
                if (*p == '#' || *p == '\n' || *p == '\0')
                        continue;
                rest = p + strcspn(p, " \t\r\n");
                if (*rest)
                        *rest++ = '\0';
                if (key_from_text(KEY_MACHINE_PUBLIC, p, raw, NULL, 0) < 0 || memcmp(raw, key, 32) != 0)
                        continue;
                rest += strspn(rest, " \t");
                hash = strchr(rest, '#');
                if (hash)
                        *hash = '\0';
                n = strcspn(rest, "\r\n");
                while (n > 0 && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
                        n--;
                snprintf(name, name_size, "%.*s", (int) n, rest);
                return 1;
        }
        return ferror(f) ? -EIO : 0;
}

int known_machines_add(const char *path, const uint8_t key[32], const char *name) {
        _cleanup_close_ int fd = -EBADF;
        char text[KEYS_TEXT_MAX], clean[KNOWN_MACHINES_NAME_MAX], dir[4096], *slash, line[KEYS_TEXT_MAX + KNOWN_MACHINES_NAME_MAX + 8];
        size_t i;
        int n;

        snprintf(dir, sizeof dir, "%s", path);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return negative_errno();
        }
        for (i = 0; name[i] && i < sizeof clean - 1; i++)
                clean[i] = name[i] >= 0x20 && name[i] < 0x7f && name[i] != '#' ? name[i] : '?';
        clean[i] = '\0';
        key_to_text(KEY_MACHINE_PUBLIC, key, text);
        n = snprintf(line, sizeof line, "%s %s\n", text, clean);
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        if (write(fd, line, (size_t) n) != n)
                return negative_errno();
        return 0;
}

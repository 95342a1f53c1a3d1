/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays a fuzz target on its corpus, without libFuzzer: any compiler, any
 * flags, so that make check proves the committed inputs still pass.
 *
 *   replay-NAME                 every file of $srcdir/tests/fuzz/corpus/NAME/
 *   replay-NAME PATH...         every file of these directories, or these files
 *
 * Speaks TAP (one test per path). A directory that is missing or holds no
 * input is a failure: an empty corpus would prove nothing. If an input
 * crashes the target, its name is printed before the process dies. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* libFuzzer's convention: the target may or may not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static char current[4096];

static void on_crash(int sig) {
        static const char head[] = "# crashed on input: ";
        /* Only async-signal-safe calls here. */
        (void) !write(STDERR_FILENO, head, sizeof head - 1);
        (void) !write(STDERR_FILENO, current, strlen(current));
        (void) !write(STDERR_FILENO, "\n", 1);
        signal(sig, SIG_DFL);
        raise(sig);
}

static int run_file(const char *path) {
        FILE *f;
        uint8_t *buf;
        long size;

        snprintf(current, sizeof current, "%s", path);
        f = fopen(path, "rb");
        if (!f) {
                printf("# %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                printf("# %s: cannot tell its size\n", path);
                fclose(f);
                return -1;
        }
        /* An exact-size copy, as libFuzzer gives, so over-reads are caught
         * under a sanitizer. */
        buf = malloc(size > 0 ? (size_t) size : 1);
        if (!buf || fread(buf, 1, (size_t) size, f) != (size_t) size) {
                printf("# %s: cannot read it\n", path);
                free(buf);
                fclose(f);
                return -1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t) size);
        free(buf);
        return 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Every regular file of a directory (not recursing), in name order so that
 * runs are reproducible; or the path itself if it is a file. Returns the
 * number of inputs run, -1 on an error. */
static long run_path(const char *path) {
        struct stat st;
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0;
        long done = 0;

        if (stat(path, &st) < 0) {
                printf("# %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (!S_ISDIR(st.st_mode))
                return run_file(path) < 0 ? -1 : 1;

        d = opendir(path);
        if (!d) {
                printf("# %s: %s\n", path, strerror(errno));
                return -1;
        }
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        char **m = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
                        if (!m)
                                abort();
                        names = m;
                }
                if (!(names[n++] = strdup(de->d_name)))
                        abort();
        }
        closedir(d);
        if (n > 0)
                qsort(names, n, sizeof *names, compare_names);

        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(path) + 1 + strlen(names[i]) + 1;
                char *full = malloc(len);

                if (!full)
                        abort();
                snprintf(full, len, "%s/%s", path, names[i]);
                if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (run_file(full) < 0)
                                done = -1;
                        else if (done >= 0)
                                done++;
                }
                free(full);
                free(names[i]);
        }
        free(names);
        return done;
}

int main(int argc, char **argv) {
        static const int crash_signals[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
        char *default_path = NULL;
        int failed = 0;

        setvbuf(stdout, NULL, _IOLBF, 0);
        for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
                signal(crash_signals[i], on_crash);
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);

        if (argc < 2) {
                const char *top = getenv("srcdir");
                size_t len;

                if (!top || !*top)
                        top = ".";
                len = strlen(top) + strlen("/tests/fuzz/corpus/") + strlen(fuzz_corpus_name) + 1;
                default_path = malloc(len);
                if (!default_path)
                        abort();
                snprintf(default_path, len, "%s/tests/fuzz/corpus/%s", top, fuzz_corpus_name);
        }

        printf("1..%d\n", argc < 2 ? 1 : argc - 1);
        for (int i = 1; i < (argc < 2 ? 2 : argc); i++) {
                const char *path = argc < 2 ? default_path : argv[i];
                long n = run_path(path);

                if (n > 0)
                        printf("ok %d - %s: replayed %ld inputs\n", i, path, n);
                else {
                        printf("not ok %d - %s: %s\n", i, path, n == 0 ? "no inputs (empty corpus)" : "could not replay");
                        failed = 1;
                }
        }
        free(default_path);
        return failed;
}

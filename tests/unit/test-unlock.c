/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-unlock's parts without a terminal: the ask file parser (as
 * systemd-ask-password writes the file), the cleaning of what we print of
 * it, the directory scan (what systemd-tty-ask-password-agent skips, we
 * skip), the login banner, and the judge of what became of an answer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ask-dir.h"
#include "ask-file.h"
#include "judge.h"
#include "volume.h"
#include "tap.h"

static const char sample[] = "[Ask]\n"
                             "PID=412\n"
                             "Socket=/run/systemd/ask-password/sck.1b7e5f\n"
                             "AcceptCached=1\n"
                             "Echo=0\n"
                             "NotAfter=0\n"
                             "Silent=0\n"
                             "Message=Please enter passphrase for disk root (luks-1234):\n"
                             "Icon=drive-harddisk\n"
                             "Id=cryptsetup:/dev/vda2\n";

static int parse(const char *text, struct ask_request *r) {
        memset(r, 0x55, sizeof *r);
        return ask_parse(text, strlen(text), r);
}

static void test_parse(void) {
        struct ask_request r;

        tap_ok(parse(sample, &r) == 0, "systemd-ask-password's file parses");
        tap_str_eq(r.id, "cryptsetup:/dev/vda2", "Id=");
        tap_str_eq(r.message, "Please enter passphrase for disk root (luks-1234):", "Message=");
        tap_str_eq(r.socket, "/run/systemd/ask-password/sck.1b7e5f", "Socket=");
        tap_ok(r.pid == 412 && r.not_after == 0 && r.accept_cached && !r.echo && !r.name[0],
               "PID=, NotAfter=, AcceptCached=, Echo=; no name yet");

        tap_ok(parse("[Ask]\r\n  Socket = /s  \r\n# comment\n;other\n\n[Other]\nSocket=/t\nPID=x\n", &r) == 0 &&
                       !strcmp(r.socket, "/s") && r.pid == 0 && !r.id[0] && !r.message[0],
               "whitespace, CRLF, comments; other sections skipped; Id and Message optional");
        tap_ok(parse("[Ask]\nSocket=/a\nSocket=/b\nPID=1\nPID=2\n", &r) == 0 && !strcmp(r.socket, "/b") && r.pid == 2,
               "a key given twice counts the last time");
        tap_ok(parse("[Ask]\nSocket=/s\nNotAfter=18446744073709551615\n", &r) == 0 &&
                       r.not_after == UINT64_MAX, "NotAfter= up to 2^64-1");

        tap_ok(parse("Socket=/s\n", &r) == -EINVAL, "no [Ask] section: no request");
        tap_ok(parse("[Ask]\nPID=1\n", &r) == -EINVAL, "no Socket=: no request");
        tap_ok(parse("[Ask]\nSocket=relative\n", &r) == -EINVAL, "a relative Socket=: no request");
        tap_ok(parse("[Ask]\nSocket=/s\nSocket=\n", &r) == -EINVAL, "an empty Socket= resets it");
        {
                char longsock[300] = "[Ask]\nSocket=/";
                memset(longsock + strlen(longsock), 'a', 120);
                tap_ok(parse(longsock, &r) == -EINVAL, "a Socket= longer than sun_path: no request");
        }
        tap_ok(parse("[Ask]\nSocket=/s\nPID=-1\n", &r) == -EINVAL, "a negative PID=: no request");
        tap_ok(parse("[Ask]\nSocket=/s\nPID=4294967296\n", &r) == -EINVAL, "a PID= beyond pid_t: no request");
        tap_ok(parse("[Ask]\nSocket=/s\nNotAfter=18446744073709551616\n", &r) == -EINVAL,
               "a NotAfter= beyond 2^64-1: no request");
        tap_ok(parse("[Ask]\nSocket=/s\nEcho=maybe\n", &r) == -EINVAL, "a bad boolean: no request");
        tap_ok(parse("[Ask]\nSocket=/s\ngarbage\n", &r) == -EINVAL, "a line without '=': no request");
        tap_ok(parse("[Ask\nSocket=/s\n", &r) == -EINVAL, "an unclosed section header: no request");
        tap_ok(ask_parse("[Ask]\nSocket=/s\0\n", 13, &r) == -EINVAL, "a NUL byte: no request");
        {
                char *big = malloc(ASK_FILE_MAX + 2);
                memset(big, '#', ASK_FILE_MAX + 1);
                memcpy(big, "[Ask]\nSocket=/s\n", 16);
                tap_ok(ask_parse(big, ASK_FILE_MAX + 1, &r) == -EINVAL &&
                               ask_parse(big, ASK_FILE_MAX, &r) == 0, "at most ASK_FILE_MAX bytes");
                free(big);
        }
}

static void test_clean(void) {
        struct ask_request r;
        char out[16];

        tap_ok(parse("[Ask]\nSocket=/s\nMessage=Disk \\\"root\\\"\\x21\\n\\e[2Jx\\x1b]0;t\\a\n", &r) == 0, "escapes parse");
        tap_str_eq(r.message, "Disk \"root\"!?e[2Jx?]0;t?", "C escapes undone, control characters (ESC, BEL, newline) made '?'");
        tap_ok(parse("[Ask]\nSocket=/s\nId=caf\xc3\xa9 \xc2\x9b\xff\xe2\x82\n", &r) == 0, "UTF-8 parses");
        tap_str_eq(r.id, "caf\xc3\xa9 ?????", "valid UTF-8 kept; each byte of a C1 control, an invalid or cut sequence made '?'");
        ask_clean_text("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 16, out, 10);
        tap_ok(strlen(out) == 8 && !strcmp(out, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), "cut at a character boundary");
}

static bool alive(pid_t pid) {
        return pid == 412;
}

static void test_live(void) {
        struct ask_request r = { .pid = 0, .not_after = 0 };

        tap_ok(ask_is_live(&r, 1000, alive), "no PID, no NotAfter: live");
        r.not_after = 999;
        tap_ok(!ask_is_live(&r, 1000, alive), "past NotAfter: skipped");
        r.not_after = 1000;
        tap_ok(ask_is_live(&r, 1000, alive), "at NotAfter: live");
        r.pid = 413;
        tap_ok(!ask_is_live(&r, 1000, alive), "asker gone: skipped");
        r.pid = 412;
        tap_ok(ask_is_live(&r, 1000, alive), "asker running: live");
}

static void write_file(const char *dir, const char *name, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "w");
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

static void test_scan(void) {
        char dir[] = "/tmp/test-unlock.XXXXXX", path[512], banner[512], text[512];
        struct ask_request list[ASK_DIR_MAX];
        int n;

        if (!mkdtemp(dir)) {
                tap_ok(0, "mkdtemp: %m");
                return;
        }
        snprintf(path, sizeof path, "%s/missing", dir);
        tap_ok(ask_dir_scan(path, list, ASK_DIR_MAX) == 0, "a directory that does not exist holds nothing");
        ask_banner(dir, banner, sizeof banner);
        tap_ok(banner[0] == '\0', "nothing asked: no banner");

        snprintf(text, sizeof text, "[Ask]\nPID=%d\nSocket=/run/x/sck.2\nMessage=second\nId=cryptsetup:/dev/vdb\n",
                 (int) getpid());
        write_file(dir, "ask.b", text);
        write_file(dir, "ask.a", "[Ask]\nSocket=/run/x/sck.1\nMessage=first\nId=cryptsetup:/dev/vda2\n");
        write_file(dir, "ask.expired", "[Ask]\nSocket=/s\nNotAfter=1\nId=old\n");
        write_file(dir, "ask.dead", "[Ask]\nSocket=/s\nPID=2147483646\nId=dead\n");
        write_file(dir, "ask.garbage", "not a request\n");
        write_file(dir, "sck.1", "[Ask]\nSocket=/s\nId=not-an-ask-file\n");
        write_file(dir, "target", "[Ask]\nSocket=/s\nId=via-symlink\n");
        snprintf(path, sizeof path, "%s/ask.link", dir);
        tap_ok(symlink("target", path) == 0, "symlink made");
        snprintf(path, sizeof path, "%s/ask.fifo", dir);
        tap_ok(mkfifo(path, 0600) == 0, "fifo made");

        n = ask_dir_scan(dir, list, ASK_DIR_MAX);
        tap_ok(n == 2, "two live requests (expired, dead asker, garbage, symlink, FIFO, sck.* skipped): %d", n);
        if (n == 2) {
                tap_ok(!strcmp(list[0].name, "ask.a") && !strcmp(list[1].name, "ask.b"), "sorted by file name");
                tap_ok(ask_find_name(list, 2, "ask.b") == &list[1] && !ask_find_name(list, 2, "ask.c"), "found by name");
        }
        tap_ok(ask_dir_scan(dir, list, 1) == 1, "at most max requests");
        ask_banner(dir, banner, sizeof banner);
        tap_str_eq(banner,
                   "A passphrase is being asked for (cryptsetup:/dev/vda2, cryptsetup:/dev/vdb): type kairos-unlock to "
                   "give it from here.\n",
                   "the login banner names the requests and kairos-unlock");

        for (const char *f = "ask.a\0ask.b\0ask.expired\0ask.dead\0ask.garbage\0sck.1\0target\0ask.link\0ask.fifo\0"; *f;
             f += strlen(f) + 1) {
                snprintf(path, sizeof path, "%s/%s", dir, f);
                unlink(path);
        }
        rmdir(dir);
}

static struct ask_request req(const char *name, const char *id, pid_t pid) {
        struct ask_request r = { .pid = pid };
        snprintf(r.name, sizeof r.name, "%s", name);
        snprintf(r.id, sizeof r.id, "%s", id);
        snprintf(r.socket, sizeof r.socket, "/s/%s", name);
        return r;
}

static void test_judge(void) {
        struct ask_request ours = req("ask.1", "cryptsetup:/dev/vda2", 400);
        struct ask_request same = req("ask.1", "cryptsetup:/dev/vda2", 400);
        struct ask_request again = req("ask.2", "cryptsetup:/dev/vda2", 400);
        struct ask_request other = req("ask.3", "cryptsetup:/dev/vdb", 401);
        struct ask_request noid = req("ask.4", "", 500), noid_again = req("ask.5", "", 500);
        struct ask_request list[2];
        const struct ask_request *next;

        list[0] = same;
        tap_ok(unlock_judge(&ours, list, 1, false, true, &next) == UNLOCK_WAITING && !next,
               "our request still there: waiting");
        list[0] = again;
        tap_ok(unlock_judge(&ours, list, 1, true, false, &next) == UNLOCK_REFUSED && next == &list[0],
               "a new request with the same Id: refused, and that is the one to answer");
        list[0] = other;
        tap_ok(unlock_judge(&ours, list, 1, true, true, &next) == UNLOCK_WAITING,
               "gone, another device asks, our asker still runs: waiting");
        tap_ok(unlock_judge(&ours, list, 1, false, false, &next) == UNLOCK_WAITING,
               "asker gone but not settled yet: waiting");
        tap_ok(unlock_judge(&ours, list, 1, false, true, &next) == UNLOCK_ACCEPTED,
               "gone, asker gone, settled, only another device asks: accepted");
        tap_ok(unlock_judge(&ours, NULL, 0, false, true, &next) == UNLOCK_ACCEPTED, "nothing left: accepted");
        list[0] = noid_again;
        tap_ok(unlock_judge(&noid, list, 1, true, false, &next) == UNLOCK_REFUSED,
               "without an Id: the same asker asking again is a refusal");
        list[0] = other;
        tap_ok(unlock_judge(&noid, list, 1, true, true, &next) == UNLOCK_WAITING &&
                       unlock_judge(&noid, list, 1, false, true, &next) == UNLOCK_ACCEPTED,
               "without an Id: another asker is not ours");
        tap_ok(ask_same_subject(&ours, &again) && !ask_same_subject(&ours, &other) && !ask_same_subject(&ours, &noid),
               "same subject: the same Id");
        tap_str_eq(unlock_outcome_to_string(UNLOCK_REFUSED), "refused", "outcome names");
}

/* Which volume an asker opens, from its command line: only
 * systemd-cryptsetup's "attach NAME". */
static void test_volume(void) {
        static const char attach[] = "/usr/lib/systemd/systemd-cryptsetup\0attach\0root\0/dev/vda2\0none\0luks";
        static const char ask[] = "systemd-ask-password\0--id=x\0Passphrase:";
        static const char detach[] = "systemd-cryptsetup\0detach\0root";
        static const char cut[] = "systemd-cryptsetup\0attach\0ro";
        static const char slash[] = "systemd-cryptsetup\0attach\0../x\0";
        char name[VOLUME_NAME_MAX];

        tap_ok(volume_from_cmdline(attach, sizeof attach, name, sizeof name) == 0 && !strcmp(name, "root"),
               "systemd-cryptsetup attach root ...: the volume is root");
        tap_ok(volume_from_cmdline(ask, sizeof ask, name, sizeof name) == -ENOENT, "another asker names no volume");
        tap_ok(volume_from_cmdline(detach, sizeof detach, name, sizeof name) == -ENOENT, "detach is not an unlock");
        tap_ok(volume_from_cmdline(cut, sizeof cut - 1, name, sizeof name) == -ENOENT,
               "a command line cut in its volume's name names none");
        tap_ok(volume_from_cmdline(slash, sizeof slash, name, sizeof name) == -ENOENT, "a name with a slash is none");
        tap_ok(volume_from_cmdline(attach, sizeof attach, name, 3) == -ENOENT, "a name longer than the buffer is none");
        tap_ok(!volume_open("kairos-no-such-volume"), "a volume that no device-mapper device is called is not open");
}

int main(void) {
        test_parse();
        test_volume();
        test_clean();
        test_live();
        test_scan();
        test_judge();
        return tap_done();
}

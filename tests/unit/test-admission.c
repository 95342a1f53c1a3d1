/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Admission before authentication (admission.h): who goes when a path's
 * budget of waiting helpers is full, a source's share, the separation of
 * the paths, sources by address and /64, and the failure penalties. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "macro.h"
#include "tap.h"

static const struct admission_limits limits = { .per_path = 10, .per_source = 3 };

static struct admission_entry entry(enum admission_path p, enum admission_stage s, const char *src, usec_t t) {
        return (struct admission_entry) { .path = p, .stage = s, .source = src, .started = t };
}

static const char *source_of(const char *text) {
        static char out[ADMISSION_SOURCE_MAX];
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        struct sockaddr_in s4 = { .sin_family = AF_INET };

        if (inet_pton(AF_INET, text, &s4.sin_addr) == 1)
                admission_source((struct sockaddr *) &s4, sizeof s4, out, sizeof out);
        else if (inet_pton(AF_INET6, text, &s6.sin6_addr) == 1)
                admission_source((struct sockaddr *) &s6, sizeof s6, out, sizeof out);
        else
                admission_source(NULL, 0, out, sizeof out);
        return out;
}

int main(void) {
        struct admission_entry e[64];
        char names[64][32];
        size_t n = 0;
        int v;

        /* Sources. */
        tap_ok(!strcmp(source_of("192.0.2.9"), "192.0.2.9"), "an IPv4 address is its own source (%s)", source_of("192.0.2.9"));
        tap_ok(!strcmp(source_of("::ffff:192.0.2.9"), "192.0.2.9"), "a mapped IPv4 address too (%s)",
               source_of("::ffff:192.0.2.9"));
        tap_ok(!strcmp(source_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64") &&
               !strcmp(source_of("2001:db8:1:2:bbbb::7"), "2001:db8:1:2::/64"),
               "IPv6 addresses count by their /64 (%s)", source_of("2001:db8:1:2:aaaa::1"));
        tap_ok(!strcmp(source_of("nonsense"), "?"), "no address: \"?\"");

        /* Room: nobody goes. */
        e[n++] = entry(ADMISSION_DIRECT, ADMISSION_CONNECTED, "10.0.0.1", 1);
        tap_ok(admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.0.2", &limits) == -1, "with room, nobody is dropped");

        /* One source beyond its share replaces its own oldest, never another's. */
        n = 0;
        e[n++] = entry(ADMISSION_DIRECT, ADMISSION_CONNECTED, "10.0.0.9", 1); /* the user, oldest of all */
        e[n++] = entry(ADMISSION_DIRECT, ADMISSION_CONNECTED, "10.0.0.66", 5);
        e[n++] = entry(ADMISSION_DIRECT, ADMISSION_CONNECTED, "10.0.0.66", 3);
        e[n++] = entry(ADMISSION_DIRECT, ADMISSION_SPOKEN, "10.0.0.66", 2);
        v = admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.0.66", &limits);
        tap_ok(v == 2, "a source at its share of 3 replaces its own oldest silent connection (%d)", v);
        v = admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.0.9", &limits);
        tap_ok(v == -1, "another source still gets in without dropping anyone (%d)", v);

        /* A full budget of strangers: the newcomer gets in, a stranger goes. */
        n = 0;
        e[n++] = entry(ADMISSION_DIRECT, ADMISSION_CONNECTED, "10.0.0.9", 1); /* the user, oldest, alone */
        for (int i = 0; i < 9; i++) {
                snprintf(names[i], sizeof names[i], "10.0.1.%d", i / 3);
                e[n++] = entry(ADMISSION_DIRECT, ADMISSION_CONNECTED, names[i], 10 + (usec_t) i);
        }
        v = admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.2.1", &limits);
        tap_ok(v == 1, "full: the oldest connection of the source holding the most goes, not the lone oldest (%d: %s)", v,
               v >= 0 ? e[v].source : "none");

        /* Only the silent go: one that has spoken (its first message in,
         * its helper at work) or proven is never pushed out. */
        e[1].stage = ADMISSION_SPOKEN;
        e[2].stage = e[3].stage = ADMISSION_PROVEN;
        v = admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.2.1", &limits);
        tap_ok(v == 0 || v >= 4, "full: a silent connection goes, never one that has spoken or proven (%d)", v);
        tap_ok(v == 4, "... from the source holding the most, its oldest (%d)", v);

        /* Every waiting one has spoken or proven: the newcomer is refused. */
        for (size_t i = 0; i < n; i++)
                e[i].stage = i % 2 ? ADMISSION_PROVEN : ADMISSION_SPOKEN;
        v = admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.2.1", &limits);
        tap_ok(v == ADMISSION_REFUSE, "full of connections at work: the newcomer is told busy, nobody is cut (%d)", v);

        /* A real user's burst from one source: beyond its share, its own
         * connections at work are not cut for its newcomers. */
        n = 0;
        for (int i = 0; i < 3; i++)
                e[n++] = entry(ADMISSION_RELAY, ADMISSION_SPOKEN, "relay r slot 1", (usec_t) i);
        v = admission_pick_victim(e, n, ADMISSION_RELAY, "relay r slot 1", &limits);
        tap_ok(v == ADMISSION_REFUSE, "a source at its share with all three at work: its newcomer waits its turn (%d)", v);
        e[1].stage = ADMISSION_CONNECTED;
        v = admission_pick_victim(e, n, ADMISSION_RELAY, "relay r slot 1", &limits);
        tap_ok(v == 1, "... but its silent one makes room (%d)", v);

        /* Established and authenticated connections never count or go. */
        n = 0;
        for (int i = 0; i < 20; i++)
                e[n++] = entry(ADMISSION_DIRECT, i % 2 ? ADMISSION_ESTABLISHED : ADMISSION_AUTHENTICATED, "10.0.0.9",
                               (usec_t) i);
        tap_ok(admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.0.9", &limits) == -1,
               "twenty established or logged-in sessions from one source drop nobody and leave room");

        /* Paths are separate: a full relay and a full plain SSH path leave the direct path alone. */
        n = 0;
        for (int i = 0; i < 10; i++) {
                snprintf(names[i], sizeof names[i], "relay r slot %d", i % 4);
                e[n++] = entry(ADMISSION_RELAY, ADMISSION_CONNECTED, names[i], (usec_t) i);
                snprintf(names[10 + i], sizeof names[10 + i], "10.9.0.%d", i);
                e[n++] = entry(ADMISSION_SSH, ADMISSION_CONNECTED, names[10 + i], (usec_t) i);
        }
        tap_ok(admission_pick_victim(e, n, ADMISSION_DIRECT, "10.0.0.9", &limits) == -1,
               "full relay and plain SSH budgets do not touch the direct path");
        v = admission_pick_victim(e, n, ADMISSION_SSH, "10.0.0.9", &limits);
        tap_ok(v >= 0 && e[v].path == ADMISSION_SSH, "a full plain SSH budget drops a plain SSH connection (%d)", v);
        v = admission_pick_victim(e, n, ADMISSION_RELAY, "relay r slot 0", &limits);
        tap_ok(v >= 0 && e[v].path == ADMISSION_RELAY && !strcmp(e[v].source, "relay r slot 0"),
               "a relay slot at its share replaces its own pairing (%d)", v);

        /* Many sources, each at its share, never shut a new source out. */
        n = 0;
        for (int i = 0; i < 12; i++) {
                snprintf(names[i], sizeof names[i], "10.8.0.%d", i);
                for (int k = 0; k < 3; k++)
                        e[n++] = entry(ADMISSION_SSH, ADMISSION_CONNECTED, names[i], (usec_t) (i * 3 + k));
        }
        v = admission_pick_victim(e, n, ADMISSION_SSH, "10.7.0.1", &limits);
        tap_ok(v >= 0 && strcmp(e[v].source, "10.7.0.1"), "36 waiting from 12 sources: a new source is admitted (a stranger goes: %d)", v);

        /* Penalties: per source and minute. */
        {
                static struct admission_penalties p;
                usec_t t = 1000 * USEC_PER_SEC;

                for (int i = 0; i < 30; i++)
                        admission_penalty_note(&p, ADMISSION_DIRECT, "10.0.0.66", t);
                tap_ok(admission_penalty_count(&p, ADMISSION_DIRECT, "10.0.0.66", t + USEC_PER_SEC) == 30,
                       "failures are counted per source");
                tap_ok(admission_penalty_count(&p, ADMISSION_DIRECT, "10.0.0.9", t) == 0, "another source has none");
                tap_ok(admission_penalty_count(&p, ADMISSION_SSH, "10.0.0.66", t) == 0,
                       "failed handshakes on the tunnel port do not count against plain SSH from the same source");
                tap_ok(admission_penalty_first_refusal(&p, ADMISSION_DIRECT, "10.0.0.66", t) &&
                       !admission_penalty_first_refusal(&p, ADMISSION_DIRECT, "10.0.0.66", t + 1),
                       "a refusal is said once in its minute");
                tap_ok(admission_penalty_count(&p, ADMISSION_DIRECT, "10.0.0.66", t + ADMISSION_PENALTY_WINDOW + 1) == 0,
                       "a minute later the count starts over");
                for (int i = 0; i < 200; i++) {
                        char src[32];
                        snprintf(src, sizeof src, "10.1.%d.%d", i / 256, i % 256);
                        admission_penalty_note(&p, ADMISSION_SSH, src, t + (usec_t) i);
                }
                tap_ok(admission_penalty_count(&p, ADMISSION_SSH, "10.1.0.199", t + 200) == 1,
                       "a table of %d sources keeps the newest when more come", ADMISSION_PENALTY_SOURCES);
        }
        return tap_done();
}

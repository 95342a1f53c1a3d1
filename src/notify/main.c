/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kairos-recovery-notify: POSTs one body (sealed codes, read from standard
 * input) to a URL with libcurl, once. kairos-recovery runs it and retries;
 * it is a program of its own so that the daemon never links libcurl, and
 * the initramfs carries libcurl only when NotifyURL= is set.
 *
 * Usage: kairos-recovery-notify [--ca FILE] [--format plain|ntfy] URL
 * Exit status: 0 delivered (2xx), 64 usage, 65 body too large, 69 the
 * server could not be reached or refused it, 70 libcurl failed. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define BODY_MAX (64 * 1024)

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata) {
        return size * nmemb;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "ca", required_argument, NULL, 'c' },
                { "format", required_argument, NULL, 'f' },
                {}
        };
        const char *ca = NULL, *format = "plain", *url;
        static char body[BODY_MAX + 1];
        struct curl_slist *headers = NULL;
        char error[CURL_ERROR_SIZE] = "";
        size_t n = 0;
        long code = 0;
        CURLcode rc;
        CURL *curl;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'c': ca = optarg; break;
                case 'f': format = optarg; break;
                default: return EX_USAGE;
                }
        if (optind + 1 != argc || (strcmp(format, "plain") && strcmp(format, "ntfy"))) {
                fprintf(stderr, "Usage: kairos-recovery-notify [--ca FILE] [--format plain|ntfy] URL < BODY\n");
                return EX_USAGE;
        }
        url = argv[optind];
        for (;;) {
                ssize_t k = read(STDIN_FILENO, body + n, BODY_MAX + 1 - n);
                if (k < 0) {
                        perror("kairos-recovery-notify: reading the body");
                        return EX_IOERR;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > BODY_MAX) {
                        fprintf(stderr, "kairos-recovery-notify: the body is larger than %d bytes\n", BODY_MAX);
                        return EX_DATAERR;
                }
        }

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(curl = curl_easy_init())) {
                fprintf(stderr, "kairos-recovery-notify: cannot initialise libcurl\n");
                return EX_SOFTWARE;
        }
        headers = curl_slist_append(headers, "Content-Type: text/plain; charset=us-ascii");
        if (!strcmp(format, "ntfy")) {
                /* ntfy's headers: a title and a priority a phone shows. */
                headers = curl_slist_append(headers, "Title: kairos: a machine waits in recovery mode");
                headers = curl_slist_append(headers, "Tags: rotating_light");
                headers = curl_slist_append(headers, "Priority: high");
        }
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) n);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "kairos-recovery-notify/" PACKAGE_VERSION);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        if (ca)
                curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(headers);
        curl_easy_cleanup(curl);
        if (rc != CURLE_OK) {
                fprintf(stderr, "kairos-recovery-notify: %s: %s\n", url, error[0] ? error : curl_easy_strerror(rc));
                return EX_UNAVAILABLE;
        }
        if (code < 200 || code > 299) {
                fprintf(stderr, "kairos-recovery-notify: %s answered HTTP %ld\n", url, code);
                return EX_UNAVAILABLE;
        }
        return 0;
}

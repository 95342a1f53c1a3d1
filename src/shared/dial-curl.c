/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial-curl.h"
#include "macro.h"
#include "proxy-url.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_curl(void) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env_either(const char *a, const char *b) {
        const char *v = getenv(a);
        if (!v || !*v)
                v = getenv(b);
        return v && *v ? v : NULL;
}

/* The relay speaks its own protocol inside the TCP connection, as https
 * does inside TLS: so it takes the https proxy, never http_proxy. */
static const char *proxy_from_env(void) {
        const char *p = env_either("https_proxy", "HTTPS_PROXY");
        return p ? p : env_either("all_proxy", "ALL_PROXY");
}

void curl_dial_proxy_for(const char *host, char *out, size_t size) {
        const char *proxy = proxy_from_env();

        /* What libcurl decides with NOPROXY is not exposed; this only names
         * the candidate for log lines: without its password. */
        proxy_url_redact(proxy ? proxy : "", out, size);
        (void) host;
}

/* libcurl closes every socket it opened but the one handed to the caller. */
static int close_socket(void *clientp, curl_socket_t fd) {
        const curl_socket_t *keep = clientp;

        if (fd != *keep)
                close(fd);
        return 0;
}

static int check_cancel(void *clientp, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
        const volatile int *cancel = clientp;
        (void) a, (void) b, (void) c, (void) d;
        return cancel && *cancel;
}

void curl_dial_init(void) {
        pthread_once(&init_once, init_curl);
}

int curl_dial(const char *host, uint16_t port, usec_t timeout, const volatile int *cancel,
              char *err, size_t err_size) {
        char url[300], errbuf[CURL_ERROR_SIZE] = "", shown[300];
        const char *proxy = proxy_from_env(), *no_proxy = env_either("no_proxy", "NO_PROXY");
        curl_socket_t fd = CURL_SOCKET_BAD, keep = CURL_SOCKET_BAD;
        CURL *c;
        CURLcode cc;
        int r;

        curl_dial_init();
        /* The proxy as our messages show it: never its password. */
        proxy_url_redact(proxy, shown, sizeof shown);
        if (proxy && !strncasecmp(proxy, "https://", 8)) {
                snprintf(err, err_size, "proxy %s is reached over TLS, which kairos-bridge does not support; use an http:// proxy", shown);
                return -EPROTONOSUPPORT;
        }
        if (proxy_url_ambiguous(proxy)) {
                snprintf(err, err_size, "proxy %s: its user name or password holds '@', '/', '?' or '#'; write them as %%40, %%2F, %%3F, %%23",
                         shown);
                return -EINVAL;
        }

        /* CONNECT_ONLY with http:// makes a TCP connection, tunnelled
         * through the proxy with CONNECT when one is set; nothing is sent. */
        snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%u/" : "http://%s:%u/", host, port);
        c = curl_easy_init();
        if (!c) {
                snprintf(err, err_size, "libcurl could not start");
                return -ENOMEM;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_PROXY, proxy ? proxy : ""); /* "": no proxy, not even http_proxy */
        curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
        if (no_proxy)
                curl_easy_setopt(c, CURLOPT_NOPROXY, no_proxy);
        if (timeout != USEC_INFINITY)
                curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) MAX(timeout / 1000, 1));
        curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
        curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, &keep);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, check_cancel);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *) cancel);

        cc = curl_easy_perform(c);
        if (cc == CURLE_OK)
                cc = curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd);
        switch (cc) {
        case CURLE_OK:
                r = fd == CURL_SOCKET_BAD ? -EIO : fd;
                keep = fd;
                break;
        case CURLE_OPERATION_TIMEDOUT:
                r = -ETIMEDOUT;
                break;
        case CURLE_COULDNT_CONNECT:
                r = -ECONNREFUSED;
                break;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                r = -EHOSTUNREACH;
                break;
        case CURLE_ABORTED_BY_CALLBACK:
                r = -ECANCELED;
                break;
        default:
                r = -EIO;
        }
        if (r < 0) {
                snprintf(err, err_size, "%s%s%s", errbuf[0] ? errbuf : curl_easy_strerror(cc),
                         proxy ? " (through proxy " : "", proxy ? shown : "");
                if (proxy)
                        strncat(err, ")", err_size - strlen(err) - 1);
        }
        curl_easy_cleanup(c);
        return r;
}

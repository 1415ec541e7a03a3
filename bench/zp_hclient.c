/*
 * zp_hclient.c — the benchmark's HTTPS client: calls `zoneproof serve` the
 * way kube-apiserver does, over one kept-alive mTLS connection per
 * protocol (HTTP/1.1, and HTTP/2 when the server offers h2), from C, so
 * that what bench/interleaved.py measures is the server and not a Python
 * client's own cost.
 *
 *     zp_hclient --url URL --cacert F --cert F --key F [-H "Name: value"]...
 *
 * Then one command a line on stdin, one answer a line on stdout:
 *     h1 BODY | h2 BODY   POST BODY (one line of JSON); prints the µs it took, or
 *                         "fail ..." when the answer is not a 201 with "success":true
 *
 * libcurl directly, not base/httpc: that one is the providers' client
 * (retries, rate limits, metrics), and a benchmark wants none of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define LINE_MAX_BYTES (64 * 1024)

struct reply {
    char buf[8192];
    size_t len;
};

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = size * n, room = sizeof(r->buf) - 1 - r->len;

    if (len > room)
        len = room;
    memcpy(r->buf + r->len, p, len);
    r->len += len;
    r->buf[r->len] = '\0';
    return size * n;
}

static CURL *handle(const char *const *opt, struct curl_slist *hdrs, long version, struct reply *r)
{
    CURL *c = curl_easy_init();

    if (c == NULL)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, opt[0]);
    curl_easy_setopt(c, CURLOPT_CAINFO, opt[1]);
    curl_easy_setopt(c, CURLOPT_SSLCERT, opt[2]);
    curl_easy_setopt(c, CURLOPT_SSLKEY, opt[3]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, version);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    return c;
}

/* One POST on c's kept connection: µs, or 0 on a failure (printed). */
static uint64_t post(CURL *c, struct reply *r, const char *body)
{
    uint64_t t0 = now_us(), took;
    long code = 0;
    CURLcode rc;

    r->len = 0;
    r->buf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    rc = curl_easy_perform(c);
    took = now_us() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        printf("fail %s\n", curl_easy_strerror(rc));
        return 0;
    }
    if (code != 201 || strstr(r->buf, "\"success\":true") == NULL) {
        printf("fail %ld %.200s\n", code, r->buf);
        return 0;
    }
    return took;
}

static int loop(CURL *h1, CURL *h2, struct reply *r)
{
    char *line = malloc(LINE_MAX_BYTES);
    uint64_t us;

    if (line == NULL)
        return 2;
    while (fgets(line, LINE_MAX_BYTES, stdin) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "h1 ", 3) != 0 && strncmp(line, "h2 ", 3) != 0) {
            printf("error: bad command\n");
        } else if ((us = post(line[1] == '1' ? h1 : h2, r, line + 3)) != 0) {
            printf("%llu\n", (unsigned long long)us);
        }
        fflush(stdout);
    }
    free(line);
    return 0;
}

int main(int argc, char **argv)
{
    const char *opt[4] = {NULL, NULL, NULL, NULL}; /* url, cacert, cert, key */
    static const char *const names[4] = {"--url", "--cacert", "--cert", "--key"};
    struct curl_slist *hdrs = NULL;
    struct reply *r = calloc(1, sizeof(*r));
    CURL *h1, *h2;
    int rc;

    for (int i = 1; i + 1 < argc; i += 2) {
        int k = 0;
        while (k < 4 && strcmp(argv[i], names[k]) != 0)
            k++;
        if (k < 4)
            opt[k] = argv[i + 1];
        else if (strcmp(argv[i], "-H") == 0)
            hdrs = curl_slist_append(hdrs, argv[i + 1]);
    }
    if (r == NULL || opt[0] == NULL || opt[1] == NULL || opt[2] == NULL || opt[3] == NULL) {
        fprintf(stderr, "usage: zp_hclient --url URL --cacert F --cert F --key F [-H H]...\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h1 = handle(opt, hdrs, CURL_HTTP_VERSION_1_1, r);
    h2 = handle(opt, hdrs, CURL_HTTP_VERSION_2TLS, r);
    rc = h1 != NULL && h2 != NULL ? loop(h1, h2, r) : 2;
    curl_easy_cleanup(h1);
    curl_easy_cleanup(h2);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    free(r);
    return rc;
}

/*
 * httpc.c — HTTP exchanges over libcurl with deadlines, capped bodies,
 * Retry-After, bounded retries, and the per-account token buckets.
 *
 * One easy handle per exchange: libcurl handles must not be shared between
 * threads, and at a few calls per certificate the set-up cost is nothing.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/httpc_int.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/mem.h"

#define DEFAULT_BUDGET_MS 30000u
#define CONNECT_MAX_MS 10000u
#define ATTEMPTS_MAX 3
#define BACKOFF_FIRST_MS 250u

void zp_http_resp_init(struct zp_http_resp *r)
{
    r->status = 0;
    r->retry_after_ms = 0;
    zp_buf_init(&r->body, ZP_HTTP_BODY_MAX);
    zp_buf_init(&r->headers, ZP_HTTP_HEADERS_MAX);
}

void zp_http_resp_free(struct zp_http_resp *r)
{
    /* Token endpoints answer with credentials: wipe, do not just free. */
    zp_buf_free_secret(&r->body);
    zp_buf_free(&r->headers);
}

struct sink {
    struct zp_buf *b;
    int overflow;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;

    if (zp_buf_append(s->b, p, size * n) == -1) {
        s->overflow = 1;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct zp_buf *h = arg;

    /* A new status line starts a new response (after 100 Continue): keep only the last. */
    if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
        zp_buf_reset(h);
    if (zp_buf_append(h, p, size * n) == -1)
        return 0;
    return size * n;
}

void zp_http_url_host(const char *url, char *out, size_t outsz)
{
    const char *p = strstr(url, "://");
    size_t n;

    p = p ? p + 3 : url;
    n = strcspn(p, "/?#");
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

const char *zp_http_header(const struct zp_http_resp *r, const char *name, char *out, size_t outsz)
{
    const char *p = zp_buf_str(&r->headers);
    size_t nl = strlen(name);

    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl = len - nl - 1;
            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl >= outsz)
                vl = outsz - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        if (eol == NULL)
            break;
        p = eol + 2;
    }
    return NULL;
}

/*
 * A server's wait is capped: an hour is longer than any challenge waits, and a bigger figure (or
 * an epoch time taken for seconds) is a mistake that must not overflow into a wait of centuries.
 */
#define WAIT_MAX_S 3600u

/*
 * Whole decimal seconds at *p, nothing but digits: "-5", "+5", " 5" and "" are no number. A
 * figure past the cap saturates instead of wrapping. Moves *p past the digits; -1 if none.
 */
static int parse_digits(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t n = 0;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        if (n < 100000000000ULL) /* beyond any epoch time this code compares */
            n = n * 10u + (uint64_t)(*s - '0');
    *p = s;
    *out = n;
    return 0;
}

static uint64_t capped_ms(uint64_t s)
{
    return (s > WAIT_MAX_S ? WAIT_MAX_S : s) * 1000u;
}

/* Seconds from now until the epoch time t: 1 s once past (try again soon), capped. */
static uint64_t until_ms(uint64_t t)
{
    time_t now = time(NULL);

    return now >= 0 && t > (uint64_t)now ? capped_ms(t - (uint64_t)now) : 1000u;
}

/*
 * When to try again after a 429 that has no Retry-After: DigitalOcean,
 * Hetzner and Linode send the reset as epoch seconds (RateLimit-Reset,
 * X-RateLimit-Reset), Cloudflare as "…;t=<seconds>" in Ratelimit. A value
 * that is not a plain number is ignored (0: the client's own backoff).
 */
static uint64_t parse_reset(const struct zp_http_resp *r)
{
    static const char *const names[] = {"RateLimit-Reset", "X-RateLimit-Reset"};
    char v[128];
    const char *t;
    uint64_t n;

    for (size_t i = 0; i < 2; i++) {
        t = v;
        if (zp_http_header(r, names[i], v, sizeof(v)) == NULL || parse_digits(&t, &n) == -1 ||
            *t != '\0')
            continue;
        return n > 1000000000ULL ? until_ms(n) : capped_ms(n); /* epoch time, or seconds */
    }
    if (zp_http_header(r, "Ratelimit", v, sizeof(v)) != NULL && (t = strstr(v, "t=")) != NULL) {
        t += 2;
        if (parse_digits(&t, &n) == 0 && (*t == '\0' || *t == ',' || *t == ';' || *t == ' '))
            return capped_ms(n);
    }
    return 0;
}

/*
 * Retry-After is delta-seconds or an HTTP date (RFC 9110 10.2.3), which a
 * recipient must take in all three of its forms (IMF-fixdate, RFC 850,
 * asctime). A negative, malformed or partly parsed value is ignored (0).
 */
uint64_t zp_http_retry_after(const struct zp_http_resp *r)
{
    static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                        "%a %b %e %H:%M:%S %Y"};
    char v[128];
    const char *p = v;
    uint64_t s;

    if (zp_http_header(r, "Retry-After", v, sizeof(v)) == NULL)
        return r->status == 429 ? parse_reset(r) : 0;
    if (parse_digits(&p, &s) == 0)
        return *p == '\0' ? capped_ms(s) : 0;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct tm tm;
        const char *end;
        time_t when;

        memset(&tm, 0, sizeof(tm));
        end = strptime(v, forms[i], &tm);
        if (end == NULL || *end != '\0' || (when = timegm(&tm)) == (time_t)-1 || when < 0)
            continue;
        return until_ms((uint64_t)when);
    }
    return 0;
}

static const char *failure_phrase(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return "the host name does not resolve; check endpoint and this host's DNS";
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "the proxy's name does not resolve; check HTTPS_PROXY";
    case CURLE_COULDNT_CONNECT:
        return "connection refused or unreachable; check endpoint, firewalls and network policy";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return "its TLS certificate is not trusted; set caFile to the CA that signed it";
    case CURLE_SSL_CONNECT_ERROR:
        return "the TLS handshake failed";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return "the connection broke before an answer";
    default:
        return curl_easy_strerror(rc);
    }
}

/*
 * Sets one PEM blob option without a copy: libcurl would free its copy of a
 * client key unwiped. The request outlives the handle (one per call), and
 * its owner wipes the bytes (zp_buf_free_secret).
 */
static void set_blob(CURL *c, CURLoption opt, const struct zp_buf *pem)
{
    struct curl_blob blob = {pem->data, pem->len, CURL_BLOB_NOCOPY};

    curl_easy_setopt(c, opt, &blob);
}

/* Trust and client identity: from memory when the request carries PEM, else from files. */
static void set_tls_material(CURL *c, const struct zp_http_req *req)
{
    if (req->ca_pem != NULL)
        set_blob(c, CURLOPT_CAINFO_BLOB, req->ca_pem);
    else if (req->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
    if (req->client_cert_pem != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        set_blob(c, CURLOPT_SSLCERT_BLOB, req->client_cert_pem);
    } else if (req->client_cert_file != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, req->client_cert_file);
    }
    if (req->client_key_pem != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
        set_blob(c, CURLOPT_SSLKEY_BLOB, req->client_key_pem);
    } else if (req->client_key_file != NULL) {
        curl_easy_setopt(c, CURLOPT_SSLKEY, req->client_key_file);
    }
}

int zp_http_do(const struct zp_http_req *req, struct zp_http_resp *resp, struct zp_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct sink sink = {&resp->body, 0};
    char host[256], cerr[CURL_ERROR_SIZE] = "";
    uint64_t deadline = req->deadline_ms ? req->deadline_ms : zp_now_ms() + DEFAULT_BUDGET_MS;
    uint64_t left = zp_ms_left(deadline);
    CURLcode rc;
    int ret = -1;

    zp_http_url_host(req->url, host, sizeof(host));
    zp_buf_reset(&resp->body);
    zp_buf_reset(&resp->headers);
    resp->body.max = req->max_response ? req->max_response : ZP_HTTP_BODY_MAX;
    resp->status = 0;
    resp->retry_after_ms = 0;
    if (c == NULL)
        return zp_err_set(err, ZP_EINTERNAL, "cannot start an HTTP request");
    if (left == 0) {
        /* The same words as a call cut short: which of the two happens is a matter of timing. */
        zp_log(ZP_LOG_WARN, "http not sent: no time left", ZP_S("to", req->what),
               ZP_S("host", host), ZP_END);
        zp_err_set(err, ZP_ETIMEOUT, "%s (%s) did not answer in time", req->what, host);
        goto out;
    }
    for (const char *const *h = req->headers; h && *h; h++)
        hdrs = curl_slist_append(hdrs, *h);
    if (req->body != NULL)
        hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    if (strcmp(req->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (req->body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "zoneproof");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(left < CONNECT_MAX_MS ? left : CONNECT_MAX_MS));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp->headers);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    set_tls_material(c, req);

    rc = curl_easy_perform(c);
    if (rc == CURLE_WRITE_ERROR && sink.overflow) {
        zp_err_set(err, ZP_ETRANSIENT, "%s (%s) answered with more than %zu bytes", req->what, host,
                   resp->body.max);
        goto out;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        zp_err_set(err, ZP_ETIMEOUT, "%s (%s) did not answer in time", req->what, host);
        goto out;
    }
    if (rc != CURLE_OK) {
        /* curl's own text carries elapsed times: log it, and give users a stable phrase. */
        zp_log(ZP_LOG_WARN, "http failed", ZP_S("to", req->what), ZP_S("host", host),
               ZP_S("detail", cerr[0] ? cerr : curl_easy_strerror(rc)), ZP_END);
        zp_err_set(err, ZP_ETRANSIENT, "cannot reach %s (%s): %s", req->what, host,
                   failure_phrase(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->retry_after_ms = zp_http_retry_after(resp);
    ret = 0;
out : {
    char path[256];
    const char *p = strstr(req->url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    snprintf(path, sizeof(path), "%.*s", p ? (int)strcspn(p, "?#") : 1, p ? p : "/");
    zp_log(ZP_LOG_DEBUG, "http", ZP_S("to", req->what), ZP_S("method", req->method),
           ZP_S("host", host), ZP_S("path", path), ZP_I("status", resp->status), ZP_END);
}
    /* libcurl copied the header lines, Authorization among them: wipe the copies. */
    for (struct curl_slist *h = hdrs; h != NULL; h = h->next)
        zp_wipe(h->data, strlen(h->data));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return ret;
}

/*
 * Provider calls, labelled with the instance the calling thread works for
 * (zp_metrics_scope): calls made for nobody's instance (the Kubernetes
 * client) are not counted here.
 */
struct zp_metric zp_m_provider_requests =
    ZP_COUNTER("zoneproof_provider_requests_total",
               "Requests to provider APIs, by provider instance, method and status class.",
               "provider,method,code");
struct zp_metric zp_m_provider_latency =
    ZP_HISTOGRAM("zoneproof_provider_request_duration_seconds",
                 "Time of one request to a provider API (each attempt), in seconds.",
                 "provider,method", zp_metric_seconds_buckets);
static struct zp_metric m_retries = ZP_COUNTER("zoneproof_provider_retries_total",
                                               "Requests to provider APIs sent again.", "provider");
static struct zp_metric m_limited = ZP_COUNTER(
    "zoneproof_provider_rate_limited_total",
    "Replies 429 (or 503) from provider APIs: the provider limits the rate.", "provider");
static struct zp_metric m_limit_wait =
    ZP_COUNTER("zoneproof_provider_rate_limit_wait_seconds_total",
               "Seconds waited for a provider's rate limit (server: its Retry-After; client: "
               "zoneproof's own limit for the account).",
               "provider,source");

static void count_attempt(const struct zp_http_req *r, const struct zp_http_resp *resp, int got,
                          uint64_t took_ms)
{
    const char *prov = zp_metrics_scope();
    static const char *const classes[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
    long c = got == 0 ? resp->status / 100 : 0;

    if (prov == NULL)
        return;
    zp_metric_inc(&zp_m_provider_requests, prov, r->method, classes[c >= 1 && c <= 5 ? c : 0]);
    zp_metric_observe(&zp_m_provider_latency, (double)took_ms / 1000.0, prov, r->method);
    /* A 503 is an outage unless it says when to come back (then the API sheds load). */
    if (got == 0 && (resp->status == 429 || (resp->status == 503 && resp->retry_after_ms > 0)))
        zp_metric_inc(&m_limited, prov);
}

int zp_http_call(const struct zp_http_req *req, struct zp_http_resp *resp, struct zp_err *err)
{
    struct zp_http_req r = *req;
    uint64_t backoff = BACKOFF_FIRST_MS;

    if (r.deadline_ms == 0)
        r.deadline_ms = zp_now_ms() + DEFAULT_BUDGET_MS;
    for (int attempt = 1;; attempt++) {
        struct zp_err e = {0};
        uint64_t wait, t0 = zp_now_ms();
        int got;

        if (r.sign != NULL && r.sign(r.sign_arg, &r, err) == -1)
            return -1;
        got = zp_http_do(&r, resp, &e);
        int throttled = got == 0 && (resp->status == 429 || resp->status == 503);
        int retryable = got == -1 ? e.kind == ZP_ETRANSIENT
                                  : (throttled || (resp->status >= 500 && resp->status <= 599));

        count_attempt(&r, resp, got, zp_now_ms() - t0);
        if (!retryable) {
            if (got == -1)
                *err = e;
            return got;
        }
        wait = throttled && resp->retry_after_ms ? resp->retry_after_ms : backoff;
        backoff *= 2;
        /* Wait only when the retry can still finish before the deadline. */
        if ((!throttled && attempt >= ATTEMPTS_MAX) || wait + 500u >= zp_ms_left(r.deadline_ms)) {
            if (got == -1) {
                *err = e;
                return -1;
            }
            if (resp->status == 429) {
                /* The wait changes from one attempt to the next: the log has it, not the text. */
                zp_log(ZP_LOG_WARN, "http rate limited", ZP_S("to", req->what),
                       ZP_I("attempt", attempt), ZP_I("wait_ms", wait),
                       ZP_I("retry_after_ms", resp->retry_after_ms),
                       ZP_I("left_ms", zp_ms_left(r.deadline_ms)), ZP_END);
                zp_err_set(err, ZP_ERATELIMIT, ZP_HTTP_RATE_SENTENCE, req->what);
                err->upstream = 429;
                return -1;
            }
            return 0; /* the caller maps the last 5xx */
        }
        zp_log(ZP_LOG_INFO, "http retry", ZP_S("to", req->what), ZP_I("status", resp->status),
               ZP_I("attempt", attempt), ZP_I("wait_ms", wait), ZP_END);
        if (zp_metrics_scope() != NULL) {
            zp_metric_inc(&m_retries, zp_metrics_scope());
            if (throttled)
                zp_metric_add(&m_limit_wait, (double)wait / 1000.0, zp_metrics_scope(), "server");
        }
        zp_sleep_ms(wait);
    }
}

int zp_http_escape(const char *s, struct zp_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            if (zp_buf_append(out, s, 1) == -1)
                return -1;
        } else {
            char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            if (zp_buf_append(out, enc, 3) == -1)
                return -1;
        }
    }
    return 0;
}

/* --- token buckets ------------------------------------------------------------------------- */

struct bucket {
    struct bucket *next;
    char *key;
    double tokens;
    uint64_t last_ms;
};

static pthread_mutex_t buckets_mu = PTHREAD_MUTEX_INITIALIZER;
static struct bucket *buckets; /* under buckets_mu; lives as long as the process */

int zp_ratelimit_take(const char *key, double rate, double burst, uint64_t deadline_ms,
                      const char *what, struct zp_err *err)
{
    for (;;) {
        struct bucket *b;
        uint64_t now = zp_now_ms(), wait_ms;

        pthread_mutex_lock(&buckets_mu);
        for (b = buckets; b && strcmp(b->key, key) != 0; b = b->next)
            ;
        if (b == NULL) {
            b = zp_xcalloc(1, sizeof(*b));
            b->key = zp_xstrdup(key);
            b->tokens = burst;
            b->last_ms = now;
            b->next = buckets;
            buckets = b;
        }
        b->tokens += (double)(now - b->last_ms) * rate / 1000.0;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_ms = now;
        if (b->tokens >= 1.0) {
            b->tokens -= 1.0;
            pthread_mutex_unlock(&buckets_mu);
            return 0;
        }
        wait_ms = (uint64_t)((1.0 - b->tokens) * 1000.0 / rate) + 1;
        pthread_mutex_unlock(&buckets_mu);
        if (wait_ms >= zp_ms_left(deadline_ms)) {
            zp_log(ZP_LOG_WARN, "own rate limit", ZP_S("key", key), ZP_S("to", what),
                   ZP_I("wait_ms", wait_ms), ZP_I("left_ms", zp_ms_left(deadline_ms)), ZP_END);
            return zp_err_set(err, ZP_ERATELIMIT,
                              "rate limited by zoneproof's own limit for %s (the provider allows "
                              "about %.0f requests a minute); retry after a turn comes free: "
                              "the wait did not fit in this attempt's time (the log says how "
                              "long)",
                              what, rate * 60.0);
        }
        if (zp_metrics_scope() != NULL)
            zp_metric_add(&m_limit_wait, (double)wait_ms / 1000.0, zp_metrics_scope(), "client");
        zp_sleep_ms(wait_ms);
    }
}

const char *zp_http_reason(long status)
{
    static const struct {
        long status;
        const char *phrase;
    } phrases[] = {
        {200, "OK"},
        {201, "Created"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {413, "Payload Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Entity"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
    };

    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (phrases[i].status == status)
            return phrases[i].phrase;
    return "";
}

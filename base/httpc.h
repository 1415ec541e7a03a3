/*
 * httpc.h — the one HTTP client of zoneproof (libcurl underneath): every
 * call has a deadline, a cap on what it reads, and a retry policy that
 * honours Retry-After and never retries what cannot succeed (401, 403 and
 * other 4xx). Provider APIs and the Kubernetes client both go through it.
 *
 * Nothing here logs headers or query strings: they carry credentials
 * (Authorization, Namecheap's ApiKey). Logs name the method, host and path.
 */
#ifndef ZP_BASE_HTTPC_H
#define ZP_BASE_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct zp_err;

#define ZP_HTTP_BODY_MAX (4u * 1024u * 1024u)
#define ZP_HTTP_HEADERS_MAX (64u * 1024u)

/*
 * The sentence for a rate limit that cannot be waited out, with one %s (who
 * limits). No figure: the wait changes from one attempt to the next, and a
 * changed status message makes cert-manager reconcile again. Callers log
 * the wait. It names no one who tries again: cert-manager and a command-line
 * user both read it.
 */
#define ZP_HTTP_RATE_SENTENCE                                                                      \
    "rate limited by %s; retry after its limit resets: waiting it out did not fit in this "        \
    "attempt's time (the log says how long)"

struct zp_http_req {
    const char *method; /* "GET", "POST", … */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;           /* may be NULL */
    size_t body_len;
    uint64_t deadline_ms;         /* absolute, zp_now_ms() clock; 0: 30 s from now */
    size_t max_response;          /* 0: ZP_HTTP_BODY_MAX */
    const char *ca_file;          /* trust only this bundle; NULL: the system's */
    const char *client_cert_file; /* optional TLS client certificate (PEM) */
    const char *client_key_file;
    /*
     * The same three as PEM in memory (a kubeconfig's -data fields): a private key never has
     * to be written to disk for libcurl. Each, when set, takes the place of its file.
     */
    const struct zp_buf *ca_pem;
    const struct zp_buf *client_cert_pem;
    const struct zp_buf *client_key_pem;
    const char *what; /* who is called, for messages: "Cloudflare" */
    /*
     * Optional: run before every attempt, the first and each retry, to sign
     * the request anew (a fresh timestamp and nonce: a gateway refuses a
     * signed request it has seen). It may point r->headers elsewhere. -1
     * ends the call with its err.
     */
    int (*sign)(void *arg, struct zp_http_req *r, struct zp_err *err);
    void *sign_arg;
};

struct zp_http_resp {
    long status; /* 0 when no response arrived */
    struct zp_buf body;
    struct zp_buf headers;   /* raw "Name: value\r\n" lines of the last response */
    uint64_t retry_after_ms; /* from Retry-After or a reset header, at most 1 h; 0: absent/bad */
};

void zp_http_resp_init(struct zp_http_resp *r);
void zp_http_resp_free(struct zp_http_resp *r);

/*
 * The host (and port) of a URL: "https://api.example.com:8443/x?y" ->
 * "api.example.com:8443"; for messages that must not carry paths or queries,
 * and for APIs that sign the host. Cut to outsz.
 */
void zp_http_url_host(const char *url, char *out, size_t outsz);

/* The reason phrase of an HTTP status ("Forbidden"), or "" for a status without one here. */
const char *zp_http_reason(long status);

/*
 * One exchange. Returns 0 when any HTTP response arrived (whatever its
 * status); -1 with ZP_ETIMEOUT or ZP_ETRANSIENT and a sentence naming the
 * host when none did.
 */
int zp_http_do(const struct zp_http_req *req, struct zp_http_resp *resp, struct zp_err *err);

/*
 * zp_http_do with retries: 429 and 503 wait for Retry-After (or a short
 * backoff) when it fits before the deadline; other 5xx and network errors
 * are retried with a backoff up to 3 attempts. Anything else is returned
 * as it came. A 429 that cannot be waited out fails with ZP_ERATELIMIT and
 * ZP_HTTP_RATE_SENTENCE; the wait goes to the log ("http rate limited").
 */
int zp_http_call(const struct zp_http_req *req, struct zp_http_resp *resp, struct zp_err *err);

/* The value of a response header (case-insensitive name), or NULL. */
const char *zp_http_header(const struct zp_http_resp *r, const char *name, char *out, size_t outsz);

/*
 * The provider-call metrics (metrics.h), counted here for every HTTP call
 * made for a provider instance (zp_metrics_scope) and by providers with
 * their own transport (RFC2136's DNS messages): provider, method, code;
 * and the time of each attempt by provider and method.
 */
struct zp_metric;
extern struct zp_metric zp_m_provider_requests;
extern struct zp_metric zp_m_provider_latency;

/* Percent-encodes s for a URL query or path segment. */
int zp_http_escape(const char *s, struct zp_buf *out);

/*
 * A token bucket shared by every call with the same key (one per provider
 * account): rate tokens a second, at most burst. Waits for a token until
 * the deadline; then fails with ZP_ERATELIMIT naming what.
 */
int zp_ratelimit_take(const char *key, double rate, double burst, uint64_t deadline_ms,
                      const char *what, struct zp_err *err);

#endif

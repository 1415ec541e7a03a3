/*
 * sigv4.h — AWS Signature Version 4 (HMAC-SHA256) for requests to AWS APIs
 * (Route 53; STS when temporary credentials are added).
 *
 * The steps are exposed one by one (canonical request, string to sign,
 * signing key) so that tests can hold each of them against the reference
 * vectors. The signature covers the Host and X-Amz-Date headers (and
 * X-Amz-Security-Token with temporary credentials), as botocore does for
 * Route 53: the caller must send exactly the host and date it signed.
 */
#ifndef ZP_PROVIDERS_SIGV4_H
#define ZP_PROVIDERS_SIGV4_H

#include <stddef.h>
#include <time.h>

struct zp_buf;

#define ZP_SIGV4_DATE_LEN 16 /* "20260102T030405Z" */

struct zp_sigv4_key {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term keys */
    const char *region;        /* "us-east-1" */
    const char *service;       /* "route53" */
};

struct zp_sigv4_req {
    const char *method; /* "GET", "POST" */
    const char *host;   /* the Host header as sent: "route53.amazonaws.com", "127.0.0.1:8443" */
    const char *path;   /* the path as sent ("/2013-04-01/change/C1"), before canonical encoding */
    const char *query;  /* a canonical query (zp_sigv4_query); NULL or "" when none */
    const void *body;   /* may be NULL */
    size_t body_len;
    const char *amz_date; /* the X-Amz-Date value, ZP_SIGV4_DATE_LEN characters */
};

/*
 * The canonical query string from n name/value pairs (pairs[2i], pairs[2i+1]):
 * each percent-encoded (RFC 3986 unreserved kept, %20 for a space), sorted by
 * name then value, joined with '&'. Send the same string in the URL.
 */
int zp_sigv4_query(const char *const *pairs, size_t n, struct zp_buf *out);

/* "20260102T030405Z" for the UTC time t; out holds ZP_SIGV4_DATE_LEN + 1 bytes. */
void zp_sigv4_date(time_t t, char *out);

/* Step 1: METHOD, URI, query, headers, signed header names, hex(SHA-256(body)). */
int zp_sigv4_canonical_request(const struct zp_sigv4_key *k, const struct zp_sigv4_req *r,
                               struct zp_buf *out);
/* Step 2: algorithm, date, credential scope, hex(SHA-256(canonical request)). */
int zp_sigv4_string_to_sign(const struct zp_sigv4_key *k, const struct zp_sigv4_req *r,
                            const char *canonical, struct zp_buf *out);
/* Step 3: HMAC chain over "AWS4"+secret, date, region, service, "aws4_request". */
int zp_sigv4_signing_key(const struct zp_sigv4_key *k, const char *amz_date, unsigned char out[32]);
/*
 * All steps: the value of the Authorization header ("AWS4-HMAC-SHA256
 * Credential=…, SignedHeaders=…, Signature=…"). Intermediate keys are wiped.
 */
int zp_sigv4_authorization(const struct zp_sigv4_key *k, const struct zp_sigv4_req *r,
                           struct zp_buf *out);

#endif

/*
 * edgegrid.h — Akamai EdgeGrid request signing (EG1-HMAC-SHA256), for the
 * Akamai {OPEN} APIs (Edge DNS).
 *
 * The steps are exposed one by one (signing key, content hash, data to
 * sign, the Authorization header) so that tests can hold each against
 * Akamai's published vectors. What is signed: the method, the scheme, the
 * Host as sent, the path with its query exactly as sent, the values of the
 * headers named to be signed, the SHA-256 of a POST body (cut to max_body
 * bytes; other methods' bodies are not covered) and the unsigned header
 * itself. The caller must send exactly what it signed.
 */
#ifndef ZP_PROVIDERS_EDGEGRID_H
#define ZP_PROVIDERS_EDGEGRID_H

#include <stddef.h>
#include <time.h>

struct zp_buf;

#define ZP_EG_TS_LEN 22        /* "20140321T19:34:21+0000" */
#define ZP_EG_NONCE_LEN 36     /* a UUID: 8-4-4-4-12 hex digits */
#define ZP_EG_MAX_BODY 131072u /* the APIs' default: POST bodies hashed up to this */

struct zp_eg_creds {
    const char *client_token;
    const char *access_token;
    const char *client_secret; /* the key of the signing key's HMAC, as written (base64 text) */
};

struct zp_eg_req {
    const char *method;     /* "GET", "POST", … (upper case, as sent) */
    const char *scheme;     /* "https" */
    const char *host;       /* the Host header as sent: "akab-….luna.akamaiapis.net" */
    const char *path_query; /* "/config-dns/v2/zones/z?accountSwitchKey=K", as sent */
    /*
     * The request's headers, "Name: value" lines, NULL-terminated (may be
     * NULL); of them only those named in sign_names are signed, in
     * sign_names's order, names compared without case.
     */
    const char *const *headers;
    const char *const *sign_names;
    const void *body; /* may be NULL */
    size_t body_len;
    size_t max_body;       /* 0: ZP_EG_MAX_BODY */
    const char *timestamp; /* zp_eg_timestamp */
    const char *nonce;     /* zp_eg_nonce: never reused */
};

/* "20140321T19:34:21+0000" for the UTC time t; out holds ZP_EG_TS_LEN + 1 bytes. */
void zp_eg_timestamp(time_t t, char *out);
/* A random version-4 UUID in lower case; out holds ZP_EG_NONCE_LEN + 1 bytes. 0, or -1. */
int zp_eg_nonce(char *out);

/* base64(HMAC-SHA256(client_secret, timestamp)), appended to out. */
int zp_eg_signing_key(const char *client_secret, const char *timestamp, struct zp_buf *out);
/* base64(SHA-256(body cut to max_body)) for a POST with a body; "" otherwise. Appended to out. */
int zp_eg_content_hash(const char *method, const void *body, size_t body_len, size_t max_body,
                       struct zp_buf *out);
/*
 * The tab-joined data to sign: method, scheme, host, path and query, the
 * canonical signed headers ("name:value", each value trimmed and its
 * runs of white space made one space, tab-joined), the content hash, and
 * auth (the unsigned header). Appended to out.
 */
int zp_eg_data_to_sign(const struct zp_eg_req *r, const char *auth, struct zp_buf *out);
/*
 * All steps: the value of the Authorization header, "EG1-HMAC-SHA256
 * client_token=…;access_token=…;timestamp=…;nonce=…;signature=…".
 * The signing key is wiped after use.
 */
int zp_eg_authorization(const struct zp_eg_creds *c, const struct zp_eg_req *r, struct zp_buf *out);

#endif

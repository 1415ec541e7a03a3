/*
 * sigv4.c — AWS Signature Version 4: the canonical request, the string to
 * sign, the signing key and the Authorization header.
 *
 * Written from the published algorithm and held against vectors produced
 * by botocore (tests/unit/providers/test_sigv4.c). OpenSSL computes the
 * hashes; the derived keys live on the stack and are wiped after use.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/httpc.h"
#include "base/mem.h"
#include "providers/sigv4.h"

#define SIGV4_ALG "AWS4-HMAC-SHA256"

/* The path with each segment percent-encoded (zp_http_escape's set), the slashes kept. */
static int encode_path(const char *path, struct zp_buf *out)
{
    struct zp_buf seg;
    int rc = 0;

    zp_buf_init(&seg, out->max);
    for (const char *p = path; *p && rc == 0;) {
        size_t n = strcspn(p, "/");
        char *one = zp_xstrndup(p, n);
        zp_buf_reset(&seg);
        if (zp_http_escape(one, &seg) == -1 || zp_buf_puts(out, zp_buf_str(&seg)) == -1)
            rc = -1;
        free(one);
        p += n;
        if (*p == '/' && zp_buf_puts(out, "/") == -1)
            rc = -1;
        p += *p == '/';
    }
    zp_buf_free(&seg);
    return rc;
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (EVP_Digest(p ? p : "", n, md, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return -1;
    hex_of(md, 32, out);
    return 0;
}

static int hmac(const unsigned char *key, size_t klen, const char *msg, size_t mlen,
                unsigned char out[32])
{
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &len) == NULL ||
        len != 32)
        return -1;
    return 0;
}

struct pair {
    char *name, *value; /* encoded */
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c != 0 ? c : strcmp(x->value, y->value);
}

int zp_sigv4_query(const char *const *pairs, size_t n, struct zp_buf *out)
{
    struct pair *v = n ? zp_xcalloc(n, sizeof(*v)) : NULL;
    struct zp_buf b;
    int rc = -1;

    zp_buf_init(&b, out->max);
    for (size_t i = 0; i < n; i++) {
        zp_buf_reset(&b);
        if (zp_http_escape(pairs[2 * i], &b) == -1)
            goto out;
        v[i].name = zp_xstrdup(zp_buf_str(&b));
        zp_buf_reset(&b);
        if (zp_http_escape(pairs[2 * i + 1], &b) == -1)
            goto out;
        v[i].value = zp_xstrdup(zp_buf_str(&b));
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), pair_cmp);
    for (size_t i = 0; i < n; i++)
        if (zp_buf_printf(out, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value) == -1)
            goto out;
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
    zp_buf_free(&b);
    return rc;
}

void zp_sigv4_date(time_t t, char *out)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, ZP_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

static const char *signed_headers(const struct zp_sigv4_key *k)
{
    return k->session_token ? "host;x-amz-date;x-amz-security-token" : "host;x-amz-date";
}

int zp_sigv4_canonical_request(const struct zp_sigv4_key *k, const struct zp_sigv4_req *r,
                               struct zp_buf *out)
{
    char body_hash[65];
    const char *path = r->path && r->path[0] ? r->path : "/";

    if (sha256_hex(r->body, r->body_len, body_hash) == -1)
        return -1;
    /*
     * Services other than S3 sign the path URI-encoded once more than it is
     * sent ('%' becomes %25); Route 53's paths hold only unreserved characters.
     */
    if (zp_buf_printf(out, "%s\n", r->method) == -1 || encode_path(path, out) == -1 ||
        zp_buf_printf(out, "\n%s\nhost:%s\nx-amz-date:%s\n", r->query ? r->query : "", r->host,
                      r->amz_date) == -1)
        return -1;
    if (k->session_token && zp_buf_printf(out, "x-amz-security-token:%s\n", k->session_token) == -1)
        return -1;
    return zp_buf_printf(out, "\n%s\n%s", signed_headers(k), body_hash);
}

int zp_sigv4_string_to_sign(const struct zp_sigv4_key *k, const struct zp_sigv4_req *r,
                            const char *canonical, struct zp_buf *out)
{
    char h[65];

    if (strlen(r->amz_date) != ZP_SIGV4_DATE_LEN ||
        sha256_hex(canonical, strlen(canonical), h) == -1)
        return -1;
    return zp_buf_printf(out, SIGV4_ALG "\n%s\n%.8s/%s/%s/aws4_request\n%s", r->amz_date,
                         r->amz_date, k->region, k->service, h);
}

int zp_sigv4_signing_key(const struct zp_sigv4_key *k, const char *amz_date, unsigned char out[32])
{
    size_t slen = strlen(k->secret_access_key);
    unsigned char *seed = zp_xmalloc(slen + 4), t[32];
    int rc = -1;

    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, k->secret_access_key, slen);
    if (hmac(seed, slen + 4, amz_date, 8, t) == -1 ||
        hmac(t, 32, k->region, strlen(k->region), t) == -1 ||
        hmac(t, 32, k->service, strlen(k->service), t) == -1 ||
        hmac(t, 32, "aws4_request", 12, out) == -1)
        goto out;
    rc = 0;
out:
    zp_wipe(seed, slen + 4);
    zp_wipe(t, sizeof(t));
    free(seed);
    return rc;
}

int zp_sigv4_authorization(const struct zp_sigv4_key *k, const struct zp_sigv4_req *r,
                           struct zp_buf *out)
{
    struct zp_buf cr, sts;
    unsigned char key[32], sig[32];
    char sig_hex[65];
    int rc = -1;

    zp_buf_init(&cr, 64 * 1024);
    zp_buf_init(&sts, 4096);
    if (zp_sigv4_canonical_request(k, r, &cr) == -1 ||
        zp_sigv4_string_to_sign(k, r, zp_buf_str(&cr), &sts) == -1 ||
        zp_sigv4_signing_key(k, r->amz_date, key) == -1 ||
        hmac(key, sizeof(key), zp_buf_str(&sts), sts.len, sig) == -1)
        goto out;
    hex_of(sig, sizeof(sig), sig_hex);
    rc = zp_buf_printf(out,
                       SIGV4_ALG " Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, "
                                 "Signature=%s",
                       k->access_key_id, r->amz_date, k->region, k->service, signed_headers(k),
                       sig_hex);
out:
    zp_wipe(key, sizeof(key));
    zp_buf_free(&cr);
    zp_buf_free(&sts);
    return rc;
}

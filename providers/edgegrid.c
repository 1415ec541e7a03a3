/*
 * edgegrid.c — Akamai EdgeGrid signing (EG1-HMAC-SHA256): the signing key,
 * the content hash, the data to sign and the Authorization header.
 *
 * Written from the published algorithm (Akamai's EdgeGrid clients document
 * it) and held against the vectors of akamai/AkamaiOPEN-edgegrid-python
 * (tests/unit/providers/test_edgegrid.c). OpenSSL computes the HMACs and
 * hashes, base/base64 the encodings; the signing key is wiped after use.
 * Kept apart from akamai.c so that the signature can be checked without a
 * network.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/mem.h"
#include "providers/edgegrid.h"

#define EG_ALG "EG1-HMAC-SHA256"

/* base64(HMAC-SHA256(key, msg)) appended to out. */
static int b64_hmac(const void *key, size_t klen, const void *msg, size_t mlen, struct zp_buf *out)
{
    unsigned char md[32];
    unsigned int len = 0;
    int rc = -1;

    if (HMAC(EVP_sha256(), key, (int)klen, msg, mlen, md, &len) == NULL || len != sizeof(md))
        goto out;
    rc = zp_b64_encode(md, sizeof(md), out);
out:
    zp_wipe(md, sizeof(md));
    return rc;
}

void zp_eg_timestamp(time_t t, char *out)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, ZP_EG_TS_LEN + 1, "%Y%m%dT%H:%M:%S+0000", &tm);
}

int zp_eg_nonce(char *out)
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, ZP_EG_NONCE_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

int zp_eg_signing_key(const char *client_secret, const char *timestamp, struct zp_buf *out)
{
    return b64_hmac(client_secret, strlen(client_secret), timestamp, strlen(timestamp), out);
}

int zp_eg_content_hash(const char *method, const void *body, size_t body_len, size_t max_body,
                       struct zp_buf *out)
{
    unsigned char md[32];
    unsigned int len = 0;
    size_t n = body_len < (max_body ? max_body : ZP_EG_MAX_BODY)
                   ? body_len
                   : (max_body ? max_body : ZP_EG_MAX_BODY);

    if (strcmp(method, "POST") != 0 || body == NULL || n == 0)
        return zp_buf_puts(out, "");
    if (EVP_Digest(body, n, md, &len, EVP_sha256(), NULL) != 1 || len != sizeof(md))
        return -1;
    return zp_b64_encode(md, sizeof(md), out);
}

/* "name:value" of one header line, the name lower-cased, the value trimmed with runs of blanks
 * made one space. */
static int canon_header(const char *line, size_t name_len, struct zp_buf *out)
{
    const char *v = line + name_len + 1;
    int space = 0;

    for (size_t i = 0; i < name_len; i++) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (zp_buf_append(out, &c, 1) == -1)
            return -1;
    }
    if (zp_buf_puts(out, ":") == -1)
        return -1;
    while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
        v++;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            space = 1;
            continue;
        }
        if (space && zp_buf_puts(out, " ") == -1)
            return -1;
        space = 0;
        if (zp_buf_append(out, v, 1) == -1)
            return -1;
    }
    return 0;
}

/* The signed headers, in sign_names's order, tab-joined; a name the request lacks is skipped. */
static int canon_headers(const struct zp_eg_req *r, struct zp_buf *out)
{
    int first = 1;

    for (size_t i = 0; r->sign_names && r->sign_names[i]; i++) {
        size_t nlen = strlen(r->sign_names[i]);
        for (size_t j = 0; r->headers && r->headers[j]; j++) {
            const char *h = r->headers[j];
            if (strncasecmp(h, r->sign_names[i], nlen) != 0 || h[nlen] != ':')
                continue;
            if ((!first && zp_buf_puts(out, "\t") == -1) || canon_header(h, nlen, out) == -1)
                return -1;
            first = 0;
            break;
        }
    }
    return 0;
}

int zp_eg_data_to_sign(const struct zp_eg_req *r, const char *auth, struct zp_buf *out)
{
    if (zp_buf_printf(out, "%s\t%s\t%s\t%s\t", r->method, r->scheme, r->host, r->path_query) ==
            -1 ||
        canon_headers(r, out) == -1 || zp_buf_puts(out, "\t") == -1 ||
        zp_eg_content_hash(r->method, r->body, r->body_len, r->max_body, out) == -1)
        return -1;
    return zp_buf_printf(out, "\t%s", auth);
}

int zp_eg_authorization(const struct zp_eg_creds *c, const struct zp_eg_req *r, struct zp_buf *out)
{
    struct zp_buf auth, data, key;
    int rc = -1;

    zp_buf_init(&auth, 8192);
    zp_buf_init(&data, 64 * 1024);
    zp_buf_init(&key, 128);
    if (zp_buf_printf(&auth, EG_ALG " client_token=%s;access_token=%s;timestamp=%s;nonce=%s;",
                      c->client_token, c->access_token, r->timestamp, r->nonce) == -1 ||
        zp_eg_data_to_sign(r, zp_buf_str(&auth), &data) == -1 ||
        zp_eg_signing_key(c->client_secret, r->timestamp, &key) == -1 ||
        zp_buf_printf(out, "%ssignature=", zp_buf_str(&auth)) == -1 ||
        b64_hmac(key.data, key.len, data.data, data.len, out) == -1)
        goto out;
    rc = 0;
out:
    zp_buf_free_secret(&key);
    zp_buf_free_secret(&auth);
    zp_buf_free(&data);
    return rc;
}

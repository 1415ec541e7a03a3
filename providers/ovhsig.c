/*
 * ovhsig.c — owns the OVH request signature ($1$ + SHA-1 hex).
 *
 * The formula comes from OVH's own clients (go-ovh, python-ovh): the
 * application secret, consumer key, upper-case method, full URL, body and
 * timestamp, joined with "+", hashed with SHA-1. The server recomputes it
 * from what it received, so every byte must be the one sent: the URL with
 * its query exactly as written on the wire and the body without any
 * re-serialisation.
 */
#include <string.h>

#include <openssl/evp.h>

#include "base/mem.h"
#include "providers/ovhsig.h"

int zp_ovh_sign(const char *app_secret, const char *consumer_key, const char *method,
                const char *url, const char *body, size_t body_len, const char *ts,
                char out[ZP_OVH_SIG_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    const char *parts[6] = {app_secret, consumer_key, method, url, body ? body : "", ts};
    size_t lens[6];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;

    for (int i = 0; i < 6; i++)
        lens[i] = strlen(parts[i]);
    lens[4] = body ? body_len : 0;
    out[0] = '\0';
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
        goto out;
    for (int i = 0; i < 6; i++) {
        if ((i > 0 && EVP_DigestUpdate(ctx, "+", 1) != 1) ||
            (lens[i] > 0 && EVP_DigestUpdate(ctx, parts[i], lens[i]) != 1))
            goto out;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 20)
        goto out;
    memcpy(out, "$1$", 3);
    for (unsigned int i = 0; i < mdlen; i++) {
        out[3 + 2 * i] = hex[md[i] >> 4];
        out[3 + 2 * i + 1] = hex[md[i] & 15];
    }
    out[3 + 2 * mdlen] = '\0';
    rc = 0;
out:
    zp_wipe(md, sizeof(md));
    EVP_MD_CTX_free(ctx); /* EVP_MD_CTX_free cleanses the digest state */
    return rc;
}

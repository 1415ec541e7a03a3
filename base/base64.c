/*
 * base64.c — base64 encoding in both RFC 4648 alphabets and strict
 * decoding of the standard one (base64.h). It serves Secret data and
 * kubeconfig -data values (line breaks skipped), TSIG secrets (checked as
 * BIND writes them, no line breaks), and the parts of a JWT (URL-safe).
 *
 * Threads: any; nothing here has state.
 */
#include <stddef.h>
#include <stdint.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Encodes in groups of three bytes; a short tail gets '=' up to four characters when pad is set. */
static int encode(const char *a, int pad, const void *p, size_t n, struct zp_buf *out)
{
    const unsigned char *s = p;
    char q[4];
    size_t i, rest;

    for (i = 0; i + 3 <= n; i += 3) {
        q[0] = a[s[i] >> 2];
        q[1] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
        q[2] = a[(s[i + 1] & 15) << 2 | s[i + 2] >> 6];
        q[3] = a[s[i + 2] & 63];
        if (zp_buf_append(out, q, 4) == -1)
            return -1;
    }
    rest = n - i;
    if (rest == 0)
        return out->data == NULL ? zp_buf_append(out, "", 0) : 0;
    q[0] = a[s[i] >> 2];
    if (rest == 1) {
        q[1] = a[(s[i] & 3) << 4];
        q[2] = q[3] = '=';
    } else {
        q[1] = a[(s[i] & 3) << 4 | s[i + 1] >> 4];
        q[2] = a[(s[i + 1] & 15) << 2];
        q[3] = '=';
    }
    return zp_buf_append(out, q, pad ? 4 : rest + 1);
}

int zp_b64_encode(const void *p, size_t n, struct zp_buf *out)
{
    return encode(std_alpha, 1, p, n, out);
}

int zp_b64url_encode(const void *p, size_t n, struct zp_buf *out)
{
    return encode(url_alpha, 0, p, n, out);
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Appends a chunk of decoded bytes (out NULL: only counting). */
static int flush(struct zp_buf *out, const unsigned char *chunk, size_t n, struct zp_err *err)
{
    if (out == NULL || zp_buf_append(out, chunk, n) == 0)
        return 0;
    return zp_err_set(err, ZP_EINVAL, "the decoded value is larger than %zu bytes", out->max);
}

/*
 * The one decoder: checks in, appends the bytes to out unless out is NULL,
 * and counts them in *n_out. Bytes leave through a small chunk so that a
 * secret is copied into out in few appends (each growth of out wipes the
 * old copy, buf.c); the chunk and the bit accumulator are wiped.
 */
static int decode(const char *in, size_t len, unsigned flags, struct zp_buf *out, size_t *n_out,
                  struct zp_err *err)
{
    unsigned char chunk[768];
    size_t n_chunk = 0, n_sym = 0, n_pad = 0;
    uint32_t acc = 0;
    int bits = 0, v, rc = -1;

    *n_out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((flags & ZP_B64_LINES) && (c == '\r' || c == '\n'))
            continue;
        if (c == '=') {
            n_pad++;
            continue;
        }
        if (n_pad > 0 || (v = b64val(c)) < 0) {
            zp_err_set(err, ZP_EINVAL, "not valid base64 (at byte %zu)", i);
            goto out;
        }
        acc = ((acc << 6) | (uint32_t)v) & 0xffffffu;
        bits += 6;
        n_sym++;
        if (bits < 8)
            continue;
        bits -= 8;
        chunk[n_chunk++] = (unsigned char)(acc >> bits);
        (*n_out)++;
        if (n_chunk == sizeof(chunk)) {
            if (flush(out, chunk, n_chunk, err) == -1)
                goto out;
            n_chunk = 0;
        }
    }
    if (flush(out, chunk, n_chunk, err) == -1)
        goto out;
    /* An encoder writes groups of four; a last group of one symbol carries no whole byte. */
    if ((n_sym + n_pad) % 4 != 0 || n_pad > 2 || n_sym % 4 == 1) {
        zp_err_set(err, ZP_EINVAL, "not valid base64 (its length or padding is wrong)");
        goto out;
    }
    rc = 0;
out:
    zp_wipe(chunk, sizeof(chunk));
    zp_wipe(&acc, sizeof(acc));
    return rc;
}

int zp_b64_decode(const char *in, size_t len, unsigned flags, struct zp_buf *out,
                  struct zp_err *err)
{
    size_t n;

    if (decode(in, len, flags, out, &n, err) == -1)
        return -1;
    if (out->data == NULL) /* an empty value is still a string; appending nothing cannot fail */
        (void)zp_buf_append(out, "", 0);
    return 0;
}

long zp_b64_decoded_len(const char *in, size_t len, unsigned flags)
{
    struct zp_err err = {0};
    size_t n;

    if (decode(in, len, flags, NULL, &n, &err) == -1)
        return -1;
    return (long)n;
}

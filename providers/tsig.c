/*
 * tsig.c — TSIG (RFC 8945) on OpenSSL's HMAC, in place of ldns's
 * ldns_pkt_tsig_sign and ldns_pkt_tsig_verify.
 *
 * Why it exists: ldns takes the key as base64 text, decodes it into a
 * buffer of its own and frees that buffer without wiping it, so every
 * signed update left the TSIG key in freed heap memory (issue #9). Here the
 * decoded key lives only in a zp_buf that is wiped as soon as one MAC is
 * computed, and OpenSSL wipes its own copy when it frees the HMAC context.
 * Owning the check also lets it do what ldns's does not: refuse a reply
 * signed too far from now (BADTIME) or with another key, and say which.
 *
 * The framing (what the MAC covers, the TSIG RR, the checks of a reply) is
 * kept apart from the MAC itself, tsig_mac_make and tsig_mac_check: GSS-TSIG
 * (RFC 3645) frames its messages the same way with a GSS-API MIC in place
 * of the HMAC, which the key's mic hook makes and checks (providers/gss.c).
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "providers/tsig.h"

#define TSIG_HDR 12          /* the DNS header */
#define TSIG_TYPE 250        /* RR type TSIG */
#define TSIG_CLASS_ANY 255   /* its class */
#define TSIG_NAME_MAX 255    /* a name in wire form */
#define TSIG_PTRS_MAX 64     /* compression pointers followed in one name */
#define TSIG_KEY_MAX 4096    /* decoded key bytes; a BIND key has 32 or 64 */
#define TSIG_RR_MAX 600      /* owner, fixed fields and RDATA of the RR this file writes */
#define TSIG_INPUT_EXTRA 600 /* the MAC input beyond the message: request MAC, names, timers */

/*
 * The algorithms the rfc2136 provider offers (docs/providers/rfc2136.md
 * lists them). hmac-sha224 and hmac-sha384 (RFC 8945 6) would be one line
 * each, once the documentation and the tests name them.
 */
static const struct zp_tsig_alg tsig_algs[] = {
    {"hmac-sha256", "hmac-sha256.", "SHA256", 0},
    {"hmac-sha512", "hmac-sha512.", "SHA512", 0},
    {"hmac-sha1", "hmac-sha1.", "SHA1", 1},
    {"hmac-md5", "hmac-md5.sig-alg.reg.int.", "MD5", 1},
    {"gss-tsig", "gss-tsig.", NULL, 0},
    /* The name Windows 2000 used before RFC 3645; some servers still answer with it. */
    {"gss.microsoft.com", "gss.microsoft.com.", NULL, 0},
};

/* A TSIG RR as read from a message: pointers into it, names in canonical wire form. */
struct tsig_rr {
    size_t start; /* where the RR begins: the message without it ends here */
    uint8_t key[TSIG_NAME_MAX], alg[TSIG_NAME_MAX];
    size_t key_len, alg_len;
    const uint8_t *timers; /* time signed (48 bits) and fudge: 8 bytes */
    const uint8_t *mac;
    size_t mac_len;
    const uint8_t *orig_id; /* 2 bytes */
    const uint8_t *rest;    /* error, other len, other data */
    size_t rest_len;
};

static unsigned tsig_get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static void tsig_put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint8_t tsig_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

const struct zp_tsig_alg *zp_tsig_alg_find(const char *name)
{
    size_t n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
        n--;
    for (size_t i = 0; i < sizeof(tsig_algs) / sizeof(tsig_algs[0]); i++) {
        const char *w = tsig_algs[i].wire;
        if ((strlen(tsig_algs[i].name) == n && strncasecmp(name, tsig_algs[i].name, n) == 0) ||
            (strlen(w) - 1 == n && strncasecmp(name, w, n) == 0))
            return &tsig_algs[i];
    }
    return NULL;
}

const char *zp_tsig_check_name(enum zp_tsig_check check)
{
    switch (check) {
    case ZP_TSIG_OK:
        return "ok";
    case ZP_TSIG_OK_LAX:
        return "ok-samba-layout";
    case ZP_TSIG_UNSIGNED:
        return "unsigned";
    case ZP_TSIG_FORMERR:
        return "FORMERR";
    case ZP_TSIG_BADKEY:
        return "BADKEY";
    case ZP_TSIG_BADSIG:
        return "BADSIG";
    case ZP_TSIG_BADTIME:
        return "BADTIME";
    }
    return "?";
}

/* ---- names -------------------------------------------------------------------------------- */

/*
 * name in canonical wire form (lower case, absolute) into out
 * (TSIG_NAME_MAX bytes); -1 when it is not a name. Key names passed
 * zp_dname_check, so there are no escapes to undo.
 */
static int tsig_name_wire(const char *name, uint8_t *out, size_t *n)
{
    size_t len = 0;

    while (*name != '\0') {
        size_t l = strcspn(name, ".");
        if (l == 0 || l > 63 || len + 1 + l + 1 > TSIG_NAME_MAX)
            return -1;
        out[len++] = (uint8_t)l;
        for (size_t i = 0; i < l; i++)
            out[len++] = tsig_lower((uint8_t)name[i]);
        name += l;
        if (*name == '.')
            name++;
    }
    out[len++] = 0;
    *n = len;
    return 0;
}

/*
 * Reads the name at *pos in m[0..len), following compression pointers,
 * into out (TSIG_NAME_MAX bytes) in canonical wire form, and moves *pos
 * past it; -1 when it does not parse.
 */
static int tsig_name_read(const uint8_t *m, size_t len, size_t *pos, uint8_t *out, size_t *n)
{
    size_t p = *pos, o = 0, after = 0;
    int jumps = 0;

    for (;;) {
        unsigned l;
        if (p >= len)
            return -1;
        l = m[p];
        if ((l & 0xc0) == 0xc0) {
            if (p + 1 >= len || ++jumps > TSIG_PTRS_MAX)
                return -1;
            if (after == 0)
                after = p + 2;
            p = (size_t)(l & 0x3f) << 8 | m[p + 1];
            continue;
        }
        if ((l & 0xc0) != 0 || l + 1 > len - p || o + 1 + l > TSIG_NAME_MAX)
            return -1;
        out[o++] = (uint8_t)l;
        for (unsigned i = 0; i < l; i++)
            out[o++] = tsig_lower(m[p + 1 + i]);
        p += 1 + l;
        if (l == 0)
            break;
    }
    *pos = after != 0 ? after : p;
    *n = o;
    return 0;
}

/* ---- reading a reply ---------------------------------------------------------------------- */

/* Moves *pos past the RR there; -1 when it does not parse. */
static int tsig_rr_skip(const uint8_t *m, size_t len, size_t *pos)
{
    uint8_t name[TSIG_NAME_MAX];
    size_t n;

    if (tsig_name_read(m, len, pos, name, &n) == -1 || len - *pos < 10 ||
        tsig_get16(m + *pos + 8) > len - *pos - 10)
        return -1;
    *pos += 10 + tsig_get16(m + *pos + 8);
    return 0;
}

/* The RR at pos, which must end the message, as a TSIG RR into t. */
static enum zp_tsig_check tsig_rr_read(const uint8_t *m, size_t len, size_t pos, struct tsig_rr *t)
{
    t->start = pos;
    if (tsig_name_read(m, len, &pos, t->key, &t->key_len) == -1 || len - pos < 10)
        return ZP_TSIG_FORMERR;
    if (tsig_get16(m + pos) != TSIG_TYPE)
        return ZP_TSIG_UNSIGNED;
    if (tsig_get16(m + pos + 2) != TSIG_CLASS_ANY || memcmp(m + pos + 4, "\0\0\0\0", 4) != 0 ||
        tsig_get16(m + pos + 8) != len - pos - 10)
        return ZP_TSIG_FORMERR;
    pos += 10;
    /* Algorithm name, time signed, fudge, MAC size, MAC, original ID, error, other len. */
    if (tsig_name_read(m, len, &pos, t->alg, &t->alg_len) == -1 || len - pos < 10)
        return ZP_TSIG_FORMERR;
    t->timers = m + pos;
    t->mac_len = tsig_get16(m + pos + 8);
    pos += 10;
    if (len - pos < t->mac_len + 6)
        return ZP_TSIG_FORMERR;
    t->mac = m + pos;
    t->orig_id = m + pos + t->mac_len;
    pos += t->mac_len + 2;
    t->rest = m + pos;
    t->rest_len = len - pos;
    return tsig_get16(m + pos + 2) == t->rest_len - 4 ? ZP_TSIG_OK : ZP_TSIG_FORMERR;
}

/* Finds the TSIG RR, which must be the last RR of the message, and reads it into t. */
static enum zp_tsig_check tsig_find(const uint8_t *m, size_t len, struct tsig_rr *t)
{
    uint8_t name[TSIG_NAME_MAX];
    size_t pos = TSIG_HDR, n;
    unsigned long rrs;

    if (len < TSIG_HDR)
        return ZP_TSIG_FORMERR;
    if (tsig_get16(m + 10) == 0)
        return ZP_TSIG_UNSIGNED;
    for (unsigned i = tsig_get16(m + 4); i > 0; i--) {
        if (tsig_name_read(m, len, &pos, name, &n) == -1 || len - pos < 4)
            return ZP_TSIG_FORMERR;
        pos += 4;
    }
    rrs = (unsigned long)tsig_get16(m + 6) + tsig_get16(m + 8) + tsig_get16(m + 10);
    for (; rrs > 1; rrs--)
        if (tsig_rr_skip(m, len, &pos) == -1)
            return ZP_TSIG_FORMERR;
    return tsig_rr_read(m, len, pos, t);
}

/*
 * TSIG RRs in the additional section, as ldns_wire2pkt will see them: it
 * reads RRs with ldns_wire2rr (whose idea of where an RR ends is not always
 * RDLENGTH's) and shortens its walk by one RR for each TSIG RR it meets, so
 * the count walks the same way with the same function. 2 means "more than
 * one".
 */
static int tsig_count(const uint8_t *m, size_t len)
{
    static const ldns_pkt_section sec[] = {LDNS_SECTION_QUESTION, LDNS_SECTION_ANSWER,
                                           LDNS_SECTION_AUTHORITY};
    size_t pos = TSIG_HDR;
    unsigned long ar;
    int count = 0;
    ldns_rr *rr;

    if (len < TSIG_HDR)
        return -1;
    for (int s = 0; s < 3; s++)
        for (unsigned i = tsig_get16(m + 4 + 2 * s); i > 0; i--) {
            if (ldns_wire2rr(&rr, m, len, &pos, sec[s]) != LDNS_STATUS_OK)
                return -1;
            ldns_rr_free(rr);
        }
    ar = tsig_get16(m + 10);
    for (unsigned long i = 0; i < ar && count < 2; i++) {
        if (ldns_wire2rr(&rr, m, len, &pos, LDNS_SECTION_ADDITIONAL) != LDNS_STATUS_OK)
            return count;
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG) {
            count++;
            ar--;
        }
        ldns_rr_free(rr);
    }
    return count;
}

int zp_tsig_wire2pkt(ldns_pkt **out, const uint8_t *m, size_t len)
{
    *out = NULL;
    if (tsig_count(m, len) > 1)
        return LDNS_STATUS_ERR;
    return (int)ldns_wire2pkt(out, m, len);
}

/* ---- the MAC ------------------------------------------------------------------------------ */

/*
 * The MAC with key over d[0..n) into out (ZP_TSIG_MAC_MAX bytes), its
 * length in *outlen. The decoded key lives in k only for the call and is
 * wiped before it returns; OpenSSL wipes its copy when EVP_Q_mac frees the
 * context. GSS-TSIG would produce its MIC here.
 */
static int tsig_mac_make(const struct zp_tsig_key *key, const uint8_t *d, size_t n, uint8_t *out,
                         size_t *outlen, struct zp_err *err)
{
    struct zp_buf k;
    int rc = -1;

    if (key->mic != NULL)
        return key->mic->make(key->mic->arg, d, n, out, outlen, err);
    zp_buf_init(&k, TSIG_KEY_MAX);
    if (zp_b64_decode(key->secret, key->secret_len, 0, &k, err) == -1) {
        zp_err_wrap(err, "the secret of TSIG key %s", key->name);
        goto out;
    }
    if (EVP_Q_mac(NULL, "HMAC", NULL, key->alg->digest, NULL, k.data, k.len, d, n, out,
                  ZP_TSIG_MAC_MAX, outlen) == NULL) {
        zp_err_set(err, ZP_EINTERNAL, "cannot compute %s for TSIG key %s (OpenSSL)", key->alg->name,
                   key->name);
        goto out;
    }
    rc = 0;
out:
    zp_buf_free_secret(&k);
    return rc;
}

/* Whether mac[0..len) is key's MAC over d[0..n), compared in constant time: *ok. */
static int tsig_mac_check(const struct zp_tsig_key *key, const uint8_t *d, size_t n,
                          const uint8_t *mac, size_t len, int *ok, struct zp_err *err)
{
    uint8_t want[ZP_TSIG_MAC_MAX];
    size_t want_len = 0;

    if (key->mic != NULL)
        return key->mic->check(key->mic->arg, d, n, mac, len, ok, err);
    if (tsig_mac_make(key, d, n, want, &want_len, err) == -1)
        return -1;
    *ok = len == want_len && CRYPTO_memcmp(want, mac, len) == 0;
    return 0;
}

/* ---- what the MAC covers ------------------------------------------------------------------ */

/* The TSIG variables (RFC 8945 4.3.3) besides the two names, which are the key's. */
struct tsig_vars {
    uint8_t timers[8];   /* time signed (48 bits), fudge */
    const uint8_t *rest; /* error, other len, other data */
    size_t rest_len;
};

/*
 * The MAC's input into d (RFC 8945 4.3): the request's MAC with its size
 * when req is set (a reply), the message m[0..n) without its TSIG RR but
 * with its original ID id and arcount records in the additional section,
 * then the TSIG variables: the key's name, class ANY, TTL 0, the
 * algorithm's name (both canonical), the timers and the rest.
 */
static int tsig_input(const struct zp_tsig_key *key, const struct zp_tsig_mac *req, int lax,
                      const uint8_t *m, size_t n, const uint8_t *id, unsigned arcount,
                      const struct tsig_vars *v, struct zp_buf *d, struct zp_err *err)
{
    static const uint8_t any_ttl0[6] = {0, TSIG_CLASS_ANY, 0, 0, 0, 0};
    uint8_t hdr[TSIG_HDR], kw[TSIG_NAME_MAX], aw[TSIG_NAME_MAX], size[2];
    size_t kn, an;

    if (n < TSIG_HDR || tsig_name_wire(key->name, kw, &kn) == -1 ||
        tsig_name_wire(key->alg->wire, aw, &an) == -1)
        return zp_err_set(err, ZP_EINTERNAL, "cannot lay out the TSIG input for key %s", key->name);
    if (req != NULL && req->len > 0) {
        tsig_put16(size, (unsigned)req->len);
        if (!lax)
            zp_buf_append(d, size, 2);
        zp_buf_append(d, req->mac, req->len);
    }
    memcpy(hdr, m, TSIG_HDR);
    memcpy(hdr, id, 2);
    tsig_put16(hdr + 10, arcount);
    zp_buf_append(d, hdr, TSIG_HDR);
    zp_buf_append(d, m + TSIG_HDR, n - TSIG_HDR);
    zp_buf_append(d, kw, kn);
    zp_buf_append(d, any_ttl0, sizeof(any_ttl0));
    zp_buf_append(d, aw, an);
    zp_buf_append(d, v->timers, sizeof(v->timers));
    zp_buf_append(d, v->rest, v->rest_len);
    return zp_buf_check(d, "the TSIG input", err);
}

/* ---- signing ------------------------------------------------------------------------------ */

/* The TSIG RR for key, timers and rest of v, mac and the original ID id into rr; its length. */
static size_t tsig_rr_write(const struct zp_tsig_key *key, const struct tsig_vars *v,
                            const struct zp_tsig_mac *mac, const uint8_t *id, uint8_t *rr)
{
    size_t n, an, rdlen_at;

    (void)tsig_name_wire(key->name, rr, &n); /* tsig_input laid out both names already */
    tsig_put16(rr + n, TSIG_TYPE);
    tsig_put16(rr + n + 2, TSIG_CLASS_ANY);
    memset(rr + n + 4, 0, 4); /* TTL */
    rdlen_at = n + 8;
    n += 10;
    (void)tsig_name_wire(key->alg->wire, rr + n, &an);
    n += an;
    memcpy(rr + n, v->timers, sizeof(v->timers));
    n += sizeof(v->timers);
    tsig_put16(rr + n, (unsigned)mac->len);
    memcpy(rr + n + 2, mac->mac, mac->len);
    n += 2 + mac->len;
    memcpy(rr + n, id, 2);
    memcpy(rr + n + 2, v->rest, v->rest_len);
    n += 2 + v->rest_len;
    tsig_put16(rr + rdlen_at, (unsigned)(n - rdlen_at - 2));
    return n;
}

int zp_tsig_sign(const struct zp_tsig_key *key, uint64_t now, struct zp_buf *msg,
                 struct zp_tsig_mac *mac, struct zp_err *err)
{
    static const uint8_t rest[4] = {0, 0, 0, 0}; /* error NOERROR, no other data */
    struct tsig_vars v = {.rest = rest, .rest_len = sizeof(rest)};
    uint8_t rr[TSIG_RR_MAX], *m = (uint8_t *)msg->data;
    struct zp_buf d;
    unsigned ar;
    size_t n;
    int rc = -1;

    if (m == NULL || msg->len < TSIG_HDR || (ar = tsig_get16(m + 10)) == 0xffff)
        return zp_err_set(err, ZP_EINTERNAL, "cannot sign a message of %zu bytes with TSIG",
                          msg->len);
    for (int i = 0; i < 6; i++)
        v.timers[i] = (uint8_t)(now >> (40 - 8 * i));
    tsig_put16(v.timers + 6, ZP_TSIG_FUDGE);
    zp_buf_init(&d, msg->len + TSIG_INPUT_EXTRA);
    if (tsig_input(key, NULL, 0, m, msg->len, m, ar, &v, &d, err) == -1 ||
        tsig_mac_make(key, (const uint8_t *)d.data, d.len, mac->mac, &mac->len, err) == -1)
        goto out;
    n = tsig_rr_write(key, &v, mac, m, rr);
    if (msg->max - msg->len < n) {
        zp_err_set(err, ZP_EINTERNAL, "the message signed with TSIG is longer than %zu bytes",
                   msg->max);
        goto out;
    }
    tsig_put16(m + 10, ar + 1);
    rc = zp_buf_append(msg, rr, n);
out:
    zp_buf_free(&d);
    return rc;
}

/* ---- checking a reply --------------------------------------------------------------------- */

/* Whether the time signed in timers is within the fudge of now: the smaller of its and ours. */
static int tsig_in_time(const uint8_t *timers, uint64_t now)
{
    uint64_t signed_at = 0, diff;
    unsigned fudge = tsig_get16(timers + 6);

    for (int i = 0; i < 6; i++)
        signed_at = signed_at << 8 | timers[i];
    diff = now > signed_at ? now - signed_at : signed_at - now;
    return diff <= (fudge < ZP_TSIG_FUDGE ? fudge : ZP_TSIG_FUDGE);
}

/* Whether t's MAC is key's over msg in the RFC's layout (lax 0) or Samba's (lax 1): *ok. */
static int tsig_verify_layout(const struct zp_tsig_key *key, const struct zp_tsig_mac *req, int lax,
                              const uint8_t *msg, size_t len, const struct tsig_rr *t, int *ok,
                              struct zp_err *err)
{
    struct tsig_vars v;
    struct zp_buf d;
    int rc;

    memcpy(v.timers, t->timers, sizeof(v.timers));
    v.rest = t->rest;
    v.rest_len = t->rest_len;
    zp_buf_init(&d, len + TSIG_INPUT_EXTRA);
    rc =
        tsig_input(key, req, lax, msg, t->start, t->orig_id, tsig_get16(msg + 10) - 1, &v, &d, err);
    if (rc == 0)
        rc = tsig_mac_check(key, (const uint8_t *)d.data, d.len, t->mac, t->mac_len, ok, err);
    zp_buf_free(&d);
    return rc;
}

/* key under the GSS algorithm name t carries, in *other; NULL when t names neither. */
static const struct zp_tsig_key *tsig_gss_other(const struct zp_tsig_key *key,
                                                const struct tsig_rr *t, struct zp_tsig_key *other)
{
    uint8_t aw[TSIG_NAME_MAX];
    size_t an;

    for (size_t i = 0; i < sizeof(tsig_algs) / sizeof(tsig_algs[0]); i++) {
        if (tsig_algs[i].digest != NULL || tsig_name_wire(tsig_algs[i].wire, aw, &an) == -1 ||
            an != t->alg_len || memcmp(aw, t->alg, an) != 0)
            continue;
        *other = *key;
        other->alg = &tsig_algs[i];
        return other;
    }
    return NULL;
}

int zp_tsig_verify(const struct zp_tsig_key *key, const struct zp_tsig_mac *req, uint64_t now,
                   const uint8_t *msg, size_t len, enum zp_tsig_check *check, struct zp_err *err)
{
    uint8_t kw[TSIG_NAME_MAX], aw[TSIG_NAME_MAX];
    size_t kn = 0, an = 0;
    struct zp_tsig_key other;
    struct tsig_rr t;
    int ok = 0, lax = 0;

    *check = tsig_find(msg, len, &t);
    if (*check != ZP_TSIG_OK)
        return 0;
    if (tsig_name_wire(key->name, kw, &kn) == -1 || tsig_name_wire(key->alg->wire, aw, &an) == -1)
        return zp_err_set(err, ZP_EINTERNAL, "TSIG key name %s is not a domain name", key->name);
    /* GSS-TSIG: a server may answer under the other name of the algorithm (RFC 3645 2.1). */
    if (key->alg->digest == NULL && (t.alg_len != an || memcmp(t.alg, aw, an) != 0))
        key = tsig_gss_other(key, &t, &other);
    if (t.key_len != kn || memcmp(t.key, kw, kn) != 0 || key == NULL) {
        *check = ZP_TSIG_BADKEY;
        return 0;
    }
    if (tsig_name_wire(key->alg->wire, aw, &an) == -1 || t.alg_len != an ||
        memcmp(t.alg, aw, an) != 0) {
        *check = ZP_TSIG_BADKEY;
        return 0;
    }
    if (tsig_verify_layout(key, req, 0, msg, len, &t, &ok, err) == -1)
        return -1;
    /* Samba's layout only when the RFC's fails, and only for a request that had a MAC. */
    if (!ok && key->lax && req != NULL && req->len > 0) {
        if (tsig_verify_layout(key, req, 1, msg, len, &t, &ok, err) == -1)
            return -1;
        lax = ok;
    }
    /* The time counts only once the MAC proves it is the server's (RFC 8945 5.4). */
    *check = !ok                            ? ZP_TSIG_BADSIG
             : !tsig_in_time(t.timers, now) ? ZP_TSIG_BADTIME
             : lax                          ? ZP_TSIG_OK_LAX
                                            : ZP_TSIG_OK;
    return 0;
}

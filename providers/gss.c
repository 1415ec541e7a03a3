/*
 * gss.c — GSS-TSIG security contexts (RFC 3645) of one rfc2136 instance:
 * the TKEY negotiation with the DNS server, the cache that lets one
 * context sign many updates, and the MIC hook tsig.c signs and checks with.
 *
 * The negotiation: krb.c gets the tickets; gss_init_sec_context makes the
 * AP-REQ; each token goes to the server in a TKEY query (mode 3, algorithm
 * gss-tsig, the key name fresh and random, the TKEY RR uncompressed in the
 * additional section) over TCP, because a Kerberos token (750 bytes from
 * MIT, 1.5 KB with an AD PAC) outgrows a 512-byte datagram; the server's
 * token goes back into gss_init_sec_context until it completes, which is
 * the mutual authentication. The context then serves every update until
 * ZP_GSS_RENEW_MS (or half its life) before it expires.
 *
 * Threads: any worker may call zp_gss_get. The cache's lock guards the
 * current contexts (one per scope: the instance, or each namespace when
 * the keytab is a Secret) and the reference counts; a second lock lets one
 * negotiation run at a time per instance (the others wait for its result
 * rather than each negotiating). MIT's contexts are not safe for
 * concurrent gss_get_mic/gss_verify_mic (sequence state), so each context
 * has its own lock around them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gssapi/gssapi_krb5.h>
#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "providers/common.h"
#include "providers/gss.h"
#include "providers/krb.h"
#include "providers/provider.h"
#include "providers/rfc2136_int.h"

#define GSS_ROUNDS_MAX 4     /* Kerberos needs one round trip; SPNEGO would need two */
#define GSS_TKEY_LIFE 86400u /* the expiration asked for; the ticket decides in the end */
#define GSS_TKEY_MODE 3      /* GSS-API negotiation (RFC 2930 2.5) */
#define GSS_TOKEN_MAX 16384  /* a token with a large PAC is a few KB */
#define GSS_NAME_MAX 512
#define GSS_SCOPE_MAX 64  /* a namespace's name: at most 63 characters */
#define GSS_SCOPES_MAX 64 /* scopes holding a context; past that the oldest gives way */
#define GSS_FLAGS (GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_INTEG_FLAG)

struct zp_gss_ctx {
    gss_ctx_id_t ctx;
    char key[ZP_DNAME_MAX]; /* the TSIG key name, absolute */
    uint64_t born_ms, expires_ms;
    struct zp_tsig_mic mic;
    pthread_mutex_t mu; /* gss_get_mic and gss_verify_mic */
    int refs;           /* under the cache's lock */
    int expired;        /* a MIC call met GSS_S_CONTEXT_EXPIRED; under mu */
};

/*
 * The current context of one scope: the whole instance, or with a keytab
 * from a Secret each namespace (its Secret may hold another identity, and
 * one namespace must never sign with another's).
 */
struct gss_slot {
    char scope[GSS_SCOPE_MAX];
    struct zp_gss_ctx *cur;
};

struct zp_gss_cache {
    pthread_mutex_t mu;  /* slots, refs, negotiations */
    pthread_mutex_t neg; /* one negotiation at a time */
    struct gss_slot slots[GSS_SCOPES_MAX];
    size_t nslots;
    unsigned long negotiations;
    zp_gss_fake_fn *fake; /* tests only: see zp_gss_cache_fake */
    void *fake_arg;
};

/* ---- the MIC hook ------------------------------------------------------------------------- */

static int gss_mic_make(void *arg, const uint8_t *d, size_t n, uint8_t *out, size_t *outlen,
                        struct zp_err *err)
{
    struct zp_gss_ctx *g = arg;
    gss_buffer_desc in = {.length = n, .value = (void *)d}, mic = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int rc = -1;

    pthread_mutex_lock(&g->mu);
    major = gss_get_mic(&minor, g->ctx, GSS_C_QOP_DEFAULT, &in, &mic);
    if (major == GSS_S_CONTEXT_EXPIRED)
        g->expired = 1;
    pthread_mutex_unlock(&g->mu);
    if (GSS_ERROR(major))
        zp_err_set(err, ZP_EAUTH, "cannot sign with the GSS-TSIG context: it %s",
                   major == GSS_S_CONTEXT_EXPIRED ? "expired" : "is no longer valid");
    else if (mic.length > ZP_TSIG_MAC_MAX)
        zp_err_set(err, ZP_EINTERNAL, "the GSS-API signature is longer than TSIG allows here");
    else {
        memcpy(out, mic.value, mic.length);
        *outlen = mic.length;
        rc = 0;
    }
    gss_release_buffer(&minor, &mic);
    return rc;
}

static int gss_mic_check(void *arg, const uint8_t *d, size_t n, const uint8_t *mac, size_t len,
                         int *ok, struct zp_err *err)
{
    struct zp_gss_ctx *g = arg;
    gss_buffer_desc msg = {.length = n, .value = (void *)d};
    gss_buffer_desc tok = {.length = len, .value = (void *)mac};
    OM_uint32 major, minor;
    gss_qop_t qop;

    (void)err;
    pthread_mutex_lock(&g->mu);
    major = gss_verify_mic(&minor, g->ctx, &msg, &tok, &qop);
    if (major == GSS_S_CONTEXT_EXPIRED)
        g->expired = 1;
    pthread_mutex_unlock(&g->mu);
    /* A replayed reply verifies but is not the answer to this request. */
    *ok = !GSS_ERROR(major) && !(major & GSS_S_DUPLICATE_TOKEN);
    return 0;
}

const char *zp_gss_key_name(const struct zp_gss_ctx *ctx)
{
    return ctx->key;
}

const struct zp_tsig_mic *zp_gss_mic(struct zp_gss_ctx *ctx)
{
    return &ctx->mic;
}

int zp_gss_expired(const struct zp_gss_ctx *ctx)
{
    struct zp_gss_ctx *g = (struct zp_gss_ctx *)ctx;
    int e;

    pthread_mutex_lock(&g->mu);
    e = g->expired;
    pthread_mutex_unlock(&g->mu);
    return e;
}

static struct zp_gss_ctx *gss_ctx_new(void)
{
    struct zp_gss_ctx *g = zp_xcalloc(1, sizeof(*g));
    uint8_t r[8];

    g->ctx = GSS_C_NO_CONTEXT;
    g->mic.make = gss_mic_make;
    g->mic.check = gss_mic_check;
    g->mic.arg = g;
    pthread_mutex_init(&g->mu, NULL);
    /* Unique per negotiation: a server keys its contexts by this name. */
    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r));
    snprintf(g->key, sizeof(g->key), "%02x%02x%02x%02x%02x%02x%02x%02x.sig-zoneproof.", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7]);
    return g;
}

static void gss_ctx_free(struct zp_gss_ctx *g)
{
    OM_uint32 minor;

    if (g == NULL)
        return;
    if (g->ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* ---- TKEY --------------------------------------------------------------------------------- */

/* The puts below return what zp_buf_append did; gss_tkey_query asks zp_buf_ok once at the end. */
static int gss_put16(struct zp_buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return zp_buf_append(b, x, 2);
}

static int gss_put32(struct zp_buf *b, uint32_t v)
{
    gss_put16(b, v >> 16);
    return gss_put16(b, v & 0xffff);
}

/* name (absolute, checked) in uncompressed wire form onto b; -1 when it is not a name. */
static int gss_put_name(struct zp_buf *b, const char *name)
{
    ldns_rdf *d = ldns_dname_new_frm_str(name);

    int rc;

    if (d == NULL)
        return -1;
    rc = zp_buf_append(b, ldns_rdf_data(d), ldns_rdf_size(d));
    ldns_rdf_deep_free(d);
    return rc;
}

/*
 * The TKEY query carrying tok: question <key> TKEY ANY, and in the
 * additional section the TKEY RR (RFC 2930 2, RFC 3645 3.1.1), every name
 * uncompressed.
 */
static int gss_tkey_query(const char *key, const struct zp_tsig_alg *alg, const gss_buffer_t tok,
                          struct zp_buf *q)
{
    uint32_t now = (uint32_t)time(NULL);
    size_t rdlen_at;
    uint16_t id;

    if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1)
        id = (uint16_t)ldns_get_random();
    gss_put16(q, id);
    gss_put16(q, 0); /* QUERY, no flags */
    gss_put16(q, 1);
    gss_put16(q, 0);
    gss_put16(q, 0);
    gss_put16(q, 1);
    if (gss_put_name(q, key) == -1)
        return -1;
    gss_put16(q, LDNS_RR_TYPE_TKEY);
    gss_put16(q, LDNS_RR_CLASS_ANY);
    gss_put_name(q, key);
    gss_put16(q, LDNS_RR_TYPE_TKEY);
    gss_put16(q, LDNS_RR_CLASS_ANY);
    gss_put32(q, 0);
    rdlen_at = q->len;
    gss_put16(q, 0);
    if (gss_put_name(q, alg->wire) == -1)
        return -1;
    gss_put32(q, now);
    gss_put32(q, now + GSS_TKEY_LIFE);
    gss_put16(q, GSS_TKEY_MODE);
    gss_put16(q, 0); /* error */
    gss_put16(q, (unsigned)tok->length);
    zp_buf_append(q, tok->value, tok->length);
    gss_put16(q, 0); /* other data */
    if (!zp_buf_ok(q))
        return -1;
    q->data[rdlen_at] = (char)((q->len - rdlen_at - 2) >> 8);
    q->data[rdlen_at + 1] = (char)(q->len - rdlen_at - 2);
    return 0;
}

/* The sentence for a TKEY the server refused: why, in its words (rcode or TKEY error). */
static int gss_tkey_refused(const struct zp_gss_peer *p, const char *server, const char *why,
                            struct zp_err *err)
{
    return zp_err_set(err, ZP_EAUTH,
                      "%s refused the GSS-TSIG key negotiation (TKEY) of %s for %s: %s; the "
                      "server must accept GSS-TSIG for this zone (BIND: tkey-gssapi-keytab holding "
                      "the key of %s; Windows DNS: dynamic updates set to Secure only) and "
                      "nameserver must be that server",
                      p->nameserver, zp_krb_principal(p->krb), server, why, server);
}

enum zp_gss_tkey zp_gss_tkey_parse(const uint8_t *m, size_t n, const char *key, struct zp_buf *tok,
                                   uint32_t *expire, unsigned *tkey_error, int *rcode)
{
    ldns_pkt *r = NULL;
    ldns_rdf *owner = ldns_dname_new_frm_str(key);
    const ldns_rr *t = NULL;
    ldns_rr_list *an;
    enum zp_gss_tkey rc = ZP_GSS_TKEY_NONE;

    *rcode = 0;
    if (owner == NULL || zp_tsig_wire2pkt(&r, m, n) != LDNS_STATUS_OK) {
        rc = ZP_GSS_TKEY_NOT_DNS;
        goto out;
    }
    if ((*rcode = (int)ldns_pkt_get_rcode(r)) != LDNS_RCODE_NOERROR) {
        rc = ZP_GSS_TKEY_RCODE;
        goto out;
    }
    an = ldns_pkt_answer(r);
    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TKEY && ldns_rr_rd_count(rr) == 7 &&
            ldns_dname_compare(ldns_rr_owner(rr), owner) == 0)
            t = rr;
    }
    if (t == NULL || ldns_rdf_size(ldns_rr_rdf(t, 5)) < 2 ||
        ldns_rdf_size(ldns_rr_rdf(t, 2)) != 4 || ldns_rdf_size(ldns_rr_rdf(t, 4)) != 2)
        goto out;
    *tkey_error = ldns_rdf2native_int16(ldns_rr_rdf(t, 4));
    *expire = ldns_rdf2native_int32(ldns_rr_rdf(t, 2));
    zp_buf_reset(tok);
    rc = zp_buf_append(tok, ldns_rdf_data(ldns_rr_rdf(t, 5)) + 2,
                       ldns_rdf_size(ldns_rr_rdf(t, 5)) - 2) == -1
             ? ZP_GSS_TKEY_TOO_LARGE
             : ZP_GSS_TKEY_OK;
out:
    ldns_rdf_deep_free(owner);
    ldns_pkt_free(r);
    return rc;
}

/*
 * The server's answer to a TKEY query for key: its token into tok and the
 * expiration it grants into *expire. A refusal with a token still gives
 * the token, so that gss_init_sec_context can say what Kerberos refused;
 * *tkey_error then holds the refusal.
 */
static int gss_tkey_reply(const struct zp_gss_peer *p, const char *server, const char *key,
                          const struct zp_buf *reply, struct zp_buf *tok, uint32_t *expire,
                          unsigned *tkey_error, struct zp_err *err)
{
    char why[64];
    int rcode;

    switch (zp_gss_tkey_parse((const uint8_t *)reply->data, reply->len, key, tok, expire,
                              tkey_error, &rcode)) {
    case ZP_GSS_TKEY_OK:
        break;
    case ZP_GSS_TKEY_NOT_DNS:
        return zp_err_set(err, ZP_ETRANSIENT,
                          "%s answered the TKEY query with a message that does not parse",
                          p->nameserver);
    case ZP_GSS_TKEY_RCODE:
        return gss_tkey_refused(p, server, zp_rfc_rcode_name(rcode), err);
    case ZP_GSS_TKEY_NONE:
        return gss_tkey_refused(p, server, "its answer holds no TKEY record for the key", err);
    case ZP_GSS_TKEY_TOO_LARGE:
        return zp_err_set(err, ZP_ETRANSIENT, "%s answered the TKEY query with a token too large",
                          p->nameserver);
    }
    if (*tkey_error != 0 && tok->len == 0) {
        snprintf(why, sizeof(why), "TKEY error %s", zp_rfc_rcode_name((int)*tkey_error));
        return gss_tkey_refused(p, server, why, err);
    }
    return 0;
}

/* One TKEY exchange: tok out, the server's token back into back; the reply's wire in reply. */
static int gss_tkey_exchange(const struct zp_gss_peer *p, const char *server,
                             const struct zp_gss_ctx *g, gss_buffer_t tok, struct zp_buf *back,
                             struct zp_buf *reply, uint32_t *expire, unsigned *tkey_error,
                             struct zp_err *err)
{
    struct zp_buf q;
    int rc = -1;

    zp_buf_init(&q, ZP_RFC_MSG_MAX);
    if (gss_tkey_query(g->key, p->alg, tok, &q) == -1)
        zp_err_set(err, ZP_EINTERNAL, "cannot build the TKEY query (the token is too large)");
    else if (p->send(p->arg, (const uint8_t *)q.data, q.len, 1, reply, err) == 0)
        rc = gss_tkey_reply(p, server, g->key, reply, back, expire, tkey_error, err);
    zp_buf_free(&q);
    return rc;
}

/* ---- the negotiation ---------------------------------------------------------------------- */

/* The zone's SOA MNAME as the server knows it (the default service principal's host). */
static int gss_mname(const struct zp_gss_peer *p, char *out, size_t n, struct zp_err *err)
{
    ldns_pkt *q =
        ldns_pkt_query_new(ldns_dname_new_frm_str(p->zone), LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0);
    ldns_pkt *r = NULL;
    struct zp_buf reply;
    uint8_t *w = NULL;
    size_t wlen = 0;
    int rc = -1;

    zp_buf_init(&reply, ZP_RFC_MSG_MAX);
    out[0] = '\0';
    if (q == NULL || ldns_pkt2wire(&w, q, &wlen) != LDNS_STATUS_OK) {
        zp_err_set(err, ZP_EINTERNAL, "cannot build the SOA query for %s", p->zone);
        goto out;
    }
    if (p->send(p->arg, w, wlen, 0, &reply, err) == -1)
        goto out;
    if (zp_tsig_wire2pkt(&r, (const uint8_t *)reply.data, reply.len) == LDNS_STATUS_OK) {
        ldns_rr_list *an = ldns_pkt_answer(r);
        for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(an, i);
            char *m;
            if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 1 ||
                (m = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL)
                continue;
            snprintf(out, n, "%s", m);
            free(m);
            break;
        }
    }
    rc = 0;
out:
    free(w);
    ldns_pkt_free(q);
    ldns_pkt_free(r);
    zp_buf_free(&reply);
    return rc;
}

/* The DNS server's service principal: kerberos.serverPrincipal or DNS/<MNAME>@REALM. */
static int gss_server(const struct zp_gss_peer *p, char *out, size_t n, struct zp_err *err)
{
    struct zp_err scratch = {0};
    char mname[ZP_DNAME_MAX];

    if (zp_krb_server(p->krb, NULL, out, n, &scratch) == 0) /* configured */
        return 0;
    if (gss_mname(p, mname, sizeof(mname), err) == -1)
        return -1;
    return zp_krb_server(p->krb, mname, out, n, err);
}

/* How long the context lives: the ticket's time and the server's TKEY expiration, the shorter. */
static uint64_t gss_life_s(OM_uint32 time_rec, uint32_t expire)
{
    uint64_t life = time_rec == GSS_C_INDEFINITE ? GSS_TKEY_LIFE : time_rec;
    uint32_t now = (uint32_t)time(NULL);

    if (expire > now && expire - now < life)
        life = expire - now;
    return life;
}

/*
 * The token loop: gss_init_sec_context, its token to the server by TKEY,
 * the server's token back, until the context is complete (mutual
 * authentication done). The last reply stays in reply.
 */
static int gss_rounds(const struct zp_gss_peer *p, const char *server, struct zp_krb_cred *kc,
                      struct zp_gss_ctx *g, struct zp_buf *reply, uint64_t *life_s,
                      struct zp_err *err)
{
    gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major = GSS_S_CONTINUE_NEEDED, minor, time_rec = 0;
    uint32_t expire = 0;
    unsigned tkey_error = 0;
    struct zp_buf back;
    int rc = -1, x;

    zp_buf_init(&back, GSS_TOKEN_MAX);
    for (int round = 0; round < GSS_ROUNDS_MAX && major == GSS_S_CONTINUE_NEEDED; round++) {
        in.length = back.len;
        in.value = back.data;
        major = gss_init_sec_context(&minor, kc->cred, &g->ctx, kc->target, (gss_OID)gss_mech_krb5,
                                     GSS_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS, &in, NULL, &out, NULL,
                                     &time_rec);
        if (GSS_ERROR(major)) {
            zp_krb_gss_fail(p->krb, major, minor, p->nameserver, server, err);
            goto out;
        }
        if (tkey_error != 0) { /* refused, and its token did not make Kerberos say why */
            gss_tkey_refused(p, server, zp_rfc_rcode_name((int)tkey_error), err);
            goto out;
        }
        if (out.length == 0)
            continue;
        x = gss_tkey_exchange(p, server, g, &out, &back, reply, &expire, &tkey_error, err);
        gss_release_buffer(&minor, &out);
        if (x == -1)
            goto out;
    }
    if (major != GSS_S_COMPLETE || tkey_error != 0) {
        gss_tkey_refused(p, server,
                         tkey_error ? zp_rfc_rcode_name((int)tkey_error)
                                    : "the negotiation did not complete",
                         err);
        goto out;
    }
    *life_s = gss_life_s(time_rec, expire);
    rc = 0;
out:
    gss_release_buffer(&minor, &out);
    zp_buf_free_secret(&back);
    return rc;
}

/* A server signs its last TKEY answer with the new context: checked when it does. */
static int gss_check_final(const struct zp_gss_peer *p, struct zp_gss_ctx *g,
                           const struct zp_buf *reply, struct zp_err *err)
{
    struct zp_tsig_key key = {.name = g->key, .alg = p->alg, .mic = &g->mic};
    enum zp_tsig_check check = ZP_TSIG_UNSIGNED;

    if (zp_tsig_verify(&key, NULL, (uint64_t)time(NULL), (const uint8_t *)reply->data, reply->len,
                       &check, err) == -1)
        return -1;
    if (check == ZP_TSIG_OK || check == ZP_TSIG_UNSIGNED)
        return 0;
    zp_log(ZP_LOG_WARN, "gss-tsig: the server's signature on its TKEY answer does not verify",
           ZP_S("nameserver", p->nameserver), ZP_S("check", zp_tsig_check_name(check)), ZP_END);
    return zp_err_set(err, ZP_EAUTH,
                      "%s signed its answer to the GSS-TSIG key negotiation with a signature "
                      "that does not verify (%s), so the answer cannot be trusted; check that "
                      "nameserver is the server itself and not a proxy",
                      p->nameserver, zp_tsig_check_name(check));
}

static int gss_negotiate(const struct zp_gss_peer *p, const struct zp_prov_call *call,
                         struct zp_gss_ctx **out, struct zp_err *err)
{
    struct zp_krb_cred kc = {0};
    struct zp_gss_ctx *g = gss_ctx_new();
    char server[GSS_NAME_MAX];
    struct zp_buf reply;
    uint64_t t0 = zp_now_ms(), life = 0;
    int rc = -1;

    zp_buf_init(&reply, ZP_RFC_MSG_MAX);
    if (gss_server(p, server, sizeof(server), err) == -1 ||
        zp_krb_acquire(p->krb, call, server, p->deadline_ms, &kc, err) == -1 ||
        gss_rounds(p, server, &kc, g, &reply, &life, err) == -1 ||
        gss_check_final(p, g, &reply, err) == -1)
        goto out;
    g->born_ms = zp_now_ms();
    g->expires_ms = g->born_ms + life * 1000;
    zp_log(ZP_LOG_INFO, "gss-tsig context", ZP_S("instance", call ? call->instance : NULL),
           ZP_S("nameserver", p->nameserver), ZP_S("principal", zp_krb_principal(p->krb)),
           ZP_S("server", server), ZP_S("key", g->key), ZP_I("lifetime_s", (long long)life),
           ZP_I("took_ms", (long long)(zp_now_ms() - t0)), ZP_END);
    *out = g;
    g = NULL;
    rc = 0;
out:
    zp_krb_release(&kc);
    zp_buf_free(&reply);
    gss_ctx_free(g);
    return rc;
}

/* ---- the cache ---------------------------------------------------------------------------- */

struct zp_gss_cache *zp_gss_cache_new(void)
{
    struct zp_gss_cache *c = zp_xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->neg, NULL);
    return c;
}

/* Drops one reference; under c->mu. */
static void gss_unref(struct zp_gss_ctx *g)
{
    if (g != NULL && --g->refs == 0)
        gss_ctx_free(g);
}

void zp_gss_cache_free(struct zp_gss_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        gss_unref(c->slots[i].cur);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->neg);
    free(c);
}

/* The slot of scope, made if there is none (the oldest context gives way); under c->mu. */
static struct gss_slot *gss_slot(struct zp_gss_cache *c, const char *scope)
{
    struct gss_slot *s = NULL;

    for (size_t i = 0; i < c->nslots; i++)
        if (strcmp(c->slots[i].scope, scope) == 0)
            return &c->slots[i];
    if (c->nslots < GSS_SCOPES_MAX) {
        s = &c->slots[c->nslots++];
    } else {
        s = &c->slots[0];
        for (size_t i = 1; i < c->nslots; i++)
            if (c->slots[i].cur == NULL ||
                (s->cur != NULL && c->slots[i].cur->born_ms < s->cur->born_ms))
                s = &c->slots[i];
        gss_unref(s->cur);
        s->cur = NULL;
    }
    snprintf(s->scope, sizeof(s->scope), "%s", scope);
    return s;
}

/* Whether g may sign one more update: not expired, and more than the margin left. */
static int gss_usable(struct zp_gss_ctx *g)
{
    uint64_t life, margin;

    if (g == NULL || zp_gss_expired(g))
        return 0;
    life = g->expires_ms - g->born_ms;
    margin = life / 2 < ZP_GSS_RENEW_MS ? life / 2 : ZP_GSS_RENEW_MS;
    return zp_now_ms() + margin < g->expires_ms;
}

/* The scope's current context with a reference for the caller, if usable; locks c->mu. */
static struct zp_gss_ctx *gss_take(struct zp_gss_cache *c, const char *scope)
{
    struct gss_slot *s;
    struct zp_gss_ctx *g = NULL;

    pthread_mutex_lock(&c->mu);
    s = gss_slot(c, scope);
    if (gss_usable(s->cur)) {
        g = s->cur;
        g->refs++;
    }
    pthread_mutex_unlock(&c->mu);
    return g;
}

/* A context of the test's fn: no GSS-API context, the life fn gives. */
static int gss_fake(struct zp_gss_cache *c, struct zp_gss_ctx **out, struct zp_err *err)
{
    uint64_t life = 0;

    if (c->fake(c->fake_arg, &life, err) == -1)
        return -1;
    *out = gss_ctx_new();
    (*out)->born_ms = zp_now_ms();
    (*out)->expires_ms = (*out)->born_ms + life;
    return 0;
}

void zp_gss_cache_fake(struct zp_gss_cache *c, zp_gss_fake_fn *fn, void *arg)
{
    c->fake = fn;
    c->fake_arg = arg;
}

int zp_gss_get(struct zp_gss_cache *c, const char *scope, const struct zp_gss_peer *p,
               const struct zp_prov_call *call, struct zp_gss_ctx **ctx, int *fresh,
               struct zp_err *err)
{
    struct zp_gss_ctx *g = NULL;
    struct gss_slot *s;
    int rc = 0;

    *fresh = 0;
    scope = scope ? scope : "";
    if ((*ctx = gss_take(c, scope)) != NULL)
        return 0;
    pthread_mutex_lock(&c->neg);
    *ctx = gss_take(c, scope); /* negotiated by the call this one waited for */
    if (*ctx == NULL &&
        (rc = c->fake ? gss_fake(c, &g, err) : gss_negotiate(p, call, &g, err)) == 0) {
        pthread_mutex_lock(&c->mu);
        s = gss_slot(c, scope);
        gss_unref(s->cur);
        s->cur = g;
        g->refs = 2; /* the cache's and the caller's */
        c->negotiations++;
        pthread_mutex_unlock(&c->mu);
        *ctx = g;
        *fresh = 1;
    }
    pthread_mutex_unlock(&c->neg);
    return rc;
}

void zp_gss_put(struct zp_gss_cache *c, struct zp_gss_ctx *ctx)
{
    pthread_mutex_lock(&c->mu);
    gss_unref(ctx);
    pthread_mutex_unlock(&c->mu);
}

void zp_gss_drop(struct zp_gss_cache *c, struct zp_gss_ctx *ctx)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].cur == ctx) {
            c->slots[i].cur = NULL;
            gss_unref(ctx);
        }
    pthread_mutex_unlock(&c->mu);
}

unsigned long zp_gss_negotiations(const struct zp_gss_cache *c)
{
    struct zp_gss_cache *m = (struct zp_gss_cache *)c;
    unsigned long n;

    pthread_mutex_lock(&m->mu);
    n = m->negotiations;
    pthread_mutex_unlock(&m->mu);
    return n;
}

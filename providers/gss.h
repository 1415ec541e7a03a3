/*
 * gss.h — GSS-TSIG security contexts (RFC 3645) of one rfc2136 instance:
 * negotiated with the DNS server by TKEY, cached, renewed before they
 * expire, and used to sign updates and check replies through tsig.c's MIC
 * hook.
 */
#ifndef ZP_PROVIDERS_GSS_H
#define ZP_PROVIDERS_GSS_H

#include <stddef.h>
#include <stdint.h>

#include "providers/tsig.h"

struct zp_buf;
struct zp_err;
struct zp_krb;
struct zp_prov_call;

/* Renew a context when less than this is left of it (or of half its life, if shorter). */
#define ZP_GSS_RENEW_MS (300u * 1000u)

/* One established context: its TSIG key name and the MIC hook that signs with it. */
struct zp_gss_ctx;

/* The contexts of one instance (one server): made at parse time, freed with the instance. */
struct zp_gss_cache;

/*
 * How a negotiation reaches the server: send q (qlen bytes) over TCP or
 * UDP and put the reply in reply; -1 with the sentence when none came.
 */
typedef int zp_gss_send_fn(void *arg, const uint8_t *q, size_t qlen, int tcp, struct zp_buf *reply,
                           struct zp_err *err);

struct zp_gss_peer {
    const struct zp_krb *krb;
    const struct zp_tsig_alg *alg; /* gss-tsig or gss.microsoft.com */
    const char *nameserver;        /* as configured, for sentences */
    const char *zone;              /* its SOA MNAME names the server, unless serverPrincipal */
    uint64_t deadline_ms;
    zp_gss_send_fn *send;
    void *arg;
};

struct zp_gss_cache *zp_gss_cache_new(void);
void zp_gss_cache_free(struct zp_gss_cache *c);

/*
 * A context for the peer in scope (NULL: the instance's one; a namespace
 * when each namespace's Secret gives the identity): the cached one while
 * it has time left, else a new one negotiated now (one negotiation at a
 * time per instance; the others wait for it). *fresh: it was negotiated by
 * this call. Release it with zp_gss_put.
 */
int zp_gss_get(struct zp_gss_cache *c, const char *scope, const struct zp_gss_peer *p,
               const struct zp_prov_call *call, struct zp_gss_ctx **ctx, int *fresh,
               struct zp_err *err);
void zp_gss_put(struct zp_gss_cache *c, struct zp_gss_ctx *ctx);
/* The server no longer accepts ctx (it restarted, or the context expired there): forget it. */
void zp_gss_drop(struct zp_gss_cache *c, struct zp_gss_ctx *ctx);

/* ctx's TSIG key name (absolute) and MIC hook, for a zp_tsig_key. */
const char *zp_gss_key_name(const struct zp_gss_ctx *ctx);
const struct zp_tsig_mic *zp_gss_mic(struct zp_gss_ctx *ctx);
/* Whether a MIC failed because the context expired on this side (then renew). */
int zp_gss_expired(const struct zp_gss_ctx *ctx);

/* What a TKEY answer holds, as zp_gss_tkey_parse reads it. */
enum zp_gss_tkey {
    ZP_GSS_TKEY_OK,        /* a TKEY RR for the key: its token, expiration and error */
    ZP_GSS_TKEY_NOT_DNS,   /* not a DNS message ldns reads */
    ZP_GSS_TKEY_RCODE,     /* an rcode other than NOERROR, in *rcode */
    ZP_GSS_TKEY_NONE,      /* no well-formed TKEY RR owned by the key in the answer section */
    ZP_GSS_TKEY_TOO_LARGE, /* the token does not fit tok */
};

/*
 * Reads the server's answer m[0..n) to a TKEY query for key: the token
 * into tok (its max caps it), the expiration the server grants and the
 * TKEY error field. Untrusted input: tests/fuzz/fuzz_tkey.c.
 */
enum zp_gss_tkey zp_gss_tkey_parse(const uint8_t *m, size_t n, const char *key, struct zp_buf *tok,
                                   uint32_t *expire, unsigned *tkey_error, int *rcode);

/* How many TKEY negotiations this cache has completed: the tests' count. */
unsigned long zp_gss_negotiations(const struct zp_gss_cache *c);

/*
 * Tests: the cache's negotiations made by fn instead of Kerberos and TKEY
 * (fn gives the new context's life in ms, or fails), so reuse, renewal
 * and refusal run on a manual clock without a KDC. Contexts so made have
 * no GSS-API context and cannot sign.
 */
typedef int zp_gss_fake_fn(void *arg, uint64_t *life_ms, struct zp_err *err);
void zp_gss_cache_fake(struct zp_gss_cache *c, zp_gss_fake_fn *fn, void *arg);

#endif

/*
 * dnssecverify.c — DNSSEC verification with no network (dnssec.h, "the
 * pure parts"): the signatures of an RRset and one zone cut (DS <-> DNSKEY,
 * the DNSKEY set's self-signature, validity windows), each with the
 * sentence that says what is wrong; and the helpers dnssecdenial.c and
 * dnssec.c share (dnssec_int.h): RR lists, key tags in sentences, results,
 * the signature check. Proofs of non-existence are dnssecdenial.c's.
 *
 * ldns does the crypto (ldns_verify_rrsig_keylist_time checks the
 * signature first and the dates last, so "expired" is only said of a
 * signature that is otherwise good). This file decides which keys are
 * trusted and which signatures must exist, and says what is wrong. Where
 * the records come from (anchors, resolvers) is dnssec.c's business.
 *
 * Internal steps return 0 (go on), 1 (a verdict is in the result: stop) or
 * -1 (an internal error).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/dname.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/check.h"
#include "solver/dnssec.h"
#include "solver/dnssec_int.h"

#define DIG_FLAGS "+dnssec +cd"
#define TAGS_MAX 32         /* key tags listed in one sentence */
#define DNSKEY_ZONE 0x0100u /* the Zone Key flag: only such keys sign zone data */

/* --- small helpers ------------------------------------------------------------------------ */

void zp_dnssec_oom(void)
{
    zp_log(ZP_LOG_ERROR, "out of memory in ldns", ZP_END);
    abort();
}

ldns_rr_list *zp_dnssec_list_new(void)
{
    ldns_rr_list *l = ldns_rr_list_new();

    if (l == NULL)
        zp_dnssec_oom();
    return l;
}

static void push_clone(ldns_rr_list *l, const ldns_rr *rr)
{
    ldns_rr *c = ldns_rr_clone(rr);

    if (c == NULL || !ldns_rr_list_push_rr(l, c))
        zp_dnssec_oom();
}

size_t zp_dnssec_count(const ldns_rr_list *l)
{
    return l == NULL ? 0 : ldns_rr_list_rr_count(l);
}

const char *zp_dnssec_tname(ldns_rr_type t)
{
    const ldns_rr_descriptor *d = ldns_rr_descript(t);

    return d != NULL && d->_name != NULL ? d->_name : "?";
}

/* A name as sentences write it: lower case, one trailing dot. */
void zp_dnssec_rdf_name(const ldns_rdf *d, char *out, size_t sz)
{
    char *s = d != NULL ? ldns_rdf2str(d) : NULL;

    if (s == NULL || zp_dname_canon(s, out, sz) == -1)
        zp_strlcpy(out, "?", sz);
    free(s);
}

/*
 * The RRs of l with that owner (NULL: any) and type (0: any); with covered,
 * only RRSIGs over that type. A new list of copies, never NULL.
 */
ldns_rr_list *zp_dnssec_pick(const ldns_rr_list *l, const ldns_rdf *owner, ldns_rr_type type,
                             ldns_rr_type covered)
{
    ldns_rr_list *out = zp_dnssec_list_new();

    for (size_t i = 0; i < zp_dnssec_count(l); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(l, i);
        const ldns_rdf *tc;

        if (type != 0 && ldns_rr_get_type(rr) != type)
            continue;
        if (owner != NULL && ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
            continue;
        if (covered != 0) {
            tc = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG ? ldns_rr_rrsig_typecovered(rr) : NULL;
            if (tc == NULL || ldns_rdf2rr_type(tc) != covered)
                continue;
        }
        push_clone(out, rr);
    }
    return out;
}

/* Algorithms we validate: RFC 8624's MUST/MAY list that ldns (and OpenSSL) implement here.
 * RSAMD5, DSA and GOST are not validated by CAs either. */
static int alg_ok(unsigned alg)
{
    switch (alg) {
    case LDNS_RSASHA1:
    case LDNS_RSASHA1_NSEC3:
    case LDNS_RSASHA256:
    case LDNS_RSASHA512:
    case LDNS_ECDSAP256SHA256:
    case LDNS_ECDSAP384SHA384:
    case LDNS_ED25519:
    case LDNS_ED448:
        return ldns_key_algo_supported((int)alg);
    default:
        return 0;
    }
}

/* Digest types ldns_key_rr2ds computes (it silently falls back to SHA-1 for others). */
static int digest_ok(unsigned d)
{
    return d == LDNS_SHA1 || d == LDNS_SHA256 || d == LDNS_SHA384;
}

/* --- key tags in sentences ---------------------------------------------------------------- */

struct tag {
    unsigned tag, alg;
};

static int tag_cmp(const void *a, const void *b)
{
    const struct tag *x = a, *y = b;

    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->alg < y->alg ? -1 : x->alg > y->alg;
}

static int tag_of(const ldns_rr *rr, struct tag *t)
{
    switch (ldns_rr_get_type(rr)) {
    case LDNS_RR_TYPE_DNSKEY:
        if (ldns_rr_rdf(rr, 2) == NULL)
            return -1;
        t->tag = ldns_calc_keytag(rr);
        t->alg = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
        return 0;
    case LDNS_RR_TYPE_DS:
        if (ldns_rr_rdf(rr, 1) == NULL)
            return -1;
        t->tag = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
        t->alg = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
        return 0;
    case LDNS_RR_TYPE_RRSIG:
        if (ldns_rr_rrsig_keytag(rr) == NULL)
            return -1;
        t->tag = ldns_rdf2native_int16(ldns_rr_rrsig_keytag(rr));
        t->alg = ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(rr));
        return 0;
    default:
        return -1;
    }
}

/* Sorted, without duplicates: the order of an RRset changes between answers, sentences must not. */
static size_t tags_of(const ldns_rr_list *l, struct tag *t)
{
    size_t n = 0, k = 0;

    for (size_t i = 0; i < zp_dnssec_count(l) && n < TAGS_MAX; i++)
        if (tag_of(ldns_rr_list_rr(l, i), &t[n]) == 0)
            n++;
    qsort(t, n, sizeof(*t), tag_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || tag_cmp(&t[k - 1], &t[i]) != 0)
            t[k++] = t[i];
    return k;
}

/* "4321/13, 12345/13" (key tag/algorithm), or "none". */
void zp_dnssec_tags_str(const ldns_rr_list *l, char *out, size_t sz)
{
    struct tag t[TAGS_MAX];
    size_t n = tags_of(l, t), len = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && len < sz; i++)
        len += (size_t)snprintf(out + len, sz - len, "%s%u/%u", i ? ", " : "", t[i].tag, t[i].alg);
    if (n == 0)
        zp_strlcpy(out, "none", sz);
}

/* One record: "key tag 12345, algorithm 13"; more: "key tags and algorithms 1/13, 2/8". */
static void keys_str(const ldns_rr_list *l, char *out, size_t sz)
{
    struct tag t[TAGS_MAX];
    char list[256];

    if (tags_of(l, t) == 1) {
        snprintf(out, sz, "key tag %u, algorithm %u", t[0].tag, t[0].alg);
        return;
    }
    zp_dnssec_tags_str(l, list, sizeof(list));
    snprintf(out, sz, "key tags and algorithms %s", list);
}

static int has_key(const ldns_rr_list *keys, unsigned tag, unsigned alg)
{
    struct tag t;

    for (size_t i = 0; i < zp_dnssec_count(keys); i++)
        if (tag_of(ldns_rr_list_rr(keys, i), &t) == 0 && t.tag == tag && t.alg == alg)
            return 1;
    return 0;
}

/* An RRSIG time field as a date. Serial arithmetic (RFC 4034 3.1.5): the 32-bit value is
 * taken nearest to now, which only picks the era; the text is the zone's data. */
static void time_str(const ldns_rdf *t, time_t now, char *out, size_t sz)
{
    uint32_t v = t != NULL ? ldns_rdf2native_int32(t) : 0;
    time_t abs = now + (int32_t)(v - (uint32_t)now);
    struct tm tm;

    if (gmtime_r(&abs, &tm) == NULL || strftime(out, sz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        zp_strlcpy(out, "?", sz);
}

/* --- results ------------------------------------------------------------------------------ */

void zp_dnssec_res_init(struct zp_dnssec_result *res, const char *zone)
{
    memset(res, 0, sizeof(*res));
    res->state = ZP_DNSSEC_UNKNOWN;
    if (zone == NULL || zp_dname_canon(zone, res->zone, sizeof(res->zone)) == -1)
        res->zone[0] = '\0';
}

void zp_dnssec_res_dig(struct zp_dnssec_result *res, const char *server, const char *name,
                       ldns_rr_type type)
{
    zp_check_dig(res->dig, sizeof(res->dig), server, 0, DIG_FLAGS, name, zp_dnssec_tname(type));
}

/* Sets the verdict (every text but dig); returns 1, the "stop" of the internal steps. */
int zp_dnssec_verdict(struct zp_dnssec_result *res, enum zp_dnssec_state st, const char *zone,
                      const char *fix, const char *fmt, ...)
{
    va_list ap;

    res->state = st;
    if (zone != res->zone && zp_dname_canon(zone, res->zone, sizeof(res->zone)) == -1)
        res->zone[0] = '\0';
    zp_strlcpy(res->fix, fix != NULL ? fix : "", sizeof(res->fix));
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof(res->why), fmt, ap);
    va_end(ap);
    return 1;
}

const char *zp_dnssec_state_name(enum zp_dnssec_state s)
{
    switch (s) {
    case ZP_DNSSEC_SECURE:
        return "secure";
    case ZP_DNSSEC_INSECURE:
        return "insecure";
    case ZP_DNSSEC_BOGUS:
        return "bogus";
    case ZP_DNSSEC_UNKNOWN:
        break;
    }
    return "unknown";
}

/* --- signatures --------------------------------------------------------------------------- */

/* Ordered: the larger, the more precise the cause a sentence can name. */
enum sigv { SIG_OK, SIG_NONE, SIG_UNSUPPORTED, SIG_NOKEY, SIG_BAD, SIG_NOTYET, SIG_EXPIRED };

struct sigfail {
    enum sigv v;
    struct tag by; /* the signature concerned */
    char when[40]; /* its expiration (SIG_EXPIRED) or inception (SIG_NOTYET) */
};

static enum sigv sig_one(const ldns_rr_list *rrset, const ldns_rr *sig, const ldns_rr_list *keys,
                         const ldns_rdf *signer, time_t now)
{
    struct tag t;

    if (tag_of(sig, &t) == -1 || ldns_rr_rrsig_signame(sig) == NULL)
        return SIG_BAD;
    if (!alg_ok(t.alg))
        return SIG_UNSUPPORTED;
    if (ldns_dname_compare(ldns_rr_rrsig_signame(sig), signer) != 0 || !has_key(keys, t.tag, t.alg))
        return SIG_NOKEY;
    switch (ldns_verify_rrsig_keylist_time(rrset, sig, keys, now, NULL)) {
    case LDNS_STATUS_OK:
        return SIG_OK;
    case LDNS_STATUS_CRYPTO_SIG_EXPIRED:
        return SIG_EXPIRED;
    case LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED:
        return SIG_NOTYET;
    default:
        return SIG_BAD;
    }
}

/* Whether one of sigs, by signer, verifies rrset with one of keys; else the most precise cause. */
static void sig_check(const ldns_rr_list *rrset, const ldns_rr_list *sigs, const ldns_rr_list *keys,
                      const ldns_rdf *signer, time_t now, struct sigfail *f)
{
    memset(f, 0, sizeof(*f));
    f->v = SIG_NONE;
    for (size_t i = 0; i < zp_dnssec_count(sigs); i++) {
        const ldns_rr *sig = ldns_rr_list_rr(sigs, i);
        enum sigv v = sig_one(rrset, sig, keys, signer, now);

        if (v == SIG_OK || v > f->v) {
            f->v = v;
            tag_of(sig, &f->by);
            time_str(v == SIG_NOTYET ? ldns_rr_rrsig_inception(sig) : ldns_rr_rrsig_expiration(sig),
                     now, f->when, sizeof(f->when));
        }
        if (v == SIG_OK)
            return;
    }
}

/* The sentence for a failed sig_check of what, signed by signer whose DNSKEY set is keys. */
static int sig_verdict(const struct sigfail *f, const char *what, const char *signer,
                       const ldns_rr_list *keys, const ldns_rr_list *sigs,
                       struct zp_dnssec_result *res)
{
    char fix[512], by[256], ks[256];
    const unsigned tag = f->by.tag, alg = f->by.alg;

    zp_dnssec_tags_str(sigs, by, sizeof(by));
    zp_dnssec_tags_str(keys, ks, sizeof(ks));
    switch (f->v) {
    case SIG_OK:
        return 0;
    case SIG_NONE:
        snprintf(fix, sizeof(fix), "sign %s again so that %s carries a signature", signer, what);
        return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix, "%s has no signature (RRSIG)",
                                 what);
    case SIG_UNSUPPORTED:
        return zp_dnssec_verdict(res, ZP_DNSSEC_INSECURE, signer, NULL,
                                 "%s is signed only with "
                                 "algorithms zoneproof cannot validate (%s): per RFC 4035 it "
                                 "counts as unsigned",
                                 what, by);
    case SIG_NOKEY:
        snprintf(fix, sizeof(fix),
                 "sign with a key that %s publishes in its DNSKEY set, or "
                 "publish the signing key",
                 signer);
        return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                                 "%s is signed only by keys "
                                 "that %s does not publish (signatures by %s; DNSKEYs of %s: %s)",
                                 what, signer, by, signer, ks);
    case SIG_BAD:
        snprintf(fix, sizeof(fix),
                 "re-sign %s: the records were changed after signing, or "
                 "the signature is corrupt",
                 signer);
        return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                                 "the signature of %s by key "
                                 "%u/%u does not verify",
                                 what, tag, alg);
    case SIG_NOTYET:
        snprintf(fix, sizeof(fix),
                 "check the clock of the signer of %s: its signatures start "
                 "in the future",
                 signer);
        return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                                 "the signature of %s by key "
                                 "%u/%u is not valid before %s",
                                 what, tag, alg, f->when);
    case SIG_EXPIRED:
        break;
    }
    snprintf(fix, sizeof(fix),
             "re-sign %s, and make sure its signatures are refreshed before "
             "they expire (inline signing, or dnssec-signzone run regularly)",
             signer);
    return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                             "the signature of %s by key %u/%u "
                             "expired on %s",
                             what, tag, alg, f->when);
}

int zp_dnssec_sig_require(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                          const ldns_rr_list *keys, const ldns_rdf *signer, const char *signer_s,
                          const char *what, time_t now, struct zp_dnssec_result *res)
{
    struct sigfail f;

    sig_check(rrset, sigs, keys, signer, now, &f);
    return f.v == SIG_OK ? 0 : sig_verdict(&f, what, signer_s, keys, sigs, res);
}

int zp_dnssec_verify_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                           const ldns_rr_list *keys, const char *signer, const char *what,
                           const char *server, time_t now, struct zp_dnssec_result *res)
{
    ldns_rdf *sname = NULL;
    ldns_rr_list *set = NULL, *s = NULL, *k = NULL;
    const ldns_rr *first;
    struct sigfail f;
    char owner[ZP_DNAME_MAX];

    if (res == NULL || zp_dnssec_count(rrset) == 0 || signer == NULL || what == NULL)
        return -1;
    zp_dnssec_res_init(res, signer);
    if ((sname = ldns_dname_new_frm_str(signer)) == NULL)
        return -1;
    first = ldns_rr_list_rr(rrset, 0);
    zp_dnssec_rdf_name(ldns_rr_owner(first), owner, sizeof(owner));
    set = zp_dnssec_pick(rrset, ldns_rr_owner(first), ldns_rr_get_type(first), 0);
    s = zp_dnssec_pick(sigs, ldns_rr_owner(first), LDNS_RR_TYPE_RRSIG, ldns_rr_get_type(first));
    k = zp_dnssec_pick(keys, sname, LDNS_RR_TYPE_DNSKEY, 0);
    sig_check(set, s, k, sname, now, &f);
    if (f.v == SIG_OK)
        zp_dnssec_verdict(res, ZP_DNSSEC_SECURE, signer, NULL,
                          "%s is signed by %s (key %u/%u) and "
                          "verifies",
                          what, res->zone, f.by.tag, f.by.alg);
    else
        sig_verdict(&f, what, res->zone, k, s, res);
    zp_dnssec_res_dig(res, server, owner, ldns_rr_get_type(first));
    ldns_rr_list_deep_free(set);
    ldns_rr_list_deep_free(s);
    ldns_rr_list_deep_free(k);
    ldns_rdf_deep_free(sname);
    return 0;
}

/* --- one zone cut ------------------------------------------------------------------------- */

struct match {
    size_t supported; /* trusted records with an algorithm and digest we validate */
    int digest_only;  /* a DS had the key tag and algorithm of a key, not its digest */
};

static int same_key(const ldns_rr *a, const ldns_rr *b)
{
    for (size_t i = 0; i < 4; i++)
        if (ldns_rr_rdf(a, i) == NULL || ldns_rr_rdf(b, i) == NULL ||
            ldns_rdf_compare(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)) != 0)
            return 0;
    return 1;
}

static int ds_names_key(const ldns_rr *ds, const ldns_rr *key, struct match *m)
{
    ldns_rr *gen = ldns_key_rr2ds(key, (ldns_hash)ldns_rdf2native_int8(ldns_rr_rdf(ds, 2)));
    int eq = gen != NULL && ldns_rr_rdf(ds, 3) != NULL &&
             ldns_rdf_compare(ldns_rr_rdf(gen, 3), ldns_rr_rdf(ds, 3)) == 0;

    ldns_rr_free(gen);
    if (!eq)
        m->digest_only = 1;
    return eq;
}

/* The keys (borrowed from keys) that a trusted DS or DNSKEY names. */
static void match_trusted(const ldns_rr_list *trusted, const ldns_rr_list *keys,
                          ldns_rr_list *matched, struct match *m)
{
    for (size_t i = 0; i < zp_dnssec_count(trusted); i++) {
        const ldns_rr *t = ldns_rr_list_rr(trusted, i);
        int ds = ldns_rr_get_type(t) == LDNS_RR_TYPE_DS;
        struct tag tt, kt;

        if (tag_of(t, &tt) == -1 || !alg_ok(tt.alg) ||
            (ds &&
             (ldns_rr_rdf(t, 2) == NULL || !digest_ok(ldns_rdf2native_int8(ldns_rr_rdf(t, 2))))))
            continue;
        m->supported++;
        for (size_t j = 0; j < zp_dnssec_count(keys); j++) {
            ldns_rr *k = ldns_rr_list_rr(keys, j);

            if (tag_of(k, &kt) == -1 || kt.tag != tt.tag || kt.alg != tt.alg ||
                ldns_rr_rdf(k, 3) == NULL ||
                !(ldns_rdf2native_int16(ldns_rr_rdf(k, 0)) & DNSKEY_ZONE))
                continue;
            if (ds ? ds_names_key(t, k, m) : same_key(t, k))
                if (!ldns_rr_list_contains_rr(matched, k) && !ldns_rr_list_push_rr(matched, k))
                    zp_dnssec_oom();
        }
    }
}

static int cut_no_dnskey(const struct zp_dnssec_cut *c, const ldns_rr_list *trusted,
                         struct zp_dnssec_result *res)
{
    char ds[320], fix[512];

    zp_dnssec_res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
    if (c->parent == NULL)
        return zp_dnssec_verdict(res, ZP_DNSSEC_UNKNOWN, c->zone,
                                 "use a resolver that answers "
                                 "DNSKEY queries with DNSSEC records (propagation.resolvers)",
                                 "cannot check DNSSEC: the resolver %s returns no DNSKEY for %s",
                                 c->server ? c->server : "", c->zone);
    keys_str(trusted, ds, sizeof(ds));
    snprintf(fix, sizeof(fix),
             "sign %s with the key of that DS, or remove the DS at the "
             "registrar",
             c->zone);
    return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, c->zone, fix,
                             "%s serves no DNSKEY, but its "
                             "parent %s has a DS for it (%s)",
                             c->zone, c->parent, ds);
}

static int cut_mismatch(const struct zp_dnssec_cut *c, const ldns_rr_list *trusted,
                        const ldns_rr_list *keys, const struct match *m,
                        struct zp_dnssec_result *res)
{
    char ds[320], ks[256];
    int one = zp_dnssec_count(trusted) == 1;

    keys_str(trusted, ds, sizeof(ds));
    zp_dnssec_tags_str(keys, ks, sizeof(ks));
    if (c->parent == NULL) {
        zp_dnssec_res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
        return zp_dnssec_verdict(res, ZP_DNSSEC_UNKNOWN, c->zone,
                                 "if the resolver serves a "
                                 "private root, give zoneproof that root's trust anchor "
                                 "(dnssec.trustAnchorFile); otherwise use a resolver that answers "
                                 "from the public DNS",
                                 "cannot check DNSSEC: no DNSKEY of %s that "
                                 "the resolver %s returns matches the trust anchor (%s; DNSKEYs of "
                                 "%s: %s)",
                                 c->zone, c->server ? c->server : "", ds, c->zone, ks);
    }
    zp_dnssec_res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DS);
    if (m->digest_only)
        return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, c->zone,
                                 "replace the DS at the registrar "
                                 "with one computed from the zone's key (dnssec-dsfromkey)",
                                 "the DS %s of %s in %s (%s) %s the key tag of a DNSKEY of %s but "
                                 "not its digest (its keys: %s)",
                                 one ? "record" : "records", c->zone, c->parent, ds,
                                 one ? "has" : "have", c->zone, ks);
    return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, c->zone,
                             "publish a DS for one of the zone's "
                             "keys at the registrar (dnssec-dsfromkey), or remove the stale DS",
                             "the DS %s of %s in %s (%s) %s no DNSKEY of %s (its keys: %s)",
                             one ? "record" : "records", c->zone, c->parent, ds,
                             one ? "matches" : "match", c->zone, ks);
}

static int cut_unsupported(const struct zp_dnssec_cut *c, const ldns_rr_list *trusted,
                           struct zp_dnssec_result *res)
{
    char ds[320];

    keys_str(trusted, ds, sizeof(ds));
    zp_dnssec_res_dig(res, c->server, c->zone, c->parent ? LDNS_RR_TYPE_DS : LDNS_RR_TYPE_DNSKEY);
    return zp_dnssec_verdict(res, ZP_DNSSEC_INSECURE, c->zone, NULL,
                             "the %s of %s (%s) use only "
                             "algorithms or digest types zoneproof cannot validate: per RFC 4035 "
                             "%s counts as unsigned",
                             c->parent ? "DS records" : "trust anchors", c->zone, ds, c->zone);
}

/* The DNSKEY set checked against the keys the parent (or the anchor) names. */
static int cut_sigs(const struct zp_dnssec_cut *c, const ldns_rr_list *keys,
                    const ldns_rr_list *sigs, const ldns_rr_list *matched, const ldns_rdf *zone,
                    time_t now, struct zp_dnssec_result *res)
{
    char what[ZP_DNAME_MAX + 32], named[320], by[256], src[ZP_DNAME_MAX + 32], fix[512];
    struct sigfail f;

    snprintf(what, sizeof(what), "the DNSKEY set of %s", c->zone);
    if (c->parent)
        snprintf(src, sizeof(src), "its DS in %s", c->parent);
    else
        snprintf(src, sizeof(src), "the trust anchor");
    zp_dnssec_res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
    sig_check(keys, sigs, matched, zone, now, &f);
    if (f.v == SIG_OK)
        return zp_dnssec_verdict(res, ZP_DNSSEC_SECURE, c->zone, NULL,
                                 "%s is signed by key %u/%u, "
                                 "which %s names",
                                 what, f.by.tag, f.by.alg, src);
    if (f.v != SIG_NOKEY && f.v != SIG_UNSUPPORTED)
        return sig_verdict(&f, what, c->zone, keys, sigs, res);
    keys_str(matched, named, sizeof(named));
    zp_dnssec_tags_str(sigs, by, sizeof(by));
    snprintf(fix, sizeof(fix),
             "sign the DNSKEY set of %s with the key %s names (the KSK), or "
             "publish a DS for the key that signs it",
             c->zone, src);
    return zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, c->zone, fix,
                             "%s is not signed by the key %s "
                             "names (%s); its signatures are by %s",
                             what, src, named, by);
}

int zp_dnssec_verify_cut(const struct zp_dnssec_cut *c, time_t now, struct zp_dnssec_result *res)
{
    ldns_rdf *zone;
    ldns_rr_list *trusted, *keys, *sigs, *matched;
    struct match m = {0, 0};

    if (c == NULL || c->zone == NULL || res == NULL)
        return -1;
    zp_dnssec_res_init(res, c->zone);
    if ((zone = ldns_dname_new_frm_str(c->zone)) == NULL)
        return -1;
    trusted = zp_dnssec_pick(c->trusted, zone, 0, 0);
    keys = zp_dnssec_pick(c->dnskey, zone, LDNS_RR_TYPE_DNSKEY, 0);
    sigs = zp_dnssec_pick(c->sigs, zone, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_DNSKEY);
    matched = zp_dnssec_list_new();
    match_trusted(trusted, keys, matched, &m);
    if (zp_dnssec_count(keys) == 0)
        cut_no_dnskey(c, trusted, res);
    else if (c->parent == NULL && zp_dnssec_count(sigs) == 0) {
        /* A resolver that strips DNSSEC records looks exactly like this: never blame a zone. */
        zp_dnssec_res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
        zp_dnssec_verdict(res, ZP_DNSSEC_UNKNOWN, c->zone,
                          "use a resolver that passes DNSSEC "
                          "records (the DO bit) in propagation.resolvers",
                          "cannot check DNSSEC: "
                          "the resolver %s does not return DNSSEC records (the DNSKEY set of %s "
                          "comes without RRSIG)",
                          c->server ? c->server : "", c->zone);
    } else if (m.supported == 0)
        cut_unsupported(c, trusted, res);
    else if (zp_dnssec_count(matched) == 0)
        cut_mismatch(c, trusted, keys, &m, res);
    else
        cut_sigs(c, keys, sigs, matched, zone, now, res);
    ldns_rr_list_free(matched);
    ldns_rr_list_deep_free(trusted);
    ldns_rr_list_deep_free(keys);
    ldns_rr_list_deep_free(sigs);
    ldns_rdf_deep_free(zone);
    return 0;
}

/*
 * dnssec.c — the DNSSEC chain of trust, checked the way a CA checks it
 * (dnssec.h): trust anchors, one zone cut at a time (DS <-> DNSKEY, the
 * DNSKEY set's self-signature, validity windows), proofs of non-existence,
 * and the walk from the anchor down the zone cuts through the resolvers.
 *
 * ldns does the crypto (ldns_verify_rrsig_keylist_time checks the
 * signature first and the dates last, so "expired" is only said of a
 * signature that is otherwise good). This file decides which keys are
 * trusted and which signatures must exist, and says what is wrong.
 *
 * Internal steps return 0 (go on), 1 (a verdict is in the result: stop) or
 * -1 (an internal error).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/check.h"
#include "solver/dnsq.h"
#include "solver/dnssec.h"

#define FLAGS (ZP_DNSQ_DO | ZP_DNSQ_CD)
#define DIG_FLAGS "+dnssec +cd"
#define TAGS_MAX 32        /* key tags listed in one sentence */
#define CNAME_HOPS 8
#define CHAIN_MAX 1400     /* "the DNSSEC chain of trust from . to Z is valid (cuts)" */
#define ANCHOR_FILE_MAX (1u << 20)
#define DNSKEY_ZONE 0x0100u /* the Zone Key flag: only such keys sign zone data */

/* The built-in root anchors (https://data.iana.org/root-anchors/root-anchors.xml). */
static const char *const root_anchors[] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

struct zp_dnssec_anchor {
    ldns_rr_list *rrs;
};

/* --- small helpers ------------------------------------------------------------------------ */

static void oom(void)
{
    zp_log(ZP_LOG_ERROR, "out of memory in ldns", ZP_END);
    abort();
}

static ldns_rr_list *list_new(void)
{
    ldns_rr_list *l = ldns_rr_list_new();

    if (l == NULL)
        oom();
    return l;
}

static void push_clone(ldns_rr_list *l, const ldns_rr *rr)
{
    ldns_rr *c = ldns_rr_clone(rr);

    if (c == NULL || !ldns_rr_list_push_rr(l, c))
        oom();
}

static size_t count(const ldns_rr_list *l)
{
    return l == NULL ? 0 : ldns_rr_list_rr_count(l);
}

static const char *tname(ldns_rr_type t)
{
    const ldns_rr_descriptor *d = ldns_rr_descript(t);

    return d != NULL && d->_name != NULL ? d->_name : "?";
}

/* A name as sentences write it: lower case, one trailing dot. */
static void rdf_name(const ldns_rdf *d, char *out, size_t sz)
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
static ldns_rr_list *pick(const ldns_rr_list *l, const ldns_rdf *owner, ldns_rr_type type,
                          ldns_rr_type covered)
{
    ldns_rr_list *out = list_new();

    for (size_t i = 0; i < count(l); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(l, i);
        const ldns_rdf *tc;

        if (type != 0 && ldns_rr_get_type(rr) != type)
            continue;
        if (owner != NULL && ldns_dname_compare(ldns_rr_owner(rr), owner) != 0)
            continue;
        if (covered != 0) {
            tc = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG ? ldns_rr_rrsig_typecovered(rr)
                                                              : NULL;
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

    for (size_t i = 0; i < count(l) && n < TAGS_MAX; i++)
        if (tag_of(ldns_rr_list_rr(l, i), &t[n]) == 0)
            n++;
    qsort(t, n, sizeof(*t), tag_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || tag_cmp(&t[k - 1], &t[i]) != 0)
            t[k++] = t[i];
    return k;
}

/* "4321/13, 12345/13" (key tag/algorithm), or "none". */
static void tags_str(const ldns_rr_list *l, char *out, size_t sz)
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
    tags_str(l, list, sizeof(list));
    snprintf(out, sz, "key tags and algorithms %s", list);
}

static int has_key(const ldns_rr_list *keys, unsigned tag, unsigned alg)
{
    struct tag t;

    for (size_t i = 0; i < count(keys); i++)
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

static void res_init(struct zp_dnssec_result *res, const char *zone)
{
    memset(res, 0, sizeof(*res));
    res->state = ZP_DNSSEC_UNKNOWN;
    if (zone == NULL || zp_dname_canon(zone, res->zone, sizeof(res->zone)) == -1)
        res->zone[0] = '\0';
}

static void res_dig(struct zp_dnssec_result *res, const char *server, const char *name,
                    ldns_rr_type type)
{
    zp_check_dig(res->dig, sizeof(res->dig), server, 0, DIG_FLAGS, name, tname(type));
}

/* Sets the verdict (every text but dig); returns 1, the "stop" of the internal steps. */
__attribute__((format(printf, 5, 6))) static int
verdict(struct zp_dnssec_result *res, enum zp_dnssec_state st, const char *zone, const char *fix,
        const char *fmt, ...)
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

/* --- trust anchors ------------------------------------------------------------------------ */

/* One line of an anchor file (or of the built-in text): a DS or DNSKEY record, or nothing. */
static int anchor_line(struct zp_dnssec_anchor *a, char *line, const char *path, unsigned no,
                       struct zp_err *err)
{
    char *semi = strchr(line, ';'), *p = line, *end;
    ldns_rr *rr = NULL;
    ldns_status st;

    if (semi != NULL)
        *semi = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    if (*p == '\0')
        return 0;
    st = ldns_rr_new_frm_str(&rr, p, 3600, NULL, NULL);
    if (st != LDNS_STATUS_OK)
        return zp_err_set(err, ZP_ECONFIG, "trust anchor file %s: line %u: %s", path, no,
                          ldns_get_errorstr_by_id(st));
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS && ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY) {
        zp_err_set(err, ZP_ECONFIG,
                   "trust anchor file %s: line %u: a %s record; an anchor is a DS or DNSKEY record",
                   path, no, tname(ldns_rr_get_type(rr)));
        ldns_rr_free(rr);
        return -1;
    }
    if (!ldns_rr_list_push_rr(a->rrs, rr))
        oom();
    return 0;
}

static int anchor_text(struct zp_dnssec_anchor *a, char *text, const char *path,
                       struct zp_err *err)
{
    unsigned no = 1;

    for (char *line = text, *nl; line != NULL; line = nl, no++) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        if (anchor_line(a, line, path, no, err) == -1)
            return -1;
    }
    if (count(a->rrs) == 0)
        return zp_err_set(err, ZP_ECONFIG, "trust anchor file %s holds no DS or DNSKEY record",
                          path);
    return 0;
}

int zp_dnssec_anchor_load(const char *path, struct zp_dnssec_anchor **out, struct zp_err *err)
{
    struct zp_dnssec_anchor *a = zp_xcalloc(1, sizeof(*a));
    struct zp_buf b;
    int rc = -1;

    *out = NULL;
    a->rrs = list_new();
    zp_buf_init(&b, ANCHOR_FILE_MAX);
    if (path == NULL) {
        for (size_t i = 0; i < sizeof(root_anchors) / sizeof(root_anchors[0]); i++)
            if (zp_buf_printf(&b, "%s\n", root_anchors[i]) == -1)
                goto out;
        path = "(built-in)";
    } else if (zp_buf_read_file(&b, path, ANCHOR_FILE_MAX, "trust anchor file", err) == -1) {
        goto out;
    }
    if (b.data == NULL || anchor_text(a, b.data, path, err) == -1) {
        if (b.data == NULL)
            zp_err_set(err, ZP_ECONFIG, "trust anchor file %s is empty", path);
        goto out;
    }
    *out = a;
    a = NULL;
    rc = 0;
out:
    zp_buf_free(&b);
    zp_dnssec_anchor_free(a);
    return rc;
}

void zp_dnssec_anchor_free(struct zp_dnssec_anchor *a)
{
    if (a == NULL)
        return;
    ldns_rr_list_deep_free(a->rrs);
    free(a);
}

const ldns_rr_list *zp_dnssec_anchor_rrs(const struct zp_dnssec_anchor *a)
{
    return a->rrs;
}

/* The deepest anchor owner at or above name, into owner; -1 when none covers it. */
static int anchor_owner(const struct zp_dnssec_anchor *a, const char *name, char *owner,
                        size_t sz, char *all, size_t allsz)
{
    char last[ZP_DNAME_MAX] = "";
    int best = -1;
    size_t len = 0;

    all[0] = '\0';
    for (size_t i = 0; i < count(a->rrs); i++) {
        char o[ZP_DNAME_MAX];

        rdf_name(ldns_rr_owner(ldns_rr_list_rr(a->rrs, i)), o, sizeof(o));
        if (strcmp(o, last) != 0 && len < allsz) /* an owner's records come together */
            len += (size_t)snprintf(all + len, allsz - len, "%s%s", len ? ", " : "", o);
        zp_strlcpy(last, o, sizeof(last));
        if (zp_dname_in_zone(name, o) && zp_dname_labels(o) > best) {
            best = zp_dname_labels(o);
            zp_strlcpy(owner, o, sz);
        }
    }
    return best < 0 ? -1 : 0;
}

/* --- signatures --------------------------------------------------------------------------- */

/* Ordered: the larger, the more precise the cause a sentence can name. */
enum sigv { SIG_OK, SIG_NONE, SIG_UNSUPPORTED, SIG_NOKEY, SIG_BAD, SIG_NOTYET, SIG_EXPIRED };

struct sigfail {
    enum sigv v;
    struct tag by;  /* the signature concerned */
    char when[40];  /* its expiration (SIG_EXPIRED) or inception (SIG_NOTYET) */
};

static enum sigv sig_one(const ldns_rr_list *rrset, const ldns_rr *sig, const ldns_rr_list *keys,
                         const ldns_rdf *signer, time_t now)
{
    struct tag t;

    if (tag_of(sig, &t) == -1 || ldns_rr_rrsig_signame(sig) == NULL)
        return SIG_BAD;
    if (!alg_ok(t.alg))
        return SIG_UNSUPPORTED;
    if (ldns_dname_compare(ldns_rr_rrsig_signame(sig), signer) != 0 ||
        !has_key(keys, t.tag, t.alg))
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
static void sig_check(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                      const ldns_rr_list *keys, const ldns_rdf *signer, time_t now,
                      struct sigfail *f)
{
    memset(f, 0, sizeof(*f));
    f->v = SIG_NONE;
    for (size_t i = 0; i < count(sigs); i++) {
        const ldns_rr *sig = ldns_rr_list_rr(sigs, i);
        enum sigv v = sig_one(rrset, sig, keys, signer, now);

        if (v == SIG_OK || v > f->v) {
            f->v = v;
            tag_of(sig, &f->by);
            time_str(v == SIG_NOTYET ? ldns_rr_rrsig_inception(sig)
                                     : ldns_rr_rrsig_expiration(sig),
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

    tags_str(sigs, by, sizeof(by));
    tags_str(keys, ks, sizeof(ks));
    switch (f->v) {
    case SIG_OK:
        return 0;
    case SIG_NONE:
        snprintf(fix, sizeof(fix), "sign %s again so that %s carries a signature", signer, what);
        return verdict(res, ZP_DNSSEC_BOGUS, signer, fix, "%s has no signature (RRSIG)", what);
    case SIG_UNSUPPORTED:
        return verdict(res, ZP_DNSSEC_INSECURE, signer, NULL,
                       "%s is signed only with algorithms zoneproof cannot validate (%s): per "
                       "RFC 4035 it counts as unsigned", what, by);
    case SIG_NOKEY:
        snprintf(fix, sizeof(fix), "sign with a key that %s publishes in its DNSKEY set, or "
                 "publish the signing key", signer);
        return verdict(res, ZP_DNSSEC_BOGUS, signer, fix, "%s is signed only by keys that %s "
                       "does not publish (signatures by %s; DNSKEYs of %s: %s)",
                       what, signer, by, signer, ks);
    case SIG_BAD:
        snprintf(fix, sizeof(fix), "re-sign %s: the records were changed after signing, or "
                 "the signature is corrupt", signer);
        return verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                       "the signature of %s by key %u/%u does not verify", what, tag, alg);
    case SIG_NOTYET:
        snprintf(fix, sizeof(fix), "check the clock of the signer of %s: its signatures start "
                 "in the future", signer);
        return verdict(res, ZP_DNSSEC_BOGUS, signer, fix, "the signature of %s by key %u/%u "
                       "is not valid before %s", what, tag, alg, f->when);
    case SIG_EXPIRED:
        break;
    }
    snprintf(fix, sizeof(fix), "re-sign %s, and make sure its signatures are refreshed before "
             "they expire (inline signing, or dnssec-signzone run regularly)", signer);
    return verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                   "the signature of %s by key %u/%u expired on %s", what, tag, alg, f->when);
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

    if (res == NULL || count(rrset) == 0 || signer == NULL || what == NULL)
        return -1;
    res_init(res, signer);
    if ((sname = ldns_dname_new_frm_str(signer)) == NULL)
        return -1;
    first = ldns_rr_list_rr(rrset, 0);
    rdf_name(ldns_rr_owner(first), owner, sizeof(owner));
    set = pick(rrset, ldns_rr_owner(first), ldns_rr_get_type(first), 0);
    s = pick(sigs, ldns_rr_owner(first), LDNS_RR_TYPE_RRSIG, ldns_rr_get_type(first));
    k = pick(keys, sname, LDNS_RR_TYPE_DNSKEY, 0);
    sig_check(set, s, k, sname, now, &f);
    if (f.v == SIG_OK)
        verdict(res, ZP_DNSSEC_SECURE, signer, NULL, "%s is signed by %s (key %u/%u) and "
                "verifies", what, res->zone, f.by.tag, f.by.alg);
    else
        sig_verdict(&f, what, res->zone, k, s, res);
    res_dig(res, server, owner, ldns_rr_get_type(first));
    ldns_rr_list_deep_free(set);
    ldns_rr_list_deep_free(s);
    ldns_rr_list_deep_free(k);
    ldns_rdf_deep_free(sname);
    return 0;
}

/* --- one zone cut ------------------------------------------------------------------------- */

struct match {
    size_t supported;  /* trusted records with an algorithm and digest we validate */
    int digest_only;   /* a DS had the key tag and algorithm of a key, not its digest */
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
    for (size_t i = 0; i < count(trusted); i++) {
        const ldns_rr *t = ldns_rr_list_rr(trusted, i);
        int ds = ldns_rr_get_type(t) == LDNS_RR_TYPE_DS;
        struct tag tt, kt;

        if (tag_of(t, &tt) == -1 || !alg_ok(tt.alg) ||
            (ds && (ldns_rr_rdf(t, 2) == NULL || !digest_ok(ldns_rdf2native_int8(ldns_rr_rdf(t, 2))))))
            continue;
        m->supported++;
        for (size_t j = 0; j < count(keys); j++) {
            ldns_rr *k = ldns_rr_list_rr(keys, j);

            if (tag_of(k, &kt) == -1 || kt.tag != tt.tag || kt.alg != tt.alg ||
                ldns_rr_rdf(k, 3) == NULL ||
                !(ldns_rdf2native_int16(ldns_rr_rdf(k, 0)) & DNSKEY_ZONE))
                continue;
            if (ds ? ds_names_key(t, k, m) : same_key(t, k))
                if (!ldns_rr_list_contains_rr(matched, k) && !ldns_rr_list_push_rr(matched, k))
                    oom();
        }
    }
}

static int cut_no_dnskey(const struct zp_dnssec_cut *c, const ldns_rr_list *trusted,
                         struct zp_dnssec_result *res)
{
    char ds[320], fix[512];

    res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
    if (c->parent == NULL)
        return verdict(res, ZP_DNSSEC_UNKNOWN, c->zone, "use a resolver that answers DNSKEY "
                       "queries with DNSSEC records (propagation.resolvers)",
                       "cannot check DNSSEC: the resolver %s returns no DNSKEY for %s",
                       c->server ? c->server : "", c->zone);
    keys_str(trusted, ds, sizeof(ds));
    snprintf(fix, sizeof(fix), "sign %s with the key of that DS, or remove the DS at the "
             "registrar", c->zone);
    return verdict(res, ZP_DNSSEC_BOGUS, c->zone, fix, "%s serves no DNSKEY, but its parent %s "
                   "has a DS for it (%s)", c->zone, c->parent, ds);
}

static int cut_mismatch(const struct zp_dnssec_cut *c, const ldns_rr_list *trusted,
                        const ldns_rr_list *keys, const struct match *m,
                        struct zp_dnssec_result *res)
{
    char ds[320], ks[256];
    int one = count(trusted) == 1;

    keys_str(trusted, ds, sizeof(ds));
    tags_str(keys, ks, sizeof(ks));
    if (c->parent == NULL) {
        res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
        return verdict(res, ZP_DNSSEC_UNKNOWN, c->zone, "if the resolver serves a private root, "
                       "give zoneproof that root's trust anchor (dnssec.trustAnchorFile); "
                       "otherwise use a resolver that answers from the public DNS", "cannot check DNSSEC: no DNSKEY of %s that "
                       "the resolver %s returns matches the trust anchor (%s; DNSKEYs of %s: %s)",
                       c->zone, c->server ? c->server : "", ds, c->zone, ks);
    }
    res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DS);
    if (m->digest_only)
        return verdict(res, ZP_DNSSEC_BOGUS, c->zone, "replace the DS at the registrar with "
                       "one computed from the zone's key (dnssec-dsfromkey)",
                       "the DS %s of %s in %s (%s) %s the key tag of a DNSKEY of %s but not its "
                       "digest (its keys: %s)", one ? "record" : "records", c->zone, c->parent,
                       ds, one ? "has" : "have", c->zone, ks);
    return verdict(res, ZP_DNSSEC_BOGUS, c->zone, "publish a DS for one of the zone's keys at "
                   "the registrar (dnssec-dsfromkey), or remove the stale DS",
                   "the DS %s of %s in %s (%s) %s no DNSKEY of %s (its keys: %s)",
                   one ? "record" : "records", c->zone, c->parent, ds,
                   one ? "matches" : "match", c->zone, ks);
}

static int cut_unsupported(const struct zp_dnssec_cut *c, const ldns_rr_list *trusted,
                           struct zp_dnssec_result *res)
{
    char ds[320];

    keys_str(trusted, ds, sizeof(ds));
    res_dig(res, c->server, c->zone, c->parent ? LDNS_RR_TYPE_DS : LDNS_RR_TYPE_DNSKEY);
    return verdict(res, ZP_DNSSEC_INSECURE, c->zone, NULL, "the %s of %s (%s) use only "
                   "algorithms or digest types zoneproof cannot validate: per RFC 4035 %s counts "
                   "as unsigned", c->parent ? "DS records" : "trust anchors", c->zone, ds,
                   c->zone);
}

/* The DNSKEY set checked against the keys the parent (or the anchor) names. */
static int cut_sigs(const struct zp_dnssec_cut *c, const ldns_rr_list *keys,
                    const ldns_rr_list *sigs, const ldns_rr_list *matched,
                    const ldns_rdf *zone, time_t now, struct zp_dnssec_result *res)
{
    char what[ZP_DNAME_MAX + 32], named[320], by[256], src[ZP_DNAME_MAX + 32], fix[512];
    struct sigfail f;

    snprintf(what, sizeof(what), "the DNSKEY set of %s", c->zone);
    if (c->parent)
        snprintf(src, sizeof(src), "its DS in %s", c->parent);
    else
        snprintf(src, sizeof(src), "the trust anchor");
    res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
    sig_check(keys, sigs, matched, zone, now, &f);
    if (f.v == SIG_OK)
        return verdict(res, ZP_DNSSEC_SECURE, c->zone, NULL, "%s is signed by key %u/%u, which "
                       "%s names", what, f.by.tag, f.by.alg, src);
    if (f.v != SIG_NOKEY && f.v != SIG_UNSUPPORTED)
        return sig_verdict(&f, what, c->zone, keys, sigs, res);
    keys_str(matched, named, sizeof(named));
    tags_str(sigs, by, sizeof(by));
    snprintf(fix, sizeof(fix), "sign the DNSKEY set of %s with the key %s names (the KSK), or "
             "publish a DS for the key that signs it", c->zone, src);
    return verdict(res, ZP_DNSSEC_BOGUS, c->zone, fix, "%s is not signed by the key %s names "
                   "(%s); its signatures are by %s", what, src, named, by);
}

int zp_dnssec_verify_cut(const struct zp_dnssec_cut *c, time_t now, struct zp_dnssec_result *res)
{
    ldns_rdf *zone;
    ldns_rr_list *trusted, *keys, *sigs, *matched;
    struct match m = {0, 0};

    if (c == NULL || c->zone == NULL || res == NULL)
        return -1;
    res_init(res, c->zone);
    if ((zone = ldns_dname_new_frm_str(c->zone)) == NULL)
        return -1;
    trusted = pick(c->trusted, zone, 0, 0);
    keys = pick(c->dnskey, zone, LDNS_RR_TYPE_DNSKEY, 0);
    sigs = pick(c->sigs, zone, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_DNSKEY);
    matched = list_new();
    match_trusted(trusted, keys, matched, &m);
    if (count(keys) == 0)
        cut_no_dnskey(c, trusted, res);
    else if (c->parent == NULL && count(sigs) == 0) {
        /* A resolver that strips DNSSEC records looks exactly like this: never blame a zone. */
        res_dig(res, c->server, c->zone, LDNS_RR_TYPE_DNSKEY);
        verdict(res, ZP_DNSSEC_UNKNOWN, c->zone, "use a resolver that passes DNSSEC records "
                "(the DO bit) in propagation.resolvers", "cannot check DNSSEC: the resolver %s "
                "does not return DNSSEC records (the DNSKEY set of %s comes without RRSIG)",
                c->server ? c->server : "", c->zone);
    } else if (m.supported == 0)
        cut_unsupported(c, trusted, res);
    else if (count(matched) == 0)
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

/* --- proofs of non-existence -------------------------------------------------------------- */

/* Each NSEC/NSEC3 record of use signed by signer: a forged proof must not prove anything. */
static int denial_sigs(const ldns_rr_list *use, const ldns_rr_list *sigs,
                       const ldns_rr_list *keys, const ldns_rdf *signer, const char *signer_s,
                       const char *claim, time_t now, struct zp_dnssec_result *res)
{
    for (size_t i = 0; i < count(use); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(use, i);
        ldns_rr_list *set = pick(use, ldns_rr_owner(rr), ldns_rr_get_type(rr), 0);
        ldns_rr_list *s = pick(sigs, ldns_rr_owner(rr), LDNS_RR_TYPE_RRSIG, ldns_rr_get_type(rr));
        char what[ZP_DNAME_MAX * 3], owner[ZP_DNAME_MAX];
        struct sigfail f;

        sig_check(set, s, keys, signer, now, &f);
        if (f.v != SIG_OK) {
            rdf_name(ldns_rr_owner(rr), owner, sizeof(owner));
            snprintf(what, sizeof(what), "the %s record at %s (the proof that %s)",
                     tname(ldns_rr_get_type(rr)), owner, claim);
            sig_verdict(&f, what, signer_s, keys, s, res);
        }
        ldns_rr_list_deep_free(set);
        ldns_rr_list_deep_free(s);
        if (f.v != SIG_OK)
            return 1;
    }
    return 0;
}

/* "NSEC3, opt-out" when the matching NSEC3 only covers name instead of naming it. */
static void nsec3_kind(const ldns_rr *match, const ldns_rdf *qname, int ds_nodata, char *kind,
                       size_t ksz)
{
    ldns_rdf *h = match ? ldns_nsec3_hash_name_frm_nsec3(match, qname) : NULL;
    ldns_rdf *zone = match ? ldns_dname_left_chop(ldns_rr_owner(match)) : NULL;
    int exact = h != NULL && zone != NULL && ldns_dname_cat(h, zone) == LDNS_STATUS_OK &&
                ldns_dname_compare(h, ldns_rr_owner(match)) == 0;

    zp_strlcpy(kind, ds_nodata && match && !exact && ldns_nsec3_optout(match) ? "NSEC3, opt-out"
                                                                                : "NSEC3",
               ksz);
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(zone);
}

/*
 * RFC 5155 8.5: an NSEC3 that names qname and lacks type and CNAME. Done
 * here because ldns 1.8.3 leaks its hashed name on exactly this path.
 */
static int nsec3_nodata(const ldns_rdf *qname, ldns_rr_type type, const ldns_rr_list *use)
{
    const ldns_rr *first = ldns_rr_list_rr(use, 0);
    ldns_rdf *h = ldns_nsec3_hash_name_frm_nsec3(first, qname);
    ldns_rdf *zone = ldns_dname_left_chop(ldns_rr_owner(first));
    int found = 0;

    if (h != NULL && zone != NULL && ldns_dname_cat(h, zone) == LDNS_STATUS_OK)
        for (size_t i = 0; i < count(use) && !found; i++) {
            const ldns_rr *n = ldns_rr_list_rr(use, i);
            const ldns_rdf *bits = ldns_nsec3_bitmap(n);

            found = ldns_dname_compare(h, ldns_rr_owner(n)) == 0 && bits != NULL &&
                    !ldns_nsec_bitmap_covers_type(bits, type) &&
                    !ldns_nsec_bitmap_covers_type(bits, LDNS_RR_TYPE_CNAME);
        }
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(zone);
    return found;
}

/* ldns' coverage rules (RFC 4035 5.4, RFC 5155 8) over records whose signatures are checked. */
static int denial_cover(ldns_rdf *qname, ldns_rr_type type, int nxdomain, ldns_rr_list *use,
                        ldns_rr_list *sigs, char *kind, size_t ksz)
{
    ldns_rr *q = ldns_rr_new_frm_type(type);
    ldns_rr *match = NULL;
    ldns_status st;

    if (q == NULL)
        oom();
    ldns_rr_set_owner(q, ldns_rdf_clone(qname));
    if (ldns_rr_get_type(ldns_rr_list_rr(use, 0)) == LDNS_RR_TYPE_NSEC) {
        st = ldns_dnssec_verify_denial(q, use, sigs);
        zp_strlcpy(kind, "NSEC", ksz);
    } else if (!nxdomain && type != LDNS_RR_TYPE_DS && nsec3_nodata(qname, type, use)) {
        st = LDNS_STATUS_OK;
        zp_strlcpy(kind, "NSEC3", ksz);
    } else {
        st = ldns_dnssec_verify_denial_nsec3_match(q, use, sigs, nxdomain ? LDNS_RCODE_NXDOMAIN
                                                   : LDNS_RCODE_NOERROR, type, !nxdomain, &match);
        nsec3_kind(match, qname, type == LDNS_RR_TYPE_DS && !nxdomain, kind, ksz);
    }
    ldns_rr_free(q);
    return st == LDNS_STATUS_OK ? 0 : -1;
}

static int denial_check(const char *name, ldns_rr_type type, int nxdomain,
                        const ldns_rr_list *auth, const ldns_rr_list *keys, const char *signer,
                        time_t now, struct zp_dnssec_result *res, char *kind, size_t ksz)
{
    ldns_rdf *sname = ldns_dname_new_frm_str(signer), *qname = ldns_dname_new_frm_str(name);
    ldns_rr_list *nsec = pick(auth, NULL, LDNS_RR_TYPE_NSEC, 0);
    ldns_rr_list *nsec3 = pick(auth, NULL, LDNS_RR_TYPE_NSEC3, 0);
    ldns_rr_list *sigs = pick(auth, NULL, LDNS_RR_TYPE_RRSIG, 0), *k = NULL, *use;
    char claim[ZP_DNAME_MAX + 32], fix[512];
    int rc = -1;

    use = count(nsec) ? nsec : nsec3;
    if (sname == NULL || qname == NULL)
        goto out;
    k = pick(keys, sname, LDNS_RR_TYPE_DNSKEY, 0);
    if (nxdomain)
        snprintf(claim, sizeof(claim), "%s does not exist", name);
    else
        snprintf(claim, sizeof(claim), "%s has no %s record", name, tname(type));
    rc = 0;
    snprintf(fix, sizeof(fix), "re-sign %s with a complete NSEC or NSEC3 chain", signer);
    if (count(use) == 0)
        verdict(res, ZP_DNSSEC_BOGUS, signer, fix, "%s answers that %s, but without a proof (no "
                "NSEC or NSEC3 record)", signer, claim);
    else if (denial_sigs(use, sigs, k, sname, signer, claim, now, res) == 0) {
        if (denial_cover(qname, type, nxdomain, use, sigs, kind, ksz) == 0)
            verdict(res, ZP_DNSSEC_SECURE, signer, NULL, "%s proves that %s (%s)", signer,
                    claim, kind);
        else
            verdict(res, ZP_DNSSEC_BOGUS, signer, fix, "the %s records from %s do not prove "
                    "that %s", tname(ldns_rr_get_type(ldns_rr_list_rr(use, 0))), signer, claim);
    }
out:
    ldns_rr_list_deep_free(nsec);
    ldns_rr_list_deep_free(nsec3);
    ldns_rr_list_deep_free(sigs);
    ldns_rr_list_deep_free(k);
    ldns_rdf_deep_free(sname);
    ldns_rdf_deep_free(qname);
    return rc;
}

int zp_dnssec_verify_denial(const char *name, ldns_rr_type type, int nxdomain,
                            const ldns_rr_list *auth, const ldns_rr_list *keys,
                            const char *signer, const char *server, time_t now,
                            struct zp_dnssec_result *res)
{
    char kind[32], n[ZP_DNAME_MAX], s[ZP_DNAME_MAX];

    if (name == NULL || signer == NULL || res == NULL ||
        zp_dname_canon(name, n, sizeof(n)) == -1 || zp_dname_canon(signer, s, sizeof(s)) == -1)
        return -1;
    res_init(res, s);
    res_dig(res, server, n, type);
    return denial_check(n, type, nxdomain, auth, keys, s, now, res, kind, sizeof(kind));
}

/* --- the walk through the resolvers ------------------------------------------------------- */

struct walk {
    const struct zp_dnsq_resolvers *r;
    const struct zp_dnssec_anchor *a;
    uint64_t deadline;
    time_t now;
    struct zp_dnssec_result *res;
    char zone[ZP_DNAME_MAX];  /* the deepest zone whose DNSKEY set is validated */
    ldns_rr_list *keys;       /* that set (owned) */
    char cuts[768];           /* ".", "test.", "ok.test.": for the final sentence */
    int gone;                 /* a name on the way does not exist: stop descending */
    int lenient;              /* finding the zone that holds a record: see walk_down */
};

struct ans {
    ldns_pkt *pkt;
    ldns_rr_list *rrs;  /* the owner/type asked, in the answer section */
    ldns_rr_list *sigs; /* the RRSIGs over them */
    char server[64];
};

static void walk_init(struct walk *w, const struct walk *from, struct zp_dnssec_result *res)
{
    memset(w, 0, sizeof(*w));
    w->r = from->r;
    w->a = from->a;
    w->deadline = from->deadline;
    w->now = from->now;
    w->res = res;
}

static void walk_set(struct walk *w, const char *zone, ldns_rr_list *keys)
{
    size_t len = strlen(w->cuts);

    ldns_rr_list_deep_free(w->keys);
    w->keys = keys;
    zp_strlcpy(w->zone, zone, sizeof(w->zone));
    if (len < sizeof(w->cuts))
        snprintf(w->cuts + len, sizeof(w->cuts) - len, "%s%s", len ? ", " : "", zone);
}

static void ans_free(struct ans *a)
{
    ldns_pkt_free(a->pkt);
    ldns_rr_list_deep_free(a->rrs);
    ldns_rr_list_deep_free(a->sigs);
    memset(a, 0, sizeof(*a));
}

/* One question to the resolvers with DO and CD; no answer is UNKNOWN, never a zone's fault. */
static int ask(struct walk *w, const char *name, ldns_rr_type type, struct ans *a)
{
    struct zp_buf why;
    ldns_rdf *owner;
    size_t who = 0, len;

    memset(a, 0, sizeof(*a));
    zp_buf_init(&why, 2048);
    if (zp_dnsq_recurse(w->r, name, type, FLAGS, w->deadline, &a->pkt, &who, &why) == -1) {
        len = why.len;
        while (len > 0 && (why.data[len - 1] == ' ' || why.data[len - 1] == ';'))
            why.data[--len] = '\0';
        res_dig(w->res, w->r->n ? w->r->t[0].addr : NULL, name, type);
        verdict(w->res, ZP_DNSSEC_UNKNOWN, name, "make a resolver reachable "
                "(propagation.resolvers, or the nameserver lines of /etc/resolv.conf)",
                "cannot check DNSSEC: no resolver answered %s %s: %s", name, tname(type),
                zp_buf_str(&why));
        zp_buf_free(&why);
        return 1;
    }
    zp_buf_free(&why);
    zp_strlcpy(a->server, w->r->t[who].addr, sizeof(a->server));
    if ((owner = ldns_dname_new_frm_str(name)) == NULL) {
        ans_free(a);
        return -1;
    }
    a->rrs = pick(ldns_pkt_answer(a->pkt), owner, type, 0);
    a->sigs = pick(ldns_pkt_answer(a->pkt), owner, LDNS_RR_TYPE_RRSIG, type);
    ldns_rdf_deep_free(owner);
    return 0;
}

/* The anchor's zone: its DNSKEY set must match the anchor and be signed by that key. */
static int walk_anchor(struct walk *w, const char *owner)
{
    struct zp_dnssec_cut cut;
    struct ans a;
    int rc = ask(w, owner, LDNS_RR_TYPE_DNSKEY, &a);

    if (rc != 0)
        return rc;
    cut = (struct zp_dnssec_cut){owner, NULL, w->a->rrs, a.rrs, a.sigs, a.server};
    if (zp_dnssec_verify_cut(&cut, w->now, w->res) == -1)
        rc = -1;
    else if (w->res->state != ZP_DNSSEC_SECURE)
        rc = 1;
    else {
        walk_set(w, owner, a.rrs);
        a.rrs = NULL;
    }
    ans_free(&a);
    return rc;
}

/* A DS set at name: it must be signed by the parent, and name's DNSKEY set must match it. */
static int walk_signed(struct walk *w, const char *name, const struct ans *ds)
{
    char what[2 * ZP_DNAME_MAX + 32];
    struct zp_dnssec_cut cut;
    struct ans k;
    int rc;

    snprintf(what, sizeof(what), "the DS set of %s in %s", name, w->zone);
    if (zp_dnssec_verify_rrset(ds->rrs, ds->sigs, w->keys, w->zone, what, ds->server, w->now,
                               w->res) == -1)
        return -1;
    if (w->res->state != ZP_DNSSEC_SECURE)
        return 1;
    if ((rc = ask(w, name, LDNS_RR_TYPE_DNSKEY, &k)) != 0)
        return rc;
    cut = (struct zp_dnssec_cut){name, w->zone, ds->rrs, k.rrs, k.sigs, k.server};
    if (zp_dnssec_verify_cut(&cut, w->now, w->res) == -1)
        rc = -1;
    else if (w->res->state != ZP_DNSSEC_SECURE)
        rc = 1; /* bogus, or insecure by algorithm: the chain ends here either way */
    else {
        walk_set(w, name, k.rrs);
        k.rrs = NULL;
    }
    ans_free(&k);
    return rc;
}

/* No DS at name: nothing if name is not a zone apex; else the parent must prove the absence. */
static int walk_nods(struct walk *w, const char *name, const struct ans *ds)
{
    char kind[32], fix[512], keys[256];
    struct ans a;
    int rc;

    if ((rc = ask(w, name, LDNS_RR_TYPE_SOA, &a)) != 0)
        return rc;
    rc = count(a.rrs) == 0 ? 0 : 1; /* an SOA owned by name: name is a zone apex */
    ans_free(&a);
    if (rc == 0)
        return 0;
    res_dig(w->res, ds->server, name, LDNS_RR_TYPE_DS);
    if (denial_check(name, LDNS_RR_TYPE_DS, 0, ldns_pkt_authority(ds->pkt), w->keys, w->zone,
                     w->now, w->res, kind, sizeof(kind)) == -1)
        return -1;
    if (w->res->state != ZP_DNSSEC_SECURE)
        return 1;
    /* A proven unsigned delegation; say whether the child publishes keys nobody anchors. */
    if (ask(w, name, LDNS_RR_TYPE_DNSKEY, &a) == 0 && count(a.rrs) > 0) {
        tags_str(a.rrs, keys, sizeof(keys));
        snprintf(fix, sizeof(fix), "to secure it, publish a DS for one of its keys (%s) at the "
                 "registrar (dnssec-dsfromkey)", keys);
        verdict(w->res, ZP_DNSSEC_INSECURE, name, fix, "%s is signed, but its parent %s has no "
                "DS for it: the chain of trust is not anchored (%s)", name, w->zone, kind);
    } else {
        verdict(w->res, ZP_DNSSEC_INSECURE, name, NULL, "%s is not signed: its parent %s proves "
                "that it has no DS record (%s)", name, w->zone, kind);
    }
    res_dig(w->res, ds->server, name, LDNS_RR_TYPE_DS);
    ans_free(&a);
    return 1;
}

/*
 * No answer for the DS at name. A name that is no apex has no DS that
 * matters; a lenient walk (looking for the zone of a record) also goes on
 * when even the SOA question fails: a server that cannot sign a denial for
 * an unsigned record SERVFAILs both, and that record's zone is what we seek.
 */
static int walk_noanswer(struct walk *w, const char *name)
{
    struct zp_dnssec_result saved = *w->res;
    struct ans soa;
    int rc = ask(w, name, LDNS_RR_TYPE_SOA, &soa);

    if ((rc == 0 && count(soa.rrs) == 0) || (rc == 1 && w->lenient))
        rc = 0;
    else if (rc != -1)
        rc = 1;
    ans_free(&soa);
    *w->res = saved;
    return rc;
}

static int walk_down(struct walk *w, const char *name)
{
    struct ans ds;
    int rc = ask(w, name, LDNS_RR_TYPE_DS, &ds);

    if (rc == 1)
        return walk_noanswer(w, name);
    if (rc != 0)
        return rc;
    if (count(ds.rrs) > 0)
        rc = walk_signed(w, name, &ds);
    else if (ldns_pkt_get_rcode(ds.pkt) == LDNS_RCODE_NXDOMAIN)
        w->gone = 1; /* no zone below a name that does not exist */
    else
        rc = walk_nods(w, name, &ds);
    ans_free(&ds);
    return rc;
}

/* The last n labels of name ("test." for n = 1 of "ok.test."). */
static void suffix(const char *name, int n, char *out, size_t sz)
{
    int skip = zp_dname_labels(name) - n;
    const char *p = name;

    while (skip-- > 0 && (p = strchr(p, '.')) != NULL)
        p++;
    zp_strlcpy(out, p != NULL && *p ? p : ".", sz);
}

/* From the closest anchor down to the zone holding target. 0: secure up to w->zone. */
static int walk_run(struct walk *w, const char *target)
{
    char owner[ZP_DNAME_MAX], name[ZP_DNAME_MAX], all[512];
    int rc;

    if (anchor_owner(w->a, target, owner, sizeof(owner), all, sizeof(all)) == -1)
        return verdict(w->res, ZP_DNSSEC_UNKNOWN, target, "add a DS or DNSKEY of the root (or "
                       "of the private root above the name) to dnssec.trustAnchorFile",
                       "cannot check DNSSEC: no trust anchor covers %s (anchors for: %s)",
                       target, all);
    if ((rc = walk_anchor(w, owner)) != 0)
        return rc;
    for (int n = zp_dname_labels(owner) + 1; n <= zp_dname_labels(target) && !w->gone; n++) {
        suffix(target, n, name, sizeof(name));
        if ((rc = walk_down(w, name)) != 0)
            return rc;
    }
    return 0;
}

static void walk_free(struct walk *w)
{
    ldns_rr_list_deep_free(w->keys);
    w->keys = NULL;
}

/* "the DNSSEC chain of trust from . to ok.test. is valid (., test., ok.test.)" */
static void chain_str(const struct walk *w, char *out, size_t sz)
{
    const char *comma = strchr(w->cuts, ',');
    char first[ZP_DNAME_MAX];

    zp_strlcpy(first, w->cuts, sizeof(first));
    if (comma != NULL && (size_t)(comma - w->cuts) < sizeof(first))
        first[comma - w->cuts] = '\0';
    snprintf(out, sz, "the DNSSEC chain of trust from %s to %s is valid (%s)", first, w->zone,
             w->cuts);
}

static int check_args(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                      const char *zone, struct zp_dnssec_result *res, char *z, size_t zsz)
{
    char why[128];

    if (res == NULL)
        return -1;
    res_init(res, zone);
    if (r == NULL || a == NULL || zone == NULL)
        return -1;
    if (zp_dname_canon(zone, z, zsz) == -1 ||
        (strcmp(z, ".") != 0 && zp_dname_check(z, 1, why, sizeof(why)) == -1)) {
        verdict(res, ZP_DNSSEC_UNKNOWN, res->zone, NULL, "cannot check DNSSEC: \"%s\" is not a "
                "DNS name", zone);
        return -1;
    }
    return 0;
}

int zp_dnssec_check_zone_at(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                            const char *zone, uint64_t deadline, time_t now,
                            struct zp_dnssec_result *res)
{
    struct walk w, base = {.r = r, .a = a, .deadline = deadline, .now = now};
    char z[ZP_DNAME_MAX], chain[CHAIN_MAX];
    int rc;

    if (check_args(r, a, zone, res, z, sizeof(z)) == -1)
        return -1;
    walk_init(&w, &base, res);
    rc = walk_run(&w, z);
    if (rc == 0) {
        chain_str(&w, chain, sizeof(chain));
        res_dig(res, w.r->n ? w.r->t[0].addr : NULL, w.zone, LDNS_RR_TYPE_DNSKEY);
        if (strcmp(w.zone, z) == 0)
            verdict(res, ZP_DNSSEC_SECURE, w.zone, NULL, "%s", chain);
        else
            verdict(res, ZP_DNSSEC_SECURE, w.zone, NULL, "%s; %s %s", chain, z,
                    w.gone ? "does not exist" : "is not a zone cut of its own");
    }
    walk_free(&w);
    zp_log(ZP_LOG_DEBUG, "dnssec chain", ZP_S("zone", z),
           ZP_S("state", zp_dnssec_state_name(res->state)), ZP_S("why", res->why), ZP_END);
    return rc == -1 ? -1 : 0;
}

int zp_dnssec_check_zone(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                         const char *zone, uint64_t deadline, struct zp_dnssec_result *res)
{
    return zp_dnssec_check_zone_at(r, a, zone, deadline, time(NULL), res);
}

/* --- answers ------------------------------------------------------------------------------ */

/*
 * The walk whose keys sign data at owner by signer: w itself, or a second
 * walk down to signer (a CNAME into another zone, a delegated name).
 */
static int keys_for(struct walk *w, const char *signer, const char *owner, const char *what,
                    struct walk *sub, const struct walk **use)
{
    int rc;

    *use = w;
    if (strcmp(signer, w->zone) == 0)
        return 0;
    if (!zp_dname_in_zone(owner, signer))
        return verdict(w->res, ZP_DNSSEC_BOGUS, owner, "sign the records with the keys of the "
                       "zone that holds them", "%s is signed by %s, which is not a zone above %s",
                       what, signer, owner);
    walk_init(sub, w, w->res);
    if ((rc = walk_run(sub, signer)) != 0)
        return rc;
    if (strcmp(sub->zone, signer) != 0)
        return verdict(w->res, ZP_DNSSEC_BOGUS, owner, "sign the records with the keys of the "
                       "zone that holds them", "%s is signed by %s, which is not a zone apex "
                       "(it is part of %s)", what, signer, sub->zone);
    *use = sub;
    return 0;
}

/* The signer of the first RRSIG of sigs, or "" when there is none. */
static void signer_of(const ldns_rr_list *sigs, char *out, size_t sz)
{
    out[0] = '\0';
    if (count(sigs) > 0 && ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0)) != NULL)
        rdf_name(ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0)), out, sz);
}

/* An RRset of the answer: verified with its signer's keys, or unsigned in an insecure zone. */
static int answer_rrset(struct walk *w, const ldns_rr_list *rrs, const ldns_rr_list *sigs,
                        const char *what, const char *server)
{
    char owner[ZP_DNAME_MAX], signer[ZP_DNAME_MAX], fix[640], chain[CHAIN_MAX];
    const struct walk *use = w;
    struct walk sub;
    int rc;

    memset(&sub, 0, sizeof(sub));
    rdf_name(ldns_rr_owner(ldns_rr_list_rr(rrs, 0)), owner, sizeof(owner));
    signer_of(sigs, signer, sizeof(signer));
    if (signer[0] == '\0') {
        /* Unsigned: fine in an unsigned zone (the walk says INSECURE), bogus in a signed one. */
        walk_init(&sub, w, w->res);
        sub.lenient = 1;
        if ((rc = walk_run(&sub, owner)) == 0) {
            snprintf(fix, sizeof(fix), "sign %s again so that %s carries a signature", sub.zone,
                     what);
            rc = verdict(w->res, ZP_DNSSEC_BOGUS, sub.zone, fix, "%s has no signature (RRSIG), "
                         "but its zone %s is signed", what, sub.zone);
            res_dig(w->res, server, owner, ldns_rr_get_type(ldns_rr_list_rr(rrs, 0)));
        }
    } else if ((rc = keys_for(w, signer, owner, what, &sub, &use)) == 0) {
        if (zp_dnssec_verify_rrset(rrs, sigs, use->keys, signer, what, server, w->now, w->res) ==
            -1)
            rc = -1;
        else if (w->res->state == ZP_DNSSEC_SECURE) {
            chain_str(use, chain, sizeof(chain));
            verdict(w->res, ZP_DNSSEC_SECURE, use->zone, NULL, "%s is signed by %s and verifies; "
                    "%s", what, use->zone, chain);
        }
    }
    walk_free(&sub);
    return rc;
}

/* No data at name: the zone that holds it must prove it (NSEC/NSEC3), unless it is unsigned. */
static int answer_denial(struct walk *w, const char *name, ldns_rr_type type, const struct ans *a)
{
    const ldns_rr_list *auth = ldns_pkt_authority(a->pkt);
    ldns_rr_list *s = pick(auth, NULL, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC);
    char signer[ZP_DNAME_MAX], kind[32], chain[CHAIN_MAX], what[ZP_DNAME_MAX + 64];
    int nx = ldns_pkt_get_rcode(a->pkt) == LDNS_RCODE_NXDOMAIN, rc;
    const struct walk *use = w;
    struct walk sub;

    memset(&sub, 0, sizeof(sub));
    if (count(s) == 0) {
        ldns_rr_list_deep_free(s);
        s = pick(auth, NULL, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC3);
    }
    signer_of(s, signer, sizeof(signer));
    snprintf(what, sizeof(what), "the proof that %s has no %s record", name, tname(type));
    if (signer[0] == '\0') {
        /* No signed proof: the zone that holds name must then be unsigned. */
        walk_init(&sub, w, w->res);
        sub.lenient = 1;
        rc = walk_run(&sub, name);
        use = &sub;
        if (rc == 0)
            zp_strlcpy(signer, sub.zone, sizeof(signer));
    } else {
        rc = keys_for(w, signer, name, what, &sub, &use);
    }
    if (rc == 0) {
        res_dig(w->res, a->server, name, type);
        rc = denial_check(name, type, nx, auth, use->keys, signer, w->now, w->res, kind,
                          sizeof(kind));
        if (rc == 0 && w->res->state == ZP_DNSSEC_SECURE) {
            chain_str(use, chain, sizeof(chain));
            if (nx)
                verdict(w->res, ZP_DNSSEC_SECURE, use->zone, NULL, "%s does not exist, and %s "
                        "proves it (%s); %s", name, use->zone, kind, chain);
            else
                verdict(w->res, ZP_DNSSEC_SECURE, use->zone, NULL, "%s has no %s record, and %s "
                        "proves it (%s); %s", name, tname(type), use->zone, kind, chain);
        }
    }
    ldns_rr_list_deep_free(s);
    walk_free(&sub);
    return rc;
}

/* Follows the answer from name along CNAMEs to the RRset of type, or to its absence. */
static int answer_run(struct walk *w, const char *name, ldns_rr_type type)
{
    char cur[ZP_DNAME_MAX], what[ZP_DNAME_MAX + 32];
    struct ans a;
    int rc = ask(w, name, type, &a);

    if (rc != 0)
        return rc;
    zp_strlcpy(cur, name, sizeof(cur));
    for (int hop = 0; hop <= CNAME_HOPS; hop++) {
        ldns_rdf *o = ldns_dname_new_frm_str(cur);
        ldns_rr_list *rrs = pick(ldns_pkt_answer(a.pkt), o, type, 0);
        ldns_rr_type t = count(rrs) ? type : LDNS_RR_TYPE_CNAME;
        ldns_rr_list *sigs;

        ldns_rr_list_deep_free(rrs);
        rrs = pick(ldns_pkt_answer(a.pkt), o, t, 0);
        sigs = pick(ldns_pkt_answer(a.pkt), o, LDNS_RR_TYPE_RRSIG, t);
        ldns_rdf_deep_free(o);
        snprintf(what, sizeof(what), "the %s set at %s", tname(t), cur);
        rc = count(rrs) == 0 ? 2 : answer_rrset(w, rrs, sigs, what, a.server);
        if (rc == 0 && t == LDNS_RR_TYPE_CNAME && w->res->state == ZP_DNSSEC_SECURE &&
            ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 0) != NULL)
            rdf_name(ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 0), cur, sizeof(cur));
        else if (rc == 0)
            rc = 1; /* the RRset of type: its verdict is in */
        ldns_rr_list_deep_free(rrs);
        ldns_rr_list_deep_free(sigs);
        if (rc != 0)
            break;
    }
    if (rc == 2)
        rc = answer_denial(w, cur, type, &a);
    else if (rc == 0)
        verdict(w->res, ZP_DNSSEC_UNKNOWN, name, "shorten the CNAME chain", "cannot check "
                "DNSSEC: the CNAME chain from %s is longer than %d links", name, CNAME_HOPS);
    ans_free(&a);
    return rc == -1 ? -1 : 0;
}

int zp_dnssec_check_answer_at(const struct zp_dnsq_resolvers *r,
                              const struct zp_dnssec_anchor *a, const char *zone,
                              const char *name, ldns_rr_type type, uint64_t deadline, time_t now,
                              struct zp_dnssec_result *res)
{
    struct walk w, base = {.r = r, .a = a, .deadline = deadline, .now = now};
    char z[ZP_DNAME_MAX], n[ZP_DNAME_MAX];
    int rc;

    if (check_args(r, a, zone, res, z, sizeof(z)) == -1)
        return -1;
    if (name == NULL || check_args(r, a, name, res, n, sizeof(n)) == -1)
        return -1;
    res_init(res, z);
    walk_init(&w, &base, res);
    rc = walk_run(&w, z);
    if (rc == 0)
        rc = answer_run(&w, n, type);
    walk_free(&w);
    zp_log(ZP_LOG_DEBUG, "dnssec answer", ZP_S("name", n), ZP_S("type", tname(type)),
           ZP_S("state", zp_dnssec_state_name(res->state)), ZP_S("why", res->why), ZP_END);
    return rc == -1 ? -1 : 0;
}

int zp_dnssec_check_answer(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                           const char *zone, const char *name, ldns_rr_type type,
                           uint64_t deadline, struct zp_dnssec_result *res)
{
    return zp_dnssec_check_answer_at(r, a, zone, name, type, deadline, time(NULL), res);
}

/* --- the finding -------------------------------------------------------------------------- */

void zp_dnssec_to_check(const struct zp_dnssec_result *res, struct zp_check *c)
{
    const char *dig = res->dig[0] ? res->dig : NULL;
    const char *fix = res->fix[0] ? res->fix : NULL;

    switch (res->state) {
    case ZP_DNSSEC_SECURE:
        zp_check_set(c, "dnssec", ZP_CHECK_OK, NULL, NULL, dig, "%s", res->why);
        return;
    case ZP_DNSSEC_INSECURE:
        zp_check_set(c, "dnssec", ZP_CHECK_OK, fix, NULL, dig, "%s; the CA accepts unsigned "
                     "names", res->why);
        return;
    case ZP_DNSSEC_BOGUS:
        zp_check_set(c, "dnssec", ZP_CHECK_FAIL, fix, NULL, dig, "%s; the CA validates DNSSEC "
                     "and will fail the challenge", res->why);
        return;
    case ZP_DNSSEC_UNKNOWN:
        break;
    }
    zp_check_set(c, "dnssec", ZP_CHECK_WARN, fix, NULL, dig, "%s", res->why);
}

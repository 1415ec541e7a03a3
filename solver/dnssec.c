/*
 * dnssec.c — the DNSSEC chain of trust, checked the way a CA checks it
 * (dnssec.h): the trust anchors, the walk from the closest anchor down the
 * zone cuts through the resolvers, an answer (along its CNAMEs) or its
 * denial, and the "dnssec" finding.
 *
 * This file fetches (with DO and CD) and decides what to check next;
 * dnssecverify.c checks what was fetched and words the verdict
 * (dnssec_int.h).
 *
 * Internal steps return 0 (go on), 1 (a verdict is in the result: stop) or
 * -1 (an internal error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/check.h"
#include "solver/dnsq.h"
#include "solver/dnssec.h"
#include "solver/dnssec_int.h"

#define FLAGS (ZP_DNSQ_DO | ZP_DNSQ_CD)
#define CNAME_HOPS 8
#define CHAIN_MAX 1400 /* "the DNSSEC chain of trust from . to Z is valid (cuts)" */
#define ANCHOR_FILE_MAX (1u << 20)

/* The built-in root anchors (https://data.iana.org/root-anchors/root-anchors.xml). */
static const char *const root_anchors[] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

struct zp_dnssec_anchor {
    ldns_rr_list *rrs;
};

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
        const char *t = zp_dnssec_tname(ldns_rr_get_type(rr));
        zp_err_set(err, ZP_ECONFIG,
                   "trust anchor file %s: line %u: %s%s%s; an anchor is a DS or DNSKEY record "
                   "in presentation format, e.g. \". IN DS 20326 8 2 E06D44B8…\"",
                   path, no, strcmp(t, "?") ? "a record of type " : "not a DNS record",
                   strcmp(t, "?") ? t : "", "");
        ldns_rr_free(rr);
        return -1;
    }
    if (!ldns_rr_list_push_rr(a->rrs, rr))
        zp_dnssec_oom();
    return 0;
}

static int anchor_text(struct zp_dnssec_anchor *a, char *text, const char *path, struct zp_err *err)
{
    unsigned no = 1;

    for (char *line = text, *nl; line != NULL; line = nl, no++) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        if (anchor_line(a, line, path, no, err) == -1)
            return -1;
    }
    if (zp_dnssec_count(a->rrs) == 0)
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
    a->rrs = zp_dnssec_list_new();
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
static int anchor_owner(const struct zp_dnssec_anchor *a, const char *name, char *owner, size_t sz,
                        char *all, size_t allsz)
{
    char last[ZP_DNAME_MAX] = "";
    int best = -1;
    size_t len = 0;

    all[0] = '\0';
    for (size_t i = 0; i < zp_dnssec_count(a->rrs); i++) {
        char o[ZP_DNAME_MAX];

        zp_dnssec_rdf_name(ldns_rr_owner(ldns_rr_list_rr(a->rrs, i)), o, sizeof(o));
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

/* --- the walk through the resolvers ------------------------------------------------------- */

struct walk {
    const struct zp_dnsq_resolvers *r;
    const struct zp_dnssec_anchor *a;
    uint64_t deadline;
    time_t now;
    struct zp_dnssec_result *res;
    char zone[ZP_DNAME_MAX]; /* the deepest zone whose DNSKEY set is validated */
    ldns_rr_list *keys;      /* that set (owned) */
    char cuts[768];          /* ".", "test.", "ok.test.": for the final sentence */
    int gone;                /* a name on the way does not exist: stop descending */
    int lenient;             /* finding the zone that holds a record: see walk_down */
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
        zp_dnssec_res_dig(w->res, w->r->n ? w->r->t[0].addr : NULL, name, type);
        zp_dnssec_verdict(w->res, ZP_DNSSEC_UNKNOWN, name,
                          "make a resolver reachable "
                          "(propagation.resolvers, or the nameserver lines of /etc/resolv.conf)",
                          "cannot check DNSSEC: no resolver answered %s %s: %s", name,
                          zp_dnssec_tname(type), zp_buf_str(&why));
        zp_buf_free(&why);
        return 1;
    }
    zp_buf_free(&why);
    zp_strlcpy(a->server, w->r->t[who].addr, sizeof(a->server));
    if ((owner = ldns_dname_new_frm_str(name)) == NULL) {
        ans_free(a);
        return -1;
    }
    a->rrs = zp_dnssec_pick(ldns_pkt_answer(a->pkt), owner, type, 0);
    a->sigs = zp_dnssec_pick(ldns_pkt_answer(a->pkt), owner, LDNS_RR_TYPE_RRSIG, type);
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
    rc = zp_dnssec_count(a.rrs) == 0 ? 0 : 1; /* an SOA owned by name: name is a zone apex */
    ans_free(&a);
    if (rc == 0)
        return 0;
    zp_dnssec_res_dig(w->res, ds->server, name, LDNS_RR_TYPE_DS);
    if (zp_dnssec_denial_check(name, LDNS_RR_TYPE_DS, 0, ldns_pkt_authority(ds->pkt), w->keys,
                               w->zone, w->now, w->res, kind, sizeof(kind)) == -1)
        return -1;
    if (w->res->state != ZP_DNSSEC_SECURE)
        return 1;
    /* A proven unsigned delegation; say whether the child publishes keys nobody anchors. */
    if (ask(w, name, LDNS_RR_TYPE_DNSKEY, &a) == 0 && zp_dnssec_count(a.rrs) > 0) {
        zp_dnssec_tags_str(a.rrs, keys, sizeof(keys));
        snprintf(fix, sizeof(fix),
                 "to secure it, publish a DS for one of its keys (%s) at the "
                 "registrar (dnssec-dsfromkey)",
                 keys);
        zp_dnssec_verdict(w->res, ZP_DNSSEC_INSECURE, name, fix,
                          "%s is signed, but its parent %s "
                          "has no DS for it: the chain of trust is not anchored (%s)",
                          name, w->zone, kind);
    } else {
        zp_dnssec_verdict(w->res, ZP_DNSSEC_INSECURE, name, NULL,
                          "%s is not signed: its parent %s "
                          "proves that it has no DS record (%s)",
                          name, w->zone, kind);
    }
    zp_dnssec_res_dig(w->res, ds->server, name, LDNS_RR_TYPE_DS);
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

    if ((rc == 0 && zp_dnssec_count(soa.rrs) == 0) || (rc == 1 && w->lenient))
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
    if (zp_dnssec_count(ds.rrs) > 0)
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
        return zp_dnssec_verdict(w->res, ZP_DNSSEC_UNKNOWN, target,
                                 "add a DS or DNSKEY of the "
                                 "root (or of the private root above the name) to "
                                 "dnssec.trustAnchorFile",
                                 "cannot check DNSSEC: no trust anchor "
                                 "covers %s (anchors for: %s)",
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
    zp_dnssec_res_init(res, zone);
    if (r == NULL || a == NULL || zone == NULL)
        return -1;
    if (zp_dname_canon(zone, z, zsz) == -1 ||
        (strcmp(z, ".") != 0 && zp_dname_check(z, 1, why, sizeof(why)) == -1)) {
        zp_dnssec_verdict(res, ZP_DNSSEC_UNKNOWN, res->zone, NULL,
                          "cannot check DNSSEC: \"%s\" is "
                          "not a DNS name",
                          zone);
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
        zp_dnssec_res_dig(res, w.r->n ? w.r->t[0].addr : NULL, w.zone, LDNS_RR_TYPE_DNSKEY);
        if (strcmp(w.zone, z) == 0)
            zp_dnssec_verdict(res, ZP_DNSSEC_SECURE, w.zone, NULL, "%s", chain);
        else
            zp_dnssec_verdict(res, ZP_DNSSEC_SECURE, w.zone, NULL, "%s; %s %s", chain, z,
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
        return zp_dnssec_verdict(w->res, ZP_DNSSEC_BOGUS, owner,
                                 "sign the records with the keys "
                                 "of the zone that holds them",
                                 "%s is signed by %s, which is not "
                                 "a zone above %s",
                                 what, signer, owner);
    walk_init(sub, w, w->res);
    if ((rc = walk_run(sub, signer)) != 0)
        return rc;
    if (strcmp(sub->zone, signer) != 0)
        return zp_dnssec_verdict(w->res, ZP_DNSSEC_BOGUS, owner,
                                 "sign the records with the keys "
                                 "of the zone that holds them",
                                 "%s is signed by %s, which is not "
                                 "a zone apex (it is part of %s)",
                                 what, signer, sub->zone);
    *use = sub;
    return 0;
}

/* The signer of the first RRSIG of sigs, or "" when there is none. */
static void signer_of(const ldns_rr_list *sigs, char *out, size_t sz)
{
    out[0] = '\0';
    if (zp_dnssec_count(sigs) > 0 && ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0)) != NULL)
        zp_dnssec_rdf_name(ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, 0)), out, sz);
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
    zp_dnssec_rdf_name(ldns_rr_owner(ldns_rr_list_rr(rrs, 0)), owner, sizeof(owner));
    signer_of(sigs, signer, sizeof(signer));
    if (signer[0] == '\0') {
        /* Unsigned: fine in an unsigned zone (the walk says INSECURE), bogus in a signed one. */
        walk_init(&sub, w, w->res);
        sub.lenient = 1;
        if ((rc = walk_run(&sub, owner)) == 0) {
            snprintf(fix, sizeof(fix), "sign %s again so that %s carries a signature", sub.zone,
                     what);
            rc = zp_dnssec_verdict(w->res, ZP_DNSSEC_BOGUS, sub.zone, fix,
                                   "%s has no signature "
                                   "(RRSIG), but its zone %s is signed",
                                   what, sub.zone);
            zp_dnssec_res_dig(w->res, server, owner, ldns_rr_get_type(ldns_rr_list_rr(rrs, 0)));
        }
    } else if ((rc = keys_for(w, signer, owner, what, &sub, &use)) == 0) {
        if (zp_dnssec_verify_rrset(rrs, sigs, use->keys, signer, what, server, w->now, w->res) ==
            -1)
            rc = -1;
        else if (w->res->state == ZP_DNSSEC_SECURE) {
            chain_str(use, chain, sizeof(chain));
            zp_dnssec_verdict(w->res, ZP_DNSSEC_SECURE, use->zone, NULL,
                              "%s is signed by %s and "
                              "verifies; %s",
                              what, use->zone, chain);
        }
    }
    walk_free(&sub);
    return rc;
}

/* No data at name: the zone that holds it must prove it (NSEC/NSEC3), unless it is unsigned. */
static int answer_denial(struct walk *w, const char *name, ldns_rr_type type, const struct ans *a)
{
    const ldns_rr_list *auth = ldns_pkt_authority(a->pkt);
    ldns_rr_list *s = zp_dnssec_pick(auth, NULL, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC);
    char signer[ZP_DNAME_MAX], kind[32], chain[CHAIN_MAX], what[ZP_DNAME_MAX + 64];
    int nx = ldns_pkt_get_rcode(a->pkt) == LDNS_RCODE_NXDOMAIN, rc;
    const struct walk *use = w;
    struct walk sub;

    memset(&sub, 0, sizeof(sub));
    if (zp_dnssec_count(s) == 0) {
        ldns_rr_list_deep_free(s);
        s = zp_dnssec_pick(auth, NULL, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC3);
    }
    signer_of(s, signer, sizeof(signer));
    snprintf(what, sizeof(what), "the proof that %s has no %s record", name, zp_dnssec_tname(type));
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
        zp_dnssec_res_dig(w->res, a->server, name, type);
        rc = zp_dnssec_denial_check(name, type, nx, auth, use->keys, signer, w->now, w->res, kind,
                                    sizeof(kind));
        if (rc == 0 && w->res->state == ZP_DNSSEC_SECURE) {
            chain_str(use, chain, sizeof(chain));
            if (nx)
                zp_dnssec_verdict(w->res, ZP_DNSSEC_SECURE, use->zone, NULL,
                                  "%s does not exist, "
                                  "and %s proves it (%s); %s",
                                  name, use->zone, kind, chain);
            else
                zp_dnssec_verdict(w->res, ZP_DNSSEC_SECURE, use->zone, NULL,
                                  "%s has no %s record, "
                                  "and %s proves it (%s); %s",
                                  name, zp_dnssec_tname(type), use->zone, kind, chain);
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
        ldns_rr_list *rrs = zp_dnssec_pick(ldns_pkt_answer(a.pkt), o, type, 0);
        ldns_rr_type t = zp_dnssec_count(rrs) ? type : LDNS_RR_TYPE_CNAME;
        ldns_rr_list *sigs;

        ldns_rr_list_deep_free(rrs);
        rrs = zp_dnssec_pick(ldns_pkt_answer(a.pkt), o, t, 0);
        sigs = zp_dnssec_pick(ldns_pkt_answer(a.pkt), o, LDNS_RR_TYPE_RRSIG, t);
        ldns_rdf_deep_free(o);
        snprintf(what, sizeof(what), "the %s set at %s", zp_dnssec_tname(t), cur);
        rc = zp_dnssec_count(rrs) == 0 ? 2 : answer_rrset(w, rrs, sigs, what, a.server);
        if (rc == 0 && t == LDNS_RR_TYPE_CNAME && w->res->state == ZP_DNSSEC_SECURE &&
            ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 0) != NULL)
            zp_dnssec_rdf_name(ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 0), cur, sizeof(cur));
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
        zp_dnssec_verdict(w->res, ZP_DNSSEC_UNKNOWN, name, "shorten the CNAME chain",
                          "cannot check DNSSEC: the CNAME chain from %s is longer than %d links",
                          name, CNAME_HOPS);
    ans_free(&a);
    return rc == -1 ? -1 : 0;
}

int zp_dnssec_check_answer_at(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                              const char *zone, const char *name, ldns_rr_type type,
                              uint64_t deadline, time_t now, struct zp_dnssec_result *res)
{
    struct walk w, base = {.r = r, .a = a, .deadline = deadline, .now = now};
    char z[ZP_DNAME_MAX], n[ZP_DNAME_MAX];
    int rc;

    if (check_args(r, a, zone, res, z, sizeof(z)) == -1)
        return -1;
    if (name == NULL || check_args(r, a, name, res, n, sizeof(n)) == -1)
        return -1;
    zp_dnssec_res_init(res, z);
    walk_init(&w, &base, res);
    rc = walk_run(&w, z);
    if (rc == 0)
        rc = answer_run(&w, n, type);
    walk_free(&w);
    zp_log(ZP_LOG_DEBUG, "dnssec answer", ZP_S("name", n), ZP_S("type", zp_dnssec_tname(type)),
           ZP_S("state", zp_dnssec_state_name(res->state)), ZP_S("why", res->why), ZP_END);
    return rc == -1 ? -1 : 0;
}

int zp_dnssec_check_answer(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                           const char *zone, const char *name, ldns_rr_type type, uint64_t deadline,
                           struct zp_dnssec_result *res)
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
        zp_check_set(c, "dnssec", ZP_CHECK_OK, fix, NULL, dig,
                     "%s; the CA accepts unsigned "
                     "names",
                     res->why);
        return;
    case ZP_DNSSEC_BOGUS:
        zp_check_set(c, "dnssec", ZP_CHECK_FAIL, fix, NULL, dig,
                     "%s; the CA validates DNSSEC "
                     "and will fail the challenge",
                     res->why);
        return;
    case ZP_DNSSEC_UNKNOWN:
        break;
    }
    zp_check_set(c, "dnssec", ZP_CHECK_WARN, fix, NULL, dig, "%s", res->why);
}

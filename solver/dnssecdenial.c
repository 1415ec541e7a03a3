/*
 * dnssecdenial.c — proofs of non-existence with no network (dnssec.h):
 * that a name does not exist, or has no record of a type, as the NSEC or
 * NSEC3 records of an answer prove it. Each record of the proof must be
 * signed by the zone (a forged proof must not prove anything); then ldns'
 * coverage rules (RFC 4035 5.4, RFC 5155 8) decide, and the sentence says
 * what is missing. The walk in dnssec.c reuses the check for a DS that is
 * not there (dnssec_int.h).
 *
 * Internal steps return 0 (go on), 1 (a verdict is in the result: stop) or
 * -1 (an internal error).
 */
#include <stdio.h>
#include <time.h>

#include "base/dname.h"
#include "base/mem.h"
#include "solver/dnssec.h"
#include "solver/dnssec_int.h"

/* Each NSEC/NSEC3 record of use signed by signer: a forged proof must not prove anything. */
static int denial_sigs(const ldns_rr_list *use, const ldns_rr_list *sigs, const ldns_rr_list *keys,
                       const ldns_rdf *signer, const char *signer_s, const char *claim, time_t now,
                       struct zp_dnssec_result *res)
{
    for (size_t i = 0; i < zp_dnssec_count(use); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(use, i);
        ldns_rr_list *set = zp_dnssec_pick(use, ldns_rr_owner(rr), ldns_rr_get_type(rr), 0);
        ldns_rr_list *s =
            zp_dnssec_pick(sigs, ldns_rr_owner(rr), LDNS_RR_TYPE_RRSIG, ldns_rr_get_type(rr));
        char what[ZP_DNAME_MAX * 3], owner[ZP_DNAME_MAX];
        int stop;

        zp_dnssec_rdf_name(ldns_rr_owner(rr), owner, sizeof(owner));
        snprintf(what, sizeof(what), "the %s record at %s (the proof that %s)",
                 zp_dnssec_tname(ldns_rr_get_type(rr)), owner, claim);
        stop = zp_dnssec_sig_require(set, s, keys, signer, signer_s, what, now, res);
        ldns_rr_list_deep_free(set);
        ldns_rr_list_deep_free(s);
        if (stop)
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

    zp_strlcpy(
        kind, ds_nodata && match && !exact && ldns_nsec3_optout(match) ? "NSEC3, opt-out" : "NSEC3",
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
        for (size_t i = 0; i < zp_dnssec_count(use) && !found; i++) {
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
        zp_dnssec_oom();
    ldns_rr_set_owner(q, ldns_rdf_clone(qname));
    if (ldns_rr_get_type(ldns_rr_list_rr(use, 0)) == LDNS_RR_TYPE_NSEC) {
        st = ldns_dnssec_verify_denial(q, use, sigs);
        zp_strlcpy(kind, "NSEC", ksz);
    } else if (!nxdomain && type != LDNS_RR_TYPE_DS && nsec3_nodata(qname, type, use)) {
        st = LDNS_STATUS_OK;
        zp_strlcpy(kind, "NSEC3", ksz);
    } else {
        st = ldns_dnssec_verify_denial_nsec3_match(
            q, use, sigs, nxdomain ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR, type, !nxdomain,
            &match);
        nsec3_kind(match, qname, type == LDNS_RR_TYPE_DS && !nxdomain, kind, ksz);
    }
    ldns_rr_free(q);
    return st == LDNS_STATUS_OK ? 0 : -1;
}

int zp_dnssec_denial_check(const char *name, ldns_rr_type type, int nxdomain,
                           const ldns_rr_list *auth, const ldns_rr_list *keys, const char *signer,
                           time_t now, struct zp_dnssec_result *res, char *kind, size_t ksz)
{
    ldns_rdf *sname = ldns_dname_new_frm_str(signer), *qname = ldns_dname_new_frm_str(name);
    ldns_rr_list *nsec = zp_dnssec_pick(auth, NULL, LDNS_RR_TYPE_NSEC, 0);
    ldns_rr_list *nsec3 = zp_dnssec_pick(auth, NULL, LDNS_RR_TYPE_NSEC3, 0);
    ldns_rr_list *sigs = zp_dnssec_pick(auth, NULL, LDNS_RR_TYPE_RRSIG, 0), *k = NULL, *use;
    char claim[ZP_DNAME_MAX + 32], fix[512];
    int rc = -1;

    use = zp_dnssec_count(nsec) ? nsec : nsec3;
    if (sname == NULL || qname == NULL)
        goto out;
    k = zp_dnssec_pick(keys, sname, LDNS_RR_TYPE_DNSKEY, 0);
    if (nxdomain)
        snprintf(claim, sizeof(claim), "%s does not exist", name);
    else
        snprintf(claim, sizeof(claim), "%s has no %s record", name, zp_dnssec_tname(type));
    rc = 0;
    snprintf(fix, sizeof(fix), "re-sign %s with a complete NSEC or NSEC3 chain", signer);
    if (zp_dnssec_count(use) == 0)
        zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                          "%s answers that %s, but without a "
                          "proof (no NSEC or NSEC3 record)",
                          signer, claim);
    else if (denial_sigs(use, sigs, k, sname, signer, claim, now, res) == 0) {
        if (denial_cover(qname, type, nxdomain, use, sigs, kind, ksz) == 0)
            zp_dnssec_verdict(res, ZP_DNSSEC_SECURE, signer, NULL, "%s proves that %s (%s)", signer,
                              claim, kind);
        else
            zp_dnssec_verdict(res, ZP_DNSSEC_BOGUS, signer, fix,
                              "the %s records from %s do not "
                              "prove that %s",
                              zp_dnssec_tname(ldns_rr_get_type(ldns_rr_list_rr(use, 0))), signer,
                              claim);
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
                            const ldns_rr_list *auth, const ldns_rr_list *keys, const char *signer,
                            const char *server, time_t now, struct zp_dnssec_result *res)
{
    char kind[32], n[ZP_DNAME_MAX], s[ZP_DNAME_MAX];

    if (name == NULL || signer == NULL || res == NULL || zp_dname_canon(name, n, sizeof(n)) == -1 ||
        zp_dname_canon(signer, s, sizeof(s)) == -1)
        return -1;
    zp_dnssec_res_init(res, s);
    zp_dnssec_res_dig(res, server, n, type);
    return zp_dnssec_denial_check(n, type, nxdomain, auth, keys, s, now, res, kind, sizeof(kind));
}

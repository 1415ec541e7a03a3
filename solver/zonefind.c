/*
 * zonefind.c — the zone that holds a name, found as cert-manager finds it:
 * ask the resolvers for the SOA of the name, then of each ancestor, until
 * one answers with an SOA owned by the name asked. A CNAME on the way is
 * noticed: at the name itself it is where the challenge really goes.
 *
 * Blocks the caller (a CLI command, `doctor`, or a provider worker before
 * a Present writes), never past the deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "solver/zone.h"

void zp_zone_parent(const char *name, char *out, size_t outsz)
{
    const char *dot;

    if (name[0] == '\0' || strcmp(name, ".") == 0) {
        zp_strlcpy(out, "", outsz);
        return;
    }
    dot = strchr(name, '.');
    if (dot == NULL || dot[1] == '\0')
        zp_strlcpy(out, ".", outsz);
    else
        zp_strlcpy(out, dot + 1, outsz);
}

static int owner_is(const ldns_rr *rr, const char *name)
{
    ldns_rdf *n = ldns_dname_new_frm_str(name);
    int eq = n != NULL && ldns_dname_compare(ldns_rr_owner(rr), n) == 0;

    ldns_rdf_deep_free(n);
    return eq;
}

/* The canonical text of a domain-name rdata. */
static void rdf_name(const ldns_rdf *f, char *out, size_t outsz)
{
    char *s = ldns_rdf2str(f);

    if (s == NULL || zp_dname_canon(s, out, outsz) == -1)
        zp_strlcpy(out, "?", outsz);
    free(s);
}

/*
 * What one SOA answer says about name: 1 it is an apex, 0 go up, and a
 * CNAME owned by name copied into cname.
 */
static int soa_says(const ldns_pkt *p, const char *name, char *cname, size_t cnamesz)
{
    const ldns_rr_list *an = ldns_pkt_answer(p);
    int apex = 0, alias = 0;

    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);

        if (!owner_is(rr, name))
            continue;
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1) {
            rdf_name(ldns_rr_rdf(rr, 0), cname, cnamesz);
            alias = 1;
        } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
            apex = 1;
        }
    }
    return apex && !alias;
}

int zp_zone_find(const struct zp_dnsq_resolvers *r, const char *name, uint64_t deadline,
                 struct zp_zone_info *info, struct zp_err *err)
{
    char cur[ZP_DNAME_MAX], cname[ZP_DNAME_MAX];
    struct zp_buf why;
    int rc = -1, first = 1;

    memset(info, 0, sizeof(*info));
    if (zp_dname_canon(name, cur, sizeof(cur)) == -1)
        return zp_err_set(err, ZP_EINVAL, "\"%s\" is not a DNS name", name);
    zp_buf_init(&why, 4096);
    for (;;) {
        ldns_pkt *p = NULL;
        size_t who;
        int apex;

        if (zp_dnsq_recurse(r, cur, LDNS_RR_TYPE_SOA, ZP_DNSQ_CD, deadline, &p, &who, &why) == -1) {
            zp_err_set(err, ZP_ETRANSIENT,
                       "cannot find the zone of %s: %sset "
                       "propagation.resolvers to resolvers that answer",
                       name, zp_buf_str(&why));
            goto out;
        }
        cname[0] = '\0';
        /* An alias whose target does not exist answers NXDOMAIN, with the CNAME. */
        apex =
            soa_says(p, cur, cname, sizeof(cname)) && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR;
        ldns_pkt_free(p);
        if (cname[0] != '\0' && first)
            zp_strlcpy(info->cname, cname, sizeof(info->cname));
        first = 0;
        if (apex) {
            zp_strlcpy(info->zone, cur, sizeof(info->zone));
            rc = 0;
            goto out;
        }
        if (strcmp(cur, ".") == 0)
            break;
        zp_zone_parent(cur, cname, sizeof(cname));
        zp_strlcpy(cur, cname, sizeof(cur));
    }
    zp_err_set(err, ZP_ENOTFOUND,
               "no zone holds %s: the resolvers %s return no SOA for it or "
               "any of its parents; set propagation.resolvers to resolvers that see the "
               "Internet's DNS",
               name, r->n ? r->t[0].addr : "");
out:
    zp_buf_free(&why);
    return rc;
}

int zp_zone_ask(const struct zp_ns_target *t, unsigned flags, const char *name, uint64_t deadline,
                struct zp_zone_info *info, char *why, size_t whysz)
{
    const ldns_rr_list *au;
    ldns_pkt *p = NULL;
    int rc;

    memset(info, 0, sizeof(*info));
    if (zp_dnsq_ask(t, name, LDNS_RR_TYPE_SOA, flags, deadline, 0, &p, why, whysz) == -1)
        return -1;
    rc = ldns_pkt_get_rcode(p);
    if (soa_says(p, name, info->cname, sizeof(info->cname)) && rc == LDNS_RCODE_NOERROR) {
        zp_dname_canon(name, info->zone, sizeof(info->zone));
    } else if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN) {
        au = ldns_pkt_authority(p);
        for (size_t i = 0; au != NULL && i < ldns_rr_list_rr_count(au); i++) {
            const ldns_rr *rr = ldns_rr_list_rr(au, i);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
                rdf_name(ldns_rr_owner(rr), info->zone, sizeof(info->zone));
                break;
            }
        }
    }
    ldns_pkt_free(p);
    return 0;
}

int zp_zone_wildcard_alias(const struct zp_ns_target *t, unsigned flags, const char *name,
                           const char *cname, uint64_t deadline)
{
    char up[ZP_DNAME_MAX], next[ZP_DNAME_MAX], wild[ZP_DNAME_MAX + 2], why[160];
    struct zp_zone_info zi;

    /* The wildcard of the closest encloser answers: try *.parent, then further up. */
    zp_zone_parent(name, up, sizeof(up));
    while (zp_dname_labels(up) > 1) {
        if (snprintf(wild, sizeof(wild), "*.%s", up) >= ZP_DNAME_MAX - 1 ||
            zp_zone_ask(t, flags, wild, deadline, &zi, why, sizeof(why)) == -1)
            return 0;
        if (zi.cname[0] != '\0')
            return strcmp(zi.cname, cname) == 0;
        if (zi.zone[0] != '\0' && strcmp(zi.zone, up) == 0)
            return 0; /* reached the zone's apex */
        zp_zone_parent(up, next, sizeof(next));
        zp_strlcpy(up, next, sizeof(up));
    }
    return 0;
}

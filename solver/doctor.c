/*
 * doctor.c — the checks of `zoneproof doctor` for one certificate name, in
 * the order a DNS-01 validation meets them: which provider instance and
 * zone, the delegation and its servers, the challenge name itself, CAA,
 * DNSSEC, the Public Suffix List, what the CA's resolvers see, and whether
 * the credentials work. Each check is a zp_check: ok / warn / fail, a
 * stable cause, the servers concerned, the fix, and a dig that shows it.
 *
 * Read-only unless the caller lends a solver for the write test. Runs on
 * the caller's thread; every query is bounded by the name's deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "providers/provider.h"
#include "solver/caa.h"
#include "solver/config.h"
#include "solver/dnssec.h"
#include "solver/doctor.h"
#include "solver/precheck.h"
#include "solver/psl.h"
#include "solver/router.h"
#include "solver/solver.h"
#include "solver/zone.h"

struct ctx {
    const struct zp_doctor_opts *o;
    struct zp_doctor_report *rep;
    const struct zp_instance *inst;
    const char *route_zone;
    struct zp_dnsq_resolvers r;   /* n == 0: pinned servers and no resolvers */
    char cert[ZP_DNAME_MAX];      /* "example.com." */
    char cert_full[ZP_DNAME_MAX]; /* "*.example.com." for a wildcard */
    char cname[ZP_DNAME_MAX];     /* a CNAME at the challenge name */
    uint64_t deadline;
    struct zp_deleg d; /* the servers to ask: the union, or the pinned ones */
    uint32_t serial_max;
};

static struct zp_check *add(struct ctx *c)
{
    struct zp_doctor_report *rep = c->rep;

    if (rep->n < ZP_DOCTOR_MAX_CHECKS)
        rep->n++;
    memset(&rep->checks[rep->n - 1], 0, sizeof(rep->checks[0]));
    return &rep->checks[rep->n - 1];
}

/* "ns1.example.com. (192.0.2.1:53)" */
static void who(const struct zp_ns_target *t, struct zp_buf *b)
{
    zp_buf_printf(b, "%s%s (%s)", b->len ? ", " : "", t->name, t->addr[0] ? t->addr : "no address");
}

/* --- a: routing and zone ------------------------------------------------------------------ */

static void check_routing(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_err err = {0};

    c->inst = zp_route(c->o->cfg, c->rep->fqdn, c->o->provider, &c->route_zone, &err);
    if (c->inst == NULL) {
        zp_check_set(k, "routing", ZP_CHECK_FAIL,
                     "add the zone to the dnsZones of a provider "
                     "instance, or name one with --provider",
                     NULL, NULL, "%s", err.msg);
        return;
    }
    c->rep->instance = c->inst->name;
    if (c->o->provider != NULL)
        zp_check_set(k, "routing", ZP_CHECK_OK, NULL, NULL, NULL,
                     "provider %s (%s) handles "
                     "%s: named by --provider",
                     c->inst->name, c->inst->ops->type, c->rep->fqdn);
    else
        zp_check_set(k, "routing", ZP_CHECK_OK, NULL, NULL, NULL,
                     "provider %s (%s) handles "
                     "%s: its dnsZones entry %s is the most specific match",
                     c->inst->name, c->inst->ops->type, c->rep->fqdn,
                     c->route_zone ? c->route_zone : "?");
}

static void check_zone(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_zone_info zi;
    struct zp_err err = {0};
    char asked[64], dig[384];
    const char *w = c->route_zone ? c->route_zone : "";
    int rc = zp_precheck_zone_of(c->inst, &c->r, c->rep->fqdn, c->deadline, &zi, asked,
                                 sizeof(asked), &err);

    zp_check_dig(dig, sizeof(dig), asked, c->r.n == 0, NULL, c->rep->fqdn, "SOA");
    if (rc == -1) {
        zp_check_set(k, "zone", ZP_CHECK_FAIL, NULL, NULL, dig, "%s", err.msg);
        return;
    }
    zp_strlcpy(c->rep->zone, zi.zone, sizeof(c->rep->zone));
    zp_strlcpy(c->cname, zi.cname, sizeof(c->cname));
    if (zi.cname[0] != '\0' && w[0] != '\0') {
        /* An alias: the SOA came from the target's zone; the challenge check says why. */
        zp_dname_canon(w, c->rep->zone, sizeof(c->rep->zone));
        zp_check_set(k, "zone", ZP_CHECK_OK, NULL, NULL, dig, "%s is an alias in zone %s",
                     c->rep->fqdn, c->rep->zone);
        return;
    }
    if (zi.zone[0] == '\0')
        zp_check_set(k, "zone", ZP_CHECK_FAIL,
                     "check that the server is authoritative for the "
                     "zone",
                     NULL, dig, "%s names no zone for %s", asked, c->rep->fqdn);
    else if (w[0] == '\0' || strcmp(zi.zone, w) == 0 || zp_dname_in_zone(w, zi.zone))
        zp_check_set(k, "zone", ZP_CHECK_OK, NULL, NULL, dig, "%s is in zone %s", c->rep->fqdn,
                     c->rep->zone);
    else
        zp_check_set(k, "zone", ZP_CHECK_FAIL, NULL, NULL, dig,
                     "%s is in zone %s, which is "
                     "delegated from %s: a record written in %s would never be served",
                     c->rep->fqdn, zi.zone, w, w);
    if (k->verdict == ZP_CHECK_FAIL && zi.zone[0] != '\0')
        snprintf(k->fix, sizeof(k->fix),
                 "add %s to the dnsZones of provider %s (the CLI: "
                 "--zone %s)",
                 zi.zone, c->inst->name, zi.zone);
}

/* --- b: delegation and servers ------------------------------------------------------------ */

static void pinned_servers(struct ctx *c)
{
    char why[160];

    memset(&c->d, 0, sizeof(c->d));
    for (size_t i = 0; i < c->inst->prop.n_nameservers && i < ZP_WATCH_MAX_NS; i++) {
        zp_ns_target_parse(c->inst->prop.nameservers[i], 53, &c->d.t[i], why, sizeof(why));
        c->d.where[i] = ZP_DELEG_CHILD;
        c->d.n++;
    }
}

/* The names of the servers whose where-bits are exactly bits. */
static size_t names_where(const struct zp_deleg *d, unsigned bits, struct zp_buf *b)
{
    size_t n = 0;

    for (size_t i = 0; i < d->n; i++)
        if (d->where[i] == bits) {
            zp_buf_printf(b, "%s%s", n ? ", " : "", d->t[i].name);
            n++;
        }
    return n;
}

static void check_delegation(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_buf why, only_p, only_c, all;
    const char *z = c->rep->zone;
    char dig[384];

    zp_buf_init(&why, 4096);
    zp_buf_init(&only_p, 2048);
    zp_buf_init(&only_c, 2048);
    zp_buf_init(&all, 4096);
    if (c->inst->prop.n_nameservers > 0) {
        pinned_servers(c);
        zp_check_set(k, "delegation", ZP_CHECK_WARN,
                     "make sure the list holds every server "
                     "of the parent's delegation and of the zone's NS set, or remove "
                     "propagation.nameservers",
                     NULL, NULL,
                     "propagation.nameservers pins the "
                     "servers zoneproof checks for %s; the CA asks the servers of the "
                     "delegation instead",
                     z);
        goto out;
    }
    if (zp_deleg_get(&c->r, z, c->deadline, &c->d, &why) == -1) {
        zp_check_set(k, "delegation", ZP_CHECK_FAIL,
                     "check the delegation of the zone at "
                     "its parent (registrar), and propagation.resolvers",
                     NULL, NULL, "cannot find the nameservers of %s: %s", z, zp_buf_str(&why));
        goto out;
    }
    for (size_t i = 0; i < c->d.n; i++)
        who(&c->d.t[i], &all);
    zp_check_dig(dig, sizeof(dig), NULL, 0, NULL, z, "NS +trace");
    if (c->d.parent_why[0]) {
        zp_check_set(k, "delegation", ZP_CHECK_WARN,
                     "make the parent's servers reachable "
                     "from here, then run doctor again",
                     zp_buf_str(&all), dig, "%s", c->d.parent_why);
    } else if (names_where(&c->d, ZP_DELEG_PARENT, &only_p) +
                   names_where(&c->d, ZP_DELEG_CHILD, &only_c) >
               0) {
        zp_check_set(k, "delegation", ZP_CHECK_WARN,
                     "make the two NS sets equal: change the "
                     "delegation at the parent (registrar) or the NS records of the zone",
                     zp_buf_str(&all), dig,
                     "the NS sets of %s differ: %s%s%s%s%s%s; resolvers "
                     "and the CA ask every server of both sets, so zoneproof checks them all",
                     z, only_p.len ? "only the parent " : "", only_p.len ? c->d.parent : "",
                     only_p.len ? " lists " : "", zp_buf_str(&only_p),
                     only_p.len && only_c.len ? "; only the zone lists "
                     : only_c.len             ? "only the zone lists "
                                              : "",
                     zp_buf_str(&only_c));
    } else {
        zp_check_set(k, "delegation", ZP_CHECK_OK, NULL, zp_buf_str(&all), dig,
                     "the parent "
                     "%s and the zone %s list the same nameservers",
                     c->d.parent, z);
    }
out:
    zp_buf_free(&why);
    zp_buf_free(&only_p);
    zp_buf_free(&only_c);
    zp_buf_free(&all);
}

/* One server's SOA over UDP and TCP: -1 unreachable, 0 without authority, 1 with serial. */
static int server_soa(struct ctx *c, const struct zp_ns_target *t, uint32_t *serial, char *why,
                      size_t whysz)
{
    ldns_pkt *p = NULL, *tp = NULL;
    const ldns_rr_list *an;
    int rc = -1;

    if (zp_dnsq_ask(t, c->rep->zone, LDNS_RR_TYPE_SOA, 0, c->deadline, 1000, &p, why, whysz) == -1)
        goto out;
    if (zp_dnsq_ask(t, c->rep->zone, LDNS_RR_TYPE_SOA, ZP_DNSQ_TCP, c->deadline, 1000, &tp, why,
                    whysz) == -1) {
        char sub[160];
        zp_strlcpy(sub, why, sizeof(sub));
        snprintf(why, whysz, "answers over UDP but not over TCP (%s)", sub);
        goto out;
    }
    an = ldns_pkt_answer(p);
    rc = 0;
    snprintf(why, whysz, "answers without authority for the zone");
    if (!ldns_pkt_aa(p) || ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
        goto out;
    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) >= 3) {
            *serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
            rc = 1;
        }
    }
out:
    ldns_pkt_free(p);
    ldns_pkt_free(tp);
    return rc;
}

static void check_servers(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_buf bad, lag, all;
    uint32_t serial[ZP_WATCH_MAX_NS] = {0};
    int st[ZP_WATCH_MAX_NS];
    char why[ZP_WATCH_MAX_NS][200], dig[384] = "";
    enum zp_verdict v = ZP_CHECK_OK;

    zp_buf_init(&bad, 4096);
    zp_buf_init(&lag, 2048);
    zp_buf_init(&all, 4096);
    for (size_t i = 0; i < c->d.n; i++) {
        st[i] = server_soa(c, &c->d.t[i], &serial[i], why[i], sizeof(why[i]));
        if (st[i] == 1 && serial[i] > c->serial_max)
            c->serial_max = serial[i]; /* serial arithmetic aside: zones here do not wrap */
        who(&c->d.t[i], &all);
    }
    for (size_t i = 0; i < c->d.n; i++) {
        const struct zp_ns_target *t = &c->d.t[i];
        if (st[i] == 1 && serial[i] == c->serial_max)
            continue;
        if (dig[0] == '\0')
            zp_check_dig(dig, sizeof(dig), t->addr, 1, NULL, c->rep->zone, "SOA");
        if (st[i] == 1) {
            zp_buf_printf(&lag, "%s%s (%s) serves serial %u", lag.len ? ", " : "", t->name, t->addr,
                          serial[i]);
            continue;
        }
        zp_buf_printf(&bad, "%s%s (%s) %s", bad.len ? "; " : "", t->name,
                      t->addr[0] ? t->addr : "no address", why[i]);
    }
    if (bad.len)
        v = ZP_CHECK_FAIL;
    else if (lag.len)
        v = ZP_CHECK_WARN;
    if (lag.len)
        zp_buf_printf(&lag, " while the newest serial is %u", c->serial_max);
    if (bad.len && lag.len)
        zp_buf_printf(&bad, "; %s", zp_buf_str(&lag));
    if (v == ZP_CHECK_OK)
        zp_check_set(k, "servers", v, NULL, zp_buf_str(&all), NULL,
                     "every nameserver of %s "
                     "answers over UDP and TCP with authority, at serial %u",
                     c->rep->zone, c->serial_max);
    else
        zp_check_set(k, "servers", v,
                     bad.len ? "load the zone on every listed server and open "
                               "port 53 over UDP and TCP to it, or remove it from the NS sets"
                             : "check NOTIFY and zone transfers from the primary to the lagging "
                               "servers",
                     zp_buf_str(&all), dig, "%s", bad.len ? zp_buf_str(&bad) : zp_buf_str(&lag));
    zp_buf_free(&bad);
    zp_buf_free(&lag);
    zp_buf_free(&all);
}

/* --- c: the challenge name ---------------------------------------------------------------- */

/* TXT values in presentation form ("a\"b" "c"), as dig shows them: never '?' for a byte. */
static void txt_values(const ldns_pkt *p, const char *name, uint32_t *ttl, struct zp_buf *out)
{
    const ldns_rr_list *an = ldns_pkt_answer(p);

    for (size_t i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        ldns_rdf *n = ldns_dname_new_frm_str(name);
        int mine = n != NULL && ldns_dname_compare(ldns_rr_owner(rr), n) == 0;

        ldns_rdf_deep_free(n);
        if (!mine || ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        zp_buf_puts(out, out->len ? ", " : "");
        for (size_t j = 0; j < ldns_rr_rd_count(rr); j++) {
            char *s = ldns_rdf2str(ldns_rr_rdf(rr, j));
            zp_buf_printf(out, "%s%s", j ? " " : "", s ? s : "?");
            free(s);
        }
        if (ldns_rr_ttl(rr) > *ttl)
            *ttl = ldns_rr_ttl(rr);
    }
}

/* What the first server that answers holds at name: its TXT values (shown) and their TTL. */
static int values_at(struct ctx *c, const char *name, struct zp_buf *vals, uint32_t *ttl, char *dig,
                     size_t digsz)
{
    char why[160];

    for (size_t i = 0; i < c->d.n; i++) {
        ldns_pkt *p = NULL;

        if (zp_dnsq_ask(&c->d.t[i], name, LDNS_RR_TYPE_TXT, 0, c->deadline, 1000, &p, why,
                        sizeof(why)) == -1)
            continue;
        txt_values(p, name, ttl, vals);
        zp_check_dig(dig, digsz, c->d.t[i].addr, 1, NULL, name, "TXT");
        ldns_pkt_free(p);
        return 0;
    }
    return -1;
}

static void check_cname(struct ctx *c)
{
    struct zp_check *k = add(c);
    char dig[384];

    zp_check_dig(dig, sizeof(dig), c->r.n ? c->r.t[0].addr : NULL, 0, NULL, c->rep->fqdn, "CNAME");
    /* The wildcard trap: *.x CNAME y makes every _acme-challenge name below x an alias. */
    if (c->r.n > 0 && zp_zone_wildcard_alias(&c->r.t[0], ZP_DNSQ_RD | ZP_DNSQ_CD, c->rep->fqdn,
                                             c->cname, c->deadline))
        zp_check_set(k, "challenge", ZP_CHECK_WARN,
                     "keep cnameStrategy: None in the Issuer "
                     "(Follow would send the challenge to the wildcard's target); Present's "
                     "write creates the name, and the wildcard then no longer answers for it",
                     NULL, dig,
                     "%s is an alias (CNAME) of %s synthesized from a wildcard "
                     "CNAME in %s",
                     c->rep->fqdn, c->cname, c->rep->zone);
    else
        zp_check_set(k, "challenge", ZP_CHECK_FAIL,
                     "present the challenge at the target "
                     "(cert-manager: cnameStrategy: Follow, with a provider for the target's "
                     "zone), or remove the CNAME",
                     NULL, dig,
                     "%s is an alias (CNAME) of %s: "
                     "a TXT record cannot sit beside it, and the CA follows the alias",
                     c->rep->fqdn, c->cname);
}

static void check_challenge(struct ctx *c)
{
    struct zp_check *k;
    struct zp_buf vals, dbl;
    char doubled[2 * ZP_DNAME_MAX], dig[384] = "", ddig[384] = "";
    uint32_t ttl = 0, dttl = 0;

    if (c->cname[0] != '\0') {
        check_cname(c);
        return;
    }
    k = add(c);
    zp_buf_init(&vals, 4096);
    zp_buf_init(&dbl, 4096);
    values_at(c, c->rep->fqdn, &vals, &ttl, dig, sizeof(dig));
    /* A tool that appends the zone to a full name writes _acme-challenge.x.z.z. */
    snprintf(doubled, sizeof(doubled), "%s%s", c->rep->fqdn, c->rep->zone);
    if (strlen(doubled) < ZP_DNAME_MAX - 1)
        values_at(c, doubled, &dbl, &dttl, ddig, sizeof(ddig));
    if (dbl.len)
        zp_check_set(k, "challenge", ZP_CHECK_WARN,
                     "delete them; configure the tool that "
                     "wrote them with a name relative to the zone",
                     NULL, ddig,
                     "TXT records "
                     "sit under the doubled name %s: %s; a tool wrote the full name where a "
                     "relative one was expected, and the CA never looks there",
                     doubled, zp_buf_str(&dbl));
    else if (vals.len)
        zp_check_set(k, "challenge", ZP_CHECK_WARN,
                     "nothing to do if a validation is in "
                     "flight; otherwise delete the leftover values (a missed CleanUp)",
                     NULL, dig,
                     "%s already holds TXT %s with TTL %u: resolvers that cached it keep "
                     "serving it that long, and zoneproof adds its value beside it",
                     c->rep->fqdn, zp_buf_str(&vals), ttl);
    else
        zp_check_set(k, "challenge", ZP_CHECK_OK, NULL, NULL, dig,
                     "%s holds no TXT record "
                     "and no CNAME: ready for a challenge",
                     c->rep->fqdn);
    zp_buf_free(&vals);
    zp_buf_free(&dbl);
}

/* --- d, e, f: CAA, DNSSEC, the Public Suffix List ----------------------------------------- */

static const char no_resolvers[] = "set propagation.resolvers (zoneproof asks no resolver "
                                   "while propagation.nameservers is set without them)";

static void check_caa(struct ctx *c)
{
    struct zp_check *k = add(c);
    const char *issuer = c->o->issuer;

    if (issuer == NULL && c->o->cfg->n_caa_issuers > 0)
        issuer = c->o->cfg->caa_issuers[0];
    if (c->r.n == 0) {
        zp_check_set(k, "caa", ZP_CHECK_WARN, no_resolvers, NULL, NULL,
                     "CAA of %s not "
                     "checked: no resolver to ask",
                     c->cert_full);
        return;
    }
    if (zp_caa_check(&c->r, c->cert_full, issuer, c->deadline, k) == -1)
        zp_check_set(k, "caa", ZP_CHECK_WARN, NULL, NULL, NULL,
                     "CAA of %s could not be "
                     "checked",
                     c->cert_full);
    k->id = "caa";
}

static void check_dnssec(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_dnssec_result res;

    if (c->o->cfg->dnssec == ZP_DNSSEC_OFF) {
        zp_check_set(k, "dnssec", ZP_CHECK_WARN, "set dnssec.validate to auto", NULL, NULL,
                     "DNSSEC not checked: dnssec.validate is false, but the CA validates");
        return;
    }
    if (c->r.n == 0 || c->rep->zone[0] == '\0') {
        zp_check_set(k, "dnssec", ZP_CHECK_WARN, c->r.n ? NULL : no_resolvers, NULL, NULL,
                     "DNSSEC of %s not checked: %s", c->cert,
                     c->r.n ? "its zone is unknown" : "no resolver to ask");
        return;
    }
    memset(&res, 0, sizeof(res));
    if (zp_dnssec_check_zone(&c->r, zp_precheck_anchor(c->o->pc), c->rep->zone, c->deadline,
                             &res) == 0 &&
        res.state == ZP_DNSSEC_SECURE) {
        struct zp_dnssec_result ans;
        memset(&ans, 0, sizeof(ans));
        /* The challenge name's answer too: a zone whose server does not sign new records. */
        if (zp_dnssec_check_answer(&c->r, zp_precheck_anchor(c->o->pc), c->rep->zone, c->rep->fqdn,
                                   LDNS_RR_TYPE_TXT, c->deadline, &ans) == 0 &&
            ans.state == ZP_DNSSEC_BOGUS)
            res = ans;
    }
    zp_dnssec_to_check(&res, k);
    k->id = "dnssec";
}

static void check_psl(struct ctx *c)
{
    struct zp_check *k = add(c);
    const struct zp_psl *psl = zp_precheck_psl(c->o->pc);

    if (psl == NULL || zp_psl_check(psl, c->cert_full, k) == -1)
        zp_check_set(k, "psl", ZP_CHECK_WARN,
                     "install the publicsuffix package, or set "
                     "publicSuffixList to a copy of the list",
                     NULL, NULL,
                     "the Public Suffix "
                     "List is not loaded: %s not checked against it",
                     c->cert_full);
    k->id = "psl";
}

/* --- g: what the CA's resolvers see ------------------------------------------------------- */

static void check_split(struct ctx *c)
{
    struct zp_check *k = add(c);
    const struct zp_prop_cfg *p = &c->inst->prop;
    struct zp_dnsq_resolvers vr;
    struct zp_buf why, diff;
    char dig[384] = "";

    if (p->n_verify_resolvers == 0) {
        zp_check_set(k, "split-horizon", ZP_CHECK_OK,
                     "where zoneproof's resolvers see an "
                     "internal view, set propagation.verifyResolvers to resolvers that see "
                     "what the CA sees",
                     NULL, NULL,
                     "not checked: no "
                     "propagation.verifyResolvers");
        return;
    }
    zp_buf_init(&why, 2048);
    zp_buf_init(&diff, 2048);
    zp_dnsq_resolvers(p->verify_resolvers, p->n_verify_resolvers, &vr, &why);
    for (size_t i = 0; i < vr.n; i++) {
        struct zp_dnsq_resolvers one = {.n = 1};
        ldns_pkt *pk = NULL;
        size_t w;
        uint32_t serial = 0;
        const ldns_rr_list *an;

        one.t[0] = vr.t[i];
        if (zp_dnsq_recurse(&one, c->rep->zone, LDNS_RR_TYPE_SOA, ZP_DNSQ_CD, c->deadline, &pk, &w,
                            &why) == -1)
            continue;
        an = ldns_pkt_answer(pk);
        for (size_t j = 0; an != NULL && j < ldns_rr_list_rr_count(an); j++)
            if (ldns_rr_get_type(ldns_rr_list_rr(an, j)) == LDNS_RR_TYPE_SOA)
                serial = ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(an, j), 2));
        if (serial == 0)
            zp_buf_printf(&diff, "%s%s has no SOA for %s", diff.len ? "; " : "", vr.t[i].addr,
                          c->rep->zone);
        else if (serial != c->serial_max)
            zp_buf_printf(&diff, "%s%s sees serial %u", diff.len ? "; " : "", vr.t[i].addr, serial);
        if (dig[0] == '\0' && (serial == 0 || serial != c->serial_max))
            zp_check_dig(dig, sizeof(dig), vr.t[i].addr, 0, NULL, c->rep->zone, "SOA");
        ldns_pkt_free(pk);
    }
    if (why.len)
        zp_check_set(k, "split-horizon", ZP_CHECK_WARN, "fix propagation.verifyResolvers", NULL,
                     NULL,
                     "the resolvers in propagation.verifyResolvers do not answer: "
                     "%s",
                     zp_buf_str(&why));
    else if (diff.len)
        zp_check_set(k, "split-horizon", ZP_CHECK_FAIL,
                     "publish the challenge in the view the "
                     "CA sees (an update key matched by that view), or point the provider at "
                     "the server of the external view",
                     NULL, dig,
                     "the CA's view of %s differs "
                     "from the servers zoneproof asks (serial %u): %s; a split horizon (views) "
                     "would hide the challenge from the CA",
                     c->rep->zone, c->serial_max, zp_buf_str(&diff));
    else
        zp_check_set(k, "split-horizon", ZP_CHECK_OK,
                     c->o->solver ? NULL
                                  : "a view that "
                                    "differs only in its records shows in doctor --write-test",
                     NULL, NULL,
                     "the resolvers in propagation.verifyResolvers see %s at serial %u, as "
                     "zoneproof does",
                     c->rep->zone, c->serial_max);
    zp_buf_free(&why);
    zp_buf_free(&diff);
}

/* --- h: credentials, and the write test --------------------------------------------------- */

static void check_credentials(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_record rec = {.fqdn = c->rep->fqdn, .zone = c->rep->zone, .value = "probe"};
    struct zp_prov_call call;
    struct zp_err err = {0};

    memset(&call, 0, sizeof(call));
    call.deadline_ms = c->deadline;
    call.instance = c->inst->name;
    call.allow_ambient = 1;
    if (c->inst->ops->verify == NULL) {
        zp_check_set(k, "credentials", ZP_CHECK_WARN, "run doctor --write-test to prove them", NULL,
                     NULL, "the credentials of %s (%s) are not proven without writing",
                     c->inst->name, c->inst->ops->type);
        return;
    }
    if (c->inst->ops->verify(c->inst->cfg, &rec, &call, &err) == -1)
        zp_check_set(k, "credentials", ZP_CHECK_FAIL, NULL, NULL, NULL, "%s (%s): %s",
                     c->inst->name, c->inst->ops->type, err.msg);
    else
        zp_check_set(k, "credentials", ZP_CHECK_OK, NULL, NULL, NULL, "%s (%s): %s", c->inst->name,
                     c->inst->ops->type, err.msg[0] ? err.msg : "the credentials are accepted");
}

static void check_write(struct ctx *c)
{
    struct zp_check *k = add(c);
    struct zp_challenge ch;
    struct zp_result *res = zp_xcalloc(1, sizeof(*res));
    struct zp_err err = {0};
    unsigned char rnd[8];
    char key[48];

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        memset(rnd, 0x5a, sizeof(rnd));
    snprintf(key, sizeof(key), "zoneproof-doctor-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    if (zp_challenge_make(&ch, ZP_PRESENT, c->rep->fqdn, c->rep->zone, key, c->inst->name, &err) ==
        -1) {
        zp_check_set(k, "write-test", ZP_CHECK_FAIL, NULL, NULL, NULL, "%s", err.msg);
        goto out;
    }
    zp_solver_run(c->o->solver, &ch, res);
    if (!res->ok) {
        zp_check_set(k, "write-test", ZP_CHECK_FAIL, NULL, NULL, NULL,
                     "a test value could not "
                     "be presented: %s",
                     res->err.msg);
    } else {
        zp_check_set(k, "write-test", ZP_CHECK_OK, NULL, NULL, NULL,
                     "a test value was "
                     "written, served by every authoritative nameserver, and removed");
    }
    /* Removed whatever happened: a failed Present may still have written. */
    ch.action = ZP_CLEANUP;
    memset(res, 0, sizeof(*res));
    zp_solver_run(c->o->solver, &ch, res);
    if (!res->ok)
        zp_check_set(k, "write-test", ZP_CHECK_FAIL, NULL, NULL, NULL,
                     "the test value %s at %s "
                     "could not be removed: %s; delete it by hand",
                     key, c->rep->fqdn, res->err.msg);
out:
    free(res);
}

/* --- the run ------------------------------------------------------------------------------ */

int zp_doctor_run(const struct zp_doctor_opts *o, const char *name, struct zp_doctor_report *rep)
{
    struct ctx *c = zp_xcalloc(1, sizeof(*c));
    const char *base = name;
    char why[160];
    int rc = -1;

    memset(rep, 0, sizeof(*rep));
    zp_strlcpy(rep->name, name, sizeof(rep->name));
    c->o = o;
    c->rep = rep;
    c->deadline = zp_now_ms() + (o->timeout_ms ? o->timeout_ms : 10000);
    if (strncmp(name, "*.", 2) == 0)
        base = name + 2;
    if (zp_dname_check(base, 0, why, sizeof(why)) == -1 ||
        zp_dname_canon(base, c->cert, sizeof(c->cert)) == -1 ||
        snprintf(rep->fqdn, sizeof(rep->fqdn), "_acme-challenge.%s", c->cert) >=
            (int)sizeof(rep->fqdn) - 1)
        goto out;
    if (snprintf(c->cert_full, sizeof(c->cert_full), "%s%.*s", base == name ? "" : "*.",
                 ZP_DNAME_MAX - 3, c->cert) >= (int)sizeof(c->cert_full))
        goto out;
    rc = 0;
    check_routing(c);
    check_psl(c);
    if (c->inst == NULL)
        goto out;
    zp_precheck_resolvers(o->pc, c->inst, &c->r);
    check_zone(c);
    if (rep->zone[0] == '\0')
        goto out;
    check_delegation(c);
    check_servers(c);
    check_challenge(c);
    check_caa(c);
    check_dnssec(c);
    check_split(c);
    check_credentials(c);
    if (o->solver != NULL)
        check_write(c);
out:
    free(c);
    return rc;
}

enum zp_verdict zp_doctor_verdict(const struct zp_doctor_report *rep)
{
    enum zp_verdict v = ZP_CHECK_OK;

    for (size_t i = 0; i < rep->n; i++)
        if (rep->checks[i].verdict > v)
            v = rep->checks[i].verdict;
    return v;
}

static cJSON *check_json(const struct zp_check *k)
{
    cJSON *o = cJSON_CreateObject();

    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "check", k->id ? k->id : "");
    cJSON_AddStringToObject(o, "verdict", zp_verdict_name(k->verdict));
    cJSON_AddStringToObject(o, "cause", k->cause);
    cJSON_AddStringToObject(o, "fix", k->fix);
    cJSON_AddStringToObject(o, "servers", k->servers);
    cJSON_AddStringToObject(o, "dig", k->dig);
    return o;
}

int zp_doctor_json(const struct zp_doctor_report *reps, size_t n, struct zp_buf *out)
{
    cJSON *root = cJSON_CreateObject(), *names, *one, *checks;
    char *s = NULL;
    int rc = -1;

    if (root == NULL || (names = cJSON_AddArrayToObject(root, "names")) == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct zp_doctor_report *r = &reps[i];

        if ((one = cJSON_CreateObject()) == NULL)
            goto out;
        cJSON_AddItemToArray(names, one);
        cJSON_AddStringToObject(one, "name", r->name);
        cJSON_AddStringToObject(one, "fqdn", r->fqdn);
        cJSON_AddStringToObject(one, "zone", r->zone);
        if (r->instance)
            cJSON_AddStringToObject(one, "provider", r->instance);
        else
            cJSON_AddNullToObject(one, "provider");
        cJSON_AddStringToObject(one, "verdict", zp_verdict_name(zp_doctor_verdict(r)));
        if ((checks = cJSON_AddArrayToObject(one, "checks")) == NULL)
            goto out;
        for (size_t k = 0; k < r->n; k++) {
            cJSON *c = check_json(&r->checks[k]);
            if (c == NULL)
                goto out;
            cJSON_AddItemToArray(checks, c);
        }
    }
    s = cJSON_PrintUnformatted(root);
    if (s != NULL && zp_buf_puts(out, s) == 0)
        rc = 0;
out:
    free(s);
    cJSON_Delete(root);
    return rc;
}

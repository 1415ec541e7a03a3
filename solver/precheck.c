/*
 * precheck.c — the DNS checks that change Present's answer (precheck.h).
 * Before the write: the certificate name against the Public Suffix List,
 * the zone that really holds the challenge name and a CNAME there (one SOA
 * question), the DNSSEC chain down to the zone, CAA against the configured
 * CAs. After the watch: the CA's view through propagation.verifyResolvers,
 * and a value written under a doubled name at a laggard.
 *
 * Runs on provider worker threads (and the CLI), which may block on a few
 * queries; never on the watcher's. The DNSSEC verdict of a zone takes a
 * dozen queries, so it is cached per zone for a minute: a burst of
 * Presents in one zone pays it once. An instance's resolvers are parsed
 * once a minute, not per Present.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/caa.h"
#include "solver/challenge.h"
#include "solver/check.h"
#include "solver/config.h"
#include "solver/dnssec.h"
#include "solver/precheck.h"
#include "solver/psl.h"
#include "solver/router.h"
#include "solver/zone.h"

#define DNSSEC_CACHE_MS 60000u
#define DNSSEC_UNKNOWN_MS 10000u /* cannot tell: ask again soon, but not on every Present */
#define DNSSEC_CACHE_MAX 1024u
#define RESOLVERS_REREAD_MS 60000u /* resolv.conf may change under a running pod */
#define VIEW_TRY_MS 1000u

struct verdict {
    struct verdict *next;
    char zone[ZP_DNAME_MAX];
    uint64_t expires;
    struct zp_dnssec_result res;
};

/* An instance's resolvers, parsed (and resolv.conf read) once a minute, not per Present. */
struct inst_resolvers {
    uint64_t until;
    struct zp_dnsq_resolvers r;
};

struct zp_precheck {
    const struct zp_config *cfg;
    struct zp_psl *psl;              /* NULL: no list could be loaded (logged at start) */
    struct zp_dnssec_anchor *anchor; /* immutable after new */
    pthread_mutex_t mu;
    struct verdict *cache; /* under mu */
    size_t n_cache;
    struct inst_resolvers *res; /* one per cfg->inst, under mu */
};

int zp_precheck_new(const struct zp_config *cfg, struct zp_precheck **out, struct zp_err *err)
{
    struct zp_precheck *pc = zp_xcalloc(1, sizeof(*pc));
    struct zp_err perr = {0};

    pc->cfg = cfg;
    pc->res = zp_xcalloc(cfg->n_inst ? cfg->n_inst : 1, sizeof(*pc->res));
    pthread_mutex_init(&pc->mu, NULL);
    if (zp_dnssec_anchor_load(cfg->trust_anchor_file, &pc->anchor, err) == -1) {
        zp_err_wrap(err, "%s: dnssec.trustAnchorFile", cfg->file);
        zp_precheck_free(pc);
        return -1;
    }
    if (zp_psl_load(cfg->psl_file, &pc->psl, &perr) == -1) {
        if (cfg->psl_file != NULL) { /* the user named a list: it must load */
            *err = perr;
            zp_err_wrap(err, "%s: publicSuffixList", cfg->file);
            zp_precheck_free(pc);
            return -1;
        }
        zp_log(ZP_LOG_WARN,
               "public suffix list not loaded; public-suffix names are not "
               "refused",
               ZP_S("why", perr.msg), ZP_END);
    }
    *out = pc;
    return 0;
}

void zp_precheck_free(struct zp_precheck *pc)
{
    if (pc == NULL)
        return;
    while (pc->cache != NULL) {
        struct verdict *v = pc->cache;
        pc->cache = v->next;
        free(v);
    }
    zp_psl_free(pc->psl);
    zp_dnssec_anchor_free(pc->anchor);
    free(pc->res);
    pthread_mutex_destroy(&pc->mu);
    free(pc);
}

const struct zp_psl *zp_precheck_psl(const struct zp_precheck *pc)
{
    return pc->psl;
}

const struct zp_dnssec_anchor *zp_precheck_anchor(const struct zp_precheck *pc)
{
    return pc->anchor;
}

void zp_precheck_cert_name(const char *fqdn, char *out, size_t outsz)
{
    static const char pfx[] = "_acme-challenge.";

    if (strncasecmp(fqdn, pfx, sizeof(pfx) - 1) == 0 && fqdn[sizeof(pfx) - 1] != '\0')
        zp_dname_canon(fqdn + sizeof(pfx) - 1, out, outsz);
    else
        zp_dname_canon(fqdn, out, outsz);
}

int zp_precheck_resolvers(struct zp_precheck *pc, const struct zp_instance *inst,
                          struct zp_dnsq_resolvers *r)
{
    size_t i = (size_t)(inst - pc->cfg->inst);
    int pinned = inst->prop.n_nameservers > 0 && inst->prop.n_resolvers == 0;
    uint64_t now = zp_now_ms();
    struct zp_buf why;

    r->n = 0;
    if (pinned && pc->cfg->dnssec != ZP_DNSSEC_ON)
        return 0;
    if (i < pc->cfg->n_inst) {
        pthread_mutex_lock(&pc->mu);
        if (pc->res[i].until > now)
            *r = pc->res[i].r;
        pthread_mutex_unlock(&pc->mu);
        if (r->n > 0)
            return (int)r->n;
    }
    zp_buf_init(&why, 2048);
    /* dnssec.validate: true with pinned servers asks resolv.conf's resolvers. */
    zp_dnsq_resolvers(pinned ? NULL : inst->prop.resolvers, pinned ? 0 : inst->prop.n_resolvers, r,
                      &why);
    if (why.len > 0)
        zp_log(ZP_LOG_WARN, "resolvers unusable", ZP_S("provider", inst->name),
               ZP_S("why", zp_buf_str(&why)), ZP_END);
    zp_buf_free(&why);
    if (i < pc->cfg->n_inst) {
        pthread_mutex_lock(&pc->mu);
        pc->res[i].r = *r;
        pc->res[i].until = now + RESOLVERS_REREAD_MS;
        pthread_mutex_unlock(&pc->mu);
    }
    return (int)r->n;
}

int zp_precheck_zone_of(const struct zp_instance *inst, const struct zp_dnsq_resolvers *r,
                        const char *fqdn, uint64_t deadline, struct zp_zone_info *zi, char *asked,
                        size_t askedsz, struct zp_err *err)
{
    struct zp_ns_target pinned;
    char why[160];

    memset(zi, 0, sizeof(*zi));
    if (r->n == 0) {
        if (zp_ns_target_parse(inst->prop.nameservers[0], 53, &pinned, why, sizeof(why)) == -1)
            return zp_err_set(err, ZP_ECONFIG, "propagation.nameservers[0]: %s", why);
        zp_strlcpy(asked, pinned.addr, askedsz);
        if (zp_zone_ask(&pinned, 0, fqdn, deadline, zi, why, sizeof(why)) == -1)
            return zp_err_set(err, ZP_ETRANSIENT,
                              "cannot ask %s (%s) which zone holds %s: "
                              "%s",
                              pinned.name, pinned.addr, fqdn, why);
        return 0;
    }
    /* One question usually tells (the SOA of the answer or of the negative answer). */
    for (size_t i = 0; i < r->n; i++) {
        zp_strlcpy(asked, r->t[i].addr, askedsz);
        if (zp_zone_ask(&r->t[i], ZP_DNSQ_RD | ZP_DNSQ_CD, fqdn, deadline, zi, why, sizeof(why)) ==
            0) {
            if (zi->zone[0] != '\0' || zi->cname[0] != '\0')
                return 0;
            /* An answer without a SOA: walk up the names, as cert-manager does. */
            return zp_zone_find(r, fqdn, deadline, zi, err);
        }
    }
    return zp_err_set(err, ZP_ETRANSIENT,
                      "asked %s for %s SOA (recursion desired): %s; set "
                      "propagation.resolvers to resolvers that answer",
                      asked, fqdn, why);
}

/* The CNAME at name ("" when none), asked of the servers of the provider that holds name. */
static int cname_at(struct zp_precheck *pc, const struct zp_instance *fallback, const char *name,
                    uint64_t deadline, char *cname, size_t cnamesz, struct zp_err *err)
{
    const struct zp_instance *inst;
    struct zp_dnsq_resolvers r;
    struct zp_zone_info zi;
    struct zp_err e = {0};
    char asked[64];

    inst = zp_route(pc->cfg, name, NULL, NULL, &e);
    if (inst == NULL)
        inst = fallback;
    if (zp_precheck_resolvers(pc, inst, &r) == 0 && inst->prop.n_nameservers == 0)
        return zp_err_set(err, ZP_ETRANSIENT,
                          "cannot ask whether %s is an alias (CNAME): no resolver could be "
                          "read; set propagation.resolvers",
                          name);
    if (zp_precheck_zone_of(inst, &r, name, deadline, &zi, asked, sizeof(asked), err) == -1)
        return -1;
    cname[0] = '\0';
    if (zi.cname[0] != '\0')
        zp_dname_canon(zi.cname, cname, cnamesz);
    return 0;
}

int zp_precheck_follow(struct zp_precheck *pc, const struct zp_instance *fallback, const char *fqdn,
                       uint64_t deadline, char *target, size_t targetsz, struct zp_buf *chain,
                       struct zp_err *err)
{
    char names[ZP_CNAME_CHAIN_MAX + 1][ZP_DNAME_MAX], next[ZP_DNAME_MAX];
    size_t n = 0;

    zp_dname_canon(fqdn, names[0], sizeof(names[0]));
    (void)zp_buf_printf(chain, "%s", names[0]);
    for (;;) {
        if (cname_at(pc, fallback, names[n], deadline, next, sizeof(next), err) == -1) {
            zp_err_wrap(err, "cannot follow the CNAME chain at %s", names[0]);
            return -1;
        }
        if (next[0] == '\0')
            break;
        if (n == ZP_CNAME_CHAIN_MAX)
            return zp_err_set(err, ZP_EINVAL,
                              "the CNAME chain at %s is longer than %d CNAMEs: %s -> ...; "
                              "zoneproof follows no more, and wrote nothing. Point %s at the "
                              "name that takes the value",
                              names[0], ZP_CNAME_CHAIN_MAX, zp_buf_str(chain), names[0]);
        (void)zp_buf_printf(chain, " -> %s", next);
        for (size_t i = 0; i <= n; i++)
            if (strcmp(names[i], next) == 0)
                return zp_err_set(err, ZP_EINVAL,
                                  "the CNAME chain at %s loops: %s; the CA cannot follow it "
                                  "either, and zoneproof wrote nothing. Remove one of these "
                                  "CNAME records",
                                  names[0], zp_buf_str(chain));
        zp_strlcpy(names[++n], next, sizeof(names[0]));
    }
    zp_strlcpy(target, names[n], targetsz);
    return 0;
}

/* The check's sentence as Present's error: the cause, then the fix. */
static int refuse(const struct zp_check *c, enum zp_errkind kind, struct zp_err *err)
{
    /* The fix is a sentence of its own here: it starts with a capital. */
    return zp_err_set(err, kind, "%s; nothing was written%s%c%s", c->cause, c->fix[0] ? ". " : "",
                      c->fix[0] ? toupper((unsigned char)c->fix[0]) : ' ',
                      c->fix[0] ? c->fix + 1 : "");
}

static int psl_step(struct zp_precheck *pc, const char *cert, const char *zone, struct zp_err *err)
{
    struct zp_check c;
    int priv = 0;

    if (pc->psl == NULL)
        return 0;
    memset(&c, 0, sizeof(c));
    if (zp_psl_check(pc->psl, cert, &c) == 0 && c.verdict == ZP_CHECK_FAIL)
        return refuse(&c, ZP_EINVAL, err);
    if (zp_psl_is_suffix(pc->psl, zone, &priv) == 1)
        return zp_err_set(err, ZP_EINVAL,
                          "%s is a public suffix (%s section of the Public "
                          "Suffix List): its names belong to separate registrants, and a CA "
                          "does not accept a challenge written there for %s; nothing was "
                          "written. Write the challenge in the zone of the registered domain",
                          zone, priv ? "private" : "ICANN", cert);
    return 0;
}

/*
 * The zone that holds fqdn, asked of a resolver (or, with pinned servers and
 * no resolvers, of the first pinned server), and a CNAME at fqdn: a TXT
 * record beside a CNAME is ignored by the server, and the CA follows the
 * alias anyway. A write into a zone below which fqdn is delegated would
 * never be served.
 */
static int zone_step(const struct zp_precheck *pc, const struct zp_instance *inst,
                     const struct zp_dnsq_resolvers *r, const char *fqdn, const char *zone,
                     uint64_t deadline, struct zp_err *err)
{
    struct zp_zone_info zi;
    struct zp_err e = {0};
    char asked[64];

    if (zp_precheck_zone_of(inst, r, fqdn, deadline, &zi, asked, sizeof(asked), &e) == -1) {
        if (r->n == 0)
            return 0; /* a pinned server that cannot be asked: the watcher names it */
        return zp_err_set(err, e.kind,
                          "cannot check which zone holds %s before writing: %s; "
                          "nothing was written",
                          fqdn, e.msg);
    }
    /* A CNAME from a wildcard is no obstacle: the write creates the name. */
    if (zi.cname[0] != '\0' && r->n > 0 &&
        zp_zone_wildcard_alias(&r->t[0], ZP_DNSQ_RD | ZP_DNSQ_CD, fqdn, zi.cname, deadline))
        return 0;
    if (zi.cname[0] != '\0')
        return zp_err_set(err, ZP_EINVAL,
                          "%s is an alias (CNAME) of %s: a TXT record cannot "
                          "sit beside a CNAME (the server ignores the write) and the CA follows "
                          "the alias; nothing was written. Present the challenge at %s "
                          "(%s, with a provider for its zone), or remove the CNAME",
                          fqdn, zi.cname, zi.cname,
                          pc->cfg->cli ? "--follow-cname" : "cert-manager: cnameStrategy: Follow");
    if (zi.zone[0] == '\0' || strcmp(zi.zone, zone) == 0)
        return 0;
    if (zp_dname_in_zone(zi.zone, zone))
        return zp_err_set(err, ZP_EINVAL,
                          "%s is in zone %s, which is delegated from %s: a "
                          "record written in %s would never be served; nothing was written. "
                          "Add %s to the provider's dnsZones (or pass --zone %s)",
                          fqdn, zi.zone, zone, zone, zi.zone, zi.zone);
    /* DNS puts the name higher up: providers with a zone setting map that (zoneName). */
    return 0;
}

/* CAA: at least one of the configured CAs must be allowed to issue for cert. */
static int caa_step(const struct zp_config *cfg, const struct zp_dnsq_resolvers *r,
                    const char *cert, uint64_t deadline, struct zp_err *err)
{
    struct zp_check c;

    if (cfg->n_caa_issuers == 0 || r->n == 0)
        return 0;
    memset(&c, 0, sizeof(c));
    if (zp_caa_check_any(r, cert, (const char *const *)cfg->caa_issuers, cfg->n_caa_issuers,
                         deadline, &c) == -1 ||
        c.verdict != ZP_CHECK_FAIL)
        return 0;
    return refuse(&c, ZP_EPERM, err);
}

/* The zone's DNSSEC verdict, from the cache or asked now. */
static void dnssec_verdict(struct zp_precheck *pc, const struct zp_dnsq_resolvers *r,
                           const char *zone, uint64_t deadline, struct zp_dnssec_result *res)
{
    struct verdict *v, **pp;
    uint64_t now = zp_now_ms();

    pthread_mutex_lock(&pc->mu);
    for (pp = &pc->cache; (v = *pp) != NULL;) {
        if (v->expires <= now) {
            *pp = v->next;
            free(v);
            pc->n_cache--;
            continue;
        }
        if (strcmp(v->zone, zone) == 0) {
            *res = v->res;
            pthread_mutex_unlock(&pc->mu);
            return;
        }
        pp = &v->next;
    }
    pthread_mutex_unlock(&pc->mu);

    memset(res, 0, sizeof(*res));
    if (zp_dnssec_check_zone(r, pc->anchor, zone, deadline, res) == -1)
        res->state = ZP_DNSSEC_UNKNOWN;
    v = zp_xcalloc(1, sizeof(*v));
    zp_strlcpy(v->zone, zone, sizeof(v->zone));
    v->expires = now + (res->state == ZP_DNSSEC_UNKNOWN ? DNSSEC_UNKNOWN_MS : DNSSEC_CACHE_MS);
    v->res = *res;
    pthread_mutex_lock(&pc->mu);
    if (pc->n_cache < DNSSEC_CACHE_MAX) {
        v->next = pc->cache;
        pc->cache = v;
        pc->n_cache++;
        v = NULL;
    }
    pthread_mutex_unlock(&pc->mu);
    free(v);
}

static int dnssec_step(struct zp_precheck *pc, const struct zp_instance *inst,
                       const struct zp_dnsq_resolvers *r, const char *zone, uint64_t deadline,
                       struct zp_err *err)
{
    struct zp_dnssec_result res;

    if (pc->cfg->dnssec == ZP_DNSSEC_OFF || r->n == 0)
        return 0;
    dnssec_verdict(pc, r, zone, deadline, &res);
    if (res.state == ZP_DNSSEC_BOGUS)
        return zp_err_set(err, ZP_EINVAL,
                          "the DNSSEC chain of %s is broken, so the CA's "
                          "validating resolvers will fail the challenge; nothing was written: "
                          "%s%s%s",
                          zone, res.why, res.fix[0] ? "; " : "", res.fix);
    if (res.state == ZP_DNSSEC_UNKNOWN)
        zp_log(ZP_LOG_WARN, "DNSSEC not checked", ZP_S("provider", inst->name), ZP_S("zone", zone),
               ZP_S("why", res.why), ZP_END);
    return 0;
}

int zp_precheck_present(struct zp_precheck *pc, const struct zp_instance *inst,
                        const struct zp_challenge *ch, const char *zone, uint64_t deadline,
                        struct zp_err *err)
{
    struct zp_dnsq_resolvers r;
    char cert[ZP_DNAME_MAX];

    zp_precheck_cert_name(ch->fqdn, cert, sizeof(cert));
    if (psl_step(pc, cert, zone, err) == -1)
        return -1;
    /* propagation.mode: skip asks no DNS server at all; cert-manager's self-check does. */
    if (inst->prop.mode == ZP_PROP_SKIP)
        return 0;
    zp_precheck_resolvers(pc, inst, &r);
    /* DNSSEC before CAA: a bogus zone also fails its CAA lookup, less precisely. */
    if (zone_step(pc, inst, &r, ch->fqdn, zone, deadline, err) == -1 ||
        dnssec_step(pc, inst, &r, zone, deadline, err) == -1 ||
        caa_step(pc->cfg, &r, cert, deadline, err) == -1)
        return -1;
    return 0;
}

/* What one verify resolver says instead of the value, as a stable phrase. */
static void view_phrase(ldns_pkt *p, char *out, size_t outsz)
{
    int rc = ldns_pkt_get_rcode(p);
    const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rc);
    char ede[96];

    zp_dnsq_ede(p, ede, sizeof(ede));
    if (rc == LDNS_RCODE_NOERROR)
        snprintf(out, outsz, "answers without the value");
    else
        snprintf(out, outsz, "answers %s%s%s%s", lt ? lt->name : "an unknown rcode",
                 ede[0] ? " (" : "", ede, ede[0] ? ")" : "");
}

int zp_precheck_view(const struct zp_instance *inst, const char *fqdn, const char *value,
                     uint64_t deadline, struct zp_err *err)
{
    struct zp_dnsq_resolvers vr;
    struct zp_buf why, lag;
    char sub[160], dig[384] = "";
    int rc = 0;

    if (inst->prop.n_verify_resolvers == 0)
        return 0;
    zp_buf_init(&why, 2048);
    zp_buf_init(&lag, 2048);
    zp_dnsq_resolvers(inst->prop.verify_resolvers, inst->prop.n_verify_resolvers, &vr, &why);
    for (size_t i = 0; i < vr.n; i++) {
        ldns_pkt *p = NULL;

        /* As the CA asks: recursion, validation on. */
        if (zp_dnsq_ask(&vr.t[i], fqdn, LDNS_RR_TYPE_TXT, ZP_DNSQ_RD, deadline, VIEW_TRY_MS, &p,
                        sub, sizeof(sub)) == 0 &&
            zp_dnsq_txt_has(p, value)) {
            ldns_pkt_free(p);
            continue;
        }
        if (p != NULL)
            view_phrase(p, sub, sizeof(sub));
        ldns_pkt_free(p);
        zp_buf_printf(&lag, "%s%s %s", lag.len ? "; " : "", vr.t[i].addr, sub);
        if (dig[0] == '\0')
            zp_check_dig(dig, sizeof(dig), vr.t[i].addr, 0, NULL, fqdn, "TXT");
    }
    if (lag.len > 0 || (vr.n == 0 && why.len > 0))
        rc = zp_err_set(err, ZP_EPROPAGATION,
                        "TXT value for %s is served by every "
                        "authoritative nameserver zoneproof asks, but not through "
                        "propagation.verifyResolvers, which see what the CA sees: %s%s; a "
                        "split horizon (views) serves the CA another copy of the zone, or "
                        "those resolvers keep an older answer cached. Publish the record in "
                        "the view the CA sees%s%s",
                        fqdn, zp_buf_str(&lag), zp_buf_str(&why), dig[0] ? ". Check with: " : "",
                        dig);
    zp_buf_free(&why);
    zp_buf_free(&lag);
    return rc;
}

const char *zp_precheck_doubled_where(const struct zp_watch_report *rep)
{
    for (size_t i = 0; i < rep->n && i < ZP_WATCH_MAX_NS; i++)
        if ((rep->ns[i].state == ZP_NS_NXDOMAIN || rep->ns[i].state == ZP_NS_NODATA) &&
            rep->ns[i].addr[0] != '\0')
            return rep->ns[i].addr;
    return NULL;
}

void zp_precheck_doubled(const char *addr, const char *fqdn, const char *zone, const char *value,
                         uint64_t deadline, struct zp_err *err)
{
    char doubled[2 * ZP_DNAME_MAX], why[160];
    struct zp_ns_target t;
    ldns_pkt *p = NULL;
    size_t n;

    /* A tool that appends the zone to a full name writes _acme-challenge.x.z.z. */
    if (snprintf(doubled, sizeof(doubled), "%s%s", fqdn, zone) >= ZP_DNAME_MAX - 1 ||
        zp_ns_target_parse(addr, 53, &t, why, sizeof(why)) == -1 ||
        zp_dnsq_ask(&t, doubled, LDNS_RR_TYPE_TXT, 0, deadline, 1000, &p, why, sizeof(why)) == -1)
        return;
    n = strlen(err->msg);
    if (zp_dnsq_txt_has(p, value))
        snprintf(err->msg + n, sizeof(err->msg) - n,
                 "; the value is at %s on %s: it was "
                 "written with its zone appended twice (a full name given where one relative "
                 "to the zone was expected)",
                 doubled, addr);
    ldns_pkt_free(p);
}

void zp_precheck_discover_zone(struct zp_precheck *pc, const struct zp_instance *inst,
                               const char *entry, struct zp_challenge *ch)
{
    struct zp_dnsq_resolvers r;
    struct zp_zone_info zi;
    struct zp_err err = {0};
    char asked[64];

    if (ch->zone[0] != '\0')
        return;
    zp_precheck_resolvers(pc, inst, &r);
    if (zp_precheck_zone_of(inst, &r, ch->fqdn, zp_now_ms() + inst->prop.timeout_ms, &zi, asked,
                            sizeof(asked), &err) == -1 ||
        zi.cname[0] != '\0' || zi.zone[0] == '\0')
        return;
    if (entry == NULL || zp_dname_in_zone(zi.zone, entry))
        zp_strlcpy(ch->zone, zi.zone, sizeof(ch->zone));
}

/*
 * precheck.c — what Present checks before it writes (precheck.h): the
 * certificate name against the Public Suffix List, the zone that really
 * holds the challenge name and a CNAME there (one SOA question), CAA
 * against the configured CAs, and the DNSSEC chain down to the zone.
 *
 * Runs on a provider worker thread, which may block on a few queries. The
 * DNSSEC verdict of a zone takes a dozen queries, so it is cached per zone
 * for a minute: a burst of Presents in one zone pays it once.
 */
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
#include "solver/zone.h"

#define DNSSEC_CACHE_MS 60000u
#define DNSSEC_CACHE_MAX 1024u

struct verdict {
    struct verdict *next;
    char zone[ZP_DNAME_MAX];
    uint64_t expires;
    struct zp_dnssec_result res;
};

struct zp_precheck {
    const struct zp_config *cfg;
    struct zp_psl *psl;              /* NULL: no list could be loaded (logged at start) */
    struct zp_dnssec_anchor *anchor; /* immutable after new */
    pthread_mutex_t mu;
    struct verdict *cache;           /* under mu */
    size_t n_cache;
};

int zp_precheck_new(const struct zp_config *cfg, struct zp_precheck **out, struct zp_err *err)
{
    struct zp_precheck *pc = zp_xcalloc(1, sizeof(*pc));
    struct zp_err perr = {0};

    pc->cfg = cfg;
    pthread_mutex_init(&pc->mu, NULL);
    if (zp_dnssec_anchor_load(cfg->trust_anchor_file, &pc->anchor, err) == -1) {
        zp_precheck_free(pc);
        return -1;
    }
    if (zp_psl_load(cfg->psl_file, &pc->psl, &perr) == -1) {
        if (cfg->psl_file != NULL) { /* the user named a list: it must load */
            *err = perr;
            zp_precheck_free(pc);
            return -1;
        }
        zp_log(ZP_LOG_WARN, "public suffix list not loaded; public-suffix names are not "
               "refused", ZP_S("why", perr.msg), ZP_END);
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

int zp_precheck_resolvers(const struct zp_instance *inst, struct zp_dnsq_resolvers *r)
{
    struct zp_buf why;
    size_t n;

    r->n = 0;
    if (inst->prop.n_nameservers > 0 && inst->prop.n_resolvers == 0)
        return 0;
    zp_buf_init(&why, 2048);
    n = zp_dnsq_resolvers(inst->prop.resolvers, inst->prop.n_resolvers, r, &why);
    zp_buf_free(&why);
    return n > 0;
}

/* The check's sentence as Present's error: the cause, then the fix. */
static int refuse(const struct zp_check *c, enum zp_errkind kind, struct zp_err *err)
{
    return zp_err_set(err, kind, "%s; nothing was written%s%s", c->cause, c->fix[0] ? ". " : "",
                      c->fix);
}

static int psl_step(struct zp_precheck *pc, const char *cert, const char *zone,
                    struct zp_err *err)
{
    struct zp_check c;
    int priv = 0;

    if (pc->psl == NULL)
        return 0;
    memset(&c, 0, sizeof(c));
    if (zp_psl_check(pc->psl, cert, &c) == 0 && c.verdict == ZP_CHECK_FAIL)
        return refuse(&c, ZP_EINVAL, err);
    if (zp_psl_is_suffix(pc->psl, zone, &priv) == 1)
        return zp_err_set(err, ZP_EINVAL, "%s is a public suffix (%s section of the Public "
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
static int zone_step(const struct zp_instance *inst, const struct zp_dnsq_resolvers *r,
                     const char *fqdn, const char *zone, uint64_t deadline, struct zp_err *err)
{
    struct zp_zone_info zi;
    struct zp_ns_target pinned;
    const struct zp_ns_target *t;
    char why[160];
    size_t i, n = r->n;
    unsigned flags = ZP_DNSQ_RD | ZP_DNSQ_CD;

    if (n == 0) {
        if (zp_ns_target_parse(inst->prop.nameservers[0], 53, &pinned, why, sizeof(why)) == -1)
            return 0; /* the watcher reports an unusable server */
        n = 1;
        flags = 0;
    }
    for (i = 0; i < n; i++) {
        t = r->n ? &r->t[i] : &pinned;
        if (zp_zone_ask(t, flags, fqdn, deadline, &zi, why, sizeof(why)) == 0)
            break;
    }
    if (i == n && r->n == 0)
        return 0; /* a pinned server that does not answer: the watcher names it */
    if (i == n)
        return zp_err_set(err, ZP_ETRANSIENT, "cannot check which zone holds %s before "
                          "writing: %s (%s); nothing was written", fqdn, t->addr, why);
    if (zi.cname[0] != '\0')
        return zp_err_set(err, ZP_EINVAL, "%s is an alias (CNAME) of %s: a TXT record cannot "
                          "sit beside a CNAME (the server ignores the write) and the CA follows "
                          "the alias; nothing was written. Present the challenge at %s "
                          "(cert-manager: cnameStrategy: Follow, with a provider for its "
                          "zone), or remove the CNAME", fqdn, zi.cname, zi.cname);
    if (zi.zone[0] == '\0' || strcmp(zi.zone, zone) == 0)
        return 0;
    if (zp_dname_in_zone(zi.zone, zone))
        return zp_err_set(err, ZP_EINVAL, "%s is in zone %s, which is delegated from %s: a "
                          "record written in %s would never be served; nothing was written. "
                          "Add %s to the provider's dnsZones (or pass --zone %s)", fqdn,
                          zi.zone, zone, zone, zi.zone, zi.zone);
    /* DNS puts the name higher up: providers with a zone setting map that (zoneName). */
    return 0;
}

/* CAA: at least one of the configured CAs must be allowed to issue for cert. */
static int caa_step(const struct zp_config *cfg, const struct zp_dnsq_resolvers *r,
                    const char *cert, uint64_t deadline, struct zp_err *err)
{
    struct zp_check c, first;

    if (cfg->n_caa_issuers == 0 || r->n == 0)
        return 0;
    memset(&first, 0, sizeof(first));
    for (size_t i = 0; i < cfg->n_caa_issuers; i++) {
        memset(&c, 0, sizeof(c));
        if (zp_caa_check(r, cert, cfg->caa_issuers[i], deadline, &c) == -1 ||
            c.verdict != ZP_CHECK_FAIL)
            return 0;
        if (i == 0)
            first = c;
    }
    return refuse(&first, ZP_EPERM, err);
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
    if (zp_dnssec_check_zone(r, pc->anchor, zone, deadline, res) == -1) {
        res->state = ZP_DNSSEC_UNKNOWN;
        return;
    }
    if (res->state == ZP_DNSSEC_UNKNOWN)
        return; /* not worth remembering: the next Present asks again */
    v = zp_xcalloc(1, sizeof(*v));
    zp_strlcpy(v->zone, zone, sizeof(v->zone));
    v->expires = now + DNSSEC_CACHE_MS;
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
        return zp_err_set(err, ZP_EINVAL, "the DNSSEC chain of %s is broken, so the CA's "
                          "validating resolvers will fail the challenge; nothing was written: "
                          "%s%s%s", zone, res.why, res.fix[0] ? "; " : "", res.fix);
    if (res.state == ZP_DNSSEC_UNKNOWN)
        zp_log(ZP_LOG_WARN, "DNSSEC not checked", ZP_S("provider", inst->name),
               ZP_S("zone", zone), ZP_S("why", res.why), ZP_END);
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
    if (!zp_precheck_resolvers(inst, &r) && pc->cfg->dnssec == ZP_DNSSEC_ON) {
        struct zp_buf why;
        zp_buf_init(&why, 2048);
        zp_dnsq_resolvers(NULL, 0, &r, &why); /* validate: true asks resolv.conf's */
        zp_buf_free(&why);
    }
    /* DNSSEC before CAA: a bogus zone also fails its CAA lookup, less precisely. */
    if (zone_step(inst, &r, ch->fqdn, zone, deadline, err) == -1 ||
        dnssec_step(pc, inst, &r, zone, deadline, err) == -1 ||
        caa_step(pc->cfg, &r, cert, deadline, err) == -1)
        return -1;
    return 0;
}

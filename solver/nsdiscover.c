/*
 * nsdiscover.c — the nameservers of a watch: who they are (the explicit
 * list, or the zone's NS set asked of the recursive resolvers and cached
 * per zone) and where they are (glue, else A, else AAAA). How to ask one of
 * them one question is nswire.c's.
 *
 * Discovery blocks the calling worker, but only once per zone and cache
 * lifetime, bounded by the caller's deadline; concurrent discoveries of one
 * zone are collapsed (the others are told to ask again shortly).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/watch_int.h"
#include "solver/nsdiscover_int.h"
#include "solver/zone.h"

#define NEGATIVE_TTL_MS 5000u /* a failed discovery is not retried by every job at once */

struct nscache_entry {
    struct nscache_entry *next;
    char *key;   /* zone, then each resolver: one entry per (zone, resolver set) */
    int loading; /* a thread is discovering it; the others back off */
    uint64_t expires;
    int failed;
    char *why; /* the sentence when failed; NULL otherwise */
    size_t n;
    struct zp_ns_target *t; /* n of them: sized by the zone, not by ZP_WATCH_MAX_NS */
};

struct zp_nscache {
    pthread_mutex_t mu;
    struct nscache_entry *head; /* under mu; entries are written only under mu */
};

static int sa_cmp(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return a->ss_family == AF_INET ? -1 : 1;
    if (a->ss_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                      &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr));
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

/*
 * The lowest address of type (A or AAAA) for name in list (any owner when
 * name is NULL: a CNAME chain in an answer). The lowest, because resolvers
 * rotate RRsets and the report should not change with the rotation.
 */
static int pick_addr(const ldns_rr_list *list, const char *name, ldns_rr_type type,
                     struct zp_ns_target *t)
{
    struct sockaddr_storage best, cur;
    size_t i;
    int have = 0;

    for (i = 0; list != NULL && i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        const ldns_rdf *f;

        if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) != 1 ||
            (name != NULL && !zp_ns_name_is(ldns_rr_owner(rr), name)))
            continue;
        f = ldns_rr_rdf(rr, 0);
        memset(&cur, 0, sizeof(cur));
        if (type == LDNS_RR_TYPE_A && ldns_rdf_size(f) == 4) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&cur;
            s4->sin_family = AF_INET;
            s4->sin_port = htons(53);
            memcpy(&s4->sin_addr, ldns_rdf_data(f), 4);
        } else if (type == LDNS_RR_TYPE_AAAA && ldns_rdf_size(f) == 16) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&cur;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(53);
            memcpy(&s6->sin6_addr, ldns_rdf_data(f), 16);
        } else {
            continue;
        }
        if (!have || sa_cmp(&cur, &best) < 0)
            best = cur;
        have = 1;
    }
    if (have)
        zp_ns_target_set(t, (const struct sockaddr *)&best,
                         best.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                   : sizeof(struct sockaddr_in6));
    return have;
}

/* Resolves an NS host name through the resolvers: A first, then AAAA. */
static void resolve_name(const struct zp_dnsq_resolvers *res, struct zp_ns_target *t,
                         uint64_t deadline)
{
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    struct zp_buf why;
    size_t i, who;

    zp_buf_init(&why, 1024);
    for (i = 0; i < 2; i++) {
        ldns_pkt *p = NULL;
        int ok;

        if (zp_dnsq_recurse(res, t->name, types[i], 0, deadline, &p, &who, &why) == -1)
            break;
        ok = pick_addr(ldns_pkt_answer(p), NULL, types[i], t);
        ldns_pkt_free(p);
        if (ok)
            goto out;
    }
    snprintf(t->detail, sizeof(t->detail), "%s",
             why.len > 0 ? "its address cannot be resolved through the resolvers"
                         : "the host name has no A or AAAA record");
out:
    zp_buf_free(&why);
}

/* --- the delegation: the zone's own NS set and the parent's ------------------------------- */

/* Adds the NS names owned by zone in list to d with bit set; keeps the lowest TTL. */
void zp_ns_collect(const ldns_rr_list *list, const char *zone, unsigned bit, struct zp_deleg *d)
{
    for (size_t i = 0; list != NULL && i < ldns_rr_list_rr_count(list); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(list, i);
        char *s, canon[ZP_DNAME_MAX];
        size_t j;

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) != 1 ||
            !zp_ns_name_is(ldns_rr_owner(rr), zone))
            continue;
        s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        if (s != NULL && zp_dname_canon(s, canon, sizeof(canon)) == 0) {
            for (j = 0; j < d->n && strcmp(d->t[j].name, canon) != 0; j++)
                ;
            if (j == d->n && d->n < ZP_WATCH_MAX_NS) {
                memset(&d->t[j], 0, sizeof(d->t[j]));
                zp_strlcpy(d->t[j].name, canon, sizeof(d->t[j].name));
                d->where[j] = 0;
                d->n++;
            }
            if (j < d->n)
                d->where[j] |= bit;
        }
        free(s);
        if (ldns_rr_ttl(rr) < d->ttl)
            d->ttl = ldns_rr_ttl(rr);
    }
}

/* Glue from an additional section for the servers that have no address yet. */
void zp_ns_glue(const ldns_rr_list *ad, struct zp_deleg *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].salen == 0 && !pick_addr(ad, d->t[i].name, LDNS_RR_TYPE_A, &d->t[i]))
            pick_addr(ad, d->t[i].name, LDNS_RR_TYPE_AAAA, &d->t[i]);
}

/*
 * The NS set the resolvers return: where to start. A resolver may hand out
 * the parent's delegation it cached instead of the zone's own set, so the
 * bits are set by auth_view() and parent_view(), not here. cli: the advice
 * names --zone, not the zone cert-manager sends.
 */
static int child_view(const struct zp_dnsq_resolvers *res, const char *zone, uint64_t deadline,
                      int cli, struct zp_deleg *d, struct zp_buf *why)
{
    ldns_pkt *p = NULL;
    size_t who = 0;
    int rc = -1;

    if (zp_dnsq_recurse(res, zone, LDNS_RR_TYPE_NS, ZP_DNSQ_CD, deadline, &p, &who, why) == -1)
        goto out;
    if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN) {
        zp_buf_printf(why,
                      "%s answers NXDOMAIN for %s NS: the zone does not exist in DNS "
                      "(check dnsZones and the delegation from the parent zone)",
                      res->t[who].addr, zone);
        d->missing = 1;
        goto out;
    }
    zp_ns_collect(ldns_pkt_answer(p), zone, 0, d); /* whose set this is, auth_view says */
    if (d->n == 0) {
        zp_buf_printf(why,
                      "%s answers %s NS with no NS records: it is not the apex of a zone "
                      "(check %s, or dnsZones)",
                      res->t[who].addr, zone, cli ? "--zone" : "the zone cert-manager sends");
        d->missing = 1;
        goto out;
    }
    zp_ns_glue(ldns_pkt_additional(p), d);
    rc = 0;
out:
    ldns_pkt_free(p);
    return rc;
}

/* The servers of the parent zone, addressed: what to ask for the referral. */
static int parent_servers(const struct zp_dnsq_resolvers *res, const char *zone, uint64_t deadline,
                          int cli, struct zp_deleg *pd, char *parent, size_t psz,
                          struct zp_buf *why)
{
    struct zp_zone_info zi;
    struct zp_err err = {0};
    char up[ZP_DNAME_MAX];

    zp_zone_parent(zone, up, sizeof(up));
    if (up[0] == '\0')
        return -1; /* the root has no parent */
    if (zp_zone_find(res, up, deadline, &zi, &err) == -1) {
        zp_buf_puts(why, err.msg);
        return -1;
    }
    zp_strlcpy(parent, zi.zone, psz);
    memset(pd, 0, sizeof(*pd));
    pd->ttl = UINT32_MAX;
    if (child_view(res, zi.zone, deadline, cli, pd, why) == -1)
        return -1;
    for (size_t i = 0; i < pd->n; i++)
        if (pd->t[i].salen == 0)
            resolve_name(res, &pd->t[i], deadline);
    return 0;
}

/*
 * The delegation of zone as one of the parent's servers hands it out: the
 * NS records of its referral (or of its answer, when the same server is
 * authoritative for both zones) and their glue.
 */
static void parent_view(const struct zp_dnsq_resolvers *res, const char *zone, uint64_t deadline,
                        int cli, struct zp_deleg *d)
{
    struct zp_deleg *pd = zp_xcalloc(1, sizeof(*pd));
    struct zp_buf why;
    char sub[160];

    zp_buf_init(&why, 2048);
    if (parent_servers(res, zone, deadline, cli, pd, d->parent, sizeof(d->parent), &why) == -1)
        goto out;
    for (size_t i = 0; i < pd->n; i++) {
        ldns_pkt *p = NULL;

        if (zp_dnsq_ask(&pd->t[i], zone, LDNS_RR_TYPE_NS, 0, deadline, 1000, &p, sub,
                        sizeof(sub)) == -1) {
            zp_buf_printf(&why, "%s (%s): %s; ", pd->t[i].name, pd->t[i].addr, sub);
            continue;
        }
        if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR) {
            zp_ns_collect(ldns_pkt_authority(p), zone, ZP_DELEG_PARENT, d);
            zp_ns_collect(ldns_pkt_answer(p), zone, ZP_DELEG_PARENT, d);
            zp_ns_glue(ldns_pkt_additional(p), d);
        }
        ldns_pkt_free(p);
        snprintf(d->parent_server, sizeof(d->parent_server), "%s (%s)", pd->t[i].name,
                 pd->t[i].addr);
        zp_buf_reset(&why);
        goto out;
    }
out:
    if (why.len > 0)
        snprintf(d->parent_why, sizeof(d->parent_why),
                 "the delegation of %s in %s cannot be "
                 "read: %s",
                 zone, d->parent[0] ? d->parent : "its parent", zp_buf_str(&why));
    zp_buf_free(&why);
    free(pd);
}

struct dent {
    struct zp_ns_target t;
    unsigned where;
};

static int dent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct dent *)a)->t.name, ((const struct dent *)b)->t.name);
}

/* Sorted by name: one delegation, one report, whatever order the servers rotate to. */
static void deleg_sort(struct zp_deleg *d)
{
    struct dent *e = zp_xcalloc(d->n ? d->n : 1, sizeof(*e));

    for (size_t i = 0; i < d->n; i++) {
        e[i].t = d->t[i];
        e[i].where = d->where[i];
    }
    qsort(e, d->n, sizeof(*e), dent_cmp);
    for (size_t i = 0; i < d->n; i++) {
        d->t[i] = e[i].t;
        d->where[i] = e[i].where;
    }
    free(e);
}

/*
 * The zone's own NS set, as its servers answer it with authority: the first
 * server (in name order) that does. When none does, the resolvers' set
 * stands for it.
 */
static void auth_view(const struct zp_dnsq_resolvers *res, const char *zone, uint64_t deadline,
                      struct zp_deleg *d)
{
    char sub[160];
    size_t n = d->n;

    for (size_t i = 0; i < n; i++) {
        ldns_pkt *p = NULL;
        int aa;

        if (d->t[i].salen == 0 || zp_dnsq_ask(&d->t[i], zone, LDNS_RR_TYPE_NS, 0, deadline, 1000,
                                              &p, sub, sizeof(sub)) == -1)
            continue;
        aa = ldns_pkt_aa(p) && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR;
        if (aa)
            zp_ns_collect(ldns_pkt_answer(p), zone, ZP_DELEG_CHILD, d);
        ldns_pkt_free(p);
        if (aa)
            return;
    }
    for (size_t i = 0; i < d->n; i++)
        if ((d->where[i] & ZP_DELEG_PARENT) == 0)
            d->where[i] |= ZP_DELEG_CHILD;
}

/* zp_deleg_get; cli: the advice names --zone (child_view). */
static int deleg_get(const struct zp_dnsq_resolvers *res, const char *zone, uint64_t deadline,
                     int cli, struct zp_deleg *d, struct zp_buf *why)
{
    memset(d, 0, sizeof(*d));
    d->ttl = UINT32_MAX;
    if (child_view(res, zone, deadline, cli, d, why) == -1)
        return -1;
    parent_view(res, zone, deadline, cli, d);
    deleg_sort(d);
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].salen == 0)
            resolve_name(res, &d->t[i], deadline);
    auth_view(res, zone, deadline, d);
    /* Names only the zone's own set holds need addresses too. */
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].salen == 0 && d->t[i].detail[0] == '\0')
            resolve_name(res, &d->t[i], deadline);
    deleg_sort(d);
    if (d->ttl > ZP_NSCACHE_TTL_MAX_S)
        d->ttl = ZP_NSCACHE_TTL_MAX_S;
    return 0;
}

int zp_deleg_get(const struct zp_dnsq_resolvers *res, const char *zone, uint64_t deadline,
                 struct zp_deleg *d, struct zp_buf *why)
{
    return deleg_get(res, zone, deadline, 0, d, why);
}

static int discover(const char *zone, int cli, const struct zp_dnsq_resolvers *res,
                    uint64_t deadline, struct zp_ns_target *out, size_t *n, uint32_t *ttl,
                    int *missing, struct zp_buf *why)
{
    struct zp_deleg *d = zp_xcalloc(1, sizeof(*d));
    int rc = -1;

    if (deleg_get(res, zone, deadline, cli, d, why) == 0) {
        memcpy(out, d->t, d->n * sizeof(d->t[0]));
        for (size_t i = 0; i < d->n; i++)
            out[i].parent_only = d->where[i] == ZP_DELEG_PARENT;
        *n = d->n;
        *ttl = d->ttl;
        if (d->parent_why[0])
            zp_log(ZP_LOG_WARN, "parent delegation not checked", ZP_S("zone", zone),
                   ZP_S("why", d->parent_why), ZP_END);
        rc = 0;
    }
    *missing = d->missing;
    free(d);
    return rc;
}

/* --- the cache ---------------------------------------------------------------------------- */

static void entry_free(struct nscache_entry *e)
{
    free(e->key);
    free(e->why);
    free(e->t);
    free(e);
}

struct zp_nscache *zp_nscache_new(void)
{
    struct zp_nscache *c = zp_xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void zp_nscache_free(struct zp_nscache *c)
{
    struct nscache_entry *e, *next;

    if (c == NULL)
        return;
    for (e = c->head; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Finds key, dropping expired entries on the way; called with c->mu held. */
static struct nscache_entry *cache_find(struct zp_nscache *c, const char *key, uint64_t now)
{
    struct nscache_entry **pp = &c->head, *e, *found = NULL;

    while ((e = *pp) != NULL) {
        if (!e->loading && e->expires <= now) {
            *pp = e->next;
            entry_free(e);
            continue;
        }
        if (strcmp(e->key, key) == 0)
            found = e;
        pp = &e->next;
    }
    return found;
}

static int discover_cached(struct zp_nscache *c, const struct zp_watch_spec *spec,
                           uint64_t deadline, struct zp_ns_target *out, size_t *n, char *why,
                           size_t whysz)
{
    struct zp_dnsq_resolvers res;
    struct nscache_entry *e = NULL;
    struct zp_buf key, whyb;
    size_t i;
    uint32_t ttl = 0;
    int rc = ZP_NS_TARGETS_FAIL, mine = 0, missing = 0;

    zp_buf_init(&key, 64 * 1024);
    zp_buf_init(&whyb, 64 * 1024);
    zp_buf_puts(&key, spec->zone);
    for (i = 0; i < spec->n_resolvers; i++)
        zp_buf_printf(&key, "|%s", spec->resolvers[i]);
    if (!zp_buf_ok(&key))
        c = NULL; /* a key cut short could name another lookup's entry: no cache */
    if (c != NULL) {
        pthread_mutex_lock(&c->mu);
        e = cache_find(c, zp_buf_str(&key), zp_now_ms());
        if (e != NULL && e->loading) {
            rc = ZP_NS_TARGETS_BUSY;
        } else if (e != NULL) {
            rc = e->failed ? ZP_NS_TARGETS_FAIL : ZP_NS_TARGETS_OK;
            zp_strlcpy(why, e->why ? e->why : "", whysz);
            if (e->n > 0)
                memcpy(out, e->t, e->n * sizeof(e->t[0]));
            *n = e->n;
        } else {
            e = zp_xcalloc(1, sizeof(*e));
            e->key = zp_xstrdup(zp_buf_str(&key));
            e->loading = 1;
            e->next = c->head;
            c->head = e;
            mine = 1; /* only this thread touches e until loading is cleared */
        }
        pthread_mutex_unlock(&c->mu);
        if (!mine)
            goto out;
    }
    if (zp_dnsq_resolvers(spec->resolvers, spec->n_resolvers, &res, &whyb) > 0 &&
        discover(spec->zone, spec->cli, &res, deadline, out, n, &ttl, &missing, &whyb) == 0) {
        rc = ZP_NS_TARGETS_OK;
    } else if (missing) {
        /* The resolvers work: the zone is what is wrong, and only its fix helps. */
        snprintf(why, whysz, "cannot find the authoritative nameservers of %s: %s", spec->zone,
                 zp_buf_str(&whyb));
    } else {
        /* The sentence: what was asked of whom, then what to change. */
        snprintf(why, whysz,
                 "cannot find the authoritative nameservers of %s: %s"
                 "set propagation.resolvers to resolvers that answer, or list the servers in "
                 "propagation.nameservers",
                 spec->zone, zp_buf_str(&whyb));
        zp_log(ZP_LOG_WARN, "NS discovery failed", ZP_S("zone", spec->zone),
               ZP_S("why", zp_buf_str(&whyb)), ZP_END);
    }
    if (c != NULL) {
        pthread_mutex_lock(&c->mu);
        e->loading = 0;
        e->failed = rc != ZP_NS_TARGETS_OK;
        e->why = rc == ZP_NS_TARGETS_OK ? NULL : zp_xstrdup(why);
        e->n = rc == ZP_NS_TARGETS_OK ? *n : 0;
        if (e->n > 0) {
            e->t = zp_xmalloc(e->n * sizeof(e->t[0]));
            memcpy(e->t, out, e->n * sizeof(e->t[0]));
        }
        e->expires =
            zp_now_ms() + (e->failed
                               ? NEGATIVE_TTL_MS
                               : (ttl < ZP_NSCACHE_TTL_MAX_S ? ttl : ZP_NSCACHE_TTL_MAX_S) * 1000u);
        pthread_mutex_unlock(&c->mu);
    }
    if (rc == ZP_NS_TARGETS_OK)
        zp_log(ZP_LOG_DEBUG, "NS discovered", ZP_S("zone", spec->zone), ZP_I("count", *n),
               ZP_I("ttl", ttl), ZP_END);
out:
    zp_buf_free(&key);
    zp_buf_free(&whyb);
    return rc;
}

int zp_ns_targets(struct zp_nscache *c, const struct zp_watch_spec *spec, uint64_t deadline,
                  struct zp_ns_target *out, size_t *n, char *why, size_t whysz)
{
    char sub[160];
    size_t i;

    *n = 0;
    why[0] = '\0';
    if (spec->n_nameservers == 0)
        return discover_cached(c, spec, deadline, out, n, why, whysz);
    /* Explicit servers: an unresolvable one stays in the report, as an error. */
    for (i = 0; i < spec->n_nameservers && i < ZP_WATCH_MAX_NS; i++)
        zp_ns_target_parse(spec->nameservers[i], 53, &out[i], sub, sizeof(sub));
    *n = i;
    return ZP_NS_TARGETS_OK;
}

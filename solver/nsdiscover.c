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
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/dname.h"
#include "base/log.h"
#include "base/mem.h"
#include "solver/watch_int.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define RESOLVERS_MAX 8
#define DISCOVERY_TRY_MS 2000u   /* a cold recursive lookup may take a while */
#define NEGATIVE_TTL_MS 5000u    /* a failed discovery is not retried by every job at once */

struct nscache_entry {
    struct nscache_entry *next;
    char *key;       /* zone, then each resolver: one entry per (zone, resolver set) */
    int loading;     /* a thread is discovering it; the others back off */
    uint64_t expires;
    int failed;
    char *why;       /* the sentence when failed; NULL otherwise */
    size_t n;
    struct zp_ns_target *t; /* n of them: sized by the zone, not by ZP_WATCH_MAX_NS */
};

struct zp_nscache {
    pthread_mutex_t mu;
    struct nscache_entry *head; /* under mu; entries are written only under mu */
};

/* --- addresses --------------------------------------------------------------------------- */

static void target_set(struct zp_ns_target *t, const struct sockaddr *sa, socklen_t len)
{
    memcpy(&t->sa, sa, len);
    t->salen = len;
    zp_ns_addr_format(sa, t->addr, sizeof(t->addr));
}

int zp_ns_target_parse(const char *hostport, unsigned default_port, struct zp_ns_target *t,
                       char *why, size_t whysz)
{
    struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
    char host[ZP_DNAME_MAX], port[8];
    unsigned p;
    int rc;

    memset(t, 0, sizeof(*t));
    if (zp_hostport_split(hostport, default_port, host, sizeof(host), &p) == -1) {
        snprintf(why, whysz, "\"%s\" is not host:port", hostport);
        zp_strlcpy(t->name, hostport, sizeof(t->name));
        return -1;
    }
    zp_strlcpy(t->name, host, sizeof(t->name));
    snprintf(port, sizeof(port), "%u", p);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(why, whysz, "cannot resolve %s: %s", host, gai_strerror(rc));
        snprintf(t->detail, sizeof(t->detail), "cannot resolve the host name: %s",
                 gai_strerror(rc));
        return -1;
    }
    /* IPv4 first: a pod without an IPv6 route should still reach a dual-stack server. */
    for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET)
            pick = ai;
    for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET6)
            pick = ai;
    if (pick != NULL)
        target_set(t, pick->ai_addr, pick->ai_addrlen);
    freeaddrinfo(res);
    if (pick == NULL) {
        snprintf(why, whysz, "%s has no IPv4 or IPv6 address", host);
        snprintf(t->detail, sizeof(t->detail), "the host name has no address");
        return -1;
    }
    return 0;
}

/* --- asking the resolvers ---------------------------------------------------------------- */

/* One blocking UDP exchange (TCP after truncation); a connected socket reports ICMP errors. */
static int exchange(const struct zp_ns_target *t, const char *qname, ldns_rr_type type,
                    uint64_t deadline, ldns_pkt **out, char *why, size_t whysz)
{
    uint8_t *wire = NULL, rx[4096];
    size_t wlen;
    uint16_t id = 0;
    uint64_t until = zp_now_ms() + DISCOVERY_TRY_MS;
    int fd = -1, rc = -1, cut = until > deadline;

    *out = NULL;
    if (cut)
        until = deadline;
    if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
        id = (uint16_t)zp_now_ms();
    if (zp_ns_query_wire(qname, type, 1, id, &wire, &wlen) == -1) {
        snprintf(why, whysz, "cannot build the query");
        goto out;
    }
    fd = socket(t->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)&t->sa, t->salen) == -1 ||
        send(fd, wire, wlen, 0) != (ssize_t)wlen) {
        snprintf(why, whysz, "%s", strerror(errno));
        goto out;
    }
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        uint64_t left = zp_ms_left(until);
        ldns_pkt *p = NULL;
        ssize_t n;

        if (left == 0 || poll(&pfd, 1, (int)left) == 0) {
            /* A stable phrase: the sentence must not change with timing. */
            snprintf(why, whysz, "%s",
                     cut ? "no answer before the deadline" : "no answer within 2 s");
            goto out;
        }
        n = recv(fd, rx, sizeof(rx), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            snprintf(why, whysz, "%s", errno == ECONNREFUSED ? "connection refused (nothing "
                                                               "listens on that port)"
                                                             : strerror(errno));
            goto out;
        }
        if (ldns_wire2pkt(&p, rx, (size_t)n) != LDNS_STATUS_OK)
            continue;
        if (!zp_ns_answer_matches(p, id, qname, type)) {
            ldns_pkt_free(p);
            continue;
        }
        if (ldns_pkt_tc(p)) {
            ldns_pkt_free(p);
            left = zp_ms_left(deadline);
            rc = zp_ns_tcp_query((const struct sockaddr *)&t->sa, t->salen, qname, type, 1,
                                 left < DISCOVERY_TRY_MS ? (unsigned)left + 1 : DISCOVERY_TRY_MS,
                                 out, why, whysz);
            goto out;
        }
        *out = p;
        rc = 0;
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    free(wire);
    return rc;
}

/* The resolvers to ask: the configured ones, else the nameserver lines of resolv.conf. */
static size_t resolvers_get(const struct zp_watch_spec *spec, struct zp_ns_target *out,
                            struct zp_buf *why)
{
    char line[512], w2[ZP_DNAME_MAX], sub[256];
    size_t n = 0, i;
    FILE *f;

    if (spec->n_resolvers > 0) {
        for (i = 0; i < spec->n_resolvers && n < RESOLVERS_MAX; i++) {
            if (zp_ns_target_parse(spec->resolvers[i], 53, &out[n], sub, sizeof(sub)) == 0)
                n++;
            else
                zp_buf_printf(why, "resolver %s: %s; ", spec->resolvers[i], sub);
        }
        return n;
    }
    f = fopen(RESOLV_CONF, "re");
    if (f == NULL) {
        zp_buf_printf(why, "cannot read %s: %s; ", RESOLV_CONF, strerror(errno));
        return 0;
    }
    while (n < RESOLVERS_MAX && fgets(line, sizeof(line), f) != NULL) {
        char *pct;

        if (sscanf(line, " nameserver %255s", w2) != 1)
            continue;
        if ((pct = strchr(w2, '%')) != NULL)
            *pct = '\0'; /* an IPv6 scope: link-local resolvers are rare in pods */
        if (strchr(w2, ':') != NULL) {
            char br[ZP_DNAME_MAX + 4];
            snprintf(br, sizeof(br), "[%s]", w2);
            if (zp_ns_target_parse(br, 53, &out[n], sub, sizeof(sub)) == 0)
                n++;
        } else if (zp_ns_target_parse(w2, 53, &out[n], sub, sizeof(sub)) == 0) {
            n++;
        }
    }
    fclose(f);
    if (n == 0)
        zp_buf_printf(why, "%s lists no usable nameserver; ", RESOLV_CONF);
    return n;
}

/*
 * Asks the resolvers in turn (at least two tries) until one answers NOERROR
 * or NXDOMAIN. why collects, per resolver, what it was asked and what failed.
 */
static int ask(const struct zp_ns_target *res, size_t nres, const char *qname,
               ldns_rr_type type, uint64_t deadline, ldns_pkt **out, size_t *who,
               struct zp_buf *why)
{
    const ldns_rr_descriptor *d = ldns_rr_descript(type);
    size_t tries = nres < 2 ? 2 : nres, i;
    char sub[160], last[RESOLVERS_MAX][160];

    memset(last, 0, sizeof(last));
    for (i = 0; i < tries && zp_ms_left(deadline) > 0; i++) {
        const struct zp_ns_target *r = &res[i % nres];
        ldns_pkt *p;
        int rc;

        if (exchange(r, qname, type, deadline, &p, sub, sizeof(sub)) == 0) {
            rc = ldns_pkt_get_rcode(p);
            if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN) {
                *out = p;
                *who = i % nres;
                return 0;
            }
            const ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rc);
            snprintf(sub, sizeof(sub), "answers %s", lt ? lt->name : "an unknown rcode");
            ldns_pkt_free(p);
        }
        zp_strlcpy(last[i % nres], sub, sizeof(last[0]));
    }
    for (i = 0; i < nres; i++)
        if (last[i][0] != '\0')
            zp_buf_printf(why, "asked %s for %s %s (recursion desired): %s; ", res[i].addr,
                          qname, d && d->_name ? d->_name : "?", last[i]);
    if (zp_ms_left(deadline) == 0)
        zp_buf_printf(why, "ran out of time; ");
    return -1;
}

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
        target_set(t, (const struct sockaddr *)&best,
                   best.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                             : sizeof(struct sockaddr_in6));
    return have;
}

static int target_cmp(const void *a, const void *b)
{
    return strcmp(((const struct zp_ns_target *)a)->name, ((const struct zp_ns_target *)b)->name);
}

/* Resolves an NS host name through the resolvers: A first, then AAAA. */
static void resolve_name(const struct zp_ns_target *res, size_t nres, struct zp_ns_target *t,
                         uint64_t deadline)
{
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
    struct zp_buf why;
    size_t i, who;

    zp_buf_init(&why, 1024);
    for (i = 0; i < 2; i++) {
        ldns_pkt *p = NULL;
        int ok;

        if (ask(res, nres, t->name, types[i], deadline, &p, &who, &why) == -1)
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

static int discover(const char *zone, const struct zp_ns_target *res, size_t nres,
                    uint64_t deadline, struct zp_ns_target *out, size_t *n, uint32_t *ttl,
                    struct zp_buf *why)
{
    const ldns_rr_list *an, *ad;
    ldns_pkt *p = NULL;
    size_t i, j, k = 0, who = 0;
    int rc = -1;

    *ttl = ZP_NSCACHE_TTL_MAX_S;
    if (ask(res, nres, zone, LDNS_RR_TYPE_NS, deadline, &p, &who, why) == -1)
        goto out;
    if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN) {
        zp_buf_printf(why, "%s answers NXDOMAIN for %s NS: the zone does not exist in DNS "
                      "(check dnsZones and the delegation from the parent zone); ",
                      res[who].addr, zone);
        goto out;
    }
    an = ldns_pkt_answer(p);
    ad = ldns_pkt_additional(p);
    for (i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        char *s, canon[ZP_DNAME_MAX];

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) != 1 ||
            !zp_ns_name_is(ldns_rr_owner(rr), zone))
            continue;
        s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        if (s != NULL && zp_dname_canon(s, canon, sizeof(canon)) == 0) {
            for (j = 0; j < k && strcmp(out[j].name, canon) != 0; j++)
                ;
            if (j == k && k < ZP_WATCH_MAX_NS) {
                memset(&out[k], 0, sizeof(out[k]));
                zp_strlcpy(out[k].name, canon, sizeof(out[k].name));
                k++;
            }
        }
        free(s);
        if (ldns_rr_ttl(rr) < *ttl)
            *ttl = ldns_rr_ttl(rr);
    }
    if (k == 0) {
        zp_buf_printf(why, "%s answers %s NS with no NS records: it is not the apex of a zone "
                      "(check the zone cert-manager sends, or dnsZones); ", res[who].addr, zone);
        goto out;
    }
    qsort(out, k, sizeof(out[0]), target_cmp);
    for (i = 0; i < k; i++) {
        /* Glue first: it saves a round trip and is what the parent hands out. */
        if (pick_addr(ad, out[i].name, LDNS_RR_TYPE_A, &out[i]) ||
            pick_addr(ad, out[i].name, LDNS_RR_TYPE_AAAA, &out[i]))
            continue;
        resolve_name(res, nres, &out[i], deadline);
    }
    *n = k;
    rc = 0;
out:
    ldns_pkt_free(p);
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
    struct zp_ns_target res[RESOLVERS_MAX];
    struct nscache_entry *e = NULL;
    struct zp_buf key, whyb;
    size_t nres, i;
    uint32_t ttl = 0;
    int rc = ZP_NS_TARGETS_FAIL, mine = 0;

    zp_buf_init(&key, 64 * 1024);
    zp_buf_init(&whyb, 64 * 1024);
    zp_buf_puts(&key, spec->zone);
    for (i = 0; i < spec->n_resolvers; i++)
        zp_buf_printf(&key, "|%s", spec->resolvers[i]);
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
    nres = resolvers_get(spec, res, &whyb);
    if (nres > 0 && discover(spec->zone, res, nres, deadline, out, n, &ttl, &whyb) == 0) {
        rc = ZP_NS_TARGETS_OK;
    } else {
        /* The sentence: what was asked of whom, then what to change. */
        snprintf(why, whysz, "cannot find the authoritative nameservers of %s: %s"
                 "set propagation.resolvers to resolvers that answer, or list the servers in "
                 "propagation.nameservers", spec->zone, zp_buf_str(&whyb));
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
        e->expires = zp_now_ms() + (e->failed ? NEGATIVE_TTL_MS
                                              : (ttl < ZP_NSCACHE_TTL_MAX_S ? ttl
                                                                            : ZP_NSCACHE_TTL_MAX_S)
                                                        * 1000u);
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

/*
 * challenges.c — the sweeper's oracle (challenges.h): cert-manager's
 * Challenges listed once per namespace per pass ("" standing for all of
 * them), kept as (key, dnsName) pairs, and entries matched against them.
 *
 * Threads: the sweeper's only.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "base/clock.h"
#include "base/dname.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/challenges.h"
#include "k8s/secrets.h"
#include "solver/sweep.h"
#include "k8s/kclient.h"
#include "solver/journal.h"

#define ACME_LABEL "_acme-challenge."
#define LIST_BUDGET_MS 30000u /* every page of one list */
#define HINT                                                                                       \
    "without it, an orphaned value is removed only once it is older than cleanup.orphanAfter"

struct pair {
    char *key;
    char dns[ZP_DNAME_MAX]; /* canonical: lower case, one trailing dot, no "*." */
};

/* What one list found in one namespace ("": all of them) during this pass. */
struct listing {
    char ns[254];
    int ok;
    struct zp_err err; /* when !ok */
    struct pair *pairs;
    size_t n;
    struct listing *next;
};

struct zp_challenges {
    struct zp_kclient *k;
    char *cluster_ns; /* NULL: any namespace may be it */
    struct listing *lists;
};

/* ---- matching --------------------------------------------------------------------------- */

/* dnsName as compared: "*." dropped, canonical; "" when it is not a name. */
static void canon_dns(const char *dns, char *out, size_t sz)
{
    if (dns == NULL)
        dns = "";
    if (strncmp(dns, "*.", 2) == 0)
        dns += 2;
    if (*dns == '\0' || zp_dname_canon(dns, out, sz) == -1)
        out[0] = '\0';
}

/* The name whose challenge fqdn is, canonical; "" when fqdn is not an _acme-challenge name. */
static void challenge_base(const char *fqdn, char *out, size_t sz)
{
    out[0] = '\0';
    if (strncasecmp(fqdn, ACME_LABEL, strlen(ACME_LABEL)) == 0)
        canon_dns(fqdn + strlen(ACME_LABEL), out, sz);
}

static int pair_matches(const char *base, const char *value, const struct pair *p)
{
    return strcmp(p->key, value) == 0 && (base[0] == '\0' || strcmp(p->dns, base) == 0);
}

int zp_challenge_matches(const char *fqdn, const char *value, const char *key, const char *dns_name)
{
    struct pair p;
    char base[ZP_DNAME_MAX];

    if (key == NULL || value == NULL || fqdn == NULL)
        return 0;
    challenge_base(fqdn, base, sizeof(base));
    p.key = (char *)key;
    canon_dns(dns_name, p.dns, sizeof(p.dns));
    return pair_matches(base, value, &p);
}

/* ---- listing ------------------------------------------------------------------------------ */

static void listing_free(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->pairs[i].key);
    free(l->pairs);
    free(l);
}

/* The pairs of a list reply; Challenges without spec.key are left out. */
static void keep_pairs(struct listing *l, const cJSON *reply)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(reply, "items"), *ch;

    l->pairs = zp_xcalloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*l->pairs));
    cJSON_ArrayForEach(ch, items)
    {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(ch, "spec");
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "key"));
        const char *dns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "dnsName"));
        if (key == NULL || *key == '\0' || strlen(key) > 512)
            continue;
        l->pairs[l->n].key = zp_xstrdup(key);
        canon_dns(dns, l->pairs[l->n].dns, sizeof(l->pairs[l->n].dns));
        l->n++;
    }
}

/* The Challenges of ns ("": every namespace) in this pass: listed on first use, then kept. */
static struct listing *listing(struct zp_challenges *c, const char *ns)
{
    struct zp_kobj o = {.verb = "list",
                        .group = "acme.cert-manager.io",
                        .version = "v1",
                        .resource = "challenges",
                        .ns = *ns ? ns : NULL,
                        .hint = HINT};
    struct listing *l;
    cJSON *reply = NULL;

    for (l = c->lists; l != NULL; l = l->next)
        if (strcmp(l->ns, ns) == 0)
            return l;
    l = zp_xcalloc(1, sizeof(*l));
    zp_strlcpy(l->ns, ns, sizeof(l->ns));
    l->next = c->lists;
    c->lists = l;
    if (zp_kclient_call(c->k, &o, NULL, zp_now_ms() + LIST_BUDGET_MS, 0, &reply, &l->err) == 0) {
        l->ok = 1;
        keep_pairs(l, reply);
        zp_log(ZP_LOG_DEBUG, "sweep: challenges listed", ZP_S("namespace", *ns ? ns : "(all)"),
               ZP_I("challenges", l->n), ZP_END);
    } else {
        if (l->err.kind == ZP_ENOTFOUND) {
            zp_err_clear(&l->err);
            zp_err_set(&l->err, ZP_ENOTFOUND,
                       "cert-manager's Challenges (challenges.acme.cert-manager.io/v1) are not "
                       "served by the Kubernetes API server (404 Not Found): is cert-manager "
                       "installed?");
            l->err.upstream = 404;
        }
        zp_log(ZP_LOG_INFO, "sweep: cannot list challenges", ZP_S("namespace", *ns ? ns : "(all)"),
               ZP_S("error", l->err.msg), ZP_END);
    }
    cJSON_Delete(reply);
    return l;
}

static int found(const struct listing *l, const struct zp_jentry *e)
{
    char base[ZP_DNAME_MAX];

    challenge_base(e->fqdn, base, sizeof(base));
    for (size_t i = 0; i < l->n; i++)
        if (pair_matches(base, e->value, &l->pairs[i]))
            return 1;
    return 0;
}

/* The answer from the entry's own namespace, when every namespace may not be listed. */
static int alive_in_namespace(struct zp_challenges *c, const struct listing *all,
                              const struct zp_jentry *e, struct zp_err *err)
{
    const struct listing *l;

    if (e->ns[0] == '\0') {
        *err = all->err;
        return -1;
    }
    l = listing(c, e->ns);
    if (!l->ok) {
        *err = l->err;
        return -1;
    }
    if (found(l, e))
        return 1;
    /* A ClusterIssuer's Challenge is in its Certificate's namespace: not seen from here. */
    if (c->cluster_ns == NULL || strcmp(c->cluster_ns, e->ns) == 0) {
        zp_err_set(err, ZP_EPERM,
                   "no Challenge in namespace %s has the value, and one from a ClusterIssuer may "
                   "be in any namespace: %s",
                   e->ns, all->err.msg);
        return -1;
    }
    return 0;
}

int zp_challenges_alive(void *arg, const struct zp_jentry *e, struct zp_err *err)
{
    struct zp_challenges *c = arg;
    const struct listing *all = listing(c, "");

    if (all->ok)
        return found(all, e);
    if (all->err.kind == ZP_EPERM)
        return alive_in_namespace(c, all, e, err);
    *err = all->err;
    return -1;
}

/* ---- the oracle ----------------------------------------------------------------------- */

struct zp_challenges *zp_challenges_new(struct zp_kclient *k, const char *cluster_ns)
{
    struct zp_challenges *c = zp_xcalloc(1, sizeof(*c));

    c->k = k;
    c->cluster_ns = cluster_ns && *cluster_ns ? zp_xstrdup(cluster_ns) : NULL;
    return c;
}

void zp_challenges_refresh(void *arg)
{
    struct zp_challenges *c = arg;

    while (c->lists != NULL) {
        struct listing *next = c->lists->next;
        listing_free(c->lists);
        c->lists = next;
    }
}

void zp_challenges_free(struct zp_challenges *c)
{
    if (c == NULL)
        return;
    zp_challenges_refresh(c);
    free(c->cluster_ns);
    free(c);
}

void zp_challenges_sweep_opts(struct zp_challenges *c, struct zp_kclient *k,
                              struct zp_sweep_opts *o)
{
    o->alive = zp_challenges_alive;
    o->alive_arg = c;
    o->begin = zp_challenges_refresh;
    o->secret_get = zp_secret_get;
    o->secret_arg = k;
}

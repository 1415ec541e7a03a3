/*
 * config.c — the configuration file: parsed once from YAML into an
 * immutable struct zp_config. Every error names file:line and the setting,
 * and says what would be accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/dname.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/provider.h"
#include "providers/settings.h"
#include "solver/config.h"
#include "solver/dnsq.h"
#include "solver/persist.h"
#include "solver/watch.h"

#define MAX_INSTANCES 256
#define MAX_PERSIST 256

static const char *const top_keys[] = {"groupName",       "solverName",  "clusterResourceNamespace",
                                       "propagation",     "providers",   "workers",
                                       "caaIssuers",      "dnssec",      "publicSuffixList",
                                       "cleanup",         "followCNAME", "persist",
                                       "persistInterval", NULL};
static const char *const prop_keys[] = {"mode",        "timeout",         "resolvers",
                                        "nameservers", "verifyResolvers", NULL};
static const char *const dnssec_keys[] = {"validate", "trustAnchorFile", NULL};
static const char *const cleanup_keys[] = {"orphanAfter", "sweepInterval", NULL};
static const char *const worker_keys[] = {
    "watch", "provider", "maxWatches", "maxQueriesPerWatch", "maxQueued", NULL};
static const char *const persist_keys[] = {"name",         "issuer",   "accountURI", "wildcard",
                                           "persistUntil", "provider", "zone",       NULL};
static const char *const generic_keys[] = {
    "name", "type", "dnsZones", "ttl", "propagation", "namespaces", "firstLabels", "concurrency"};
#define N_GENERIC (sizeof(generic_keys) / sizeof(generic_keys[0]))

static char **strlist_dup(char **list, size_t n)
{
    char **out = zp_xcalloc(n + 1, sizeof(*out));

    for (size_t i = 0; i < n; i++)
        out[i] = zp_xstrdup(list[i]);
    return out;
}

static void prop_free(struct zp_prop_cfg *p)
{
    zp_strlist_free(p->resolvers);
    zp_strlist_free(p->nameservers);
    zp_strlist_free(p->verify_resolvers);
    p->resolvers = p->nameservers = p->verify_resolvers = NULL;
}

/*
 * Every entry through the one host:port parser, and no more than the
 * resolver code uses: past the limit Present would write and then fail.
 */
static int check_addrs(const struct zp_ynode *map, const char *path, const char *key, char **list,
                       size_t max, struct zp_err *err)
{
    char host[ZP_DNAME_MAX], why[192];
    unsigned port;
    size_t i;

    for (i = 0; list && list[i]; i++)
        if (zp_hostport_parse(list[i], 53, host, sizeof(host), &port, why, sizeof(why)) == -1)
            return zp_y_fail(zp_y_get(map, key), path, err,
                             "%s[%zu]: \"%s\" is not host:port: %s; for example "
                             "127.0.0.1:53 or [::1]:53",
                             key, i, list[i], why);
    if (i > max)
        return zp_y_fail(zp_y_get(map, key), path, err,
                         "%s lists %zu servers, more than the %zu zoneproof can ask; list at "
                         "most %zu",
                         key, i, max, max);
    return 0;
}

/* Reads a propagation: block over *p (which holds the defaults or the global block). */
static int parse_prop(const struct zp_ynode *map, const char *path, struct zp_prop_cfg *p,
                      struct zp_err *err)
{
    const char *mode = NULL;
    uint64_t timeout = p->timeout_ms;

    if (map == NULL)
        return 0;
    if (map->type != ZP_Y_MAP)
        return zp_y_fail(map, path, err,
                         "must be a mapping (mode, timeout, resolvers, nameservers)");
    if (zp_y_check_keys(map, path, prop_keys, err) == -1 ||
        zp_y_str(map, path, "mode", 0, &mode, err) == -1 ||
        zp_y_duration(map, path, "timeout", 0, 1000, 3600000, &timeout, err) == -1 ||
        zp_y_strlist(map, path, "resolvers", 0, &p->resolvers, &p->n_resolvers, err) == -1 ||
        zp_y_strlist(map, path, "nameservers", 0, &p->nameservers, &p->n_nameservers, err) == -1 ||
        zp_y_strlist(map, path, "verifyResolvers", 0, &p->verify_resolvers, &p->n_verify_resolvers,
                     err) == -1 ||
        check_addrs(map, path, "resolvers", p->resolvers, ZP_DNSQ_RESOLVERS_MAX, err) == -1 ||
        check_addrs(map, path, "nameservers", p->nameservers, ZP_WATCH_MAX_NS, err) == -1 ||
        check_addrs(map, path, "verifyResolvers", p->verify_resolvers, ZP_DNSQ_RESOLVERS_MAX,
                    err) == -1)
        return -1;
    /* The resolvers zoneproof asks see zoneproof's view (and cache its negative answers). */
    for (size_t i = 0; i < p->n_verify_resolvers; i++)
        for (size_t k = 0; k < p->n_resolvers; k++)
            if (strcmp(p->verify_resolvers[i], p->resolvers[k]) == 0)
                return zp_y_fail(zp_y_get(map, "verifyResolvers"), path, err,
                                 "verifyResolvers[%zu]: \"%s\" is also in resolvers: it sees "
                                 "zoneproof's view, not the CA's; list resolvers outside the "
                                 "split horizon",
                                 i, p->verify_resolvers[i]);
    if (mode != NULL) {
        if (strcmp(mode, "wait") == 0)
            p->mode = ZP_PROP_WAIT;
        else if (strcmp(mode, "skip") == 0)
            p->mode = ZP_PROP_SKIP;
        else
            return zp_y_fail(zp_y_get(map, "mode"), path, err,
                             "mode must be wait or skip, not \"%s\"", mode);
    }
    if (timeout > ZP_PROP_TIMEOUT_MAX_MS) {
        /* kube-apiserver cuts a request at 60 s: past that cert-manager sees a 504. */
        zp_log(ZP_LOG_WARN, "propagation timeout capped", ZP_S("setting", path),
               ZP_I("configured_ms", timeout), ZP_I("used_ms", ZP_PROP_TIMEOUT_MAX_MS), ZP_END);
        timeout = ZP_PROP_TIMEOUT_MAX_MS;
    }
    p->timeout_ms = timeout;
    return 0;
}

static int valid_instance_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_' || s[i] == '.'))
            return 0;
    return 1;
}

static int parse_zones(const struct zp_ynode *map, const char *path, struct zp_instance *in,
                       struct zp_err *err)
{
    char why[160];

    if (zp_y_strlist(map, path, "dnsZones", 1, &in->zones, &in->n_zones, err) == -1)
        return -1;
    for (size_t i = 0; i < in->n_zones; i++) {
        char canon[ZP_DNAME_MAX];
        if (zp_dname_check(in->zones[i], 0, why, sizeof(why)) == -1)
            return zp_y_fail(zp_y_get(map, "dnsZones"), path, err, "dnsZones[%zu]: \"%s\" %s", i,
                             in->zones[i], why);
        zp_dname_canon(in->zones[i], canon, sizeof(canon));
        free(in->zones[i]);
        in->zones[i] = zp_xstrdup(canon);
    }
    return 0;
}

/*
 * The keys a providers[] entry of ops' type may have: the generic ones, ops->keys and the keys
 * of its settings table. A type with more than fit is a mistake in zoneproof, and is said so
 * rather than silently refusing its last settings.
 */
static int allowed_keys(const struct zp_provider_ops *ops, const char **allowed, size_t cap,
                        struct zp_err *err)
{
    size_t na = 0;

    for (size_t i = 0; i < N_GENERIC; i++)
        allowed[na++] = generic_keys[i];
    for (size_t i = 0; ops->keys && ops->keys[i]; i++, na++)
        if (na < cap - 1)
            allowed[na] = ops->keys[i];
    if (ops->settings != NULL)
        na += zp_settings_keys(ops->settings, allowed + (na < cap - 1 ? na : cap - 1),
                               na < cap - 1 ? cap - 1 - na : 0);
    if (na > cap - 1)
        return zp_err_set(err, ZP_EINTERNAL,
                          "provider type %s has %zu settings with the generic ones, more than "
                          "the %zu solver/config.c has room for",
                          ops->type, na, cap - 1);
    allowed[na] = NULL;
    return 0;
}

static int parse_instance(const struct zp_config *cfg, const struct zp_ynode *map, size_t idx,
                          struct zp_instance *in, struct zp_err *err)
{
    char path[64];
    const char *name = NULL, *type = NULL;
    const char *allowed[64];
    unsigned long ttl = ZP_TTL_DEFAULT, conc = cfg->provider_workers;

    snprintf(path, sizeof(path), "providers[%zu]", idx);
    in->line = map->line;
    if (map->type != ZP_Y_MAP)
        return zp_y_fail(map, path, err, "must be a mapping with name, type and dnsZones");
    if (zp_y_str(map, path, "name", 1, &name, err) == -1 ||
        zp_y_str(map, path, "type", 1, &type, err) == -1)
        return -1;
    if (!valid_instance_name(name))
        return zp_y_fail(zp_y_get(map, "name"), path, err,
                         "name \"%s\" must be 1-63 lower-case letters, digits, '-', '_' or '.'",
                         name);
    for (size_t i = 0; i < idx; i++)
        if (strcmp(cfg->inst[i].name, name) == 0)
            return zp_y_fail(zp_y_get(map, "name"), path, err,
                             "name \"%s\" is already used by providers[%zu]", name, i);
    in->name = zp_xstrdup(name);
    in->ops = zp_provider_find(type);
    if (in->ops == NULL)
        return zp_y_fail(zp_y_get(map, "type"), path, err, "unknown type \"%s\" (known: %s)", type,
                         zp_provider_types());

    if (allowed_keys(in->ops, allowed, sizeof(allowed) / sizeof(allowed[0]), err) == -1)
        return -1;
    if (zp_y_check_keys(map, path, allowed, err) == -1 || parse_zones(map, path, in, err) == -1 ||
        zp_access_parse(map, path, &in->access, err) == -1 ||
        zp_y_uint(map, path, "ttl", 0, 1, 86400, &ttl, err) == -1 ||
        zp_y_uint(map, path, "concurrency", 0, 1, 64, &conc, err) == -1)
        return -1;
    in->ttl = (unsigned)ttl;
    in->concurrency = (unsigned)conc;

    in->prop = cfg->prop;
    in->prop.resolvers = strlist_dup(cfg->prop.resolvers, cfg->prop.n_resolvers);
    in->prop.nameservers = strlist_dup(cfg->prop.nameservers, cfg->prop.n_nameservers);
    in->prop.verify_resolvers =
        strlist_dup(cfg->prop.verify_resolvers, cfg->prop.n_verify_resolvers);
    {
        char ppath[80];
        snprintf(ppath, sizeof(ppath), "%s.propagation", path);
        if (parse_prop(zp_y_get(map, "propagation"), ppath, &in->prop, err) == -1)
            return -1;
    }
    return in->ops->config_parse(map, path, &in->cfg, err);
}

static int parse_workers(const struct zp_ynode *map, struct zp_config *cfg, struct zp_err *err)
{
    unsigned long w = cfg->watch_workers, p = cfg->provider_workers;
    unsigned long mw = cfg->max_watches, mq = cfg->watch_queries, mqd = cfg->max_queued;

    if (map == NULL)
        return 0;
    if (map->type != ZP_Y_MAP)
        return zp_y_fail(map, "workers", err,
                         "must be a mapping (watch, provider, maxWatches, maxQueriesPerWatch, "
                         "maxQueued)");
    if (zp_y_check_keys(map, "workers", worker_keys, err) == -1 ||
        zp_y_uint(map, "workers", "watch", 0, 1, 64, &w, err) == -1 ||
        zp_y_uint(map, "workers", "provider", 0, 1, 64, &p, err) == -1 ||
        zp_y_uint(map, "workers", "maxWatches", 0, 1, 1000000, &mw, err) == -1 ||
        zp_y_uint(map, "workers", "maxQueriesPerWatch", 0, 1, 1000000, &mq, err) == -1 ||
        zp_y_uint(map, "workers", "maxQueued", 0, 1, 1000000, &mqd, err) == -1)
        return -1;
    cfg->watch_workers = (unsigned)w;
    cfg->provider_workers = (unsigned)p;
    cfg->max_watches = (unsigned)mw;
    cfg->watch_queries = (unsigned)mq;
    cfg->max_queued = (unsigned)mqd;
    return 0;
}

/* cleanup: {orphanAfter, sweepInterval}: the sweeper (solver/sweep.h). */
static int parse_cleanup(const struct zp_ynode *map, struct zp_config *cfg, struct zp_err *err)
{
    if (map == NULL)
        return 0;
    if (map->type != ZP_Y_MAP)
        return zp_y_fail(map, "cleanup", err, "must be a mapping (orphanAfter, sweepInterval)");
    if (zp_y_check_keys(map, "cleanup", cleanup_keys, err) == -1 ||
        zp_y_duration(map, "cleanup", "orphanAfter", 0, 60000ull, 365ull * 86400000ull,
                      &cfg->orphan_after_ms, err) == -1 ||
        zp_y_duration(map, "cleanup", "sweepInterval", 0, 10000ull, 86400000ull,
                      &cfg->sweep_interval_ms, err) == -1)
        return -1;
    return 0;
}

/* dnssec: {validate: auto|true|false, trustAnchorFile: F}; caaIssuers; publicSuffixList. */
static int parse_checks(const struct zp_ynode *root, struct zp_config *cfg, struct zp_err *err)
{
    const struct zp_ynode *d = zp_y_get(root, "dnssec");
    const char *v = NULL, *ta = NULL, *psl = NULL;
    char why[160];

    if (zp_y_strlist(root, "configuration", "caaIssuers", 0, &cfg->caa_issuers, &cfg->n_caa_issuers,
                     err) == -1 ||
        zp_y_str(root, "configuration", "publicSuffixList", 0, &psl, err) == -1)
        return -1;
    for (size_t i = 0; i < cfg->n_caa_issuers; i++)
        if (zp_dname_check(cfg->caa_issuers[i], 0, why, sizeof(why)) == -1)
            return zp_y_fail(zp_y_get(root, "caaIssuers"), "configuration", err,
                             "caaIssuers[%zu]: \"%s\" %s (a CA's CAA identity, e.g. "
                             "letsencrypt.org)",
                             i, cfg->caa_issuers[i], why);
    cfg->psl_file = psl ? zp_xstrdup(psl) : NULL;
    if (d == NULL)
        return 0;
    if (d->type != ZP_Y_MAP)
        return zp_y_fail(d, "dnssec", err, "must be a mapping (validate, trustAnchorFile)");
    if (zp_y_check_keys(d, "dnssec", dnssec_keys, err) == -1 ||
        zp_y_str(d, "dnssec", "validate", 0, &v, err) == -1 ||
        zp_y_str(d, "dnssec", "trustAnchorFile", 0, &ta, err) == -1)
        return -1;
    if (v == NULL || strcmp(v, "auto") == 0)
        cfg->dnssec = ZP_DNSSEC_AUTO;
    else if (strcmp(v, "true") == 0)
        cfg->dnssec = ZP_DNSSEC_ON;
    else if (strcmp(v, "false") == 0)
        cfg->dnssec = ZP_DNSSEC_OFF;
    else
        return zp_y_fail(zp_y_get(d, "validate"), "dnssec", err,
                         "validate must be auto, true or false, not \"%s\"", v);
    cfg->trust_anchor_file = ta ? zp_xstrdup(ta) : NULL;
    return 0;
}

/* err's sentence (a validator's) again, with file:line and path before it. */
static int refail(const struct zp_ynode *node, const char *path, struct zp_err *err)
{
    char msg[sizeof(err->msg)];

    zp_strlcpy(msg, err->msg, sizeof(msg));
    zp_err_clear(err);
    return zp_y_fail(node, path, err, "%s", msg);
}

/* A persist: entry's strings (issuer canonical), checked as `zoneproof persist` checks its flags.
 */
static int persist_strings(const struct zp_ynode *map, const char *path, struct zp_persist_rec *r,
                           struct zp_err *err)
{
    const char *name = NULL, *issuer = NULL, *account = NULL, *until = NULL, *prov = NULL,
               *zone = NULL;
    char canon[ZP_DNAME_MAX];
    const char *bad = NULL;

    if (zp_y_check_keys(map, path, persist_keys, err) == -1 ||
        zp_y_str(map, path, "name", 1, &name, err) == -1 ||
        zp_y_str(map, path, "issuer", 1, &issuer, err) == -1 ||
        zp_y_str(map, path, "accountURI", 1, &account, err) == -1 ||
        zp_y_bool(map, path, "wildcard", 0, &r->wildcard, err) == -1 ||
        zp_y_str(map, path, "persistUntil", 0, &until, err) == -1 ||
        zp_y_str(map, path, "provider", 0, &prov, err) == -1 ||
        zp_y_str(map, path, "zone", 0, &zone, err) == -1)
        return -1;
    r->name = zp_xstrdup(name);
    r->account = zp_xstrdup(account);
    if (zp_persist_issuer(issuer, "issuer", canon, sizeof(canon), err) == -1)
        bad = "issuer";
    else if (zp_persist_account(account, "accountURI", err) == -1)
        bad = "accountURI";
    else if (until != NULL && zp_persist_until(until, "persistUntil", &r->until, err) == -1)
        bad = "persistUntil";
    if (bad != NULL)
        return refail(zp_y_get(map, bad), path, err);
    r->issuer = zp_xstrdup(canon);
    r->provider = prov ? zp_xstrdup(prov) : NULL;
    r->zone = zone ? zp_xstrdup(zone) : NULL;
    return 0;
}

static int parse_persist_entry(const struct zp_config *cfg, const struct zp_ynode *map, size_t idx,
                               struct zp_persist_rec *r, struct zp_err *err)
{
    char path[64], why[160];

    snprintf(path, sizeof(path), "persist[%zu]", idx);
    if (map->type != ZP_Y_MAP)
        return zp_y_fail(map, path, err, "must be a mapping with name, issuer and accountURI");
    if (persist_strings(map, path, r, err) == -1)
        return -1;
    if (zp_persist_rec_check(r, "name", err) == -1)
        return refail(zp_y_get(map, "name"), path, err);
    if (r->provider != NULL && zp_config_instance(cfg, r->provider) == NULL)
        return zp_y_fail(zp_y_get(map, "provider"), path, err,
                         "provider \"%s\" is not the name of one of the providers", r->provider);
    if (r->zone != NULL && zp_dname_check(r->zone, 0, why, sizeof(why)) == -1)
        return zp_y_fail(zp_y_get(map, "zone"), path, err, "zone \"%s\" %s", r->zone, why);
    for (size_t i = 0; i < idx; i++)
        if (strcasecmp(cfg->persist[i].name, r->name) == 0 &&
            strcmp(cfg->persist[i].issuer, r->issuer) == 0 &&
            strcmp(cfg->persist[i].account, r->account) == 0)
            return zp_y_fail(map, path, err, "the same name, issuer and accountURI as persist[%zu]",
                             i);
    return 0;
}

/* persist: [{name, issuer, accountURI, ...}], persistInterval: the records serve keeps. */
static int parse_persist(const struct zp_ynode *root, struct zp_config *cfg, struct zp_err *err)
{
    const struct zp_ynode *list = zp_y_get(root, "persist");

    if (zp_y_duration(root, "configuration", "persistInterval", 0, 10000ull, 86400000ull,
                      &cfg->persist_interval_ms, err) == -1)
        return -1;
    if (list == NULL)
        return 0;
    if (list->type != ZP_Y_SEQ)
        return zp_y_fail(list, "persist", err,
                         "must be a list of records (name, issuer, accountURI, …)");
    if (list->n > MAX_PERSIST)
        return zp_y_fail(list, "persist", err, "more than %d records", MAX_PERSIST);
    cfg->persist = zp_xcalloc(list->n + 1, sizeof(*cfg->persist));
    for (size_t i = 0; i < list->n; i++) {
        cfg->n_persist = i + 1;
        if (parse_persist_entry(cfg, list->items[i], i, &cfg->persist[i], err) == -1)
            return -1;
    }
    return 0;
}

static int parse_root(const struct zp_ynode *root, struct zp_config *cfg, struct zp_err *err)
{
    const char *group = NULL, *solver = NULL, *cns = NULL;
    const struct zp_ynode *provs;
    char why[160];

    if (root == NULL || root->type != ZP_Y_MAP)
        return zp_err_set(err, ZP_ECONFIG,
                          "%s: must be a YAML mapping with at least a providers: list "
                          "(see docs/configuration.md)",
                          cfg->file);
    if (zp_y_check_keys(root, "configuration", top_keys, err) == -1 ||
        zp_y_str(root, "configuration", "groupName", 0, &group, err) == -1 ||
        zp_y_str(root, "configuration", "solverName", 0, &solver, err) == -1 ||
        zp_y_str(root, "configuration", "clusterResourceNamespace", 0, &cns, err) == -1 ||
        zp_y_bool(root, "configuration", "followCNAME", 0, &cfg->follow_cname, err) == -1 ||
        parse_workers(zp_y_get(root, "workers"), cfg, err) == -1 ||
        parse_checks(root, cfg, err) == -1 ||
        parse_cleanup(zp_y_get(root, "cleanup"), cfg, err) == -1 ||
        parse_prop(zp_y_get(root, "propagation"), "propagation", &cfg->prop, err) == -1)
        return -1;
    if (group != NULL) {
        if (zp_dname_check(group, 0, why, sizeof(why)) == -1 || strchr(group, '.') == NULL)
            return zp_y_fail(zp_y_get(root, "groupName"), "configuration", err,
                             "groupName \"%s\" must be a DNS-style API group such as "
                             "acme.example.com",
                             group);
        cfg->group_name = zp_xstrdup(group);
    }
    if (solver != NULL) {
        if (!valid_instance_name(solver))
            return zp_y_fail(zp_y_get(root, "solverName"), "configuration", err,
                             "solverName \"%s\" must be lower-case letters, digits and '-'",
                             solver);
        free(cfg->solver_name);
        cfg->solver_name = zp_xstrdup(solver);
    }
    if (cns != NULL) {
        if (!zp_access_valid_namespace(cns))
            return zp_y_fail(zp_y_get(root, "clusterResourceNamespace"), "configuration", err,
                             "clusterResourceNamespace \"%s\" must be a namespace name "
                             "(cert-manager's --cluster-resource-namespace)",
                             cns);
        free(cfg->cluster_ns);
        cfg->cluster_ns = zp_xstrdup(cns);
    }

    provs = zp_y_get(root, "providers");
    if (provs == NULL || provs->type != ZP_Y_SEQ || provs->n == 0)
        return zp_y_fail(provs ? provs : root, "configuration", err,
                         "providers must be a non-empty list of provider instances "
                         "(name, type, dnsZones, …)");
    if (provs->n > MAX_INSTANCES)
        return zp_y_fail(provs, "configuration", err, "more than %d providers", MAX_INSTANCES);
    cfg->inst = zp_xcalloc(provs->n, sizeof(*cfg->inst));
    for (size_t i = 0; i < provs->n; i++) {
        cfg->n_inst = i + 1;
        if (parse_instance(cfg, provs->items[i], i, &cfg->inst[i], err) == -1)
            return -1;
    }
    return parse_persist(root, cfg, err);
}

int zp_config_parse(const char *name, const char *text, size_t len, struct zp_config **out,
                    struct zp_err *err)
{
    struct zp_ydoc doc;
    struct zp_config *cfg;
    int rc = -1;

    *out = NULL;
    if (zp_yaml_load_string(name, text, len, &doc, err) == -1)
        return -1;
    cfg = zp_xcalloc(1, sizeof(*cfg));
    cfg->file = zp_xstrdup(name);
    cfg->solver_name = zp_xstrdup(ZP_DEFAULT_SOLVER_NAME);
    cfg->cluster_ns = zp_xstrdup(ZP_CLUSTER_NS_DEFAULT);
    cfg->prop.mode = ZP_PROP_WAIT;
    cfg->prop.timeout_ms = ZP_PROP_TIMEOUT_DEFAULT_MS;
    cfg->watch_workers = 4;
    cfg->provider_workers = 8;
    cfg->max_watches = ZP_WATCH_MAX_DEFAULT;
    cfg->watch_queries = ZP_WATCH_QUERY_BUDGET_DEFAULT;
    cfg->max_queued = ZP_QUEUED_DEFAULT;
    cfg->orphan_after_ms = ZP_ORPHAN_AFTER_DEFAULT_MS;
    cfg->sweep_interval_ms = ZP_SWEEP_INTERVAL_DEFAULT_MS;
    cfg->persist_interval_ms = ZP_PERSIST_INTERVAL_DEFAULT_MS;
    if (parse_root(doc.root, cfg, err) == -1)
        goto out;
    *out = cfg;
    cfg = NULL;
    rc = 0;
out:
    zp_config_free(cfg);
    zp_yaml_free(&doc);
    return rc;
}

int zp_config_load(const char *path, struct zp_config **out, struct zp_err *err)
{
    return zp_config_load_as(path, "configuration file", out, err);
}

int zp_config_load_as(const char *path, const char *what, struct zp_config **out,
                      struct zp_err *err)
{
    struct zp_buf b;
    int rc;

    zp_buf_init(&b, ZP_YAML_MAX_BYTES);
    if (zp_buf_read_file(&b, path, ZP_YAML_MAX_BYTES, what, err) == -1) {
        zp_buf_free(&b);
        return -1;
    }
    rc = zp_config_parse(path, zp_buf_str(&b), b.len, out, err);
    zp_buf_free(&b);
    return rc;
}

void zp_config_free(struct zp_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->n_inst; i++) {
        struct zp_instance *in = &cfg->inst[i];
        if (in->ops && in->cfg && in->ops->config_free)
            in->ops->config_free(in->cfg);
        zp_strlist_free(in->zones);
        prop_free(&in->prop);
        zp_access_free(&in->access);
        free(in->name);
    }
    free(cfg->inst);
    for (size_t i = 0; i < cfg->n_persist; i++) {
        struct zp_persist_rec *r = &cfg->persist[i];
        free(r->name);
        free(r->issuer);
        free(r->account);
        free(r->provider);
        free(r->zone);
    }
    free(cfg->persist);
    prop_free(&cfg->prop);
    zp_strlist_free(cfg->caa_issuers);
    free(cfg->trust_anchor_file);
    free(cfg->psl_file);
    free(cfg->group_name);
    free(cfg->solver_name);
    free(cfg->cluster_ns);
    free(cfg->file);
    free(cfg);
}

const struct zp_instance *zp_config_instance(const struct zp_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_inst; i++)
        if (strcmp(cfg->inst[i].name, name) == 0)
            return &cfg->inst[i];
    return NULL;
}

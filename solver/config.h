/*
 * config.h — zoneproof's configuration: the API group, the propagation
 * policy and the provider instances. Loaded once from YAML, validated
 * completely, immutable afterwards. See docs/configuration.md.
 */
#ifndef ZP_SOLVER_CONFIG_H
#define ZP_SOLVER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/yaml.h"
#include "solver/access.h"

struct zp_err;
struct zp_provider_ops;

#define ZP_DEFAULT_SOLVER_NAME "zoneproof"
#define ZP_PROP_TIMEOUT_DEFAULT_MS 25000u
#define ZP_PROP_TIMEOUT_MAX_MS 50000u /* kube-apiserver cuts requests at 60 s */
#define ZP_TTL_DEFAULT 60u
#define ZP_ORPHAN_AFTER_DEFAULT_MS (24ull * 3600 * 1000)   /* cleanup.orphanAfter */
#define ZP_SWEEP_INTERVAL_DEFAULT_MS (10ull * 60 * 1000)   /* cleanup.sweepInterval */
#define ZP_PERSIST_INTERVAL_DEFAULT_MS (10ull * 60 * 1000) /* persistInterval */

enum zp_prop_mode { ZP_PROP_WAIT, ZP_PROP_SKIP };

struct zp_prop_cfg {
    enum zp_prop_mode mode;
    uint64_t timeout_ms;
    char **resolvers; /* NULL-terminated "host:port"; empty: /etc/resolv.conf */
    size_t n_resolvers;
    char **nameservers; /* NULL-terminated "host:port"; empty: discover */
    size_t n_nameservers;
    /* Resolvers that see what the CA sees (split horizon): each must return the value too. */
    char **verify_resolvers;
    size_t n_verify_resolvers;
};

/* dnssec.validate: auto checks the chain whenever zoneproof has resolvers to ask. */
enum zp_dnssec_mode { ZP_DNSSEC_AUTO = 0, ZP_DNSSEC_ON, ZP_DNSSEC_OFF };

struct zp_instance {
    char *name;
    const struct zp_provider_ops *ops;
    void *cfg;    /* what ops->config_parse produced */
    char **zones; /* dnsZones, canonical: lower case, trailing dot */
    size_t n_zones;
    unsigned ttl;
    unsigned concurrency;    /* calls at once: its own threads; 0: workers.provider */
    struct zp_prop_cfg prop; /* the global block with this instance's overrides */
    struct zp_access access; /* namespaces:, firstLabels: (solver/access.h) */
    int line;
};

/*
 * A DNS-PERSIST-01 record (solver/persist.h): a persist: entry of the
 * configuration, or what `zoneproof persist` was given for one NAME.
 */
struct zp_persist_rec {
    char *name;      /* example.com, or *.example.com for the wildcard policy */
    char *issuer;    /* the CA's issuer domain, lower case, no trailing dot */
    char *account;   /* accountURI */
    int wildcard;    /* policy=wildcard */
    long long until; /* persistUntil (unix); 0: none */
    char *provider;  /* an instance name; NULL: routed by dnsZones */
    char *zone;      /* NULL: the zone DNS says holds the name */
};

/*
 * workers.maxQueued by default: challenges waiting for a provider instance's
 * workers. Past it a new one is answered "busy; retry" at once. 16,384
 * takes a burst of 10,000 certificates at once; a queued challenge costs
 * about 2 KB until a worker takes it.
 */
#define ZP_QUEUED_DEFAULT 16384u

struct zp_config {
    char *file;
    char *group_name;  /* groupName; GROUP_NAME in the environment wins */
    char *solver_name; /* solverName, default "zoneproof" */
    char *cluster_ns;  /* clusterResourceNamespace: ClusterIssuers' resourceNamespace */
    struct zp_prop_cfg prop;
    char **caa_issuers; /* caaIssuers: the CAs' CAA identities; empty: CAA not judged */
    size_t n_caa_issuers;
    enum zp_dnssec_mode dnssec; /* dnssec.validate */
    char *trust_anchor_file;    /* dnssec.trustAnchorFile; NULL: the root's built-in anchors */
    char *psl_file;             /* publicSuffixList; NULL: the system's list */
    unsigned watch_workers;     /* workers.watch, default 4 */
    unsigned provider_workers;  /* workers.provider, default 8 */
    unsigned max_watches;       /* workers.maxWatches, default ZP_WATCH_MAX_DEFAULT */
    unsigned watch_queries;     /* workers.maxQueriesPerWatch, ZP_WATCH_QUERY_BUDGET_DEFAULT */
    unsigned max_queued;        /* workers.maxQueued, per instance, ZP_QUEUED_DEFAULT */
    uint64_t orphan_after_ms;   /* cleanup.orphanAfter: when no Challenge can be asked about */
    uint64_t sweep_interval_ms; /* cleanup.sweepInterval: between two passes of serve's sweeper */
    int follow_cname;           /* followCNAME: the CLI follows a CNAME at the name it writes */
    struct zp_persist_rec *persist; /* persist:, kept in place by serve (solver/persist.h) */
    size_t n_persist;
    uint64_t persist_interval_ms; /* persistInterval: between two checks of persist: */
    int cli; /* not a setting: the requests come from the command line or a client's hook, so
                sentences name --provider and --zone, not the Issuer's config (cmd/) */
    struct zp_instance *inst;
    size_t n_inst;
};

int zp_config_load(const char *path, struct zp_config **out, struct zp_err *err);
/* zp_config_load with what ("--config") naming where the path came from in file errors. */
int zp_config_load_as(const char *path, const char *what, struct zp_config **out,
                      struct zp_err *err);
int zp_config_parse(const char *name, const char *text, size_t len, struct zp_config **out,
                    struct zp_err *err);
void zp_config_free(struct zp_config *cfg);

/* The instance named name, or NULL. */
const struct zp_instance *zp_config_instance(const struct zp_config *cfg, const char *name);

#endif

/*
 * provider.h — the contract every DNS provider implements.
 *
 * Rules for implementers:
 *  - present() ADDS rec->value to the TXT set at rec->fqdn and is
 *    idempotent: a value already there is success. Other TXT values at the
 *    same name (an apex and a wildcard certificate validate at the same
 *    _acme-challenge name, often at once) and records of other types or
 *    names are never changed.
 *  - cleanup() removes exactly rec->value; "already gone" is success.
 *  - Every call honours call->deadline_ms and fails with ZP_ETIMEOUT when
 *    it runs out.
 *  - No mutable globals: calls run concurrently for different names. A
 *    provider whose API needs read-modify-write of a whole RRset sets
 *    ZP_PROV_RMW, and the solver then never runs two calls for the same
 *    name at once.
 *  - err->msg is shown to users in Challenge.status.reason: no secrets, no
 *    timestamps, no request ids. Upstream bodies go to the log.
 *  - config_parse validates once, at start; errors name file:line and the
 *    setting. The parsed config is read-only afterwards.
 */
#ifndef ZP_PROVIDERS_PROVIDER_H
#define ZP_PROVIDERS_PROVIDER_H

#include <stdint.h>

struct zp_buf;
struct zp_err;
struct zp_setting;
struct zp_ynode;

struct zp_record {
    const char *fqdn;  /* "_acme-challenge.example.com.": lower case, trailing dot */
    const char *zone;  /* "example.com.": the zone to write in, trailing dot */
    const char *value; /* the TXT value, exactly as it must be served */
    unsigned ttl;      /* seconds */
};

/* What the solver lends a provider for one call. */
struct zp_prov_call {
    uint64_t deadline_ms;           /* absolute, on the zp_now_ms() clock */
    int allow_ambient;              /* ChallengeRequest.allowAmbientCredentials */
    const char *resource_namespace; /* ChallengeRequest.resourceNamespace */
    const char *instance;           /* the provider instance's name, for logs */
    int cli; /* the command line or a client's hook asks (zp_config.cli): advice names flags */
    /*
     * Reads one key of a Kubernetes Secret in ns (secretRef options). NULL
     * when no cluster is configured; providers then say that secretRef
     * needs one. The caller wipes out after use.
     */
    int (*secret_get)(void *arg, const char *ns, const char *name, const char *key,
                      struct zp_buf *out, struct zp_err *err);
    void *secret_arg;
};

#define ZP_PROV_RMW 0x1u /* present/cleanup read-modify-write a whole RRset */
/*
 * Every name the provider writes is one its credentials own, and holds only
 * challenge values (an acme-dns account's fulldomain, a random label): the
 * firstLabels rule of solver/access.h defaults to any label.
 */
#define ZP_PROV_OWN_NAMES 0x2u

struct zp_provider_ops {
    const char *type; /* the "type:" of a providers: entry */
    unsigned flags;
    /* Settings this type reads, besides the generic ones (name, type, dnsZones, ttl, propagation).
     */
    const char *const *keys;
    /*
     * The settings table (settings.h) of the type, or NULL. When set, the keys it names are
     * allowed besides .keys, which then lists only the keys config_parse reads by hand.
     */
    const struct zp_setting *settings;

    /* node: the providers[i] mapping; path: "providers[i]" for messages. */
    int (*config_parse)(const struct zp_ynode *node, const char *path, void **cfgp,
                        struct zp_err *err);
    void (*config_free)(void *cfg);

    int (*present)(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                   struct zp_err *err);
    int (*cleanup)(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                   struct zp_err *err);
    /*
     * Optional (`doctor`): proves that the credentials may write in
     * rec->zone without changing anything. 0 when proven (err->msg may say
     * how far), -1 with the sentence otherwise. NULL: not provable without
     * a write.
     */
    int (*verify)(void *cfg, const struct zp_record *rec, const struct zp_prov_call *call,
                  struct zp_err *err);
};

/* NULL if no provider has that type. */
const struct zp_provider_ops *zp_provider_find(const char *type);
/* "rfc2136, …": every known type, for error messages. */
const char *zp_provider_types(void);

#endif

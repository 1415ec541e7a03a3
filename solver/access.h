/*
 * access.h — who may use a provider instance and which names it may write
 * (docs/security.md). A provider instance holds credentials for whole
 * zones; cert-manager lets anyone who can create an Issuer in a namespace
 * send challenges. So each instance lists the resourceNamespaces allowed
 * to use it (without a list: only cert-manager's cluster resource
 * namespace, i.e. ClusterIssuers), and writes only names inside its
 * dnsZones whose first label is a challenge label — also when the Issuer
 * names the instance in config.provider, which bypasses dnsZones routing.
 */
#ifndef ZP_SOLVER_ACCESS_H
#define ZP_SOLVER_ACCESS_H

#include <stddef.h>

#include "base/yaml.h"

struct zp_err;
struct zp_config;
struct zp_instance;
struct zp_challenge;

#define ZP_CLUSTER_NS_DEFAULT "cert-manager"

struct zp_access {
    char **namespaces; /* NULL: the cluster resource namespace only; "*": any */
    size_t n_namespaces;
    char **first_labels; /* NULL: _acme-challenge and _validation-persist; "*": any */
    size_t n_first_labels;
};

/* namespaces: and firstLabels: of one instance (path names it in errors). */
int zp_access_parse(const struct zp_ynode *map, const char *path, struct zp_access *a,
                    struct zp_err *err);
void zp_access_free(struct zp_access *a);
/* 1 for a Kubernetes namespace name: an RFC 1123 label, at most 63 characters. */
int zp_access_valid_namespace(const char *s);

/*
 * 0 when ch may use inst; -1 with a ZP_EAUTH sentence naming the namespace
 * or the name and the setting that would allow it. Nothing is written
 * before this passes. The namespace is checked only for challenges that
 * came through the API (ch->from_api): a CLI user holds the credentials.
 */
int zp_access_check(const struct zp_config *cfg, const struct zp_instance *inst,
                    const struct zp_challenge *ch, struct zp_err *err);

#endif

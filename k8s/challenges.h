/*
 * challenges.h — the sweeper's oracle (solver/sweep.h zp_sweep_alive_fn):
 * does the cert-manager Challenge (acme.cert-manager.io/v1) behind a journal
 * entry still exist? Challenges are listed at most once per namespace per
 * sweep pass (zp_challenges_refresh starts a pass), read only.
 *
 * Where to look: a Challenge lives in its Certificate's namespace, and an
 * entry's namespace is the request's resourceNamespace: the Issuer's
 * namespace (the same one) or, for a ClusterIssuer, cert-manager's cluster
 * resource namespace (not the Challenge's). So the oracle lists every
 * namespace first (one call answers every entry). Only when that is
 * forbidden does it list the entry's namespace, and there a missing
 * Challenge proves nothing for an entry in the cluster resource namespace
 * (or with none): those are "cannot tell", and their age decides.
 *
 * An entry is live when a Challenge has its value as spec.key and, for an
 * _acme-challenge name, its spec.dnsName (a leading "*." dropped) is that
 * name without its first label (case and a trailing dot ignored). A value
 * written at another name (a CNAME was followed) matches on spec.key alone.
 *
 * Threads: one, the sweeper's (a pass's lists are kept without a lock).
 */
#ifndef ZP_K8S_CHALLENGES_H
#define ZP_K8S_CHALLENGES_H

#include <stdint.h>

struct zp_err;
struct zp_jentry;
struct zp_kclient;
struct zp_challenges;

/*
 * k is borrowed and must outlive the oracle. cluster_ns: cert-manager's
 * cluster resource namespace (zp_config's clusterResourceNamespace); NULL
 * treats every namespace as possibly it.
 */
struct zp_challenges *zp_challenges_new(struct zp_kclient *k, const char *cluster_ns);
void zp_challenges_free(struct zp_challenges *c);

/* Starts a sweep pass (zp_sweep_opts.begin; arg is a struct zp_challenges): what earlier passes
 * listed is forgotten. */
void zp_challenges_refresh(void *arg);
/*
 * A sweep in the cluster of k: c as the oracle (alive, begin) and k's
 * Secrets for secretRef credentials, into o.
 */
struct zp_sweep_opts;
void zp_challenges_sweep_opts(struct zp_challenges *c, struct zp_kclient *k,
                              struct zp_sweep_opts *o);

/*
 * The oracle: arg is a struct zp_challenges. 1 live, 0 gone, -1 cannot tell
 * (err: forbidden, with the permission named; the CRD is not installed; the
 * API could not be reached).
 */
int zp_challenges_alive(void *arg, const struct zp_jentry *e, struct zp_err *err);

/* ---- pure, for the tests ---------------------------------------------------------------- */

/* Whether a Challenge (spec.key, spec.dnsName) matches the entry's value at fqdn. */
int zp_challenge_matches(const char *fqdn, const char *value, const char *key,
                         const char *dns_name);

#endif

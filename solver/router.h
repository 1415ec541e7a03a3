/*
 * router.h — picks the provider instance for a challenge: the one named by
 * config.provider, or else the one whose dnsZones entry is the longest
 * label-wise, case-insensitive suffix of resolvedFQDN (cert-manager's own
 * rule; ties go to the instance listed first).
 */
#ifndef ZP_SOLVER_ROUTER_H
#define ZP_SOLVER_ROUTER_H

struct zp_config;
struct zp_instance;
struct zp_err;

/*
 * zone_out (may be NULL) receives the matching dnsZones entry, which is the
 * zone to write in when the request names none.
 */
const struct zp_instance *zp_route(const struct zp_config *cfg, const char *fqdn,
                                   const char *provider, const char **zone_out, struct zp_err *err);

#endif

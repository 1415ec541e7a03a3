/*
 * precheck.h — the checks of `doctor` that change Present's answer, run
 * before anything is written: a public suffix, a CNAME at the name, a
 * write into a zone below which the name is delegated, a CAA set that
 * refuses the configured CAs, and a broken DNSSEC chain. Each is a failure
 * the CA would turn into a failed validation (a slot of its rate limit),
 * so Present refuses with the reason instead of writing.
 *
 * Shared by every provider worker: the loaded lists are immutable, the
 * per-zone DNSSEC results are cached under a lock.
 */
#ifndef ZP_SOLVER_PRECHECK_H
#define ZP_SOLVER_PRECHECK_H

#include <stdint.h>

#include "solver/dnsq.h"
#include "solver/zone.h"

struct zp_config;
struct zp_instance;
struct zp_challenge;
struct zp_err;
struct zp_psl;
struct zp_dnssec_anchor;
struct zp_watch_report;

struct zp_precheck;

/* Loads the Public Suffix List and the trust anchors named by cfg. */
int zp_precheck_new(const struct zp_config *cfg, struct zp_precheck **out, struct zp_err *err);
void zp_precheck_free(struct zp_precheck *pc);

/*
 * Before Present writes ch in zone through inst. Returns 0 when nothing
 * the CA would refuse was found, -1 with the sentence otherwise (nothing
 * written). Blocks for a few queries, never past deadline.
 */
int zp_precheck_present(struct zp_precheck *pc, const struct zp_instance *inst,
                        const struct zp_challenge *ch, const char *zone, uint64_t deadline,
                        struct zp_err *err);

/*
 * The recursive resolvers zoneproof asks for inst (configured ones, or
 * resolv.conf's when it discovers the nameservers), parsed at most once a
 * minute; returns how many. Pinned nameservers without resolvers: none
 * (zoneproof asks no resolver), unless dnssec.validate is true.
 */
int zp_precheck_resolvers(struct zp_precheck *pc, const struct zp_instance *inst,
                          struct zp_dnsq_resolvers *r);

/*
 * The zone that holds fqdn and a CNAME there: one SOA question to the
 * resolvers (the SOA walk when that names no zone), or, when r is empty,
 * to inst's first pinned server. asked receives the server's address (for
 * a dig). Returns -1 with a sentence when nobody could tell.
 */
int zp_precheck_zone_of(const struct zp_instance *inst, const struct zp_dnsq_resolvers *r,
                        const char *fqdn, uint64_t deadline, struct zp_zone_info *zi, char *asked,
                        size_t askedsz, struct zp_err *err);

/*
 * Without a zone (ch->zone ""): the zone DNS says holds ch->fqdn (zone
 * discovery, as cert-manager does it) becomes ch->zone, when it lies inside
 * entry, the dnsZones entry inst was routed by (NULL: any zone). When DNS
 * cannot tell, or the name is an alias, ch->zone stays "": the caller keeps
 * the entry, and Present's checks explain. The CLI's commands and the
 * persist records (solver/persist.c) use it.
 */
void zp_precheck_discover_zone(struct zp_precheck *pc, const struct zp_instance *inst,
                               const char *entry, struct zp_challenge *ch);

/* CNAMEs zp_precheck_follow follows at most: the CA's own resolvers give up soon after. */
#define ZP_CNAME_CHAIN_MAX 8

struct zp_buf;

/*
 * --follow-cname: the name the CNAME chain at fqdn ends at (fqdn itself when
 * it has no CNAME), copied into target. Each name is asked as
 * zp_precheck_zone_of asks, of the servers of the provider whose dnsZones
 * hold it, else of fallback's. chain receives "a. -> b. -> c.". Returns -1
 * with a sentence naming the names for a loop, a chain of more than
 * ZP_CNAME_CHAIN_MAX CNAMEs, or a name nobody could be asked about.
 */
int zp_precheck_follow(struct zp_precheck *pc, const struct zp_instance *fallback, const char *fqdn,
                       uint64_t deadline, char *target, size_t targetsz, struct zp_buf *chain,
                       struct zp_err *err);

/*
 * After every authoritative server serves value at fqdn: whether the
 * resolvers of propagation.verifyResolvers (what the CA sees) return it
 * too. 0 when they do or none are configured; -1 with the sentence (a
 * split horizon, or an older answer cached there).
 */
int zp_precheck_view(const struct zp_instance *inst, const char *fqdn, const char *value,
                     uint64_t deadline, struct zp_err *err);

/*
 * A laggard that answers NXDOMAIN or NODATA may hold the value under the
 * doubled name fqdn+zone; zp_precheck_doubled asks addr (one query) and, if
 * so, appends that to err's sentence. zp_precheck_doubled_where picks the
 * laggard of a report to ask, or NULL.
 */
const char *zp_precheck_doubled_where(const struct zp_watch_report *rep);
void zp_precheck_doubled(const char *addr, const char *fqdn, const char *zone, const char *value,
                         uint64_t deadline, struct zp_err *err);

/* The loaded lists, for doctor. */
const struct zp_psl *zp_precheck_psl(const struct zp_precheck *pc);
const struct zp_dnssec_anchor *zp_precheck_anchor(const struct zp_precheck *pc);

/* "www.example.com." from "_acme-challenge.www.example.com."; the fqdn itself otherwise. */
void zp_precheck_cert_name(const char *fqdn, char *out, size_t outsz);

#endif

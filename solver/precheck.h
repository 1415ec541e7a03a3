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

struct zp_config;
struct zp_instance;
struct zp_challenge;
struct zp_err;
struct zp_psl;
struct zp_dnssec_anchor;

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
 * Whether zoneproof asks recursive resolvers for inst (configured ones, or
 * resolv.conf when it discovers the nameservers); fills r when it does.
 * Pinned nameservers without resolvers: zoneproof asks no resolver at all.
 */
int zp_precheck_resolvers(const struct zp_instance *inst, struct zp_dnsq_resolvers *r);

/* The loaded lists, for doctor. */
const struct zp_psl *zp_precheck_psl(const struct zp_precheck *pc);
const struct zp_dnssec_anchor *zp_precheck_anchor(const struct zp_precheck *pc);

/* "www.example.com." from "_acme-challenge.www.example.com."; the fqdn itself otherwise. */
void zp_precheck_cert_name(const char *fqdn, char *out, size_t outsz);

#endif

/*
 * zone.h — where a name lives in DNS: the zone that holds it (an SOA walk
 * through the resolvers, as cert-manager does it), a CNAME at the name, and
 * the zone's delegation as the parent publishes it and as the zone itself
 * does. `doctor`, `check`, the CLI and Present share these answers.
 */
#ifndef ZP_SOLVER_ZONE_H
#define ZP_SOLVER_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "base/dname.h"
#include "solver/dnsq.h"
#include "solver/watch.h"

struct zp_buf;
struct zp_err;

struct zp_zone_info {
    char zone[ZP_DNAME_MAX];  /* the apex of the zone that holds the name */
    char cname[ZP_DNAME_MAX]; /* the target of a CNAME at the name itself; "" when none */
};

/*
 * The zone that holds name: the name itself or the nearest ancestor whose
 * SOA the resolvers return with that owner. Names with a CNAME are skipped
 * (a CNAME cannot sit at an apex); a CNAME at name itself is reported in
 * info->cname. Queries carry CD, so a zone whose DNSSEC is broken is still
 * found (the DNSSEC check says what is wrong with it). Errors are sentences
 * naming the resolver and what it answered.
 */
int zp_zone_find(const struct zp_dnsq_resolvers *r, const char *name, uint64_t deadline,
                 struct zp_zone_info *info, struct zp_err *err);

/*
 * One question for the zone of name, asked of one server: the SOA of name,
 * read from the answer (name is an apex) or from the authority section of
 * a negative answer. flags: ZP_DNSQ_RD|ZP_DNSQ_CD for a resolver, 0 for an
 * authoritative server. Returns 0 with info (zone "" when the answer names
 * no SOA: a referral, REFUSED), or -1 with why when no answer came.
 */
int zp_zone_ask(const struct zp_ns_target *t, unsigned flags, const char *name, uint64_t deadline,
                struct zp_zone_info *info, char *why, size_t whysz);

/*
 * Whether the CNAME cname at name is synthesized from a wildcard (*.parent,
 * or further up to the zone's apex, with the same target), asked of t. A
 * write at name creates the name, and the wildcard no longer answers for it.
 */
int zp_zone_wildcard_alias(const struct zp_ns_target *t, unsigned flags, const char *name,
                           const char *cname, uint64_t deadline);

/* The parent of name ("example.com." for "www.example.com."; "." for a TLD); "" for ".". */
void zp_zone_parent(const char *name, char *out, size_t outsz);

/* Where a nameserver of a delegation was found. */
#define ZP_DELEG_CHILD 1u  /* in the zone's own NS set */
#define ZP_DELEG_PARENT 2u /* in the parent's delegation (referral) */

struct zp_deleg {
    size_t n; /* the union, sorted by name */
    struct zp_ns_target t[ZP_WATCH_MAX_NS];
    unsigned where[ZP_WATCH_MAX_NS];       /* ZP_DELEG_* bits */
    char parent[ZP_DNAME_MAX];             /* the parent zone; "" when not found */
    char parent_server[ZP_DNAME_MAX + 72]; /* "ns.test. (127.0.0.1:53)" that answered */
    char parent_why[512];                  /* why the parent's view is missing; "" when known */
    uint32_t ttl;                          /* the lowest NS TTL seen */
    int missing; /* the resolvers answered: the zone does not exist, or is not an apex */
};

/*
 * The nameservers of zone: the NS set the resolvers return (the zone's own)
 * united with the delegation one of the parent's servers hands out
 * (referral and glue), each with an address (glue, else A, else AAAA).
 * Resolvers and the CA ask any server of the union, so every one of them
 * must serve the value. A parent that cannot be asked leaves parent_why set
 * and the union equal to the zone's own set. Returns -1 with a sentence in
 * why when the zone's own NS set cannot be had.
 */
int zp_deleg_get(const struct zp_dnsq_resolvers *r, const char *zone, uint64_t deadline,
                 struct zp_deleg *d, struct zp_buf *why);

#endif

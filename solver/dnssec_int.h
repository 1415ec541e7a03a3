/*
 * dnssec_int.h — what the two DNSSEC files share and nobody else sees: the
 * RR-list helpers, the words (type names, names, key tags), the result
 * setters, and the check of a proof of non-existence that the walk reuses
 * for a DS that is not there.
 *
 * dnssecverify.c owns verification (signatures of an RRset, one zone cut)
 * and these helpers; dnssecdenial.c owns proofs of non-existence; dnssec.c
 * owns the trust anchors, the walk through the resolvers, answers and the
 * finding.
 *
 * Internal steps return 0 (go on), 1 (a verdict is in the result: stop) or
 * -1 (an internal error).
 */
#ifndef ZP_SOLVER_DNSSEC_INT_H
#define ZP_SOLVER_DNSSEC_INT_H

#include <stddef.h>
#include <time.h>

#include <ldns/ldns.h>

#include "solver/dnssec.h"

/* ldns returned NULL for an allocation: logs and aborts. */
__attribute__((noreturn)) void zp_dnssec_oom(void);

/* An empty list; never NULL. */
ldns_rr_list *zp_dnssec_list_new(void);

/* The number of RRs of l; 0 for NULL. */
size_t zp_dnssec_count(const ldns_rr_list *l);

/* "TXT", "DNSKEY"...; "?" for a type ldns does not know. */
const char *zp_dnssec_tname(ldns_rr_type t);

/* A name as sentences write it: lower case, one trailing dot ("?" when d is unusable). */
void zp_dnssec_rdf_name(const ldns_rdf *d, char *out, size_t sz);

/*
 * The RRs of l with that owner (NULL: any) and type (0: any); with covered,
 * only RRSIGs over that type. A new list of copies, never NULL.
 */
ldns_rr_list *zp_dnssec_pick(const ldns_rr_list *l, const ldns_rdf *owner, ldns_rr_type type,
                             ldns_rr_type covered);

/* "4321/13, 12345/13" (key tag/algorithm, sorted, without duplicates), or "none". */
void zp_dnssec_tags_str(const ldns_rr_list *l, char *out, size_t sz);

/* An empty UNKNOWN result about zone (canonical; "" when zone is NULL or no name). */
void zp_dnssec_res_init(struct zp_dnssec_result *res, const char *zone);

/* res->dig: the dig command that shows name/type through server, with DO and CD. */
void zp_dnssec_res_dig(struct zp_dnssec_result *res, const char *server, const char *name,
                       ldns_rr_type type);

/* Sets the verdict (every text but dig); returns 1, the "stop" of the internal steps. */
__attribute__((format(printf, 5, 6))) int zp_dnssec_verdict(struct zp_dnssec_result *res,
                                                            enum zp_dnssec_state st,
                                                            const char *zone, const char *fix,
                                                            const char *fmt, ...);

/*
 * Whether one of sigs, by signer (signer_s as sentences write it), verifies
 * rrset with one of keys: 0, or 1 with the sentence about what in res (the
 * most precise cause: no signature, unknown key, expired...).
 */
int zp_dnssec_sig_require(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                          const ldns_rr_list *keys, const ldns_rdf *signer, const char *signer_s,
                          const char *what, time_t now, struct zp_dnssec_result *res);

/*
 * The proof in auth that name (canonical) has no type record (nxdomain: does
 * not exist), signed by signer (canonical) with keys, into res (whose dig
 * the caller sets). When signed records cover the name, kind gets "NSEC",
 * "NSEC3" or "NSEC3, opt-out". 0 with the verdict in res, -1 when a name
 * cannot be parsed.
 */
int zp_dnssec_denial_check(const char *name, ldns_rr_type type, int nxdomain,
                           const ldns_rr_list *auth, const ldns_rr_list *keys, const char *signer,
                           time_t now, struct zp_dnssec_result *res, char *kind, size_t ksz);

#endif

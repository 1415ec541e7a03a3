/*
 * caa.h — the CAA check (RFC 8659): whether the CAA policy that applies to
 * one certificate name lets a given CA issue for it, as the CA itself will
 * decide when cert-manager finalizes the order.
 *
 * Split in two: zp_caa_decide() judges one RRset already in hand (pure,
 * unit-tested), zp_caa_check() finds the relevant RRset through the
 * recursive resolvers and then decides.
 */
#ifndef ZP_SOLVER_CAA_H
#define ZP_SOLVER_CAA_H

#include <stdint.h>

#include <ldns/ldns.h>

#include "solver/check.h"
#include "solver/dnsq.h"

/*
 * Evaluates the CAA policy for one certificate name (domain, e.g.
 * "www.example.com." or "*.example.com.") and an issuer domain (the CA's CAA
 * identity, e.g. "letsencrypt.org"; NULL: report what the policy allows
 * without judging a CA). The relevant RRset is the first non-empty CAA set
 * at the name (for "*.x": at x) or one of its parents below the root, as the
 * resolvers return it (CNAMEs followed). A resolver that cannot answer is a
 * fail, as it is for the CA. Returns 0 with out set, or -1 (and out set to a
 * fail) when cert_name is not a DNS name.
 */
int zp_caa_check(const struct zp_dnsq_resolvers *r, const char *cert_name, const char *issuer,
                 uint64_t deadline, struct zp_check *out);
/*
 * The same for several CAs with one lookup: ok when any of them may issue
 * (that CA's finding), else the first CA's refusal. n_issuers 0: no judge.
 */
int zp_caa_check_any(const struct zp_dnsq_resolvers *r, const char *cert_name,
                     const char *const *issuers, size_t n_issuers, uint64_t deadline,
                     struct zp_check *out);

/*
 * The decision for one relevant RRset: set holds the CAA records found at
 * owner ("caa.test."; other types in set are ignored; NULL or empty: no CAA
 * anywhere above cert_name). resolver is the "host:port" that answered, for
 * the dig command (NULL: none). Returns 0, or -1 (out a fail) for a
 * cert_name that is not a DNS name.
 */
int zp_caa_decide(const ldns_rr_list *set, const char *owner, const char *cert_name,
                  const char *issuer, const char *resolver, struct zp_check *out);

#endif

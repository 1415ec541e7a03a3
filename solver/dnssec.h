/*
 * dnssec.h — the DNSSEC chain of trust as a CA checks it (CA/B Forum
 * SC-085, since March 2026): from a trust anchor down the zone cuts to a
 * zone's DNSKEY set, and an answer (the TXT at _acme-challenge, or its
 * denial) validated with the keys of its zone.
 *
 * A broken chain makes the CA fail the challenge even when every
 * authoritative server serves the value, so the verdict names the cause
 * precisely: the zone, the key tags, the dates, and what to change. Every
 * text is a stable sentence (no "now", no counters): the same DNS state
 * gives the same bytes.
 *
 * Data is fetched through the recursive resolvers with DO and CD set: CD
 * makes a validating resolver hand over bogus data too, so we can say what
 * is wrong with it. The crypto is ldns'.
 *
 * Functions return -1 only for an internal error (bad arguments); a broken
 * chain is 0 with state BOGUS. Nothing here is shared between threads
 * except a loaded anchor, which is immutable.
 */
#ifndef ZP_SOLVER_DNSSEC_H
#define ZP_SOLVER_DNSSEC_H

#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

struct zp_check;
struct zp_dnsq_resolvers;
struct zp_err;

enum zp_dnssec_state {
    ZP_DNSSEC_SECURE,   /* the chain holds from the anchor to the data */
    ZP_DNSSEC_INSECURE, /* a proven unsigned delegation (or only unsupported algorithms) */
    ZP_DNSSEC_BOGUS,    /* the chain is broken: a CA fails the challenge */
    ZP_DNSSEC_UNKNOWN,  /* cannot tell: no resolver answer, a resolver strips DNSSEC... */
};

/* "secure", "insecure", "bogus", "unknown". */
const char *zp_dnssec_state_name(enum zp_dnssec_state s);

/* The trust anchors: DS and/or DNSKEY records, for "." or for any name (private roots). */
struct zp_dnssec_anchor;

/*
 * NULL path: the built-in root anchors (KSK-2017, key tag 20326, and
 * KSK-2024, key tag 38696, as DS records). Else a file of DS or DNSKEY
 * records in presentation format, one per line, ';' starts a comment (the
 * format of unbound's root.key and of dnssec-dsfromkey's output). Errors
 * name the file and the line (ZP_ECONFIG; ZP_ENOTFOUND for a missing file).
 */
int zp_dnssec_anchor_load(const char *path, struct zp_dnssec_anchor **out, struct zp_err *err);
void zp_dnssec_anchor_free(struct zp_dnssec_anchor *a);
/* The anchor records (owned by a). */
const ldns_rr_list *zp_dnssec_anchor_rrs(const struct zp_dnssec_anchor *a);

struct zp_dnssec_result {
    enum zp_dnssec_state state;
    /* BOGUS: the zone whose data must change (the child for a DS/DNSKEY mismatch, the signer
     * for a bad signature); INSECURE: where the chain ends; SECURE: the deepest zone checked;
     * UNKNOWN: the name that could not be checked. Lower case, trailing dot. */
    char zone[256];
    char why[1024]; /* "the DS record of dsbad.test. in test. (key tag 12345, algorithm 13)
                     * matches no DNSKEY of dsbad.test. (its keys: 4321/13)" */
    char fix[512];  /* what to change; "" when nothing */
    char dig[384];  /* "dig +dnssec +cd @127.0.0.1 dsbad.test. DS" */
};

/*
 * The chain from the anchor down to zone's DNSKEY set (zone may also be a
 * name inside a zone: the chain then ends at the zone that holds it). The
 * verification time is time(NULL); the _at variant takes it (tests, and
 * replaying a failure at the time a CA saw it).
 */
int zp_dnssec_check_zone(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                         const char *zone, uint64_t deadline, struct zp_dnssec_result *res);
int zp_dnssec_check_zone_at(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                            const char *zone, uint64_t deadline, time_t now,
                            struct zp_dnssec_result *res);

/*
 * The answer for name/type (the TXT at _acme-challenge...), or its denial
 * (NXDOMAIN or NODATA with NSEC/NSEC3), validated with the keys of the zone
 * that signs it: zone's chain is checked first, and a CNAME to another zone
 * is followed (up to 8 links) with that zone's chain.
 */
int zp_dnssec_check_answer(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                           const char *zone, const char *name, ldns_rr_type type, uint64_t deadline,
                           struct zp_dnssec_result *res);
int zp_dnssec_check_answer_at(const struct zp_dnsq_resolvers *r, const struct zp_dnssec_anchor *a,
                              const char *zone, const char *name, ldns_rr_type type,
                              uint64_t deadline, time_t now, struct zp_dnssec_result *res);

/* The "dnssec" finding: SECURE ok, INSECURE ok (unsigned names are accepted), BOGUS fail,
 * UNKNOWN warn. */
void zp_dnssec_to_check(const struct zp_dnssec_result *res, struct zp_check *c);

/* --- the pure parts: no network. The walk above is made of them; tests call them. ------ */

/* What was fetched for one zone cut. */
struct zp_dnssec_cut {
    const char *zone;            /* "dsbad.test." */
    const char *parent;          /* "test."; NULL when zone is a trust anchor's owner */
    const ldns_rr_list *trusted; /* the parent's DS set (its signature already checked), or
                                  * the anchor records; only those owned by zone count */
    const ldns_rr_list *dnskey;  /* the answer for zone DNSKEY */
    const ldns_rr_list *sigs;    /* RRSIGs; only those over zone's DNSKEY set count */
    const char *server;          /* the resolver that answered ("127.0.0.1:53"), or NULL */
};

/*
 * One cut: a supported DS (or anchor) matches a DNSKEY (key tag,
 * algorithm, digest), and that key signs the DNSKEY set at time now. Only
 * unsupported algorithms or digest types: INSECURE (RFC 4035 5.2). At an
 * anchor, a mismatch or a DNSKEY set without any RRSIG is UNKNOWN (the
 * resolver or the anchor file, not a zone, is then the likely cause).
 */
int zp_dnssec_verify_cut(const struct zp_dnssec_cut *cut, time_t now, struct zp_dnssec_result *res);

/*
 * An RRset (the RRs of rrset with the owner and type of its first RR)
 * signed by signer with one of keys (its DNSKEY set) at time now. what
 * names the set in sentences: "the DS set of a.test. in test.".
 */
int zp_dnssec_verify_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                           const ldns_rr_list *keys, const char *signer, const char *what,
                           const char *server, time_t now, struct zp_dnssec_result *res);

/*
 * The proof that name has no type record (nxdomain: that name does not
 * exist) in the authority section auth: NSEC or NSEC3 records signed by
 * signer with keys, and covering the name as RFC 4035/5155 require
 * (opt-out included). SECURE means "proven".
 */
int zp_dnssec_verify_denial(const char *name, ldns_rr_type type, int nxdomain,
                            const ldns_rr_list *auth, const ldns_rr_list *keys, const char *signer,
                            const char *server, time_t now, struct zp_dnssec_result *res);

#endif

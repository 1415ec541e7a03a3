/*
 * dnsq.h — one blocking DNS question to one server, and the recursive
 * resolvers to ask: the transport that NS discovery, zone discovery and
 * every check of `doctor` and Present share. (The watcher's non-blocking
 * UDP engine, watchq.c, is the other transport: it waits for thousands of
 * answers at once and holds no thread.)
 *
 * Everything here blocks only the caller, never past its deadline, and
 * shares nothing between threads.
 */
#ifndef ZP_SOLVER_DNSQ_H
#define ZP_SOLVER_DNSQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "base/dname.h"

struct zp_buf;

/* Query flags. */
#define ZP_DNSQ_RD 1u  /* recursion desired: the question is for a resolver */
#define ZP_DNSQ_DO 2u  /* DNSSEC OK: send signatures */
#define ZP_DNSQ_CD 4u  /* checking disabled: a validating resolver hands over bogus data too */
#define ZP_DNSQ_TCP 8u /* over TCP only (a reachability check, or a large answer) */

#define ZP_DNSQ_TRY_MS 2000u /* one exchange with one server, unless the deadline is earlier */
#define ZP_DNSQ_RESOLVERS_MAX 8

/* One server: what a report shows, and where to send. */
struct zp_ns_target {
    char name[ZP_DNAME_MAX]; /* NS host name, or the host as configured */
    char addr[64];           /* "127.0.0.1:53", "[::1]:53"; "" when unresolved */
    struct sockaddr_storage sa;
    socklen_t salen; /* 0: no address; detail says why */
    char detail[128];
    int parent_only; /* listed in the parent's delegation, not in the zone's NS set */
};

/* "host:port" (port defaults to default_port) into t; host names are resolved. */
int zp_ns_target_parse(const char *hostport, unsigned default_port, struct zp_ns_target *t,
                       char *why, size_t whysz);
/* "127.0.0.1:53", "[::1]:53": how reports and sentences show a server. */
void zp_ns_addr_format(const struct sockaddr *sa, char *out, size_t outsz);
/* A target for an address already known (glue, an A record). */
void zp_ns_target_set(struct zp_ns_target *t, const struct sockaddr *sa, socklen_t len);

/* A query in wire form (EDNS, 1232-byte buffer); *wire is freed with free(). */
int zp_dnsq_wire(const char *qname, ldns_rr_type type, unsigned flags, uint16_t id, uint8_t **wire,
                 size_t *len);

/* Whether p answers the query (id, qname, type): a response to the same question. */
int zp_dnsq_matches(const ldns_pkt *p, uint16_t id, const char *qname, ldns_rr_type type);

/*
 * One exchange with one server: UDP, then TCP after a truncated answer (or
 * TCP alone with ZP_DNSQ_TCP). Waits at most try_ms (0: ZP_DNSQ_TRY_MS) and
 * never past deadline. Returns 0 with *out (ldns_pkt_free), or -1 with a
 * stable phrase in why ("connection refused", "no answer").
 */
int zp_dnsq_ask(const struct zp_ns_target *t, const char *qname, ldns_rr_type type, unsigned flags,
                uint64_t deadline, unsigned try_ms, ldns_pkt **out, char *why, size_t whysz);

/* The resolvers to ask: list[0..n) when n > 0, else the nameserver lines of resolv.conf. */
struct zp_dnsq_resolvers {
    size_t n;
    struct zp_ns_target t[ZP_DNSQ_RESOLVERS_MAX];
};
/* Returns how many resolvers are usable; why collects what was wrong with the others. */
size_t zp_dnsq_resolvers(char *const *list, size_t n, struct zp_dnsq_resolvers *out,
                         struct zp_buf *why);

/*
 * Asks the resolvers in turn (at least two tries) until one answers NOERROR
 * or NXDOMAIN; flags gain ZP_DNSQ_RD. *who is the index of the resolver that
 * answered. On failure why collects, per resolver, what it was asked and
 * what failed, and -1 is returned.
 */
int zp_dnsq_recurse(const struct zp_dnsq_resolvers *r, const char *qname, ldns_rr_type type,
                    unsigned flags, uint64_t deadline, ldns_pkt **out, size_t *who,
                    struct zp_buf *why);

/* The strings of a TXT record joined, as the CA compares them; returns the length. */
size_t zp_dnsq_txt_join(const ldns_rr *rr, char *out, size_t outsz);
/* Whether the answer section holds a TXT record (any owner: a CNAME chain) equal to value. */
int zp_dnsq_txt_has(const ldns_pkt *p, const char *value);

/*
 * The Extended DNS Error of an answer (RFC 8914) as "code N: text", or ""
 * when there is none. For a resolver's SERVFAIL: it says why (DNSSEC Bogus…).
 */
void zp_dnsq_ede(ldns_pkt *p, char *out, size_t outsz);

#endif

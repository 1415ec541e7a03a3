/*
 * watch_int.h — what the watcher's files share and nobody else sees: a
 * nameserver target (name, address, socket address), the per-zone
 * discovery cache, and the helpers that ask one nameserver one question
 * (build the query, match and classify the answer, retry over TCP).
 *
 * watch.c owns the pool and the UDP engine; nsdiscover.c owns finding and
 * addressing the nameservers and the wire helpers; explain.c owns the words.
 */
#ifndef ZP_SOLVER_WATCH_INT_H
#define ZP_SOLVER_WATCH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "solver/watch.h"

#define ZP_WATCH_QUERY_TIMEOUT_MS 1000u /* one query, one server: then ZP_NS_TIMEOUT */
#define ZP_NSCACHE_TTL_MAX_S 300u       /* discovered NS sets are kept at most this long */

/* One nameserver to ask: what the report shows, and where to send. */
struct zp_ns_target {
    char name[ZP_DNAME_MAX];    /* NS host name, or the host as configured */
    char addr[64];              /* "127.0.0.1:53", "[::1]:53"; "" when unresolved */
    struct sockaddr_storage sa;
    socklen_t salen;            /* 0: no address; detail says why */
    char detail[128];
};

/* Per-zone NS sets, shared by every worker of a watcher; has its own lock. */
struct zp_nscache;

struct zp_nscache *zp_nscache_new(void);
void zp_nscache_free(struct zp_nscache *c);

enum { ZP_NS_TARGETS_OK = 0, ZP_NS_TARGETS_FAIL = -1, ZP_NS_TARGETS_BUSY = 1 };

/*
 * The nameservers to ask for spec: the explicit list (host names resolved),
 * or the zone's NS set found through the resolvers and cached (c may be
 * NULL: no cache). Blocks, but never past deadline (zp_now_ms clock).
 * Returns ZP_NS_TARGETS_OK with out[0..*n), ZP_NS_TARGETS_FAIL with why (a
 * sentence for discovery_error), or ZP_NS_TARGETS_BUSY when another thread
 * is discovering the same zone right now: ask again shortly.
 */
int zp_ns_targets(struct zp_nscache *c, const struct zp_watch_spec *spec, uint64_t deadline,
                  struct zp_ns_target *out, size_t *n, char *why, size_t whysz);

/* "host:port" (port defaults to default_port) into t; host names are resolved. */
int zp_ns_target_parse(const char *hostport, unsigned default_port, struct zp_ns_target *t,
                       char *why, size_t whysz);
void zp_ns_addr_format(const struct sockaddr *sa, char *out, size_t outsz);
/* Same family, address and port. */
int zp_ns_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* A query in wire form (EDNS, 1232-byte buffer); *wire is freed with free(). */
int zp_ns_query_wire(const char *qname, ldns_rr_type type, int rd, uint16_t id, uint8_t **wire,
                     size_t *len);
/* Whether p answers the query (id, qname, type): a response, same question. */
int zp_ns_answer_matches(const ldns_pkt *p, uint16_t id, const char *qname, ldns_rr_type type);
/*
 * Asks over TCP (after a truncated UDP answer): blocking, at most timeout_ms.
 * Returns 0 with *out (free with ldns_pkt_free), or -1 with why.
 */
int zp_ns_tcp_query(const struct sockaddr_storage *sa, socklen_t salen, const char *qname,
                    ldns_rr_type type, int rd, unsigned timeout_ms, ldns_pkt **out, char *why,
                    size_t whysz);

/*
 * Fills st->state, rcode, the other values and detail from a TXT answer for
 * fqdn, keeping st->name and st->addr. Other values are sorted, so the same
 * zone content always yields the same status.
 */
void zp_ns_classify(const ldns_pkt *p, const char *fqdn, const char *value,
                    struct zp_ns_status *st);

#endif

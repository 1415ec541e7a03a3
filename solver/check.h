/*
 * check.h — one finding of the DNS checks that `doctor`, `check` and
 * Present share: what was checked, the verdict, the cause, the servers
 * concerned, the fix, and a dig command that shows it.
 *
 * Every text here is a stable sentence: the same DNS state gives the same
 * bytes (no timings, counters or ids), because Present copies cause and fix
 * into the reply cert-manager compares between attempts.
 */
#ifndef ZP_SOLVER_CHECK_H
#define ZP_SOLVER_CHECK_H

#include <stddef.h>

enum zp_verdict { ZP_CHECK_OK = 0, ZP_CHECK_WARN, ZP_CHECK_FAIL };

struct zp_check {
    const char *id; /* "zone", "routing", "delegation", "challenge", "caa", "dnssec", "psl",
                     * "split-horizon", "credentials", "write-test": a static string */
    enum zp_verdict verdict;
    char cause[1536];  /* what is true, in one or more sentences */
    char fix[768];     /* what to change; "" when nothing */
    char servers[512]; /* the servers concerned, "ns1.example.com (192.0.2.1:53), …"; or "" */
    char dig[384];     /* a command that shows it; or "" */
};

/* Sets every text of c (printf-style cause; fix, servers and dig may be NULL). */
void zp_check_set(struct zp_check *c, const char *id, enum zp_verdict v, const char *fix,
                  const char *servers, const char *dig, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

const char *zp_verdict_name(enum zp_verdict v); /* "ok", "warn", "fail" */

/*
 * "dig [+norec] [+dnssec] [+cd] @HOST [-p PORT] NAME TYPE" for a server
 * address as zp_ns_target writes it ("1.2.3.4:53", "[::1]:53").
 */
void zp_check_dig(char *out, size_t outsz, const char *addr, int norec, const char *flags,
                  const char *name, const char *type);

#endif

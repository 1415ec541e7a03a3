/*
 * nsdiscover_int.h — the steps of NS discovery that read DNS answers, for
 * the tests and the fuzz driver: NS names out of an answer or referral, and
 * their addresses out of its glue.
 */
#ifndef ZP_SOLVER_NSDISCOVER_INT_H
#define ZP_SOLVER_NSDISCOVER_INT_H

#include <ldns/ldns.h>

#include "solver/zone.h"

/* Adds the NS names owned by zone in list to d with bit set; keeps the lowest TTL. */
void zp_ns_collect(const ldns_rr_list *list, const char *zone, unsigned bit, struct zp_deleg *d);

/* Glue from an additional section for the servers of d that have no address yet. */
void zp_ns_glue(const ldns_rr_list *ad, struct zp_deleg *d);

#endif

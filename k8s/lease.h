/*
 * lease.h — one coordination.k8s.io/v1 Lease in zoneproof's namespace, used
 * as a lock across replicas: who holds it (holderIdentity), since when it
 * was last renewed (renewTime, MicroTime) and for how long a renewal counts
 * (leaseDurationSeconds). Every write carries the resourceVersion that was
 * read, so of two replicas writing at once one gets 409 and reads again:
 * a lease is never taken from a live holder, and never released by anyone
 * but its holder.
 *
 * Expiry compares renewTime + leaseDurationSeconds with this host's wall
 * clock, so replicas need clocks within a fraction of the duration of each
 * other (NTP, as every Kubernetes node has).
 *
 * Threads: any; nothing here keeps state between calls (leaselock.h holds
 * leases over time and renews them).
 */
#ifndef ZP_K8S_LEASE_H
#define ZP_K8S_LEASE_H

#include <stddef.h>
#include <stdint.h>

struct zp_err;
struct zp_kclient;

#define ZP_LEASE_ID_MAX 128   /* a holder identity, NUL included */
#define ZP_LEASE_NAME_MAX 254 /* a lease name (DNS subdomain), NUL included */
#define ZP_LEASE_TIME_MAX 40  /* "2006-01-02T15:04:05.000000Z", NUL included */
#define ZP_LEASE_ATTEMPTS 5   /* reads after a 409 before giving up */

/*
 * This process's holder identity: the pod's name (env POD_NAME, else the
 * host name) and a random suffix, so two processes on one host, or a pod
 * restarted under the same name, are different holders.
 */
void zp_lease_identity(char *out, size_t sz);

/*
 * Takes the lease name for holder: creates it when absent, renews it when
 * holder has it already, takes it over when its holder's renewal expired.
 * Returns 0 (held), 1 (another holder's renewal is still current: err says
 * who, ZP_ETRANSIENT) or -1 (err; a 403 names the permission).
 */
int zp_lease_acquire(struct zp_kclient *k, const char *name, const char *holder,
                     unsigned duration_s, uint64_t deadline_ms, struct zp_err *err);
/*
 * Moves renewTime to now while holder holds it. Returns 0 (renewed), 1
 * (holder lost it: another holds it, or it is gone; nothing is written) or
 * -1 (err: cannot tell; the caller tries again before the lease expires).
 */
int zp_lease_renew(struct zp_kclient *k, const char *name, const char *holder, unsigned duration_s,
                   uint64_t deadline_ms, struct zp_err *err);
/*
 * Clears holderIdentity while holder holds it, so the next taker need not
 * wait for expiry. A lease held by someone else, or absent, is left alone
 * (0). Returns 0 or -1.
 */
int zp_lease_release(struct zp_kclient *k, const char *name, const char *holder,
                     uint64_t deadline_ms, struct zp_err *err);

/* ---- the pure parts, for the tests ----------------------------------------------------- */

/* Microseconds since the Unix epoch, as Kubernetes writes MicroTime (UTC, six digits). */
void zp_lease_time_format(int64_t us, char out[ZP_LEASE_TIME_MAX]);
/* RFC 3339 with any fraction (or none) and Z or an offset. Returns 0, or -1. */
int zp_lease_time_parse(const char *s, int64_t *us);

enum zp_lease_owner {
    ZP_LEASE_FREE = 0, /* nobody holds it, or its holder's renewal expired: take it */
    ZP_LEASE_MINE,     /* holder holds it */
    ZP_LEASE_TAKEN,    /* another holder, renewed within its duration */
};

/*
 * Who holds a lease whose spec says held_by (NULL or "": nobody), renewed
 * at renew (NULL, or a time that does not parse: long ago) for dur_s
 * seconds (0 or less: default_s), as seen by me at now_us.
 */
enum zp_lease_owner zp_lease_judge(const char *held_by, const char *renew, long dur_s,
                                   unsigned default_s, const char *me, int64_t now_us);

#endif

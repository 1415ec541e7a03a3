/*
 * leaselock.h — locks across replicas made of Leases (lease.h), held for as
 * long as the work takes: a thread renews every held lease every renew_ms,
 * so a live holder keeps it and a dead one loses it within duration_s.
 * Within the process, one thread at a time holds a name (the others wait
 * here, not at the API server: every thread shares the process's holder
 * identity).
 *
 * Two uses: read-modify-write providers (ZP_PROV_RMW) lock their zone
 * through the solver's hooks (solver.h zp_solver_set_lock, with
 * zp_leaselock_zone_lock / zp_leaselock_zone_unlock and the zp_leaselock as
 * arg), and serve's sweeper runs a pass only while it holds
 * ZP_LEASELOCK_SWEEPER (zp_leaselock_trylock), so one replica sweeps.
 *
 * Threads: any, at once; one renewal thread of its own.
 */
#ifndef ZP_K8S_LEASELOCK_H
#define ZP_K8S_LEASELOCK_H

#include <stddef.h>
#include <stdint.h>

struct zp_err;
struct zp_kclient;
struct zp_leaselock;

#define ZP_LEASELOCK_SWEEPER "zoneproof-sweeper"
#define ZP_LEASELOCK_DURATION_S 15u /* a dead holder's lease is taken over after this */

struct zp_leaselock_opts {
    const char *identity; /* NULL: zp_lease_identity() */
    unsigned duration_s;  /* 0: ZP_LEASELOCK_DURATION_S */
    unsigned renew_ms;    /* 0: a third of the duration */
};

/* k is borrowed and must outlive the set. Starts the renewal thread. */
int zp_leaselock_new(struct zp_kclient *k, const struct zp_leaselock_opts *o,
                     struct zp_leaselock **out, struct zp_err *err);
/*
 * Stops renewing and releases every lease still held; call it once no
 * thread holds or waits for a lock. Accepts NULL.
 */
void zp_leaselock_free(struct zp_leaselock *l);
/* The holder identity written into the leases. */
const char *zp_leaselock_identity(const struct zp_leaselock *l);

/*
 * Waits until this thread holds name (another thread of this process
 * releases it; another replica releases it or stops renewing it), or the
 * deadline passes: -1 with a sentence naming the holder. -1 also when the
 * API refuses (a 403 names the permission).
 */
int zp_leaselock_lock(struct zp_leaselock *l, const char *name, uint64_t deadline_ms,
                      struct zp_err *err);
/* One try: 0 held, 1 busy (here or in another replica; err says who), -1 err. */
int zp_leaselock_trylock(struct zp_leaselock *l, const char *name, uint64_t deadline_ms,
                         struct zp_err *err);
/* Releases name (the lease too, unless another holder has it by now). */
void zp_leaselock_unlock(struct zp_leaselock *l, const char *name);
/*
 * Whether this thread's hold on name still stands: no renewal found another
 * holder, and one succeeded within the lease's duration.
 */
int zp_leaselock_held(struct zp_leaselock *l, const char *name);

/* The solver's lock hooks (zp_solver_lock_fn, zp_solver_unlock_fn): arg is the zp_leaselock. */
int zp_leaselock_zone_lock(void *arg, const char *instance, const char *zone, uint64_t deadline_ms,
                           struct zp_err *err);
void zp_leaselock_zone_unlock(void *arg, const char *instance, const char *zone);
/* The lease name for a zone of an instance: "zoneproof-zone-" and 32 hex digits. */
void zp_leaselock_zone_name(const char *instance, const char *zone, char *out, size_t sz);

#endif

/*
 * controller.h — what makes zoneproof leave no challenge value behind and
 * lets replicas share the work: the write-ahead journal the solver records
 * every value in (in a cluster: ConfigMaps, kjournal.h; outside: a
 * directory), the Leases that keep replicas from writing one zone at once
 * (leaselock.h, for read-modify-write providers), and the sweeper that
 * removes orphaned values (solver/sweep.h), on one replica at a time, with
 * cert-manager's Challenges as its oracle (challenges.h).
 */
#ifndef ZP_K8S_CONTROLLER_H
#define ZP_K8S_CONTROLLER_H

struct zp_config;
struct zp_err;
struct zp_kclient;
struct zp_solver;
struct zp_controller;

/*
 * Wires the journal and the locks into the solver (before its first
 * submit) and starts the sweeper, which makes a pass at once. k: the
 * cluster, or NULL; state_dir: the journal's directory outside a cluster,
 * or NULL. Neither: *out is NULL and nothing is journaled. k and state_dir
 * both: the directory (an explicit flag wins).
 */
int zp_controller_start(const struct zp_config *cfg, struct zp_solver *s, struct zp_kclient *k,
                        const char *state_dir, struct zp_controller **out, struct zp_err *err);
/* Stops the sweeper. The solver must be freed next, then zp_controller_free. */
void zp_controller_stop(struct zp_controller *c);
/* After the solver: releases the Leases still held. Accepts NULL. */
void zp_controller_free(struct zp_controller *c);

#endif

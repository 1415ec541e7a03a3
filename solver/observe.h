/*
 * observe.h — what the solver tells operators besides its answers: the
 * challenge and propagation metrics (base/metrics.h) and the audit trail,
 * one JSON line per DNS change and per refusal by the access rules.
 */
#ifndef ZP_SOLVER_OBSERVE_H
#define ZP_SOLVER_OBSERVE_H

#include <stdint.h>

#include "solver/challenge.h"

struct zp_config;
struct zp_err;
struct zp_result;
struct zp_watch_report;

/* Every configured instance's challenge series at 0, so alerts see them before their first event.
 */
void zp_observe_instances(const struct zp_config *cfg);
/* One challenge answered (res->instance NULL: routing refused it). */
void zp_observe_challenge(enum zp_action action, const struct zp_result *res);
/* Each nameserver of a report a challenge was answered with: served (and when) or lagging. */
void zp_observe_propagation(const struct zp_watch_report *rep);

/*
 * The audit line of one change of DNS (action "present", "cleanup" or
 * "sweep") or one refusal (outcome "refused", before anything is written):
 * who asked (uid, namespace), through what (provider, zone), where (fqdn),
 * which value (its hash), and how it ended (err NULL: success). Never the
 * value, a credential, or other records at the name.
 */
struct zp_audit_ev {
    const char *action, *uid, *ns, *provider, *zone, *fqdn, *value, *outcome;
    const struct zp_err *err; /* NULL: success */
};
void zp_audit(const struct zp_audit_ev *ev);
/* The same for a challenge: action from ch, outcome "success", "failure" or "refused". */
void zp_audit_challenge(const struct zp_challenge *ch, const char *provider, const char *zone,
                        const char *outcome, const struct zp_err *err);

/* The orphan sweeper: a pass (ok or not), and each orphan's removal by provider. */
void zp_observe_sweep(int ok);
void zp_observe_orphan(const char *provider, int removed);

#endif

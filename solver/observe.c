/*
 * observe.c — the solver's metrics and audit lines (observe.h). Labels
 * come from bounded sets only: instance names and types from the
 * configuration, actions, outcomes (error kinds), and nameserver
 * addresses, which the metrics registry caps per family.
 *
 * Called from solver workers and watcher threads; the registry and the
 * logger are thread-safe.
 */
#include <ctype.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "solver/config.h"
#include "solver/observe.h"
#include "solver/solver.h"
#include "solver/trail.h"
#include "solver/watch.h"

static struct zp_metric m_challenges = ZP_COUNTER(
    "zoneproof_challenges_total",
    "Challenges answered, by provider instance, action and outcome (success or the error kind).",
    "provider,action,outcome");
static struct zp_metric m_duration = ZP_HISTOGRAM(
    "zoneproof_challenge_duration_seconds",
    "From a challenge's arrival to its answer (for a Present, the acknowledgement), in seconds.",
    "provider,action,outcome", zp_metric_seconds_buckets);
static struct zp_metric m_propagation =
    ZP_HISTOGRAM("zoneproof_propagation_seconds",
                 "From the start of a watch to an authoritative nameserver first serving the "
                 "value, in seconds.",
                 "server", zp_metric_seconds_buckets);
static struct zp_metric m_checks = ZP_COUNTER(
    "zoneproof_propagation_checks_total",
    "Per challenge answered after a watch, each nameserver: served the value, or lagging.",
    "server,outcome");
static struct zp_metric m_sweeps = ZP_COUNTER(
    "zoneproof_sweeps_total", "Passes of the orphan sweeper over the journal.", "outcome");
static struct zp_metric m_orphans =
    ZP_COUNTER("zoneproof_orphans_removed_total",
               "Values whose challenge is gone, removed by the sweeper (or not, outcome failure).",
               "provider,outcome");

/* "present", "cleanup": the label form of an action. */
static void action_label(enum zp_action a, char *out, size_t n)
{
    const char *s = zp_action_name(a);
    size_t i;

    for (i = 0; s[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

void zp_observe_instances(const struct zp_config *cfg)
{
    static const enum zp_action actions[] = {ZP_PRESENT, ZP_CLEANUP};

    for (size_t i = 0; i < cfg->n_inst; i++)
        for (size_t a = 0; a < 2; a++) {
            char act[16];
            action_label(actions[a], act, sizeof(act));
            zp_metric_touch(&m_challenges, cfg->inst[i].name, act, "success");
        }
}

void zp_observe_challenge(enum zp_action action, const struct zp_result *res)
{
    char act[16];
    const char *outcome = res->ok ? "success" : zp_errkind_name(res->err.kind);

    action_label(action, act, sizeof(act));
    zp_metric_inc(&m_challenges, res->instance, act, outcome);
    zp_metric_observe(&m_duration, (double)res->elapsed_ms / 1000.0, res->instance, act,
                      res->ok ? "success" : "failure");
}

void zp_observe_propagation(const struct zp_watch_report *rep)
{
    for (size_t i = 0; i < rep->n; i++) {
        const struct zp_ns_status *ns = &rep->ns[i];
        const char *server = ns->addr[0] ? ns->addr : ns->name;
        int served = ns->state == ZP_NS_HAS_VALUE;

        zp_metric_inc(&m_checks, server, served ? "served" : "lagging");
        if (served && ns->hist.served_ms != ZP_NS_SERVED_NEVER)
            zp_metric_observe(&m_propagation, (double)ns->hist.served_ms / 1000.0, server);
    }
}

static const char *or_null(const char *s)
{
    return s != NULL && *s ? s : NULL;
}

void zp_audit(const struct zp_audit_ev *ev)
{
    char hash[24];

    zp_value_hash(ev->value ? ev->value : "", hash, sizeof(hash));
    zp_log(ZP_LOG_AUDIT, "dns change", ZP_S("action", ev->action), ZP_S("uid", or_null(ev->uid)),
           ZP_S("namespace", or_null(ev->ns)), ZP_S("provider", ev->provider),
           ZP_S("zone", ev->zone), ZP_S("fqdn", ev->fqdn), ZP_S("valueHash", hash),
           ZP_S("outcome", ev->outcome),
           ZP_S("reason", ev->err ? zp_errkind_name(ev->err->kind) : NULL),
           ZP_S("message", ev->err ? ev->err->msg : NULL), ZP_END);
}

void zp_audit_challenge(const struct zp_challenge *ch, const char *provider, const char *zone,
                        const char *outcome, const struct zp_err *err)
{
    char act[16];
    struct zp_audit_ev ev = {
        act, ch->uid, ch->resource_namespace, provider, zone, ch->fqdn, ch->key, outcome, err};

    action_label(ch->action, act, sizeof(act));
    zp_audit(&ev);
}

void zp_observe_sweep(int ok)
{
    zp_metric_inc(&m_sweeps, ok ? "success" : "failure");
}

void zp_observe_orphan(const char *provider, int removed)
{
    zp_metric_inc(&m_orphans, provider, removed ? "success" : "failure");
}

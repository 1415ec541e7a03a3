/*
 * trail.h — what the status page shows: every challenge in flight and the
 * last ZP_TRAIL_RECENT answered, each with its steps and their timing,
 * each nameserver's answers over time, the final sentence and a dig
 * command per nameserver. The solver records; anyone may snapshot.
 *
 * The snapshot is one JSON document (/status.json; the HTML page is a view
 * of it):
 *
 *   {"generated": "2026-12-03T15:00:00.123Z", "inFlightTotal": 3,
 *    "inFlight": [challenge…],       newest first, at most ZP_TRAIL_RECENT
 *    "recent":   [challenge…]}       answered, newest first
 *   challenge = {"uid", "namespace", "action": "Present"|"CleanUp",
 *     "fqdn", "zone", "provider", "type" (null when routing failed),
 *     "valueHash": "sha256:<12 hex>", "started": RFC 3339 UTC,
 *     "elapsedMs", "state": "queued"|"writing"|"propagating"|"checking"|"done",
 *     "outcome": "success"|"failure" (null in flight), "reason": error kind
 *     (null on success), "message": the sentence (null on success),
 *     "steps": [{"step": "routing"|"queued"|"provider call"|"propagation"|
 *                "CA view"|"answer", "atMs", "tookMs" (null while running),
 *                "ok" (null while running), "detail" (optional)}…],
 *     "nameservers": [{"name", "address", "state" (zp_ns_state_name),
 *        "servedMs" (null until it served the value), "dig",
 *        "answers": [{"atMs", "state"}…] (each change, from the watch's start)}…]}
 *
 * Nothing secret: no credential ever reaches here, and the value is a hash.
 * Thread-safe: one mutex; the snapshot asks the watcher (its own lock, taken
 * inside this one) for the live answers of challenges still propagating.
 */
#ifndef ZP_SOLVER_TRAIL_H
#define ZP_SOLVER_TRAIL_H

#include <stdint.h>

struct zp_buf;
struct zp_challenge;
struct zp_result;
struct zp_watcher;
struct zp_watch_report;

#define ZP_TRAIL_RECENT 200u

enum zp_trail_step {
    ZP_TS_QUEUED,      /* from submit to a worker taking it */
    ZP_TS_WRITE,       /* the provider call (checks before it included) */
    ZP_TS_PROPAGATION, /* the watch */
    ZP_TS_VIEW,        /* the CA's view, when verifyResolvers are set */
    ZP_TS_N
};

struct zp_trail;
struct zp_trail_rec;

struct zp_trail *zp_trail_new(void);
/* Every record in flight must have ended (zp_trail_end) before. */
void zp_trail_free(struct zp_trail *t);

/*
 * A challenge starts (at submit): routed to provider/type and zone, or not
 * (provider NULL, route_error says why). The record lives until
 * zp_trail_end; NULL when t is NULL.
 */
struct zp_trail_rec *zp_trail_begin(struct zp_trail *t, const struct zp_challenge *ch,
                                    const char *provider, const char *type, const char *zone,
                                    const char *route_error);
/* A step starts, or ends with ok (the steps run in order; each at most once). */
void zp_trail_step_start(struct zp_trail *t, struct zp_trail_rec *r, enum zp_trail_step step);
void zp_trail_step_end(struct zp_trail *t, struct zp_trail_rec *r, enum zp_trail_step step, int ok);
/* The watch's final report (each nameserver's answers), kept with the record. */
void zp_trail_report(struct zp_trail *t, struct zp_trail_rec *r, const struct zp_watch_report *rep);
/* The answer: the record moves to the recent ring (the oldest one leaves). */
void zp_trail_end(struct zp_trail *t, struct zp_trail_rec *r, const struct zp_result *res);

/* How many are in flight now. */
unsigned zp_trail_in_flight(struct zp_trail *t);

/*
 * The snapshot as JSON; w (may be NULL) gives the live answers of watches.
 * persist (may be NULL): JSON text put in as the document's "persist"
 * member as it is (persist.h's zp_persist_keeper_json).
 */
int zp_trail_json(struct zp_trail *t, struct zp_watcher *w, const char *persist,
                  struct zp_buf *out);

/* "sha256:" and the first 12 hex digits of the value's SHA-256: the audit's and the page's. */
void zp_value_hash(const char *value, char *out, size_t n);

#endif

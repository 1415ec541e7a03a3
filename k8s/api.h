/*
 * api.h — the HTTP surface of the aggregated API: routes, discovery
 * documents, Status errors, and the ChallengePayload endpoint that parks a
 * request while the solver works and answers it from the event loop.
 *
 * The JSON builders and parsers here are pure, for the unit tests; the
 * handler and the hand-off run on the event-loop thread except where noted.
 */
#ifndef ZP_K8S_API_H
#define ZP_K8S_API_H

#include <stddef.h>

#include "base/err.h"
#include "base/queue.h"

struct event_base;
struct zp_authn;
struct zp_authz;
struct zp_challenge;
struct zp_solver;
struct zp_xchg;

#define ZP_API_VERSION "v1alpha1"
#define ZP_PAYLOAD_GROUP "webhook.acme.cert-manager.io" /* fixed, whatever the groupName */
#define ZP_PAYLOAD_KIND "ChallengePayload"

/* ---- The thread hand-off (server.c) ----------------------------------- */

/*
 * Work finished on another thread that must continue on the event loop.
 * fn runs exactly once: on the loop thread with live = 1, or, when the loop
 * has already stopped, on whichever thread posted it with live = 0, when it
 * may only release memory it owns.
 */
struct zp_handoff_item {
    struct zp_qitem link; /* the hand-off's queue */
    void (*fn)(struct zp_handoff_item *it, int live);
};

struct zp_handoff;

struct zp_handoff *zp_handoff_new(struct event_base *base);
/* Loop thread: one more item will be posted (a request is parked). */
void zp_handoff_hold(struct zp_handoff *h);
/* Loop thread: a held item will never be posted after all. */
void zp_handoff_release(struct zp_handoff *h);
/* Any thread: queues it for the loop, which runs it soon. */
void zp_handoff_post(struct zp_handoff *h, struct zp_handoff_item *it);
/* Held items not yet run: parked requests, for the drain at shutdown. */
unsigned zp_handoff_pending(struct zp_handoff *h);
/*
 * Loop thread, after the loop ended: runs what is queued with live = 0 and
 * drops the server's reference. Later posts run at once with live = 0.
 */
void zp_handoff_close(struct zp_handoff *h);

/*
 * The server's own worker threads (two, a base/pool.h pool) for its calls
 * to kube-apiserver: SubjectAccessReviews and the re-reads of the
 * front-proxy settings. The event loop never waits on the network; a
 * finished job comes back to the loop through the hand-off.
 */
#define ZP_KWORKER_THREADS 2
#define ZP_KWORKER_QUEUE_MAX 1024u /* beyond this, callers answer "busy" rather than queue */

/*
 * One job. run executes on a worker thread; then item is posted to the
 * loop. A job never run (the server stopped first) is posted with live = 0.
 */
struct zp_kjob {
    struct zp_handoff_item item; /* first: the hand-off gives this pointer back */
    struct zp_qitem link;        /* the workers' queue */
    void (*run)(struct zp_kjob *job);
};

struct zp_kworker;

struct zp_kworker *zp_kworker_new(struct zp_handoff *h);
/*
 * Loop thread: queues job and holds the hand-off for its item. Returns -1
 * (and never posts) when the queue is full or the workers are stopping.
 */
int zp_kworker_submit(struct zp_kworker *w, struct zp_kjob *job);
/*
 * After zp_handoff_close: waits for running jobs (each call has a deadline),
 * posts the unrun ones with live = 0, and joins the threads.
 */
void zp_kworker_free(struct zp_kworker *w);

/* ---- Routes ------------------------------------------------------------ */

enum zp_route {
    ZP_ROUTE_NOT_FOUND = 0, /* authenticated, then 404 */
    ZP_ROUTE_HEALTH,        /* /healthz, /livez */
    ZP_ROUTE_READY,         /* /readyz: 503 while draining */
    ZP_ROUTE_OPENAPI,       /* /openapi/...: 404, no client certificate needed */
    ZP_ROUTE_APIS,          /* /apis: APIGroupList */
    ZP_ROUTE_GROUP,         /* /apis/<group>: APIGroup */
    ZP_ROUTE_VERSION,       /* /apis/<group>/v1alpha1: APIResourceList */
    ZP_ROUTE_SOLVER,        /* /apis/<group>/v1alpha1/<solver>: POST ChallengePayload */
    ZP_ROUTE__MAX
};

/* Routes a request path (no query string). */
enum zp_route zp_api_route(const char *path, const char *group, const char *solver);

/* 1 when a request body of this Content-Type is JSON; a missing one is, as in client-go. */
int zp_api_json_content_type(const char *content_type);

/* ---- JSON documents (caller frees) ------------------------------------- */

char *zp_api_status_json(int code, const char *reason, const char *message);
/*
 * The 413 Status for a body above ZP_SERVER_MAX_BODY: the same document
 * whether api.c finds the body too large or the server refuses it earlier.
 */
char *zp_api_too_large_json(void);
char *zp_api_group_list_json(const char *group);
char *zp_api_group_json(const char *group);
char *zp_api_resource_list_json(const char *group, const char *solver);
/*
 * The 201 body: always a response object; on failure a Status whose message
 * is never empty, since cert-manager reads success:false with an empty
 * message as success.
 */
char *zp_api_result_json(const char *uid, int ok, enum zp_errkind kind, const char *message);

/*
 * Decodes a ChallengePayload body into ch (zp_challenge_from_body). Fails
 * (ZP_EINVAL, a sentence for a 400 Status) on malformed JSON, trailing
 * bytes, a duplicate key, a NUL character, a body that is not an object, a
 * missing or empty request, or a request the solver's validation refuses.
 */
int zp_api_decode(const char *body, size_t len, struct zp_challenge *ch, struct zp_err *err);

/* ---- The handler ------------------------------------------------------- */

struct zp_api_cfg {
    const char *group;
    const char *solver_name;
    struct zp_solver *solver;
    struct zp_authn *authn;
    struct zp_authz *authz; /* NULL: every verified front-proxy identity is allowed */
    struct zp_handoff *handoff;
};

struct zp_api;

struct zp_api *zp_api_new(const struct zp_api_cfg *cfg);
void zp_api_free(struct zp_api *api);
/* While draining, /readyz fails and replies ask clients to close the connection. */
void zp_api_set_draining(struct zp_api *api, int on);

#define ZP_API_RESTARTING "zoneproof is restarting; cert-manager will retry"
/*
 * At a stop: every parked ChallengePayload call is answered now, with
 * success=false and ZP_API_RESTARTING, rather than when its solver job
 * ends (a Present may wait for propagation for most of a minute). The
 * jobs go on: a provider call in flight finishes its write and its journal
 * entry, so nothing is left half-written. Returns how many were answered.
 */
unsigned zp_api_answer_parked(struct zp_api *api);
/*
 * The server's end, on the loop's thread before the hand-off closes: calls
 * still parked forget the api, so that their jobs, ending later on solver
 * threads, touch only their own memory.
 */
void zp_api_detach_parked(struct zp_api *api);
/* Calls answered at the stop whose solver job has not ended yet. */
unsigned zp_api_answered_at_stop(const struct zp_api *api);
/*
 * One complete request, from either protocol (xchg.h): answered now, or
 * parked and answered from the loop later. arg is the zp_api.
 */
void zp_api_handle(struct zp_xchg *x, void *arg);

#endif

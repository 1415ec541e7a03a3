/*
 * authz.h — authorization as the Kubernetes generic apiserver does it:
 * system:masters passes; anyone else is asked of kube-apiserver with a
 * SubjectAccessReview, sent from the server's worker threads so the event
 * loop never waits; allowed and denied answers are kept for a while (10 s),
 * and concurrent requests with the same question share one review.
 *
 * Threads: the event-loop thread, except the pure functions.
 */
#ifndef ZP_K8S_AUTHZ_H
#define ZP_K8S_AUTHZ_H

#include <cjson/cJSON.h>

#include "base/err.h"

struct zp_identity;
struct zp_kclient;
struct zp_kworker;
struct zp_authz;

#define ZP_AUTHZ_TTL_MS 10000u   /* Go's default for allowed and for denied answers */
#define ZP_AUTHZ_CACHE_MAX 1024u /* distinct questions kept */

/* What is asked: a resource request when resource is set, otherwise a path. */
struct zp_authz_attrs {
    const char *verb;  /* "create", "get", ... */
    const char *group; /* resource requests */
    const char *version;
    const char *resource;
    const char *path; /* non-resource requests */
};

struct zp_authz_answer {
    int allowed;
    int failed;       /* no answer at all (not cached): err says why */
    char reason[512]; /* status.reason of the review, "" if none */
    struct zp_err err;
};

/*
 * The answer to a deferred check: on the loop thread with live = 1, or with
 * live = 0 when the server stopped first (then only free what arg owns).
 */
typedef void zp_authz_done_fn(void *arg, const struct zp_authz_answer *ans, int live);

/*
 * What Go's RequestInfoFactory derives for a request (method "POST", ...):
 * on the solver's collection (on_resource) a resource request, POST
 * create, GET and HEAD list, PUT update, PATCH patch, DELETE
 * deletecollection; anywhere else a non-resource request on path whose verb
 * is the lower-case method. at points into the arguments. Pure.
 */
void zp_authz_attrs_for(const char *method, int on_resource, const char *group, const char *version,
                        const char *resource, const char *path, struct zp_authz_attrs *at);

/* The SubjectAccessReview body, which is also the cache key. Caller frees. Pure. */
char *zp_authz_sar_json(const struct zp_identity *id, const struct zp_authz_attrs *at);
/* Reads a review's status into ans (allowed, reason); fails it when malformed. Pure. */
void zp_authz_parse(const cJSON *review, struct zp_authz_answer *ans);
/*
 * Go's 403 message: `zoneproof.acme.example.com is forbidden: User "u" cannot
 * create resource "zoneproof" in API group "acme.example.com" at the cluster
 * scope: <reason>`, or `forbidden: User "u" cannot get path "/apis"`. Pure.
 */
char *zp_authz_forbidden_message(const struct zp_identity *id, const struct zp_authz_attrs *at,
                                 const char *reason);

struct zp_authz *zp_authz_new(struct zp_kclient *k, struct zp_kworker *w, unsigned ttl_ms);
/* After the workers stopped (zp_kworker_free): reviews in flight are theirs. */
void zp_authz_free(struct zp_authz *z);

/*
 * Decides whether id may do at. Returns 0 with the answer in *ans (masters,
 * a cached answer, or a failure to start a review), or 1: done(arg, ...)
 * will be called exactly once.
 */
int zp_authz_check(struct zp_authz *z, const struct zp_identity *id,
                   const struct zp_authz_attrs *at, zp_authz_done_fn *done, void *arg,
                   struct zp_authz_answer *ans);

#endif

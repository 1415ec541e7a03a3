/*
 * kclient.h — the Kubernetes API client: where the API server is (the
 * in-cluster service account, or a kubeconfig), how zoneproof proves who it
 * is (a bearer token re-read as it rotates, or a client certificate), and
 * one call (get, list, create, update, delete) whose errors name the object
 * and the missing permission, and tell a conflict (409) apart.
 *
 * Threads: once made, a client may be used from any thread at once.
 */
#ifndef ZP_K8S_KCLIENT_H
#define ZP_K8S_KCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct zp_buf;
struct zp_err;
struct zp_kclient;

#define ZP_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define ZP_SA_DIR_ENV "ZP_SERVICEACCOUNT_DIR" /* another directory, for tests */
/* A projected token rotates; client-go re-reads it about once a minute too. */
#define ZP_KCLIENT_TOKEN_TTL_MS 60000u
#define ZP_KCLIENT_TIMEOUT_MS 10000u /* per call, as Go's delegated authn/authz clients */

/*
 * The cluster to use: the kubeconfig when one is named, else the service
 * account when KUBERNETES_SERVICE_HOST is set, else none: *out is NULL and
 * the result 0. Fails when the named configuration is incomplete.
 */
int zp_kclient_new(const char *kubeconfig, struct zp_kclient **out, struct zp_err *err);
void zp_kclient_free(struct zp_kclient *k);
const char *zp_kclient_server(const struct zp_kclient *k);
const char *zp_kclient_namespace(const struct zp_kclient *k);
/* "the zoneproof service account", or the kubeconfig user: who lacks a permission. */
const char *zp_kclient_who(const struct zp_kclient *k);

/* One object or collection, named the way RBAC names it. */
struct zp_kobj {
    const char *verb;     /* RBAC's verb, which picks the request: see zp_kclient_call */
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *resource; /* plural: "secrets" */
    const char *ns;       /* NULL: cluster-scoped, or with list: every namespace */
    const char *name;     /* NULL with create and list */
    const char *hint;     /* appended to a 403 sentence: which role grants it; may be NULL */
    const char *selector; /* list: a labelSelector ("a=b,c"), or NULL for every object */
    const char *rv;       /* delete: only while the object has this resourceVersion; or NULL */
};

/* A list never holds more items than this: more fails (a partial list would mislead). */
#define ZP_KCLIENT_LIST_MAX 10000u
#define ZP_KCLIENT_LIST_PAGE 500u /* items asked for per page (limit, then continue) */
/* err->upstream after a 409: AlreadyExists (create) or Conflict (a stale resourceVersion). */
#define ZP_KCLIENT_CONFLICT 409

/*
 * One call, by verb:
 *   get     GET the object
 *   list    GET the collection, page by page (limit and continue, restarted
 *           once if the continue token expired): *out is {"items":[...]},
 *           every page's items; more than ZP_KCLIENT_LIST_MAX fails
 *   create  POST body to the collection
 *   update  PUT body to the object; the body's metadata.resourceVersion
 *           makes it conditional (409 when the object changed since)
 *   delete  DELETE the object; with rv, only while it still has that
 *           resourceVersion (409 otherwise)
 * Returns 0 with the reply in *out (free with cJSON_Delete, or
 * zp_kclient_json_free_secret when secret is set), or -1: ZP_ENOTFOUND
 * "secret web/x not found", ZP_EPERM "cannot get secret web/x (403
 * Forbidden): ... needs get on secrets in namespace web", ZP_EAUTH on 401
 * (after one re-read of a token file), ZP_ETRANSIENT with err->upstream ==
 * ZP_KCLIENT_CONFLICT on 409 ("cannot update lease zoneproof/x (409
 * Conflict): it changed since it was read; read it again"), ZP_ETRANSIENT
 * or ZP_ETIMEOUT. err->upstream is the HTTP status of any non-2xx answer.
 * secret: the reply carries secret data; every copy zoneproof holds is
 * wiped.
 */
int zp_kclient_call(struct zp_kclient *k, const struct zp_kobj *obj, const char *body,
                    uint64_t deadline_ms, int secret, cJSON **out, struct zp_err *err);

/* The resourceVersion of an object in a reply ("" when absent); points into obj. */
const char *zp_kclient_rv(const cJSON *obj);

/* The sentence for a non-2xx answer; pure, for the tests. */
void zp_kclient_status_error(const struct zp_kobj *obj, const char *who, long status,
                             const char *body, size_t len, struct zp_err *err);

/* Wipes every string of a parsed reply, then frees it. Accepts NULL. */
void zp_kclient_json_free_secret(cJSON *j);

#endif

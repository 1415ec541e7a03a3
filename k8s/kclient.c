/*
 * kclient.c — the Kubernetes API client: the in-cluster service account or
 * a kubeconfig's current context (kubeconfig.c), the bearer token re-read
 * as it rotates, inline kubeconfig certificates and keys handed to libcurl
 * from memory (never written to disk), and one call (get, list page by
 * page, create, update, delete) whose errors say which permission is
 * missing, or what conflicted.
 *
 * Threads: any; the token is the only mutable state, under k->mu.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/kclient.h"
#include "k8s/kubeconfig.h"

#define TOKEN_MAX (64u * 1024u)
#define SMALL_FILE_MAX 4096u
#define WHAT "the Kubernetes API server"

enum { T_CA, T_CERT, T_KEY, T__MAX };

struct zp_kclient {
    char *server; /* https://host:port, no trailing slash */
    char *namespace;
    char *who;
    char *ca_file;   /* NULL: the system's trust store */
    char *cert_file; /* client certificate and key, or NULL */
    char *key_file;
    /* A kubeconfig's inline -data fields, kept in memory (never written to disk). */
    struct zp_buf *pem[T__MAX];
    pthread_mutex_t mu; /* guards the three fields below */
    char *token;        /* the bearer token (a secret), or NULL */
    char *token_file;   /* re-read every ZP_KCLIENT_TOKEN_TTL_MS and after a 401 */
    uint64_t token_read_ms;
};

/* ---- the client ------------------------------------------------------------ */

/* The first line of a small file, or NULL. */
static char *read_line(const char *path)
{
    struct zp_buf b;
    struct zp_err e = {0};
    char *s = NULL;

    zp_buf_init(&b, SMALL_FILE_MAX);
    if (zp_buf_read_file(&b, path, SMALL_FILE_MAX, "namespace", &e) == 0) {
        zp_buf_trim(&b);
        if (b.len > 0)
            s = zp_xstrndup(b.data, strcspn(b.data, "\r\n"));
    }
    zp_buf_free(&b);
    return s;
}

/* Re-reads the token file when due (or forced). Called with k->mu held. */
static void refresh_token(struct zp_kclient *k, int force)
{
    struct zp_buf b;
    struct zp_err e = {0};

    if (k->token_file == NULL ||
        (!force && k->token != NULL && zp_now_ms() - k->token_read_ms < ZP_KCLIENT_TOKEN_TTL_MS))
        return;
    zp_buf_init(&b, TOKEN_MAX);
    k->token_read_ms = zp_now_ms();
    if (zp_buf_read_file(&b, k->token_file, TOKEN_MAX, "service account token", &e) == 0) {
        zp_buf_trim(&b);
        if (b.len > 0 && (k->token == NULL || strcmp(k->token, b.data) != 0)) {
            if (k->token != NULL)
                zp_log(ZP_LOG_INFO, "kubernetes: token re-read", ZP_S("file", k->token_file),
                       ZP_END);
            zp_free_secret(k->token);
            k->token = zp_buf_take(&b);
        }
    } else if (k->token != NULL) {
        /* The old token may still be good; the error (a path, no secret) goes to the log. */
        zp_log(ZP_LOG_WARN, "kubernetes: cannot re-read the token", ZP_S("error", e.msg), ZP_END);
    }
    zp_buf_free_secret(&b);
}

/* A copy of the Authorization line (a secret: free with zp_free_secret), or NULL. */
static char *auth_header(struct zp_kclient *k, int force)
{
    char *h = NULL;

    pthread_mutex_lock(&k->mu);
    refresh_token(k, force);
    if (k->token != NULL)
        h = zp_xasprintf("Authorization: Bearer %s", k->token);
    pthread_mutex_unlock(&k->mu);
    return h;
}

static struct zp_kclient *client_alloc(void)
{
    struct zp_kclient *k = zp_xcalloc(1, sizeof(*k));

    pthread_mutex_init(&k->mu, NULL);
    return k;
}

static int in_cluster(const char *host, struct zp_kclient **kp, struct zp_err *err)
{
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    const char *dir = getenv(ZP_SA_DIR_ENV);
    struct zp_kclient *k = client_alloc();
    char *ns_file;
    int rc = -1;

    if (dir == NULL || *dir == '\0')
        dir = ZP_SA_DIR;
    if (port == NULL || *port == '\0')
        port = "443";
    k->server = zp_xasprintf(strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
    k->ca_file = zp_xasprintf("%s/ca.crt", dir);
    k->token_file = zp_xasprintf("%s/token", dir);
    k->who = zp_xstrdup("the zoneproof service account");
    /*
     * A Pod with automountServiceAccountToken off has the variables but no
     * directory: the operator chose no API access, so run without a cluster.
     */
    if (access(k->ca_file, F_OK) != 0 && errno == ENOENT && access(k->token_file, F_OK) != 0 &&
        errno == ENOENT) {
        zp_log(ZP_LOG_WARN,
               "in a Pod without a service-account token: no Kubernetes API calls (no "
               "SubjectAccessReview, no secretRef); pass --kubeconfig or mount the token to have "
               "them",
               ZP_S("directory", dir), ZP_END);
        zp_kclient_free(k);
        k = NULL;
        rc = 0;
        goto out;
    }
    if (access(k->ca_file, R_OK) != 0) {
        zp_err_set(err, ZP_ECONFIG,
                   "in-cluster configuration: cannot read %s: %s (is automountServiceAccountToken "
                   "off? Or pass --kubeconfig)",
                   k->ca_file, strerror(errno));
        goto out;
    }
    pthread_mutex_lock(&k->mu);
    refresh_token(k, 1);
    pthread_mutex_unlock(&k->mu);
    if (k->token == NULL) {
        zp_err_set(err, ZP_ECONFIG, "in-cluster configuration: no token in %s", k->token_file);
        goto out;
    }
    ns_file = zp_xasprintf("%s/namespace", dir);
    k->namespace = read_line(ns_file);
    free(ns_file);
    if (k->namespace == NULL)
        k->namespace = zp_xstrdup("default");
    rc = 0;
out:
    if (rc == 0)
        *kp = k;
    else
        zp_kclient_free(k);
    return rc;
}

static int from_kubeconfig(const char *file, struct zp_kclient **out, struct zp_err *err)
{
    struct zp_kubeconfig kc;
    struct zp_kclient *k;

    if (zp_kubeconfig_parse(file, &kc, err) == -1)
        return -1;
    k = client_alloc();
    k->server = zp_xstrdup(kc.server);
    k->namespace = zp_xstrdup(kc.namespace);
    k->who = kc.user ? zp_xasprintf("the kubeconfig user \"%s\"", kc.user)
                     : zp_xstrdup("the kubeconfig's anonymous user");
    k->pem[T_CA] = kc.ca_data;
    k->pem[T_CERT] = kc.cert_data;
    k->pem[T_KEY] = kc.key_data;
    kc.ca_data = kc.cert_data = kc.key_data = NULL;
    k->ca_file = kc.ca_file ? zp_xstrdup(kc.ca_file) : NULL;
    k->cert_file = kc.cert_file ? zp_xstrdup(kc.cert_file) : NULL;
    k->key_file = kc.key_file ? zp_xstrdup(kc.key_file) : NULL;
    k->token = kc.token;
    kc.token = NULL;
    k->token_file = kc.token_file;
    kc.token_file = NULL;
    zp_kubeconfig_cleanup(&kc);
    if (zp_err_isset(err)) {
        zp_kclient_free(k);
        return -1;
    }
    if (k->token_file != NULL) {
        pthread_mutex_lock(&k->mu);
        refresh_token(k, 1);
        pthread_mutex_unlock(&k->mu);
        if (k->token == NULL) {
            zp_err_set(err, ZP_ECONFIG, "%s: tokenFile %s holds no token", file, k->token_file);
            zp_kclient_free(k);
            return -1;
        }
    }
    *out = k;
    return 0;
}

int zp_kclient_new(const char *kubeconfig, struct zp_kclient **out, struct zp_err *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    int rc;

    *out = NULL;
    if (kubeconfig != NULL && *kubeconfig != '\0')
        rc = from_kubeconfig(kubeconfig, out, err);
    else if (host != NULL && *host != '\0')
        rc = in_cluster(host, out, err);
    else
        return 0;
    if (rc == 0 && *out != NULL)
        zp_log(ZP_LOG_INFO, "kubernetes: API server", ZP_S("server", (*out)->server),
               ZP_S("namespace", (*out)->namespace),
               ZP_S("source", kubeconfig && *kubeconfig ? kubeconfig : "in-cluster"),
               ZP_S("client_certificate", (*out)->cert_file || (*out)->pem[T_CERT] ? "yes" : "no"),
               ZP_END);
    return rc;
}

void zp_kclient_free(struct zp_kclient *k)
{
    if (k == NULL)
        return;
    for (int i = 0; i < T__MAX; i++) {
        if (k->pem[i] != NULL)
            zp_buf_free_secret(k->pem[i]);
        free(k->pem[i]);
    }
    free(k->server);
    free(k->namespace);
    free(k->who);
    free(k->ca_file);
    free(k->cert_file);
    free(k->key_file);
    free(k->token_file);
    zp_free_secret(k->token);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

const char *zp_kclient_server(const struct zp_kclient *k)
{
    return k->server;
}

const char *zp_kclient_namespace(const struct zp_kclient *k)
{
    return k->namespace;
}

const char *zp_kclient_who(const struct zp_kclient *k)
{
    return k->who;
}

/* ---- sentences ----------------------------------------------------------------- */

/*
 * What a sentence names: "secret web/cf-token", "configmaps in namespace
 * zoneproof", "tokenreviews.authentication.k8s.io".
 */
static void describe(const struct zp_kobj *o, const char *name, char *what, size_t wsz, char *rbac,
                     size_t rsz)
{
    size_t n = strlen(o->resource);
    int grouped = o->group != NULL && *o->group != '\0';
    int one = (int)(n > 1 && o->resource[n - 1] == 's' ? n - 1 : n);

    snprintf(rbac, rsz, "%s%s%s", o->resource, grouped ? "." : "", grouped ? o->group : "");
    if (name == NULL && o->ns != NULL)
        snprintf(what, wsz, "%s in namespace %s", rbac, o->ns);
    else if (name == NULL && strcmp(o->verb, "list") == 0)
        snprintf(what, wsz, "%s in all namespaces", rbac);
    else if (name == NULL)
        snprintf(what, wsz, "%s", rbac);
    else if (o->ns != NULL)
        snprintf(what, wsz, "%.*s %s/%s", one, o->resource, o->ns, name);
    else
        snprintf(what, wsz, "%.*s %s", one, o->resource, name);
}

/* A 409: the object exists already (create), or changed since it was read. */
static void conflict_error(const struct zp_kobj *obj, const cJSON *st, const char *reason,
                           struct zp_err *err)
{
    const cJSON *det = cJSON_GetObjectItemCaseSensitive(st, "details");
    const char *dname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(det, "name"));
    char what[512], rbac[256], name[254];

    /* The name in the Status, when the call had none (create): which object exists. */
    zp_strlcpy(name, obj->name ? obj->name : dname ? dname : "", sizeof(name));
    describe(obj, name[0] ? name : NULL, what, sizeof(what), rbac, sizeof(rbac));
    if (reason != NULL && strcmp(reason, "AlreadyExists") == 0)
        zp_err_set(err, ZP_ETRANSIENT, "cannot %s %s (409 AlreadyExists): it already exists",
                   obj->verb, what);
    else
        zp_err_set(err, ZP_ETRANSIENT,
                   "cannot %s %s (409 Conflict): it changed since it was read; read it again",
                   obj->verb, what);
}

void zp_kclient_status_error(const struct zp_kobj *obj, const char *who, long status,
                             const char *body, size_t len, struct zp_err *err)
{
    char what[512], rbac[256], scope[300] = "", hint[300] = "";
    cJSON *st = body ? cJSON_ParseWithLength(body, len) : NULL;
    const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "reason"));
    enum zp_errkind kind;

    describe(obj, obj->name, what, sizeof(what), rbac, sizeof(rbac));
    if (obj->ns != NULL)
        snprintf(scope, sizeof(scope), " in namespace %s", obj->ns);
    else if (strcmp(obj->verb, "list") == 0)
        snprintf(scope, sizeof(scope), " in all namespaces");
    if (obj->hint != NULL)
        snprintf(hint, sizeof(hint), " (%s)", obj->hint);
    switch (status) {
    case 404:
        if (obj->name != NULL)
            zp_err_set(err, ZP_ENOTFOUND, "%s not found", what);
        else
            zp_err_set(err, ZP_ENOTFOUND,
                       "%s is not served by the Kubernetes API server "
                       "(404 Not Found)",
                       rbac);
        break;
    case 403:
        zp_err_set(err, ZP_EPERM, "cannot %s %s (403 Forbidden): %s needs %s on %s%s%s", obj->verb,
                   what, who, obj->verb, rbac, scope, hint);
        break;
    case 401:
        zp_err_set(err, ZP_EAUTH,
                   "cannot %s %s (401 Unauthorized): the Kubernetes API server "
                   "did not accept the credentials of %s",
                   obj->verb, what, who);
        break;
    case ZP_KCLIENT_CONFLICT:
        conflict_error(obj, st, reason, err);
        break;
    default:
        /* 410: a list's continue token expired; a new list may succeed. */
        kind = status >= 500 || status == 410 ? ZP_ETRANSIENT
               : status == 429                ? ZP_ERATELIMIT
                                              : ZP_EINTERNAL;
        zp_err_set(err, kind, "cannot %s %s: the Kubernetes API server answered %ld%s%s%s%s",
                   obj->verb, what, status, *zp_http_reason(status) ? " " : "",
                   zp_http_reason(status), reason && *reason ? ", reason " : "",
                   reason && *reason ? reason : "");
        break;
    }
    err->upstream = (int)status;
    cJSON_Delete(st);
}

static void wipe_json(cJSON *j)
{
    for (; j != NULL; j = j->next) {
        if (j->valuestring != NULL)
            zp_wipe(j->valuestring, strlen(j->valuestring));
        if (j->string != NULL)
            zp_wipe(j->string, strlen(j->string));
        wipe_json(j->child);
    }
}

void zp_kclient_json_free_secret(cJSON *j)
{
    wipe_json(j);
    cJSON_Delete(j);
}

const char *zp_kclient_rv(const cJSON *obj)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const char *rv =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion"));

    return rv ? rv : "";
}

/* ---- one exchange ------------------------------------------------------------- */

/* The object's URL, or its collection's (name NULL, or create and list). */
static int build_url(const struct zp_kclient *k, const struct zp_kobj *o, int collection,
                     struct zp_buf *url)
{
    int grouped = o->group != NULL && *o->group != '\0';

    zp_buf_printf(url, "%s", k->server);
    if (grouped)
        zp_buf_printf(url, "/apis/%s/%s", o->group, o->version);
    else
        zp_buf_printf(url, "/api/%s", o->version);
    if (o->ns != NULL) {
        zp_buf_puts(url, "/namespaces/");
        zp_http_escape(o->ns, url);
    }
    zp_buf_printf(url, "/%s", o->resource);
    if (o->name != NULL && !collection) {
        zp_buf_puts(url, "/");
        zp_http_escape(o->name, url);
    }
    return zp_buf_ok(url) ? 0 : -1;
}

static int url_error(const struct zp_kobj *obj, size_t max, struct zp_err *err)
{
    return zp_err_set(err, ZP_EINVAL, "the URL of %s %s/%s at %s is longer than %zu bytes",
                      obj->resource, obj->ns ? obj->ns : "", obj->name ? obj->name : "", WHAT, max);
}

/*
 * One request and its answer: 0 with the parsed JSON of a 2xx, or -1 with
 * the sentence for anything else. A 401 with a token file is tried once
 * more if the token changed meanwhile (it may have rotated just now).
 */
static int exchange(struct zp_kclient *k, const struct zp_kobj *obj, const char *method,
                    const char *url, const char *body, uint64_t deadline_ms, int secret,
                    cJSON **out, struct zp_err *err)
{
    struct zp_http_resp resp;
    struct zp_http_req req;
    const char *headers[4] = {0};
    char *auth = NULL, *again = NULL;
    int rc = -1, slot = body != NULL ? 2 : 1;

    zp_http_resp_init(&resp);
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.deadline_ms = deadline_ms ? deadline_ms : zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS;
    req.ca_file = k->ca_file;
    req.client_cert_file = k->cert_file;
    req.client_key_file = k->key_file;
    req.ca_pem = k->pem[T_CA];
    req.client_cert_pem = k->pem[T_CERT];
    req.client_key_pem = k->pem[T_KEY];
    req.what = WHAT;
    req.headers = headers;
    headers[0] = "Accept: application/json";
    headers[1] = body != NULL ? "Content-Type: application/json" : NULL;
    headers[slot] = auth = auth_header(k, 0);
    if (zp_http_call(&req, &resp, err) == -1)
        goto out;
    if (resp.status == 401 && k->token_file != NULL) {
        again = auth_header(k, 1);
        if (again != NULL && (auth == NULL || strcmp(again, auth) != 0)) {
            headers[slot] = again;
            if (secret)
                zp_wipe(resp.body.data, resp.body.len);
            if (zp_http_call(&req, &resp, err) == -1)
                goto out;
        }
    }
    if (resp.status < 200 || resp.status > 299) {
        zp_kclient_status_error(obj, k->who, resp.status, resp.body.data, resp.body.len, err);
        /* 404 and 409 are answers callers expect (absent, already there, changed): not warnings. */
        zp_log(resp.status == 404 || resp.status == ZP_KCLIENT_CONFLICT ? ZP_LOG_INFO : ZP_LOG_WARN,
               "kubernetes: call refused", ZP_S("verb", obj->verb), ZP_S("resource", obj->resource),
               ZP_S("namespace", obj->ns), ZP_S("name", obj->name), ZP_I("status", resp.status),
               ZP_S("error", err->msg), ZP_END);
        goto out;
    }
    *out = cJSON_ParseWithLength(zp_buf_str(&resp.body), resp.body.len);
    if (*out == NULL) {
        zp_err_set(err, ZP_ETRANSIENT, "%s answered %s %s with something that is not JSON", WHAT,
                   method, obj->resource);
        goto out;
    }
    rc = 0;
out:
    zp_free_secret(auth);
    zp_free_secret(again);
    if (secret)
        zp_buf_free_secret(&resp.body);
    zp_http_resp_free(&resp);
    return rc;
}

/* ---- list, page by page ----------------------------------------------------------- */

#define CONTINUE_MAX 4096u /* a continue token longer than this is refused */
#define PAGES_MAX 1000u    /* a server that pages forever is cut off */

/* The URL of one page: the collection with limit, labelSelector and continue. */
static int page_url(const struct zp_kclient *k, const struct zp_kobj *obj, const char *cont,
                    struct zp_buf *url)
{
    zp_buf_reset(url);
    build_url(k, obj, 1, url);
    zp_buf_printf(url, "?limit=%u", ZP_KCLIENT_LIST_PAGE);
    if (obj->selector != NULL && *obj->selector != '\0') {
        zp_buf_puts(url, "&labelSelector=");
        zp_http_escape(obj->selector, url);
    }
    if (cont != NULL && *cont != '\0') {
        zp_buf_puts(url, "&continue=");
        zp_http_escape(cont, url);
    }
    return zp_buf_ok(url) ? 0 : -1;
}

/* Moves page's items into items (*n so far); -1 when that would pass ZP_KCLIENT_LIST_MAX. */
static int take_items(cJSON *page, cJSON *items, size_t *n, const struct zp_kobj *obj,
                      struct zp_err *err)
{
    cJSON *got = cJSON_GetObjectItemCaseSensitive(page, "items"), *it;
    char what[512], rbac[256];

    if (got != NULL && !cJSON_IsArray(got) && !cJSON_IsNull(got))
        return zp_err_set(err, ZP_ETRANSIENT, "%s answered a list of %s without an items array",
                          WHAT, obj->resource);
    while (cJSON_IsArray(got) && (it = cJSON_DetachItemFromArray(got, 0)) != NULL) {
        if (*n >= ZP_KCLIENT_LIST_MAX) {
            cJSON_Delete(it);
            describe(obj, NULL, what, sizeof(what), rbac, sizeof(rbac));
            return zp_err_set(err, ZP_EINTERNAL,
                              "there are more than %u %s; zoneproof reads at most %u",
                              ZP_KCLIENT_LIST_MAX, what, ZP_KCLIENT_LIST_MAX);
        }
        cJSON_AddItemToArray(items, it);
        (*n)++;
    }
    return 0;
}

/* The next page's continue token into cont (empty: the last page). */
static int next_token(const cJSON *page, char *cont, size_t sz, const struct zp_kobj *obj,
                      struct zp_err *err)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "continue"));

    if (c == NULL)
        c = "";
    if (strlen(c) >= sz)
        return zp_err_set(err, ZP_ETRANSIENT,
                          "%s answered a list of %s with a continue token longer than %zu bytes",
                          WHAT, obj->resource, sz - 1);
    zp_strlcpy(cont, c, sz);
    return 0;
}

/*
 * Every page. A continue token expires (410 Gone) when the list takes
 * longer than the API server keeps its snapshot: then the list starts over,
 * once, so the result is never two snapshots glued together.
 */
static int list_all(struct zp_kclient *k, const struct zp_kobj *obj, uint64_t deadline_ms,
                    cJSON **out, struct zp_err *err)
{
    cJSON *all = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(all, "items"), *page;
    char *cont = zp_xcalloc(1, CONTINUE_MAX);
    struct zp_buf url;
    int restarted = 0, rc = -1;
    size_t n = 0, pages = 0;

    zp_buf_init(&url, 16384);
    if (all == NULL || items == NULL)
        abort(); /* allocation only */
    for (;;) {
        struct zp_err e = {0};
        int bad;
        if (page_url(k, obj, cont, &url) == -1) {
            url_error(obj, url.max, err);
            goto out;
        }
        if (++pages > PAGES_MAX) {
            zp_err_set(err, ZP_ETRANSIENT, "%s answered a list of %s in more than %u pages", WHAT,
                       obj->resource, PAGES_MAX);
            goto out;
        }
        page = NULL;
        if (exchange(k, obj, "GET", zp_buf_str(&url), NULL, deadline_ms, 0, &page, &e) == -1) {
            if (e.upstream != 410 || cont[0] == '\0' || restarted) {
                *err = e;
                goto out;
            }
            restarted = 1; /* the token expired: start over */
            cont[0] = '\0';
            n = 0;
            cJSON_DeleteItemFromObject(all, "items");
            if ((items = cJSON_AddArrayToObject(all, "items")) == NULL)
                abort(); /* allocation only */
            continue;
        }
        bad = take_items(page, items, &n, obj, err) == -1 ||
              next_token(page, cont, CONTINUE_MAX, obj, err) == -1;
        cJSON_Delete(page);
        if (bad)
            goto out;
        if (cont[0] == '\0')
            break;
    }
    rc = 0;
out:
    if (rc == 0)
        *out = all;
    else
        cJSON_Delete(all);
    free(cont);
    zp_buf_free(&url);
    return rc;
}

/* ---- the call ------------------------------------------------------------------- */

/* DeleteOptions with a resourceVersion precondition. */
static char *delete_options(const char *rv)
{
    cJSON *o = cJSON_CreateObject(), *pre;
    char *s;

    if (o == NULL || cJSON_AddStringToObject(o, "apiVersion", "v1") == NULL ||
        cJSON_AddStringToObject(o, "kind", "DeleteOptions") == NULL ||
        (pre = cJSON_AddObjectToObject(o, "preconditions")) == NULL ||
        cJSON_AddStringToObject(pre, "resourceVersion", rv) == NULL ||
        (s = cJSON_PrintUnformatted(o)) == NULL)
        abort(); /* allocation only */
    cJSON_Delete(o);
    return s;
}

int zp_kclient_call(struct zp_kclient *k, const struct zp_kobj *obj, const char *body,
                    uint64_t deadline_ms, int secret, cJSON **out, struct zp_err *err)
{
    static const struct {
        const char *verb, *method;
        int collection;
    } verbs[] = {
        {"get", "GET", 0}, {"create", "POST", 1}, {"update", "PUT", 0}, {"delete", "DELETE", 0}};
    struct zp_buf url;
    char *opts = NULL;
    int rc = -1, v = -1;

    *out = NULL;
    if (deadline_ms == 0)
        deadline_ms = zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS;
    if (strcmp(obj->verb, "list") == 0)
        return list_all(k, obj, deadline_ms, out, err);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(obj->verb, verbs[i].verb) == 0)
            v = (int)i;
    if (v == -1 || (!verbs[v].collection && obj->name == NULL) ||
        ((v == 1 || v == 2) && body == NULL))
        return zp_err_set(err, ZP_EINTERNAL, "kubernetes client: cannot %s %s without %s",
                          obj->verb, obj->resource, v == -1 ? "a known verb" : "a name or body");
    zp_buf_init(&url, 8192);
    if (build_url(k, obj, verbs[v].collection, &url) == -1) {
        url_error(obj, url.max, err);
        goto out;
    }
    if (v == 3 && obj->rv != NULL && body == NULL)
        body = opts = delete_options(obj->rv);
    rc = exchange(k, obj, verbs[v].method, zp_buf_str(&url), body, deadline_ms, secret, out, err);
out:
    free(opts);
    zp_buf_free(&url);
    return rc;
}

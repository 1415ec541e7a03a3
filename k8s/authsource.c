/*
 * authsource.c — the front-proxy settings from ConfigMap
 * kube-system/extension-apiserver-authentication: parsed the way Go's
 * dynamic request-header provider reads it, fetched at start and then on a
 * timer from a worker thread, and applied on the event loop only when
 * something changed.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "k8s/authsource.h"
#include "k8s/kclient.h"

#define CM "ConfigMap " ZP_AUTHSRC_NS "/" ZP_AUTHSRC_NAME

struct refresh;

struct zp_authsrc {
    struct zp_kclient *k;
    struct zp_authn *authn;
    struct zp_authn_cfg flags;   /* the caller's lists; must outlive this */
    struct zp_authsrc_data seen; /* the ConfigMap as last read, used or refused */
    struct zp_kworker *w;
    struct event *timer;
    int busy; /* a refresh is queued or running */
};

/* One re-read, done on a worker; it outlives the source if the server stops first. */
struct refresh {
    struct zp_kjob job;     /* first: the hand-off gives this pointer back */
    struct zp_authsrc *src; /* touched only with live = 1 */
    struct zp_kclient *k;
    struct zp_authsrc_data data;
    struct zp_err err;
    int ok;
};

static char *const def_user[] = {"X-Remote-User"};
static char *const def_group[] = {"X-Remote-Group"};
static char *const def_extra[] = {"X-Remote-Extra-"};

/* ---- pure parts ------------------------------------------------------------ */

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; list != NULL && i < n; i++)
        free(list[i]);
    free(list);
}

/* A value such as "[\"front-proxy-client\"]": a JSON array of strings. */
static int json_list(const cJSON *data, const char *key, char ***out, size_t *n, struct zp_err *err)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, key));
    cJSON *arr, *it;
    size_t i = 0;

    *out = NULL;
    *n = 0;
    if (v == NULL)
        return 0;
    arr = cJSON_Parse(v);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return zp_err_set(err, ZP_ECONFIG, CM ": %s is not a JSON array of strings", key);
    }
    *out = zp_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it)) {
            free_list(*out, i);
            *out = NULL;
            cJSON_Delete(arr);
            return zp_err_set(err, ZP_ECONFIG, CM ": %s is not a JSON array of strings", key);
        }
        if (*it->valuestring != '\0')
            (*out)[i++] = zp_xstrdup(it->valuestring);
    }
    *n = i;
    cJSON_Delete(arr);
    return 0;
}

int zp_authsrc_parse(const cJSON *cm, struct zp_authsrc_data *d, struct zp_err *err)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(cm, "data");
    const char *ca = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(data, "requestheader-client-ca-file"));

    memset(d, 0, sizeof(*d));
    if (!cJSON_IsObject(cm))
        return zp_err_set(err, ZP_ETRANSIENT, CM ": the API server's answer is not an object");
    if (ca != NULL && *ca != '\0') {
        d->ca_pem = zp_xstrdup(ca);
        d->ca_len = strlen(ca);
    }
    if (json_list(data, "requestheader-allowed-names", &d->allowed_names, &d->n_allowed_names,
                  err) == -1 ||
        json_list(data, "requestheader-username-headers", &d->username_headers,
                  &d->n_username_headers, err) == -1 ||
        json_list(data, "requestheader-group-headers", &d->group_headers, &d->n_group_headers,
                  err) == -1 ||
        json_list(data, "requestheader-extra-headers-prefix", &d->extra_prefixes,
                  &d->n_extra_prefixes, err) == -1) {
        zp_authsrc_data_cleanup(d);
        return -1;
    }
    return 0;
}

void zp_authsrc_data_cleanup(struct zp_authsrc_data *d)
{
    free(d->ca_pem);
    free_list(d->allowed_names, d->n_allowed_names);
    free_list(d->username_headers, d->n_username_headers);
    free_list(d->group_headers, d->n_group_headers);
    free_list(d->extra_prefixes, d->n_extra_prefixes);
    memset(d, 0, sizeof(*d));
}

static int same_list(char **a, size_t na, char **b, size_t nb)
{
    if ((a == NULL) != (b == NULL) || na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

int zp_authsrc_data_same(const struct zp_authsrc_data *a, const struct zp_authsrc_data *b)
{
    return a->ca_len == b->ca_len && (a->ca_pem == NULL) == (b->ca_pem == NULL) &&
           (a->ca_pem == NULL || memcmp(a->ca_pem, b->ca_pem, a->ca_len) == 0) &&
           same_list(a->allowed_names, a->n_allowed_names, b->allowed_names, b->n_allowed_names) &&
           same_list(a->username_headers, a->n_username_headers, b->username_headers,
                     b->n_username_headers) &&
           same_list(a->group_headers, a->n_group_headers, b->group_headers, b->n_group_headers) &&
           same_list(a->extra_prefixes, a->n_extra_prefixes, b->extra_prefixes,
                     b->n_extra_prefixes);
}

/* One list: the flag's when given, else the ConfigMap's, else the default. */
static void pick(char *const *flag, size_t nflag, char *const *cm, size_t ncm, char *const *def,
                 size_t ndef, char *const **out, size_t *n)
{
    if (flag != NULL) {
        *out = flag;
        *n = nflag;
    } else if (cm != NULL) {
        *out = cm;
        *n = ncm;
    } else {
        *out = def;
        *n = ndef;
    }
}

void zp_authsrc_merge(const struct zp_authn_cfg *flags, const struct zp_authsrc_data *d,
                      struct zp_authn_cfg *out)
{
    static const struct zp_authsrc_data none;

    if (d == NULL)
        d = &none;
    *out = *flags;
    pick(flags->allowed_names, flags->n_allowed_names, d->allowed_names, d->n_allowed_names, NULL,
         0, &out->allowed_names, &out->n_allowed_names);
    pick(flags->username_headers, flags->n_username_headers, d->username_headers,
         d->n_username_headers, def_user, 1, &out->username_headers, &out->n_username_headers);
    pick(flags->group_headers, flags->n_group_headers, d->group_headers, d->n_group_headers,
         def_group, 1, &out->group_headers, &out->n_group_headers);
    pick(flags->extra_prefixes, flags->n_extra_prefixes, d->extra_prefixes, d->n_extra_prefixes,
         def_extra, 1, &out->extra_prefixes, &out->n_extra_prefixes);
    if (d != &none) {
        out->client_ca_file = NULL;
        out->client_ca_pem = d->ca_pem;
        out->client_ca_pem_len = d->ca_len;
    }
}

/* ---- fetching ----------------------------------------------------------------- */

static int fetch(struct zp_kclient *k, struct zp_authsrc_data *d, struct zp_err *err)
{
    struct zp_kobj obj = {
        .verb = "get",
        .group = "",
        .version = "v1",
        .resource = "configmaps",
        .ns = ZP_AUTHSRC_NS,
        .name = ZP_AUTHSRC_NAME,
        .hint = "bind it to Role extension-apiserver-authentication-reader in kube-system",
    };
    cJSON *cm = NULL;
    int rc;

    if (zp_kclient_call(k, &obj, NULL, zp_now_ms() + ZP_KCLIENT_TIMEOUT_MS, 0, &cm, err) == -1)
        return -1;
    rc = zp_authsrc_parse(cm, d, err);
    cJSON_Delete(cm);
    return rc;
}

static void log_settings(const char *msg, struct zp_authn *a, const struct zp_authn_cfg *c)
{
    STACK_OF(X509_NAME) *cas = zp_authn_ca_names(a);
    char names[512] = "", subjects[512] = "", one[256];

    for (size_t i = 0; i < c->n_allowed_names; i++) {
        strncat(names, i ? "," : "", sizeof(names) - strlen(names) - 1);
        strncat(names, c->allowed_names[i], sizeof(names) - strlen(names) - 1);
    }
    for (int i = 0; cas != NULL && i < sk_X509_NAME_num(cas); i++) {
        X509_NAME_oneline(sk_X509_NAME_value(cas, i), one, sizeof(one));
        strncat(subjects, i ? " " : "", sizeof(subjects) - strlen(subjects) - 1);
        strncat(subjects, one, sizeof(subjects) - strlen(subjects) - 1);
    }
    sk_X509_NAME_pop_free(cas, X509_NAME_free);
    zp_log(ZP_LOG_INFO, msg, ZP_S("source", CM), ZP_S("ca", subjects[0] ? subjects : NULL),
           ZP_S("allowed_names", c->n_allowed_names ? names : "(any)"),
           ZP_S("username_header", c->n_username_headers ? c->username_headers[0] : ""), ZP_END);
    if (c->client_ca_pem == NULL)
        zp_log(ZP_LOG_WARN,
               CM " has no requestheader-client-ca-file: every request under /apis is refused "
                  "until it has one (or pass --requestheader-client-ca-file)",
               ZP_END);
}

struct zp_authsrc *zp_authsrc_new(struct zp_kclient *k, const struct zp_authn_cfg *flags,
                                  struct zp_authn **authn, struct zp_err *err)
{
    struct zp_authsrc *s = zp_xcalloc(1, sizeof(*s));
    struct zp_authn_cfg cfg;
    int rc = -1;

    s->k = k;
    s->flags = *flags;
    if (fetch(k, &s->seen, err) == -1)
        goto out;
    zp_authsrc_merge(&s->flags, &s->seen, &cfg);
    if ((s->authn = zp_authn_new(&cfg, err)) == NULL) {
        zp_err_wrap(err, CM);
        goto out;
    }
    log_settings("front-proxy settings read", s->authn, &cfg);
    *authn = s->authn;
    rc = 0;
out:
    if (rc == -1) {
        zp_authsrc_free(s);
        s = NULL;
    }
    return s;
}

/* ---- the refresh ------------------------------------------------------------- */

static void refresh_run(struct zp_kjob *job)
{
    struct refresh *r = (struct refresh *)job;

    r->ok = fetch(r->k, &r->data, &r->err) == 0;
}

static void refresh_done(struct zp_handoff_item *it, int live)
{
    struct refresh *r = (struct refresh *)it;
    struct zp_authsrc *s = r->src;
    struct zp_authn_cfg cfg;
    struct zp_err err = {0};

    if (!live)
        goto out;
    s->busy = 0;
    if (!r->ok) {
        zp_log(ZP_LOG_ERROR, "front-proxy settings not refreshed; the previous ones stay in use",
               ZP_S("error", r->err.msg), ZP_END);
        goto out;
    }
    /* Unchanged, good or refused: a refused one was reported when it appeared. */
    if (zp_authsrc_data_same(&r->data, &s->seen))
        goto out;
    zp_authsrc_data_cleanup(&s->seen);
    s->seen = r->data;
    memset(&r->data, 0, sizeof(r->data));
    zp_authsrc_merge(&s->flags, &s->seen, &cfg);
    if (zp_authn_update(s->authn, &cfg, &err) == -1) {
        zp_log(ZP_LOG_ERROR, "front-proxy settings changed but unusable; the previous ones stay",
               ZP_S("source", CM), ZP_S("error", err.msg), ZP_END);
        goto out;
    }
    log_settings("front-proxy settings changed", s->authn, &cfg);
out:
    zp_authsrc_data_cleanup(&r->data);
    free(r);
}

void zp_authsrc_refresh(struct zp_authsrc *s)
{
    struct refresh *r;

    if (s->busy || s->w == NULL)
        return;
    r = zp_xcalloc(1, sizeof(*r));
    r->job.item.fn = refresh_done;
    r->job.run = refresh_run;
    r->src = s;
    r->k = s->k;
    if (zp_kworker_submit(s->w, &r->job) == -1) {
        free(r);
        return;
    }
    s->busy = 1;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    zp_authsrc_refresh(arg);
}

void zp_authsrc_stop(struct zp_authsrc *s)
{
    if (s->timer != NULL)
        event_del(s->timer);
    s->w = NULL;
}

void zp_authsrc_start(struct zp_authsrc *s, struct event_base *base, struct zp_kworker *w,
                      unsigned period_s)
{
    struct timeval every = {period_s ? (time_t)period_s : ZP_AUTHSRC_PERIOD_S, 0};

    s->w = w;
    s->timer = event_new(base, -1, EV_PERSIST, on_timer, s);
    if (s->timer == NULL || event_add(s->timer, &every) == -1)
        abort(); /* allocation only */
}

void zp_authsrc_free(struct zp_authsrc *s)
{
    if (s == NULL)
        return;
    if (s->timer != NULL)
        event_free(s->timer);
    zp_authsrc_data_cleanup(&s->seen);
    free(s);
}

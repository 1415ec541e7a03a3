/*
 * authsource.h — the front-proxy settings kube-apiserver publishes in
 * ConfigMap kube-system/extension-apiserver-authentication: read at start,
 * re-read on a timer from a worker thread, and swapped into authn on the
 * event loop when they changed, so a rotated front-proxy CA takes effect
 * without a restart. Lists given by flags win over the ConfigMap's.
 */
#ifndef ZP_K8S_AUTHSOURCE_H
#define ZP_K8S_AUTHSOURCE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct event_base;
struct zp_authn;
struct zp_authn_cfg;
struct zp_err;
struct zp_kclient;
struct zp_kworker;
struct zp_authsrc;

#define ZP_AUTHSRC_NS "kube-system"
#define ZP_AUTHSRC_NAME "extension-apiserver-authentication"
#define ZP_AUTHSRC_PERIOD_S 60

/* What the ConfigMap says; a NULL list is a key the ConfigMap does not have. */
struct zp_authsrc_data {
    char *ca_pem; /* requestheader-client-ca-file; NULL: none */
    size_t ca_len;
    char **allowed_names;
    size_t n_allowed_names;
    char **username_headers;
    size_t n_username_headers;
    char **group_headers;
    size_t n_group_headers;
    char **extra_prefixes;
    size_t n_extra_prefixes;
};

/* Reads a ConfigMap object (the values of the list keys are JSON arrays). Pure. */
int zp_authsrc_parse(const cJSON *configmap, struct zp_authsrc_data *d, struct zp_err *err);
void zp_authsrc_data_cleanup(struct zp_authsrc_data *d);
int zp_authsrc_data_same(const struct zp_authsrc_data *a, const struct zp_authsrc_data *b);

/*
 * The authn settings: each list from flags when given there (non-NULL),
 * else from d, else the header defaults (X-Remote-User, X-Remote-Group,
 * X-Remote-Extra-). Points into flags and d. Pure.
 */
void zp_authsrc_merge(const struct zp_authn_cfg *flags, const struct zp_authsrc_data *d,
                      struct zp_authn_cfg *out);

/*
 * Reads the ConfigMap now (blocking: before the loop runs) and makes the
 * authenticator from it. Fails with the API's sentence, as Go's server does
 * when the lookup fails at start.
 */
struct zp_authsrc *zp_authsrc_new(struct zp_kclient *k, const struct zp_authn_cfg *flags,
                                  struct zp_authn **authn, struct zp_err *err);
/* Re-reads every period_s seconds on w; changes go to authn on base's loop. */
void zp_authsrc_start(struct zp_authsrc *s, struct event_base *base, struct zp_kworker *w,
                      unsigned period_s);
/* Loop thread: re-reads now (SIGHUP), unless a re-read is already under way. */
void zp_authsrc_refresh(struct zp_authsrc *s);
/* Loop thread: no more re-reads (the server is draining). */
void zp_authsrc_stop(struct zp_authsrc *s);
/* After zp_kworker_free. */
void zp_authsrc_free(struct zp_authsrc *s);

#endif

/*
 * server.h — the aggregated API server that kube-apiserver proxies
 * cert-manager's calls to: HTTPS with requested (not required) client
 * certificates, front-proxy authentication, discovery, health, and the
 * ChallengePayload endpoint. libevent's evhttp over bufferevent_openssl.
 */
#ifndef ZP_K8S_SERVER_H
#define ZP_K8S_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct zp_err;
struct zp_kclient;
struct zp_solver;

#define ZP_SERVER_MAX_BODY (256u * 1024u)
/* Bodies up to this are read and answered by api.c (a 413 above ZP_SERVER_MAX_BODY). */
#define ZP_SERVER_HARD_BODY_MAX (4u * ZP_SERVER_MAX_BODY)
#define ZP_SERVER_MAX_CONNS 1024u /* --max-connections */
/* HTTP/2 streams at once on a verified connection: Go's own server's default */
#define ZP_SERVER_H2_STREAMS 250u
#define ZP_SERVER_HANDSHAKE_MS 10000u /* --tls-handshake-timeout */
#define ZP_SERVER_HEADER_MS 10000u    /* --request-header-timeout */
#define ZP_SERVER_BODY_MS 30000u      /* --request-body-timeout */

struct zp_server_opts {
    const char *bind_address;  /* default "0.0.0.0" (and :: when available) */
    unsigned secure_port;      /* --secure-port, default 8443 */
    const char *tls_cert_file; /* --tls-cert-file */
    const char *tls_key_file;  /* --tls-private-key-file */
    /*
     * --requestheader-client-ca-file. Without it the front-proxy settings
     * come from the cluster (ConfigMap extension-apiserver-authentication)
     * when kclient is set; with neither, /apis refuses everything.
     */
    const char *client_ca_file;
    /* The lists: NULL when not given (then the ConfigMap's, else the defaults). */
    char **allowed_names; /* --requestheader-allowed-names; empty: any CN */
    size_t n_allowed_names;
    char **username_headers; /* default X-Remote-User */
    size_t n_username_headers;
    char **group_headers; /* default X-Remote-Group */
    size_t n_group_headers;
    char **extra_prefixes; /* default X-Remote-Extra- */
    size_t n_extra_prefixes;
    const char *group_name;     /* the API group, e.g. acme.example.com */
    const char *solver_name;    /* the resource, default "zoneproof" */
    unsigned reload_interval_s; /* how often to stat the certificate files; default 60 */
    /*
     * The cluster (kclient.h), or NULL. With one: SubjectAccessReviews for
     * every caller outside system:masters, and the front-proxy settings from
     * the cluster unless client_ca_file is given.
     */
    struct zp_kclient *kclient;
    unsigned auth_refresh_s; /* how often the ConfigMap is re-read; default 60 */
    /*
     * Per connection (k8s/conn.h); 0 takes the default. At max_conns open
     * connections, a new one replaces the oldest unverified one. Each deadline runs
     * from the start of its phase whatever the peer sends.
     */
    unsigned max_conns;
    int no_http2; /* --disable-http2: ALPN offers http/1.1 only */
    uint64_t handshake_timeout_ms;
    uint64_t header_timeout_ms;
    uint64_t body_timeout_ms;
    /* SIGUSR1 calls it on the loop's thread (serve: check the persist: records now); NULL: none. */
    void (*on_usr1)(void *arg);
    void *usr1_arg;
};

/*
 * Serves until SIGTERM or SIGINT (then drains in-flight challenges for a
 * few seconds). SIGHUP reloads the certificate files at once.
 */
int zp_server_run(const struct zp_server_opts *opts, struct zp_solver *solver, struct zp_err *err);

#endif

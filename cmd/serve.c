/*
 * serve.c — `zoneproof serve`: flags with the Kubernetes apiserver names,
 * the configuration, the solver, and then the API server until a signal.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/yaml.h"
#include "cmd/cmd.h"
#include "k8s/controller.h"
#include "k8s/kclient.h"
#include "k8s/obsserver.h"
#include "k8s/secrets.h"
#include "k8s/server.h"
#include "solver/config.h"
#include "solver/persist.h"
#include "solver/solver.h"

#ifndef ZP_VERSION
#define ZP_VERSION "dev"
#endif

static const char serve_help[] =
    "usage: zoneproof serve [flags]\n"
    "\n"
    "Serves cert-manager's webhook API (group from GROUP_NAME or groupName) over HTTPS to\n"
    "kube-apiserver, which authenticates itself with its front-proxy client certificate.\n"
    "\n"
    "  --config FILE                             configuration (default $ZONEPROOF_CONFIG or\n"
    "                                            " ZP_DEFAULT_CONFIG ")\n"
    "  --secure-port N                           HTTPS port (default 8443)\n"
    "  --bind-address ADDR                       listen address (default: every address,\n"
    "                                            IPv6 and IPv4)\n"
    "  --tls-cert-file FILE                      serving certificate (PEM, re-read when it "
    "changes)\n"
    "  --tls-private-key-file FILE               its private key\n"
    "  --kubeconfig FILE                         the cluster to use outside it (default: the\n"
    "                                            service account when in a cluster)\n"
    "  --requestheader-client-ca-file FILE       CA of the front-proxy client certificate\n"
    "                                            (default: from the cluster's ConfigMap\n"
    "                                            kube-system/extension-apiserver-authentication)\n"
    "  --requestheader-allowed-names LIST        front-proxy CNs allowed (comma list; empty: any)\n"
    "  --requestheader-username-headers LIST     default X-Remote-User\n"
    "  --requestheader-group-headers LIST        default X-Remote-Group\n"
    "  --requestheader-extra-headers-prefix LIST default X-Remote-Extra-\n"
    "  --max-connections N                       open connections at most; at the cap a new one\n"
    "                                            replaces the oldest without a verified client\n"
    "                                            certificate (default 1024)\n"
    "  --disable-http2                           offer only HTTP/1.1 in ALPN (default: h2 too,\n"
    "                                            which kube-apiserver uses to multiplex calls)\n"
    "  --tls-handshake-timeout DURATION          from accept to the end of TLS (default 10s)\n"
    "  --request-header-timeout DURATION         to a request's last header (default 10s)\n"
    "  --request-body-timeout DURATION           from the headers to the body's end (default 30s)\n"
    "  --state-dir DIR                           journal every value written in DIR, not in\n"
    "                                            the cluster's ConfigMaps (outside a cluster)\n"
    "  --metrics-bind-address ADDR               serve /metrics over plain HTTP on ADDR (:8080,\n"
    "                                            127.0.0.1:9090, [::1]:8080); default: none\n"
    "  --status-page                             also serve /status and /status.json there: each\n"
    "                                            challenge's steps, read-only "
    "(docs/observability.md)\n"
    "  --log-level LEVEL                         debug, info (default), warn or error\n"
    "\n"
    "SIGUSR1 checks the configuration's persist: records now (docs/configuration.md).\n";

/* Splits a comma list into a NULL-terminated array; empty items are dropped. */
static char **split_list(const char *s, size_t *n)
{
    char **list = zp_xcalloc(strlen(s) / 2 + 2, sizeof(*list));
    const char *p = s;

    *n = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0)
            list[(*n)++] = zp_xstrndup(p, len);
        if (e == NULL)
            break;
        p = e + 1;
    }
    return list;
}

static void set_list(char ***list, size_t *n, const char *arg)
{
    zp_strlist_free(*list);
    *list = split_list(arg, n);
}

/* A whole number of seconds from the environment (hidden knobs for tests), or def. */
static unsigned env_seconds(const char *name, unsigned def)
{
    const char *v = getenv(name);
    char *end;
    unsigned long n;

    if (v == NULL || *v == '\0')
        return def;
    n = strtoul(v, &end, 10);
    return *end == '\0' && n > 0 && n <= 86400 ? (unsigned)n : def;
}

/*
 * Each waiting Present keeps its HTTPS connection open; the default soft limit
 * of 1024 descriptors would cap concurrent challenges well below what the
 * watcher can hold. The hard limit is the administrator's choice.
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The paths among the flags: the configuration, the cluster, the journal; the listener. */
struct serve_paths {
    const char *config, *kubeconfig, *state_dir;
    const char *metrics_bind; /* --metrics-bind-address; NULL: no listener */
    int status_page;
};

static const struct option serve_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"secure-port", required_argument, NULL, 'p'},
    {"bind-address", required_argument, NULL, 'b'},
    {"tls-cert-file", required_argument, NULL, 'C'},
    {"tls-private-key-file", required_argument, NULL, 'K'},
    {"kubeconfig", required_argument, NULL, 'k'},
    {"requestheader-client-ca-file", required_argument, NULL, 'A'},
    {"requestheader-allowed-names", required_argument, NULL, 'N'},
    {"requestheader-username-headers", required_argument, NULL, 'U'},
    {"requestheader-group-headers", required_argument, NULL, 'G'},
    {"requestheader-extra-headers-prefix", required_argument, NULL, 'E'},
    {"max-connections", required_argument, NULL, 'M'},
    {"disable-http2", no_argument, NULL, '2'},
    {"tls-handshake-timeout", required_argument, NULL, 'T'},
    {"request-header-timeout", required_argument, NULL, 'R'},
    {"request-body-timeout", required_argument, NULL, 'B'},
    {"state-dir", required_argument, NULL, 'S'},
    {"metrics-bind-address", required_argument, NULL, 'm'},
    {"status-page", no_argument, NULL, 's'},
    {"log-level", required_argument, NULL, 'l'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The connection limits (k8s/conn.h): 0, or -1 after a message. */
static int limit_flag(int c, const char *arg, struct zp_server_opts *o)
{
    const char *name = c == 'T'   ? "--tls-handshake-timeout"
                       : c == 'R' ? "--request-header-timeout"
                                  : "--request-body-timeout";
    unsigned long n;
    uint64_t ms;
    char *end;

    if (c == 'M') {
        n = strtoul(arg, &end, 10);
        if (*arg == '\0' || *arg == '-' || *end != '\0' || n == 0 || n > 1000000) {
            fprintf(stderr, "zoneproof: --max-connections \"%s\" must be 1-1000000\n", arg);
            return -1;
        }
        o->max_conns = (unsigned)n;
        return 0;
    }
    if (zp_duration_parse(arg, &ms) == -1 || ms == 0 || ms > 3600000) {
        fprintf(stderr,
                "zoneproof: %s \"%s\" must be a duration such as 10s or 500ms, at most 1h\n", name,
                arg);
        return -1;
    }
    *(c == 'T'   ? &o->handshake_timeout_ms
      : c == 'R' ? &o->header_timeout_ms
                 : &o->body_timeout_ms) = ms;
    return 0;
}

/* The flags of serve_paths. */
static void path_flag(int c, const char *arg, struct serve_paths *sp)
{
    switch (c) {
    case 'c':
        sp->config = arg;
        break;
    case 'S':
        sp->state_dir = arg;
        break;
    case 'm':
        sp->metrics_bind = arg;
        break;
    case 's':
        sp->status_page = 1;
        break;
    case 'k':
        sp->kubeconfig = arg;
        break;
    }
}

/* Where and how the server listens: the address, TLS files, HTTP/2. */
static void listen_flag(int c, const char *arg, struct zp_server_opts *o)
{
    if (c == 'b')
        o->bind_address = arg;
    else if (c == 'C')
        o->tls_cert_file = arg;
    else if (c == 'K')
        o->tls_key_file = arg;
    else if (c == 'A')
        o->client_ca_file = arg;
    else
        o->no_http2 = 1;
}

/*
 * The flags into o and sp: 0, 1 after --help, -1 after a
 * message. The lists in o are the caller's to free, whatever the outcome.
 */
static int parse_flags(int argc, char **argv, struct zp_server_opts *o, struct serve_paths *sp)
{
    unsigned long port;
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", serve_opts, NULL)) != -1) {
        switch (c) {
        case 'c':
        case 'S':
        case 'm':
        case 's':
        case 'k':
            path_flag(c, optarg, sp);
            break;
        case 'p':
            port = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || port == 0 || port > 65535) {
                fprintf(stderr, "zoneproof: --secure-port \"%s\" must be 1-65535\n", optarg);
                return -1;
            }
            o->secure_port = (unsigned)port;
            break;
        case 'b':
        case 'C':
        case 'K':
        case 'A':
        case '2':
            listen_flag(c, optarg, o);
            break;
        case 'N':
            set_list(&o->allowed_names, &o->n_allowed_names, optarg);
            break;
        case 'U':
            set_list(&o->username_headers, &o->n_username_headers, optarg);
            break;
        case 'G':
            set_list(&o->group_headers, &o->n_group_headers, optarg);
            break;
        case 'E':
            set_list(&o->extra_prefixes, &o->n_extra_prefixes, optarg);
            break;
        case 'M':
        case 'T':
        case 'R':
        case 'B':
            if (limit_flag(c, optarg, o) == -1)
                return -1;
            break;
        case 'l':
            if (zp_cmd_log_level(optarg) == -1)
                return -1;
            break;
        case 'h':
            fputs(serve_help, stdout);
            return 1;
        default:
            fputs(serve_help, stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "zoneproof: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (sp->status_page && sp->metrics_bind == NULL) {
        fprintf(stderr, "zoneproof: --status-page is served on the metrics listener: give "
                        "--metrics-bind-address too (for example :8080)\n");
        return -1;
    }
    if (o->tls_cert_file == NULL || o->tls_key_file == NULL) {
        fprintf(stderr, "zoneproof: --tls-cert-file and --tls-private-key-file are required "
                        "(the chart mounts them from the serving certificate's Secret)\n");
        return -1;
    }
    return 0;
}

static void persist_poke(void *arg)
{
    zp_persist_keeper_poke(arg);
}

/* What the status page reads: the solver's trail and the persist: keeper's entries. */
struct status_src {
    struct zp_solver *solver;
    struct zp_persist_keeper *keeper; /* atomic: set once it runs; the listener stops first */
};

static int status_json(void *arg, struct zp_buf *out)
{
    struct status_src *src = arg;
    struct zp_persist_keeper *k = __atomic_load_n(&src->keeper, __ATOMIC_ACQUIRE);
    struct zp_buf kept;
    int rc = -1;

    zp_buf_init(&kept, 1u << 20);
    if (k != NULL && (zp_persist_keeper_json(k, &kept) == -1 || !zp_buf_ok(&kept)))
        goto out;
    rc = zp_solver_status_json(src->solver, k != NULL ? zp_buf_str(&kept) : NULL, out);
out:
    zp_buf_free(&kept);
    return rc;
}

/* The plain-HTTP listener of /metrics (and /status): never the webhook's port. */
static struct zp_obs *start_obs(const struct serve_paths *sp, struct status_src *src,
                                struct zp_err *err)
{
    struct zp_obs_opts oo = {
        .bind_address = sp->metrics_bind,
        .status_page = sp->status_page,
        .status_json = status_json,
        .status_arg = src,
    };

    return zp_obs_start(&oo, err);
}

/*
 * The controller (journal, Leases, sweeper), then the persist: keeper,
 * which SIGUSR1 pokes: it starts after the journal is wired in, and a kept
 * record is never journaled, so never swept.
 */
static int start_loops(const struct zp_config *cfg, struct status_src *src, const char *state_dir,
                       struct zp_server_opts *o, struct zp_controller **ctl, struct zp_err *err)
{
    struct zp_persist_keeper *keeper = NULL;

    if (zp_controller_start(cfg, src->solver, o->kclient, state_dir, ctl, err) == -1 ||
        zp_persist_keeper_start(cfg, src->solver, &keeper, err) == -1)
        return -1;
    __atomic_store_n(&src->keeper, keeper, __ATOMIC_RELEASE); /* the status page shows it */
    if (keeper != NULL) {
        o->on_usr1 = persist_poke;
        o->usr1_arg = keeper;
    }
    return 0;
}

/*
 * SIGHUP and SIGUSR1 end a process that has no handler for them yet: held
 * from here (and in every thread started from here) until the event loop
 * takes them, a reload or a persist check asked during start-up waits for
 * the loop instead. SIGTERM and SIGINT keep ending a start-up at once.
 */
static void hold_signals(void)
{
    sigset_t held;

    sigemptyset(&held);
    sigaddset(&held, SIGHUP);
    sigaddset(&held, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &held, NULL);
}

int zp_cmd_serve(int argc, char **argv)
{
    struct zp_server_opts o = {.secure_port = 8443, .reload_interval_s = 60};
    struct zp_config *cfg = NULL;
    struct zp_solver *solver = NULL;
    struct zp_kclient *kclient = NULL;
    struct zp_controller *ctl = NULL;
    struct zp_obs *obs = NULL;
    struct status_src src = {0};
    struct zp_err err = {0};
    struct serve_paths sp = {0};
    const char *group;
    int p, rc = ZP_EXIT_USAGE;

    hold_signals();
    if ((p = parse_flags(argc, argv, &o, &sp)) != 0) {
        if (p == 1)
            rc = ZP_EXIT_OK;
        goto out;
    }
    /* Lists not given stay NULL: the cluster's ConfigMap or the defaults fill them. */
    if (zp_cmd_load_config(sp.config, &cfg, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    group = getenv("GROUP_NAME");
    if (group == NULL || *group == '\0')
        group = cfg->group_name;
    if (group == NULL) {
        fprintf(stderr,
                "zoneproof: no API group: set GROUP_NAME or groupName in %s (it must "
                "match the Issuer's webhook.groupName)\n",
                cfg->file);
        goto out;
    }
    o.group_name = group;
    o.solver_name = cfg->solver_name;

    raise_fd_limit();
    rc = ZP_EXIT_FAIL;
    if (zp_kclient_new(sp.kubeconfig, &kclient, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    o.kclient = kclient;
    o.auth_refresh_s = env_seconds("ZP_AUTH_REFRESH_SECONDS", 0);
    solver = zp_solver_new(cfg, &err);
    if (solver == NULL) {
        zp_cmd_fail(&err);
        goto out;
    }
    /* secretRef reads Secrets through the API; without a cluster providers say so. */
    if (kclient != NULL)
        zp_solver_set_secret_source(solver, zp_secret_get, kclient);
    zp_metrics_build_info(ZP_VERSION);
    src.solver = solver;
    if (sp.metrics_bind != NULL && (obs = start_obs(&sp, &src, &err)) == NULL) {
        zp_cmd_fail(&err);
        goto out;
    }
    if (start_loops(cfg, &src, sp.state_dir, &o, &ctl, &err) == -1 ||
        zp_server_run(&o, solver, &err) == -1) {
        zp_cmd_fail(&err);
        goto out;
    }
    rc = ZP_EXIT_OK;
out:
    /* The listener, the keeper, the sweeper (it calls providers), the Leases last. */
    zp_obs_stop(obs);                   /* it reads the solver's status and the keeper's */
    zp_persist_keeper_stop(src.keeper); /* it runs challenges through the solver */
    zp_controller_stop(ctl);
    zp_solver_free(solver);
    zp_controller_free(ctl);
    zp_kclient_free(kclient);
    zp_config_free(cfg);
    zp_strlist_free(o.allowed_names);
    zp_strlist_free(o.username_headers);
    zp_strlist_free(o.group_headers);
    zp_strlist_free(o.extra_prefixes);
    return rc;
}

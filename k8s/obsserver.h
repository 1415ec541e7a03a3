/*
 * obsserver.h — the plain-HTTP observability listener of `zoneproof serve
 * --metrics-bind-address ADDR [--status-page]`: /metrics (Prometheus text
 * format), /healthz, / (the list of paths) and, with --status-page, /status
 * (HTML, k8s/statuspage.h) and /status.json. One thread of its own.
 *
 * Unauthenticated and reachable from the network, so every connection gets
 * little: at most ZP_OBS_MAX_CONNS at once (a new one replaces the oldest,
 * so idle peers cannot lock Prometheus out), a header block of at most
 * ZP_OBS_HEADER_MAX bytes within ZP_OBS_HEADER_MS of the accept, no request
 * body, GET and HEAD only, one request per connection, and the reply read
 * within ZP_OBS_WRITE_MS or the connection is dropped. Nothing it serves is
 * secret (metrics carry bounded labels; the status document holds value
 * hashes, never values or credentials).
 */
#ifndef ZP_K8S_OBSSERVER_H
#define ZP_K8S_OBSSERVER_H

struct zp_buf;
struct zp_err;

#define ZP_OBS_MAX_CONNS 16u
#define ZP_OBS_HEADER_MAX 8192u
#define ZP_OBS_HEADER_MS 5000u
#define ZP_OBS_WRITE_MS 10000u

struct zp_obs_opts {
    /* ":8080" (every address), "127.0.0.1:9090", "[::1]:0", "0.0.0.0:8080"; numeric only. */
    const char *bind_address;
    int status_page; /* serve /status and /status.json */
    /*
     * Writes the status document (JSON, solver/trail.h's shape) into out;
     * 0, or -1 when it cannot. Called on the listener's thread, once per
     * request of /status or /status.json, until zp_obs_stop returns: stop
     * the listener before what status_arg points to goes. May be NULL (those
     * answer 503).
     */
    int (*status_json)(void *arg, struct zp_buf *out);
    void *status_arg;
};

struct zp_obs;

/*
 * Binds now and starts the thread. A bad address, a name instead of a
 * numeric address, or a port in use fails here (ZP_ECONFIG) with a sentence
 * naming --metrics-bind-address. The options are copied.
 */
struct zp_obs *zp_obs_start(const struct zp_obs_opts *o, struct zp_err *err);
/* The bound port (tests bind port 0). */
int zp_obs_port(const struct zp_obs *o);
/* Closes every connection and the listener, joins the thread, frees o. Accepts NULL. */
void zp_obs_stop(struct zp_obs *o);

#endif

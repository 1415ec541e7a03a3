/*
 * test_obsserver.c — the observability listener (k8s/obsserver.h) over real
 * loopback sockets, and the status page (k8s/statuspage.h) it renders.
 *
 * The clock is manual for the whole process: a deadline comes when a test
 * advances the clock, so no test sleeps. Each test starts its own listener
 * on 127.0.0.1:0 and stops it; the sockets of the test carry a receive
 * timeout as a guard against a hang, never as a wait.
 */
#define _GNU_SOURCE /* pipe2 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "k8s/obsserver.h"
#include "k8s/statuspage.h"

static struct zp_metric test_scrapes =
    ZP_COUNTER("zoneproof_obs_test_total", "Counted by the listener's test.", "");

/* The status document: one in flight (a hostile fqdn, a laggard), one failed (a quote). */
static const char status_doc[] =
    "{\"generated\":\"2026-12-03T15:00:00.123Z\",\"inFlightTotal\":1,\"inFlight\":[{"
    "\"uid\":\"u-1\",\"namespace\":\"team-a\",\"action\":\"Present\","
    "\"fqdn\":\"_acme-challenge.<script>alert(1)</script>.example.com.\","
    "\"zone\":\"example.com.\",\"provider\":\"cf\",\"type\":\"cloudflare\","
    "\"valueHash\":\"sha256:0123456789ab\",\"started\":\"2026-12-03T14:59:58Z\","
    "\"elapsedMs\":2123,\"state\":\"propagating\",\"outcome\":null,\"reason\":null,"
    "\"message\":null,\"steps\":[{\"step\":\"routing\",\"atMs\":0,\"tookMs\":1,\"ok\":true},"
    "{\"step\":\"provider call\",\"atMs\":3,\"tookMs\":420,\"ok\":true,\"detail\":\"id='7'\"},"
    "{\"step\":\"propagation\",\"atMs\":425,\"tookMs\":null,\"ok\":null}],"
    "\"nameservers\":[{\"name\":\"ns1.example.net.\",\"address\":\"192.0.2.1\","
    "\"state\":\"HAS_VALUE\",\"servedMs\":1020,"
    "\"dig\":\"dig +norec @192.0.2.1 _acme-challenge.example.com TXT\","
    "\"answers\":[{\"atMs\":8,\"state\":\"NXDOMAIN\"},{\"atMs\":1020,\"state\":\"HAS_VALUE\"}]},"
    "{\"name\":\"ns2.example.net.\",\"address\":\"192.0.2.2\",\"state\":\"NXDOMAIN\","
    "\"servedMs\":null,\"dig\":\"dig +norec @192.0.2.2 _acme-challenge.example.com TXT\","
    "\"answers\":[{\"atMs\":9,\"state\":\"NXDOMAIN\"}]}]}],"
    "\"recent\":[{\"uid\":\"u-0\",\"namespace\":\"team-b\",\"action\":\"Present\","
    "\"fqdn\":\"_acme-challenge.b.example.org.\",\"zone\":\"example.org.\","
    "\"provider\":\"r53\",\"type\":\"route53\",\"valueHash\":\"sha256:ba9876543210\","
    "\"started\":\"2026-12-03T14:58:00Z\",\"elapsedMs\":61000,\"state\":\"done\","
    "\"outcome\":\"failure\",\"reason\":\"Propagation\","
    "\"message\":\"ns \\\"a\\\" never served the value & gave up\",\"steps\":[],"
    "\"nameservers\":[]}]}";

static int log_fd = -1; /* the listener's log lines, for the tests that read them */

/* ---- helpers ------------------------------------------------------------------------------ */

static int status_cb(void *arg, struct zp_buf *out)
{
    return zp_buf_puts(out, arg);
}

static struct zp_obs *start(int status_page)
{
    struct zp_obs_opts opts = {.bind_address = "127.0.0.1:0", .status_page = status_page};
    struct zp_err err = {0};
    struct zp_obs *o;

    if (status_page) {
        opts.status_json = status_cb;
        opts.status_arg = (void *)status_doc;
    }
    o = zp_obs_start(&opts, &err);
    if (o == NULL)
        fail_msg("zp_obs_start: %s", err.msg);
    assert_true(zp_obs_port(o) > 0);
    return o;
}

/* A connection to the listener; rcvbuf > 0 shrinks its receive buffer (set before connect). */
static int dial_rcvbuf(int port, int rcvbuf)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval guard = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    if (rcvbuf > 0)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static int dial(int port)
{
    return dial_rcvbuf(port, 0);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the listener closed first: what it answered is still readable */
        p += w;
        n -= (size_t)w;
    }
}

/* Everything until the listener closes (a reset ends it too); freed by the caller. */
static char *read_all(int fd)
{
    struct zp_buf b;
    char tmp[4096];
    ssize_t n;

    zp_buf_init(&b, 64u << 20);
    while ((n = recv(fd, tmp, sizeof(tmp), 0)) > 0)
        assert_int_equal(zp_buf_append(&b, tmp, (size_t)n), 0);
    assert_false(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)); /* the guard ran out */
    assert_int_equal(zp_buf_puts(&b, ""), 0);
    return zp_buf_take(&b);
}

/* One exchange on a connection of its own: the whole response. */
static char *exchange(int port, const char *request)
{
    int fd = dial(port);
    char *resp;

    send_all(fd, request, strlen(request));
    resp = read_all(fd);
    close(fd);
    return resp;
}

static char *get(int port, const char *path)
{
    char req[512];

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    return exchange(port, req);
}

static int status_of(const char *resp)
{
    int code = 0;

    if (sscanf(resp, "HTTP/1.1 %d ", &code) != 1)
        return -1;
    return code;
}

/* The body after the header block (the response must have one). */
static const char *body_of(const char *resp)
{
    const char *p = strstr(resp, "\r\n\r\n");

    assert_non_null(p);
    return p + 4;
}

/* The headers every reply carries, and a Content-Length that matches the body. */
static void assert_common_headers(const char *resp, int head)
{
    const char *cl = strstr(resp, "\r\nContent-Length: ");
    unsigned long n;

    assert_non_null(strstr(resp, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(resp, "\r\nCache-Control: no-store\r\n"));
    assert_non_null(strstr(resp, "\r\nX-Content-Type-Options: nosniff\r\n"));
    assert_non_null(cl);
    n = strtoul(cl + 18, NULL, 10);
    if (head)
        assert_string_equal(body_of(resp), "");
    else
        assert_int_equal(strlen(body_of(resp)), n);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The log lines written since the last call. */
static char *log_taken(void)
{
    struct zp_buf b;
    char tmp[4096];
    ssize_t n;

    zp_buf_init(&b, 1u << 20);
    while ((n = read(log_fd, tmp, sizeof(tmp))) > 0)
        assert_int_equal(zp_buf_append(&b, tmp, (size_t)n), 0);
    assert_int_equal(zp_buf_puts(&b, ""), 0);
    return zp_buf_take(&b);
}

/* ---- the routes --------------------------------------------------------------------------- */

static void test_metrics(void **state)
{
    struct zp_obs *o;
    char *resp, *logs;

    (void)state;
    free(log_taken());
    zp_metric_inc(&test_scrapes, ZP_NOLABEL);
    o = start(0);
    logs = log_taken();
    assert_non_null(strstr(logs, "\"metrics listener started\""));
    assert_non_null(strstr(logs, "\"address\":\"127.0.0.1:0\""));
    free(logs);
    resp = get(zp_obs_port(o), "/metrics");
    assert_int_equal(status_of(resp), 200);
    assert_non_null(strstr(resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_common_headers(resp, 0);
    assert_non_null(strstr(body_of(resp), "# TYPE zoneproof_obs_test_total counter\n"));
    assert_non_null(strstr(body_of(resp), "\nzoneproof_obs_test_total 1\n"));
    assert_null(strstr(resp, "Content-Security-Policy")); /* HTML only */
    free(resp);
    /* the query string is ignored */
    resp = get(zp_obs_port(o), "/metrics?name[]=x");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    zp_obs_stop(o);
}

static void test_head(void **state)
{
    struct zp_obs *o = start(0);
    char *resp;

    (void)state;
    resp = exchange(zp_obs_port(o), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(status_of(resp), 200);
    assert_common_headers(resp, 1);
    assert_null(strstr(resp, "\r\nContent-Length: 0\r\n"));
    free(resp);
    zp_obs_stop(o);
}

static void test_methods_and_bodies(void **state)
{
    struct zp_obs *o = start(0);
    int port = zp_obs_port(o);
    char *resp;

    (void)state;
    resp = exchange(port, "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(status_of(resp), 405);
    assert_non_null(strstr(resp, "\r\nAllow: GET, HEAD\r\n"));
    assert_common_headers(resp, 0);
    free(resp);
    resp = exchange(port, "get /metrics HTTP/1.1\r\n\r\n"); /* methods are case-sensitive */
    assert_int_equal(status_of(resp), 405);
    free(resp);
    resp = exchange(port, "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    assert_int_equal(status_of(resp), 400);
    assert_common_headers(resp, 0);
    free(resp);
    resp = exchange(port, "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n0\r\n\r\n");
    assert_int_equal(status_of(resp), 400);
    free(resp);
    resp =
        exchange(port, "GET /metrics HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(status_of(resp), 400);
    free(resp);
    /* an empty body is no body */
    resp = exchange(port, "GET /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    resp = exchange(port, "GET\r\n\r\n");
    assert_int_equal(status_of(resp), 400);
    free(resp);
    resp = exchange(port, "GET http://x/metrics HTTP/1.1\r\n\r\n");
    assert_int_equal(status_of(resp), 400);
    free(resp);
    zp_obs_stop(o);
}

static void test_paths(void **state)
{
    struct zp_obs *o = start(0);
    int port = zp_obs_port(o);
    char *resp;

    (void)state;
    resp = get(port, "/healthz");
    assert_int_equal(status_of(resp), 200);
    assert_string_equal(body_of(resp), "ok");
    assert_common_headers(resp, 0);
    free(resp);
    resp = get(port, "/");
    assert_int_equal(status_of(resp), 200);
    assert_non_null(strstr(body_of(resp), "/metrics"));
    assert_non_null(strstr(body_of(resp), "--status-page"));
    free(resp);
    resp = get(port, "/metrics/");
    assert_int_equal(status_of(resp), 404);
    assert_common_headers(resp, 0);
    free(resp);
    resp = get(port, "/../etc/passwd");
    assert_int_equal(status_of(resp), 404);
    free(resp);
    zp_obs_stop(o);
}

static void test_status_off(void **state)
{
    struct zp_obs *o = start(0);
    char *resp;

    (void)state;
    resp = get(zp_obs_port(o), "/status");
    assert_int_equal(status_of(resp), 404);
    assert_non_null(strstr(body_of(resp), "--status-page"));
    assert_common_headers(resp, 0);
    free(resp);
    resp = get(zp_obs_port(o), "/status.json");
    assert_int_equal(status_of(resp), 404);
    assert_non_null(strstr(body_of(resp), "--status-page"));
    free(resp);
    zp_obs_stop(o);
}

static void test_status_json(void **state)
{
    struct zp_obs *o = start(1);
    char *resp;

    (void)state;
    resp = get(zp_obs_port(o), "/status.json?x=1");
    assert_int_equal(status_of(resp), 200);
    assert_non_null(strstr(resp, "\r\nContent-Type: application/json\r\n"));
    assert_common_headers(resp, 0);
    assert_string_equal(body_of(resp), status_doc);
    free(resp);
    zp_obs_stop(o);
}

static void test_status_html(void **state)
{
    struct zp_obs *o = start(1);
    const char *page;
    char *resp;

    (void)state;
    resp = get(zp_obs_port(o), "/status");
    assert_int_equal(status_of(resp), 200);
    assert_non_null(strstr(resp, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(resp, "\r\nContent-Security-Policy: default-src 'none'; style-src "
                                 "'unsafe-inline'; img-src data:; base-uri 'none'; form-action "
                                 "'none'; frame-ancestors 'none'\r\n"));
    assert_common_headers(resp, 0);
    page = body_of(resp);
    /* escaped everywhere, in text and in attributes */
    assert_null(strstr(page, "<script"));
    assert_non_null(strstr(page, "_acme-challenge.&lt;script&gt;alert(1)&lt;/script&gt;.example"));
    assert_non_null(strstr(page, "ns &quot;a&quot; never served the value &amp; gave up"));
    assert_non_null(strstr(page, "id=&#39;7&#39;"));
    /* the hooks */
    assert_int_equal(count(page, "class=\"challenge\""), 2);
    assert_non_null(strstr(page, "class=\"challenge\" data-state=\"propagating\""));
    assert_non_null(strstr(page, "class=\"challenge\" data-state=\"failure\""));
    assert_int_equal(count(page, "<code class=\"dig\">"), 2);
    assert_non_null(strstr(page, "<code class=\"dig\">dig +norec @192.0.2.2 _acme-challenge"));
    assert_non_null(strstr(page, "<tr class=\"ns\" data-ns-state=\"HAS_VALUE\">"));
    assert_non_null(strstr(page, "<tr class=\"ns laggard\" data-ns-state=\"NXDOMAIN\">"));
    assert_int_equal(count(page, "class=\"ns laggard\""), 1);
    assert_non_null(strstr(page, "+8ms NXDOMAIN \xe2\x86\x92 +1020ms HAS_VALUE"));
    assert_non_null(strstr(page, "not yet"));
    /* in flight: refreshes, and both the in-flight and the failed one are open */
    assert_non_null(strstr(page, "<meta http-equiv=\"refresh\" content=\"5\">"));
    assert_int_equal(count(page, "<details open>"), 2);
    assert_non_null(strstr(page, "cf (cloudflare)"));
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "src=\"http"));
    free(resp);
    resp = exchange(zp_obs_port(o), "HEAD /status HTTP/1.1\r\n\r\n");
    assert_int_equal(status_of(resp), 200);
    assert_common_headers(resp, 1);
    free(resp);
    zp_obs_stop(o);
}

/* ---- the page on its own: whatever the document holds, it renders or refuses ---------------- */

static char *render(const char *json, int want_rc)
{
    struct zp_buf b;
    struct zp_err err = {0};

    zp_buf_init(&b, 1u << 20);
    assert_int_equal(zp_statuspage_html(json, strlen(json), &b, &err), want_rc);
    if (want_rc == -1) {
        assert_int_equal(err.kind, ZP_EINVAL);
        zp_buf_free(&b);
        return NULL;
    }
    return zp_buf_take(&b);
}

static void test_statuspage_odd_documents(void **state)
{
    char *page;

    (void)state;
    assert_null(render("", -1));
    assert_null(render("[]", -1));
    assert_null(render("{\"inFlight\":", -1));
    page = render("{}", 0);
    assert_non_null(strstr(page, "Nothing in flight."));
    assert_non_null(strstr(page, "No challenge answered yet."));
    assert_null(strstr(page, "http-equiv=\"refresh\""));
    free(page);
    /* every field of the wrong type */
    page = render("{\"generated\":7,\"inFlightTotal\":\"x\",\"inFlight\":[1,null,\"s\",[],"
                  "{\"fqdn\":5,\"state\":{},\"elapsedMs\":-4,\"steps\":\"x\",\"nameservers\":"
                  "[1,null,{},{\"answers\":[1,{\"atMs\":\"x\"}],\"servedMs\":1e300}]}],"
                  "\"recent\":{}}",
                  0);
    assert_int_equal(count(page, "class=\"challenge\""), 5);
    assert_non_null(strstr(page, "data-state=\"\xe2\x80\x94\""));
    assert_non_null(strstr(page, "class=\"ns laggard\" data-ns-state=\"\xe2\x80\x94\""));
    assert_non_null(strstr(page, "No challenge answered yet."));
    assert_non_null(strstr(page, "http-equiv=\"refresh\"")); /* something is in flight */
    free(page);
    /* nothing in flight, one success: closed, no refresh, no laggard */
    page = render("{\"inFlightTotal\":0,\"inFlight\":[],\"recent\":[{\"state\":\"done\","
                  "\"outcome\":\"success\",\"nameservers\":[{\"state\":\"HAS_VALUE\"}]}]}",
                  0);
    assert_null(strstr(page, "http-equiv=\"refresh\""));
    assert_null(strstr(page, "<details open"));
    assert_null(strstr(page, "laggard\""));
    assert_non_null(strstr(page, "data-state=\"success\" data-outcome=\"success\""));
    free(page);
}

/* serve's kept records: escaped, capped, absent without the member, odd types shown as a dash */
static void test_statuspage_persist(void **state)
{
    struct zp_buf doc;
    char *page;

    (void)state;
    page = render("{}", 0);
    assert_null(strstr(page, "id=\"persist\""));
    free(page);
    page = render("{\"persist\":{\"total\":3,\"entries\":[{\"name\":\"<b>x&y\","
                  "\"issuer\":\"ca\\\"'\",\"state\":\"ok\",\"checked\":\"2026-12-03T21:40:00Z\","
                  "\"rewrite\":{\"reason\":\"missing\",\"outcome\":\"success\","
                  "\"at\":\"2026-12-03T21:39:59Z\"}},{\"name\":\"n\",\"state\":\"error\","
                  "\"rewrite\":7},{\"state\":{}},5]}}",
                  0);
    assert_non_null(strstr(page, "id=\"persist-table\""));
    assert_int_equal(count(page, "<tr class=\"persist\""), 4);
    assert_non_null(strstr(page, "&lt;b&gt;x&amp;y"));
    assert_non_null(strstr(page, "ca&quot;&#39;"));
    assert_null(strstr(page, "<b>x"));
    assert_non_null(strstr(page, "data-persist-state=\"ok\""));
    assert_non_null(strstr(page, "data-persist-state=\"error\""));
    assert_non_null(strstr(page, "data-persist-state=\"\">"));
    assert_non_null(strstr(page, "<time>2026-12-03T21:40:00Z</time>"));
    assert_non_null(strstr(page, "missing \xe2\x86\x92 <span class=\"st st-ok\">success</span>"));
    assert_null(strstr(page, " shown.</p>"));
    free(page);
    page = render("{\"persist\":{\"entries\":[]}}", 0);
    assert_non_null(strstr(page, "No record kept."));
    free(page);
    /* the cap: 300 entries, 256 rendered */
    zp_buf_init(&doc, 1u << 20);
    zp_buf_puts(&doc, "{\"persist\":{\"total\":300,\"entries\":[");
    for (int i = 0; i < 300; i++)
        zp_buf_printf(&doc, "%s{\"name\":\"n%d\",\"state\":\"ok\"}", i ? "," : "", i);
    zp_buf_puts(&doc, "]}}");
    page = render(zp_buf_str(&doc), 0);
    assert_int_equal(count(page, "<tr class=\"persist\""), 256);
    assert_non_null(strstr(page, "The first 256 of 300 shown."));
    free(page);
    zp_buf_free(&doc);
}

static void test_statuspage_cap(void **state)
{
    struct zp_buf b;
    struct zp_err err = {0};

    (void)state;
    zp_buf_init(&b, 100);
    assert_int_equal(zp_statuspage_html(status_doc, strlen(status_doc), &b, &err), -1);
    assert_int_equal(err.kind, ZP_EINTERNAL);
    zp_buf_free(&b);
}

/* ---- hostile peers ------------------------------------------------------------------------ */

static void test_eviction(void **state)
{
    struct zp_obs *o = start(0);
    int idle[ZP_OBS_MAX_CONNS + 1];
    char *resp, *logs, c;

    (void)state;
    free(log_taken());
    for (size_t i = 0; i <= ZP_OBS_MAX_CONNS; i++)
        idle[i] = dial(zp_obs_port(o));
    /* accepted in order: by the time this is answered, the two oldest made room */
    resp = get(zp_obs_port(o), "/metrics");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    assert_int_equal(recv(idle[0], &c, 1, 0), 0);
    assert_int_equal(recv(idle[1], &c, 1, 0), 0);
    /* the newest idle one is still open: it gets its answer */
    send_all(idle[ZP_OBS_MAX_CONNS], "GET /healthz HTTP/1.1\r\n\r\n", 25);
    resp = read_all(idle[ZP_OBS_MAX_CONNS]);
    assert_int_equal(status_of(resp), 200);
    free(resp);
    for (size_t i = 0; i <= ZP_OBS_MAX_CONNS; i++)
        close(idle[i]);
    /* two connections dropped, one warning: at most one line a minute */
    logs = log_taken();
    assert_int_equal(count(logs, "\"metrics listener dropped a connection\""), 1);
    free(logs);
    zp_obs_stop(o);
}

static void test_header_too_large(void **state)
{
    struct zp_obs *o = start(0);
    size_t n = ZP_OBS_HEADER_MAX + 1000;
    char *req = zp_xmalloc(n + 1), *resp;
    int fd;

    (void)state;
    memset(req, 'a', n);
    memcpy(req, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
    req[n] = '\0';
    fd = dial(zp_obs_port(o));
    send_all(fd, req, n);
    resp = read_all(fd);
    assert_int_not_equal(status_of(resp), 200);
    assert_null(strstr(resp, "zoneproof_obs_test_total"));
    close(fd);
    free(resp);
    free(req);
    zp_obs_stop(o);
}

static void test_header_deadline(void **state)
{
    struct zp_obs *o = start(0);
    int slow = dial(zp_obs_port(o));
    char *resp;

    (void)state;
    send_all(slow, "GET /metrics HTTP/1.1\r\n", 23);
    /* a later connection answered: the slow one, accepted before it, is in the listener's hands */
    resp = get(zp_obs_port(o), "/healthz");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    zp_clock_advance(ZP_OBS_HEADER_MS);
    resp = read_all(slow);
    assert_int_equal(status_of(resp), 408);
    free(resp);
    close(slow);
    zp_obs_stop(o);
}

/* A reply nobody reads is dropped ZP_OBS_WRITE_MS after it was ready. */
static void test_write_deadline(void **state)
{
    size_t n = 7u << 20, got;
    char *doc = zp_xmalloc(n + 1), *resp, *logs;
    struct zp_obs_opts opts = {.bind_address = "127.0.0.1:0",
                               .status_page = 1,
                               .status_json = status_cb,
                               .status_arg = doc};
    struct zp_err err = {0};
    struct zp_obs *o;
    int slow, small = 4096;

    (void)state;
    memset(doc, ' ', n); /* an object padded with white space: more than socket buffers hold */
    doc[0] = '{';
    doc[n - 1] = '}';
    doc[n] = '\0';
    o = zp_obs_start(&opts, &err);
    assert_non_null(o);
    free(log_taken());
    slow = dial_rcvbuf(zp_obs_port(o), small);
    send_all(slow, "GET /status.json HTTP/1.1\r\n\r\n", 29);
    /* a later connection answered: the slow one's request was read and its reply is ready */
    resp = get(zp_obs_port(o), "/healthz");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    zp_clock_advance(ZP_OBS_WRITE_MS);
    resp = read_all(slow);
    close(slow);
    got = strlen(body_of(resp));
    free(resp);
    logs = log_taken();
    if (got == n) { /* this host's socket buffers took the whole reply */
        free(logs);
        free(doc);
        zp_obs_stop(o);
        skip();
    }
    assert_true(got < n);
    assert_non_null(strstr(logs, "the reply was not read within 10 s"));
    free(logs);
    free(doc);
    zp_obs_stop(o);
}

/* ---- binding ------------------------------------------------------------------------------ */

static void assert_bind_fails(const char *addr, const char *says)
{
    struct zp_obs_opts opts = {.bind_address = addr};
    struct zp_err err = {0};

    assert_null(zp_obs_start(&opts, &err));
    assert_int_equal(err.kind, ZP_ECONFIG);
    if (strstr(err.msg, "--metrics-bind-address") == NULL || strstr(err.msg, says) == NULL)
        fail_msg("%s: \"%s\" lacks \"%s\"", addr, err.msg, says);
}

static void test_bad_bind(void **state)
{
    (void)state;
    assert_bind_fails("localhost:8080", "not a numeric IP address");
    assert_bind_fails("8080", "no port");
    assert_bind_fails("", "empty");
    assert_bind_fails("::1:8080", "brackets");
    assert_bind_fails("[::1]", "[ADDRESS]:PORT");
    assert_bind_fails("[]:80", "[ADDRESS]:PORT");
    assert_bind_fails("127.0.0.1:", "port must be");
    assert_bind_fails("127.0.0.1:65536", "port must be");
    assert_bind_fails("127.0.0.1:-1", "port must be");
    assert_bind_fails("127.0.0.1:80x", "port must be");
    assert_bind_fails("192.0.2.300:80", "not a numeric IP address");
}

static void test_port_in_use(void **state)
{
    struct zp_obs *o = start(0);
    char addr[64];

    (void)state;
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", zp_obs_port(o));
    assert_bind_fails(addr, "in use");
    zp_obs_stop(o);
}

static void test_every_address(void **state)
{
    struct zp_obs_opts opts = {.bind_address = ":0"};
    struct zp_err err = {0};
    struct zp_obs *o;
    char *resp;

    (void)state;
    o = zp_obs_start(&opts, &err);
    if (o == NULL)
        fail_msg("zp_obs_start(\":0\"): %s", err.msg);
    /* IPv4 reaches it, whether through [::] with IPv6-only off or through 0.0.0.0 */
    resp = get(zp_obs_port(o), "/healthz");
    assert_int_equal(status_of(resp), 200);
    free(resp);
    zp_obs_stop(o);
    zp_obs_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_methods_and_bodies),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_status_off),
        cmocka_unit_test(test_status_json),
        cmocka_unit_test(test_status_html),
        cmocka_unit_test(test_statuspage_odd_documents),
        cmocka_unit_test(test_statuspage_persist),
        cmocka_unit_test(test_statuspage_cap),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_header_too_large),
        cmocka_unit_test(test_header_deadline),
        cmocka_unit_test(test_write_deadline),
        cmocka_unit_test(test_bad_bind),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_every_address),
    };
    int fds[2];

    /* Deadlines come when a test advances the clock: nothing here waits for time to pass. */
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    if (pipe2(fds, O_NONBLOCK) == -1)
        return 1;
    log_fd = fds[0];
    zp_log_set_fd(fds[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

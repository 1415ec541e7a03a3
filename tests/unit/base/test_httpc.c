/*
 * test_httpc.c — the HTTP client against a scripted server on loopback:
 * Retry-After is honoured within the deadline and reported past it (the
 * wait in the log, never in the sentence), 5xx is retried a bounded number
 * of times, 401 never is, bodies are capped, and a silent or absent server
 * becomes a sentence naming the host.
 *
 * The clock is fast: a wait the client decides on (Retry-After, backoff, a
 * token) returns at once and is counted, so tests assert what was waited
 * (zp_clock_slept_ms), never how long anything took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"

/* The server answers each connection with the next scripted reply; "" means: say nothing. */
struct script {
    const char *replies[8];
    int n, served;
    int fd;
    unsigned short port;
    pthread_t th;
};

static void *serve(void *arg)
{
    struct script *s = arg;
    char buf[8192];

    for (int i = 0; i < s->n; i++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        (void)!read(c, buf, sizeof(buf));
        s->served++;
        if (s->replies[i][0] == '\0') {
            while (read(c, buf, sizeof(buf)) > 0) /* silent until the caller gives up */
                ;
        } else {
            (void)!write(c, s->replies[i], strlen(s->replies[i]));
        }
        close(c);
    }
    return NULL;
}

static void start(struct script *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int one = 1;

    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, serve, s);
}

static void stop(struct script *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->th, NULL);
}

static int call(struct script *s, uint64_t budget_ms, struct zp_http_resp *r, struct zp_err *e)
{
    char url[64];
    struct zp_http_req req = {.method = "GET", .url = url, .what = "Example DNS"};

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/zones?name=secret-query", s->port);
    req.deadline_ms = zp_now_ms() + budget_ms;
    zp_err_clear(e);
    return zp_http_call(&req, r, e);
}

/* The sentence for a 429 that cannot be waited out: the same whatever the wait. */
#define RATE_MSG                                                                                   \
    "rate limited by Example DNS; retry after its limit resets: waiting it out did not fit in "    \
    "this attempt's time (the log says how long)"

/* Log lines at warn and above go to a file while fn runs; returns them (static storage). */
static const char *logged_during(void (*fn)(void *), void *arg)
{
    static char text[8192];
    FILE *f = tmpfile();
    size_t n;

    assert_non_null(f);
    zp_log_set_fd(fileno(f));
    zp_log_set_level(ZP_LOG_WARN);
    fn(arg);
    zp_log_set_level(ZP_LOG_ERROR);
    zp_log_set_fd(STDERR_FILENO);
    rewind(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

#define OK200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Thing: a b \r\n\r\nok"
#define R429(s) "HTTP/1.1 429 Too Many Requests\r\nRetry-After: " s "\r\nContent-Length: 0\r\n\r\n"
#define R500 "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
#define R401 "HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope"

static void retry_after_is_honoured(void **state)
{
    struct script s = {.replies = {R429("1"), OK200}, .n = 2};
    struct zp_http_resp r;
    struct zp_err e;
    char v[32];
    uint64_t slept = zp_clock_slept_ms();

    start(&s);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s, 5000, &r, &e), 0);
    assert_int_equal(zp_clock_slept_ms() - slept, 1000); /* Retry-After: 1 */
    assert_int_equal(r.status, 200);
    assert_string_equal(zp_buf_str(&r.body), "ok");
    assert_string_equal(zp_http_header(&r, "x-thing", v, sizeof(v)), "a b");
    assert_null(zp_http_header(&r, "x-missing", v, sizeof(v)));
    assert_int_equal(s.served, 2);
    zp_http_resp_free(&r);
    stop(&s);
}

static void give_up_on_120(void *arg)
{
    struct script s = {.replies = {R429("120")}, .n = 1};
    struct zp_http_resp r;
    struct zp_err *e = arg;

    start(&s);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s, 3000, &r, e), -1);
    assert_int_equal(r.retry_after_ms, 120000);
    assert_int_equal(s.served, 1);
    zp_http_resp_free(&r);
    stop(&s);
}

/* Issue #9: the wait goes to the log; the sentence carries no figure that changes. */
static void retry_after_past_the_deadline(void **state)
{
    struct zp_err e;
    const char *log = logged_during(give_up_on_120, &e);

    assert_int_equal(e.kind, ZP_ERATELIMIT);
    assert_int_equal(e.upstream, 429);
    assert_string_equal(e.msg, RATE_MSG);
    assert_non_null(strstr(log, "\"msg\":\"http rate limited\""));
    assert_non_null(strstr(log, "\"wait_ms\":120000"));
    assert_non_null(strstr(log, "\"retry_after_ms\":120000"));
}

static void reset_headers_stand_in_for_retry_after(void **state)
{
    struct script s = {.replies = {"HTTP/1.1 429 Too Many Requests\r\nX-RateLimit-Reset: 90\r\n"
                                   "Content-Length: 0\r\n\r\n",
                                   "HTTP/1.1 429 Too Many Requests\r\nRatelimit: \"default\";r=0;"
                                   "t=45\r\nContent-Length: 0\r\n\r\n"},
                       .n = 2};
    struct zp_http_resp r;
    struct zp_err e;

    start(&s);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s, 3000, &r, &e), -1);
    assert_int_equal(r.retry_after_ms, 90000);
    assert_string_equal(e.msg, RATE_MSG);
    assert_int_equal(call(&s, 3000, &r, &e), -1);
    assert_int_equal(r.retry_after_ms, 45000);
    assert_string_equal(e.msg, RATE_MSG); /* another wait, the same sentence */
    zp_http_resp_free(&r);
    stop(&s);
}

/* What one 429 with header line hdr (then a 200) makes the client wait, in ms. */
static uint64_t waited_for(const char *hdr)
{
    char first[256];
    struct script s = {.replies = {first, OK200}, .n = 2};
    struct zp_http_resp r;
    struct zp_err e;
    uint64_t slept = zp_clock_slept_ms();

    snprintf(first, sizeof(first),
             "HTTP/1.1 429 Too Many Requests\r\n%s\r\nContent-Length: 0\r\n\r\n", hdr);
    start(&s);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s, 5000, &r, &e), 0);
    assert_int_equal(r.status, 200);
    zp_http_resp_free(&r);
    stop(&s);
    return zp_clock_slept_ms() - slept;
}

/* What one 429 with header line hdr that cannot be waited out asked for, in ms. */
static uint64_t gave_up_on(const char *hdr)
{
    char first[256];
    struct script s = {.replies = {first}, .n = 1};
    struct zp_http_resp r;
    struct zp_err e;

    snprintf(first, sizeof(first),
             "HTTP/1.1 429 Too Many Requests\r\n%s\r\nContent-Length: 0\r\n\r\n", hdr);
    start(&s);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s, 3000, &r, &e), -1);
    assert_int_equal(e.kind, ZP_ERATELIMIT);
    assert_string_equal(e.msg, RATE_MSG);
    zp_http_resp_free(&r);
    stop(&s);
    return r.retry_after_ms;
}

/* Issue #8: "Retry-After: -5" became a wait of 18446744073709547 s; huge figures overflowed. */
static void hostile_retry_after_is_ignored_or_capped(void **state)
{
    /* Not a plain count of seconds or a whole date: ignored, the first backoff (250 ms) waits. */
    assert_int_equal(waited_for("Retry-After: -5"), 250);
    assert_int_equal(waited_for("Retry-After: +5"), 250);
    assert_int_equal(waited_for("Retry-After: 1e3"), 250);
    assert_int_equal(waited_for("Retry-After: 2 s"), 250);
    assert_int_equal(waited_for("Retry-After: soon"), 250);
    assert_int_equal(waited_for("Retry-After: Sun, 06 Nov 1994 08:49:37 GMT and more"), 250);
    assert_int_equal(waited_for("X-RateLimit-Reset: -1"), 250);
    assert_int_equal(waited_for("RateLimit-Reset: 12abc"), 250);
    assert_int_equal(waited_for("Ratelimit: \"default\";r=0;t=-3"), 250);
    /* The three date forms of RFC 9110; a date in the past means: try again in a second. */
    assert_int_equal(waited_for("Retry-After: Sun, 06 Nov 1994 08:49:37 GMT"), 1000);
    assert_int_equal(waited_for("Retry-After: Sunday, 06-Nov-94 08:49:37 GMT"), 1000);
    assert_int_equal(waited_for("Retry-After: Sun Nov  6 08:49:37 1994"), 1000);
    assert_int_equal(waited_for("X-RateLimit-Reset: 1000000001"), 1000); /* epoch, past */
    /* Absurd figures are capped at an hour, never wrap. */
    assert_int_equal(gave_up_on("Retry-After: 99999999999999999999999999999"), 3600000);
    assert_int_equal(gave_up_on("Retry-After: 18446744073709551615"), 3600000);
    assert_int_equal(gave_up_on("Retry-After: Fri, 31 Dec 9999 23:59:59 GMT"), 3600000);
    assert_int_equal(gave_up_on("X-RateLimit-Reset: 99999999999999999999"), 3600000);
    assert_int_equal(gave_up_on("Ratelimit: \"default\";r=0;t=4294967296000"), 3600000);
}

static void server_errors_bounded_auth_errors_never(void **state)
{
    struct script s5 = {.replies = {R500, R500, R500}, .n = 3};
    struct script s4 = {.replies = {R401}, .n = 1};
    struct zp_http_resp r;
    struct zp_err e;
    uint64_t slept = zp_clock_slept_ms();

    start(&s5);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s5, 10000, &r, &e), 0);
    assert_int_equal(r.status, 500); /* the caller maps it */
    assert_int_equal(s5.served, 3);
    assert_int_equal(zp_clock_slept_ms() - slept, 250 + 500); /* backoff between the three */
    stop(&s5);

    start(&s4);
    assert_int_equal(call(&s4, 10000, &r, &e), 0);
    assert_int_equal(r.status, 401);
    assert_string_equal(zp_buf_str(&r.body), "nope");
    assert_int_equal(s4.served, 1);
    zp_http_resp_free(&r);
    stop(&s4);
}

/* The sign hook of the request: counts its runs, and refuses from the third on. */
struct signer {
    int runs;
    char header[64];
    const char *headers[2];
};

static int sign_attempt(void *arg, struct zp_http_req *r, struct zp_err *err)
{
    struct signer *g = arg;

    if (++g->runs > 2)
        return zp_err_set(err, ZP_EINTERNAL, "cannot sign the request to %s", r->what);
    snprintf(g->header, sizeof(g->header), "X-Nonce: n%d", g->runs);
    g->headers[0] = g->header;
    r->headers = g->headers;
    return 0;
}

/* A signed request is signed anew before each attempt, and a refusal to sign sends nothing. */
static void each_attempt_is_signed_anew(void **state)
{
    struct script s = {.replies = {R500, OK200}, .n = 2};
    struct signer g = {0};
    struct zp_http_req req = {
        .method = "GET", .what = "Example DNS", .sign = sign_attempt, .sign_arg = &g};
    struct zp_http_resp r;
    struct zp_err e = {0};
    char url[64];

    start(&s);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/zones", s.port);
    req.url = url;
    req.deadline_ms = zp_now_ms() + 10000;
    zp_http_resp_init(&r);
    assert_int_equal(zp_http_call(&req, &r, &e), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(g.runs, 2); /* the first attempt and the retry after the 500 */
    assert_string_equal(g.header, "X-Nonce: n2");
    assert_int_equal(s.served, 2);
    stop(&s);
    assert_int_equal(zp_http_call(&req, &r, &e), -1);
    assert_string_equal(e.msg, "cannot sign the request to Example DNS");
    assert_int_equal(s.served, 2); /* nothing went out */
    zp_http_resp_free(&r);
}

static void hang_and_refusal_name_the_host(void **state)
{
    struct script s = {.replies = {""}, .n = 1};
    struct zp_http_resp r;
    struct zp_err e;
    char hung[sizeof(e.msg)];

    start(&s);
    zp_http_resp_init(&r);
    assert_int_equal(call(&s, 300, &r, &e), -1);
    assert_int_equal(e.kind, ZP_ETIMEOUT);
    assert_non_null(strstr(e.msg, "Example DNS (127.0.0.1:"));
    assert_null(strstr(e.msg, "secret-query")); /* queries may hold credentials */
    stop(&s);
    memcpy(hung, e.msg, sizeof(hung));

    /* no time left to send it at all: the same words as the hang (issue #9) */
    assert_int_equal(call(&s, 0, &r, &e), -1);
    assert_int_equal(e.kind, ZP_ETIMEOUT);
    assert_string_equal(e.msg, hung);

    /* nothing listens on the port now */
    assert_int_equal(call(&s, 2000, &r, &e), -1);
    assert_int_equal(e.kind, ZP_ETRANSIENT);
    assert_non_null(strstr(e.msg, "cannot reach Example DNS (127.0.0.1:"));
    zp_http_resp_free(&r);
}

static void body_is_capped(void **state)
{
    struct script s = {.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"},
                       .n = 1};
    char url[64];
    struct zp_http_req req = {
        .method = "GET", .url = url, .what = "Example DNS", .max_response = 4};
    struct zp_http_resp r;
    struct zp_err e = {0};

    start(&s);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", s.port);
    zp_http_resp_init(&r);
    assert_int_equal(zp_http_do(&req, &r, &e), -1);
    assert_non_null(strstr(e.msg, "answered with more than 4 bytes"));
    zp_http_resp_free(&r);
    stop(&s);
}

static void token_bucket(void **state)
{
    struct zp_err e = {0}, e2;
    uint64_t t0 = zp_now_ms();

    assert_int_equal(zp_ratelimit_take("test:acct", 20.0, 2.0, t0 + 5000, "Example DNS", &e), 0);
    assert_int_equal(zp_ratelimit_take("test:acct", 20.0, 2.0, t0 + 5000, "Example DNS", &e), 0);
    /* the third waits for a token (about 50 ms) rather than failing */
    assert_int_equal(zp_ratelimit_take("test:acct", 20.0, 2.0, t0 + 5000, "Example DNS", &e), 0);
    assert_true(zp_now_ms() - t0 >= 40);
    /* a slow bucket with no time left refuses with a sentence */
    assert_int_equal(zp_ratelimit_take("test:slow", 0.01, 1.0, t0 + 5000, "Example DNS", &e), 0);
    assert_int_equal(
        zp_ratelimit_take("test:slow", 0.01, 1.0, zp_now_ms() + 100, "Example DNS", &e), -1);
    assert_int_equal(e.kind, ZP_ERATELIMIT);
    assert_non_null(strstr(e.msg, "Example DNS"));
    /* a longer wait for a turn: the same sentence */
    zp_err_clear(&e2);
    assert_int_equal(
        zp_ratelimit_take("test:slow", 0.01, 1.0, zp_now_ms() + 200, "Example DNS", &e2), -1);
    assert_string_equal(e2.msg, e.msg);
    assert_null(strstr(e.msg, " s;"));
}

static void escaping(void **state)
{
    struct zp_buf b;

    zp_buf_init(&b, 256);
    assert_int_equal(zp_http_escape("_acme-challenge.example.com a/b+c", &b), 0);
    assert_string_equal(zp_buf_str(&b), "_acme-challenge.example.com%20a%2Fb%2Bc");
    zp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_after_is_honoured),
        cmocka_unit_test(retry_after_past_the_deadline),
        cmocka_unit_test(reset_headers_stand_in_for_retry_after),
        cmocka_unit_test(hostile_retry_after_is_ignored_or_capped),
        cmocka_unit_test(server_errors_bounded_auth_errors_never),
        cmocka_unit_test(each_attempt_is_signed_anew),
        cmocka_unit_test(hang_and_refusal_name_the_host),
        cmocka_unit_test(body_is_capped),
        cmocka_unit_test(token_bucket),
        cmocka_unit_test(escaping),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    zp_log_set_level(ZP_LOG_ERROR);
    zp_clock_set_mode(ZP_CLOCK_FAST);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

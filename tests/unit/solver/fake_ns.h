/*
 * fake_ns.h — in-process fake authoritative nameservers for the watcher's
 * tests: a UDP responder thread per server (with a TCP listener on the same
 * port for truncated answers) that answers TXT with the value, NXDOMAIN,
 * other values, REFUSED, no AA bit, or drops the query. The mode is read per
 * query, so a test's fake_set holds for every later query. Also what those
 * tests share besides the servers: settling the manual clock, collecting a
 * watch's answer, and the heap in use. Included by test_watch.c and
 * test_watch_limits.c (static functions, no library of their own; the
 * shared helpers are static inline, as a test may not use each of them).
 */
#ifndef ZP_TEST_FAKE_NS_H
#define ZP_TEST_FAKE_NS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <malloc.h>

#include "base/clock.h"
#include "base/mem.h"
#include "solver/watch.h"

enum fake_mode { F_VALUE, F_NXDOMAIN, F_OTHER, F_DROP, F_REFUSED, F_NOAA, F_TRUNC };

#define GUARD_MS 60000u /* a hang fails the test; slowness does not */

/* The absolute real time GUARD_MS from now, for pthread_cond_timedwait. */
static struct timespec guard_time(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += GUARD_MS / 1000u;
    return ts;
}

struct fake {
    int fd;
    int tfd; /* TCP listener on the same port, for truncated answers */
    unsigned port;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* queries grew */
    enum fake_mode mode; /* under mu */
    unsigned queries;    /* under mu */
    int stop;            /* under mu */
};

/* The value served for a name: "v-" and the second label ("_acme-challenge.w17.test." → v-w17). */
static void value_for(const char *qname, char *out, size_t outsz)
{
    const char *a = strchr(qname, '.'), *b = a ? strchr(a + 1, '.') : NULL;

    snprintf(out, outsz, "v-%.*s", a && b ? (int)(b - a - 1) : 0, a ? a + 1 : "");
}

static ldns_pkt *fake_answer(const ldns_pkt *q, enum fake_mode mode)
{
    ldns_pkt *a = ldns_pkt_new();
    ldns_rr *qr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
    char *qname = ldns_rdf2str(ldns_rr_owner(qr)), val[128], line[512];
    ldns_rr *rr = NULL;

    ldns_pkt_set_id(a, ldns_pkt_id(q));
    ldns_pkt_set_qr(a, true);
    ldns_pkt_set_aa(a, mode != F_NOAA);
    ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION, qr);
    value_for(qname, val, sizeof(val));
    switch (mode) {
    case F_NXDOMAIN:
        ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
        break;
    case F_REFUSED:
        ldns_pkt_set_rcode(a, LDNS_RCODE_REFUSED);
        break;
    case F_OTHER:
        snprintf(line, sizeof(line), "%s 60 IN TXT \"zz-other\"", qname);
        ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
        snprintf(line, sizeof(line), "%s 60 IN TXT \"aa-other\"", qname);
        ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
        break;
    default:
        /* The value split in two strings: the watcher must join them. */
        snprintf(line, sizeof(line), "%s 60 IN TXT \"%.2s\" \"%s\"", qname, val, val + 2);
        ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
        snprintf(line, sizeof(line), "%s 60 IN TXT \"another\"", qname);
        ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
        break;
    }
    free(qname);
    return a;
}

static void fake_tcp(struct fake *f)
{
    uint8_t len[2], buf[4096], *wire = NULL;
    ldns_pkt *q = NULL, *a;
    size_t wlen;
    int c = accept(f->tfd, NULL, NULL);

    if (c < 0)
        return;
    if (recv(c, len, 2, MSG_WAITALL) == 2 &&
        recv(c, buf, (size_t)(len[0] << 8 | len[1]), MSG_WAITALL) == (len[0] << 8 | len[1]) &&
        ldns_wire2pkt(&q, buf, (size_t)(len[0] << 8 | len[1])) == LDNS_STATUS_OK) {
        a = fake_answer(q, F_VALUE);
        if (ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK) {
            len[0] = (uint8_t)(wlen >> 8);
            len[1] = (uint8_t)wlen;
            if (send(c, len, 2, 0) == 2)
                (void)!send(c, wire, wlen, 0);
        }
        free(wire);
        ldns_pkt_free(a);
    }
    ldns_pkt_free(q);
    close(c);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    uint8_t buf[4096];

    for (;;) {
        struct pollfd p[2] = {{f->fd, POLLIN, 0}, {f->tfd, POLLIN, 0}};
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ldns_pkt *q = NULL, *a;
        uint8_t *wire = NULL;
        size_t wlen;
        enum fake_mode mode;
        ssize_t n;
        int stop;

        poll(p, 2, 50);
        pthread_mutex_lock(&f->mu);
        stop = f->stop;
        mode = f->mode;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return NULL;
        if (p[1].revents & POLLIN)
            fake_tcp(f);
        while ((n = recvfrom(f->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
                             &fl)) > 0) {
            pthread_mutex_lock(&f->mu);
            f->queries++;
            mode = f->mode; /* per query: a test's fake_set holds for every later query */
            pthread_cond_broadcast(&f->cv);
            pthread_mutex_unlock(&f->mu);
            if (mode == F_DROP || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
                continue;
            a = fake_answer(q, mode == F_TRUNC ? F_OTHER : mode);
            if (mode == F_TRUNC)
                ldns_pkt_set_tc(a, true);
            if (ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK)
                sendto(f->fd, wire, wlen, 0, (struct sockaddr *)&from, fl);
            free(wire);
            wire = NULL;
            ldns_pkt_free(a);
            ldns_pkt_free(q);
            q = NULL;
            fl = sizeof(from);
        }
    }
}

static struct fake *fake_start(enum fake_mode mode)
{
    struct fake *f = zp_xcalloc(1, sizeof(*f));
    int big = 4 << 20, one = 1, tries;

    /*
     * The UDP port is the kernel's pick; the same TCP port may be in use by
     * any connection on the host (other tests run meanwhile): then pick again.
     */
    for (tries = 0;; tries++) {
        struct sockaddr_in sa = {0};
        socklen_t sl = sizeof(sa);

        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->fd = socket(AF_INET, SOCK_DGRAM, 0);
        setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        getsockname(f->fd, (struct sockaddr *)&sa, &sl);
        f->port = ntohs(sa.sin_port);
        f->tfd = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(f->tfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(f->tfd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            break;
        assert_true(tries < 50);
        close(f->fd);
        close(f->tfd);
    }
    assert_int_equal(listen(f->tfd, 16), 0);
    f->mode = mode;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
    return f;
}

static void fake_set(struct fake *f, enum fake_mode mode)
{
    pthread_mutex_lock(&f->mu);
    f->mode = mode;
    pthread_mutex_unlock(&f->mu);
}

static unsigned fake_queries(struct fake *f)
{
    unsigned n;

    pthread_mutex_lock(&f->mu);
    n = f->queries;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* Waits until f has received at least n queries. */
static void fake_wait_queries(struct fake *f, unsigned n)
{
    struct timespec until = guard_time();
    int rc = 0;

    pthread_mutex_lock(&f->mu);
    while (f->queries < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
    pthread_mutex_unlock(&f->mu);
    if (rc == ETIMEDOUT)
        fail_msg("the fake nameserver never got %u queries", n);
}

static void fake_stop(struct fake *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    close(f->fd);
    close(f->tfd);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
}

static char *addr_of(const struct fake *f)
{
    return zp_xasprintf("127.0.0.1:%u", f->port);
}

/* --- what the watcher's tests share besides the servers ------------------------------------ */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZP_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(ZP_TEST_ASAN)
#define ZP_TEST_ASAN 1
#endif
#ifdef ZP_TEST_ASAN
/* From the sanitizer runtime; GCC does not install the header that declares it. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/*
 * Every worker of a watcher with n workers waits for the clock alone. Tests
 * advance only then (or, with one worker, once its query is out): the wake
 * pipe is shared, so a worker with queries in flight may see an advance
 * only at its next wake-up.
 */
static inline void settle(unsigned n)
{
    if (zp_clock_wait_idle(n, GUARD_MS) == -1)
        fail_msg("the watcher's %u workers never went idle", n);
}

/* One caller's answers: how many, when the last came, and what it said. */
struct call {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned calls;
    uint64_t at;
    struct zp_watch_report rep;
};

static inline void call_init(struct call *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static inline void on_done(void *arg, const struct zp_watch_report *rep)
{
    struct call *c = arg;

    pthread_mutex_lock(&c->mu);
    c->calls++;
    c->at = zp_now_ms();
    c->rep = *rep;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static inline unsigned call_count(struct call *c)
{
    unsigned n;

    pthread_mutex_lock(&c->mu);
    n = c->calls;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Waits for the first call (generously: a hang fails the test, slowness does not). */
static inline void call_wait_at(struct call *c, int line)
{
    struct timespec until = guard_time();
    int rc = 0;

    pthread_mutex_lock(&c->mu);
    while (c->calls == 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    pthread_mutex_unlock(&c->mu);
    if (call_count(c) != 1)
        fail_msg("line %d: %u answers, want 1", line, call_count(c));
}
#define call_wait(c) call_wait_at((c), __LINE__)

/* Bytes the process has allocated and not freed: the sanitizer's allocator keeps its own count. */
static inline size_t heap_in_use(void)
{
#ifdef ZP_TEST_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
#endif
}

#endif

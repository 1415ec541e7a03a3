/*
 * watchq.c — one worker's UDP query engine: its two non-blocking sockets,
 * the table of queries in flight keyed by id, sending a round of TXT
 * queries for a watch, matching answers and ICMP errors to their queries,
 * and timing them out.
 *
 * An engine belongs to one worker thread and has no lock: everything here
 * runs on that thread. When the last query of a watch's round ends, the
 * engine tells the worker (round_end), which may send the next round from
 * inside that call; so a query is unlinked before the call, and nothing
 * here touches a watch after it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/errqueue.h>
#endif

#include "base/clock.h"
#include "base/err.h"
#include "base/mem.h"
#include "providers/tsig.h"
#include "solver/watch_int.h"

#define QBUCKETS 1024u
#define RCVBUF_BYTES (1 << 20)

struct query {          /* one UDP query in flight */
    struct query *next; /* bucket chain, by id */
    struct zp_wask *ask;
    size_t ns; /* index into ask->ns */
    uint16_t id;
    uint64_t deadline;
    int cut; /* deadline shortened by a caller's */
};

struct zp_wq {
    /* Set by zp_wq_new, before the worker thread starts; read-only afterwards. */
    zp_wq_round_fn *round_end;
    void *ctx;
    int fd4, fd6; /* non-blocking UDP; fd6 is -1 on hosts without IPv6 */
    /* The worker thread's alone. */
    struct query *bucket[QBUCKETS];
    unsigned n_inflight;
    uint16_t rnd[64];
    unsigned nrnd;
    uint8_t rx[65536];
};

static int udp_socket(int family)
{
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    int rcv = RCVBUF_BYTES;

    if (fd < 0)
        return -1;
    /* A burst of a thousand answers must not overflow the default buffer. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
#ifdef __linux__
    if (family == AF_INET)
        setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
    else
        setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
#endif
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    return fd;
}

struct zp_wq *zp_wq_new(zp_wq_round_fn *round_end, void *ctx, struct zp_err *err)
{
    struct zp_wq *q = zp_xcalloc(1, sizeof(*q));

    q->round_end = round_end;
    q->ctx = ctx;
    q->fd4 = udp_socket(AF_INET);
    q->fd6 = udp_socket(AF_INET6); /* optional: hosts without IPv6 exist */
    if (q->fd4 < 0) {
        zp_err_set(err, ZP_EINTERNAL, "cannot open a UDP socket for the watcher: %s",
                   strerror(errno));
        goto out;
    }
    return q;
out:
    zp_wq_free(q);
    return NULL;
}

/* The worker has answered every watch it ran: no query is left in flight. */
void zp_wq_free(struct zp_wq *q)
{
    if (q == NULL)
        return;
    if (q->fd4 >= 0)
        close(q->fd4);
    if (q->fd6 >= 0)
        close(q->fd6);
    free(q);
}

unsigned zp_wq_inflight(const struct zp_wq *q)
{
    return q->n_inflight;
}

/* --- the in-flight table ----------------------------------------------------------------- */

static int id_in_use(const struct zp_wq *q, uint16_t id)
{
    const struct query *x;

    for (x = q->bucket[id % QBUCKETS]; x != NULL; x = x->next)
        if (x->id == id)
            return 1;
    return 0;
}

/* A random id not in flight on this worker: answers are matched by address, id and question. */
static uint16_t new_id(struct zp_wq *q)
{
    for (;;) {
        uint16_t id;

        if (q->nrnd == 0) {
            if (getrandom(q->rnd, sizeof(q->rnd), 0) != (ssize_t)sizeof(q->rnd)) {
                uint64_t x = zp_now_ms() ^ (uintptr_t)q;
                for (unsigned i = 0; i < 64; i++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    q->rnd[i] = (uint16_t)x;
                }
            }
            q->nrnd = 64;
        }
        id = q->rnd[--q->nrnd];
        if (!id_in_use(q, id))
            return id;
    }
}

static struct query *query_find(struct zp_wq *q, uint16_t id, const struct sockaddr *from)
{
    struct query *x;

    for (x = q->bucket[id % QBUCKETS]; x != NULL; x = x->next)
        if (x->id == id && zp_ns_addr_equal(&x->ask->ns[x->ns].to.sa, from))
            return x;
    return NULL;
}

static void query_unlink(struct zp_wq *q, struct query *x)
{
    struct query **pp = &q->bucket[x->id % QBUCKETS];

    while (*pp != x)
        pp = &(*pp)->next;
    *pp = x->next;
    q->n_inflight--;
}

/* An unlinked query is answered, failed or timed out; the last one of a round ends the round. */
static void query_finish(struct zp_wq *q, struct query *x)
{
    struct zp_wask *a = x->ask;

    free(x);
    if (--a->inflight == 0)
        q->round_end(q->ctx, a);
}

static void query_done(struct zp_wq *q, struct query *x)
{
    query_unlink(q, x);
    query_finish(q, x);
}

uint64_t zp_wq_earliest(const struct zp_wq *q, uint64_t t)
{
    const struct query *x;
    size_t b;

    if (q->n_inflight == 0)
        return t;
    for (b = 0; b < QBUCKETS; b++)
        for (x = q->bucket[b]; x != NULL; x = x->next)
            if (x->deadline < t)
                t = x->deadline;
    return t;
}

/* --- sending ----------------------------------------------------------------------------- */

void zp_wq_send(struct zp_wq *q, struct zp_wask *a, uint64_t deadline, int cut)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        struct zp_ns_live *l = &a->ns[i];
        struct query *x;
        uint8_t *wire = NULL;
        size_t len;
        int fd = l->to.sa.sa_family == AF_INET6 ? q->fd6 : q->fd4;
        uint16_t id;

        if (l->state == ZP_NS_HAS_VALUE || l->tolen == 0)
            continue;
        if (fd < 0) {
            zp_ns_live_set(l, ZP_NS_ERROR, 0, "this host has no IPv6 socket");
            continue;
        }
        id = new_id(q);
        if (zp_dnsq_wire(a->fqdn, LDNS_RR_TYPE_TXT, 0, id, &wire, &len) == -1) {
            zp_ns_live_set(l, ZP_NS_ERROR, 0, "cannot build the query");
            continue;
        }
        if (sendto(fd, wire, len, 0, &l->to.sa, l->tolen) < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
                zp_ns_live_set(l, ZP_NS_ERROR, 0, strerror(errno));
            free(wire);
            continue; /* a full send buffer: the next round asks again */
        }
        free(wire);
        x = zp_xcalloc(1, sizeof(*x));
        x->ask = a;
        x->ns = i;
        x->id = id;
        x->deadline = deadline;
        x->cut = cut;
        x->next = q->bucket[id % QBUCKETS];
        q->bucket[id % QBUCKETS] = x;
        q->n_inflight++;
        a->inflight++;
        a->queries++;
    }
}

/* --- receiving --------------------------------------------------------------------------- */

/* What the TXT answer from one nameserver says. */
static void on_answer(struct query *x, ldns_pkt *p)
{
    struct zp_wask *a = x->ask;
    struct zp_ns_live *l = &a->ns[x->ns];

    if (ldns_pkt_tc(p)) {
        /* Truncated: that one question again over TCP; a short blocking exchange. */
        uint64_t left = zp_ms_left(x->deadline);
        struct zp_ns_target t;
        ldns_pkt *tp = NULL;
        char why[96];

        memset(&t, 0, sizeof(t));
        zp_ns_target_set(&t, &l->to.sa, l->tolen);
        if (left < 100)
            left = 100;
        if (zp_dnsq_ask(&t, a->fqdn, LDNS_RR_TYPE_TXT, ZP_DNSQ_TCP, zp_now_ms() + left,
                        (unsigned)left, &tp, why, sizeof(why)) == -1) {
            char d[128];
            snprintf(d, sizeof(d), "truncated over UDP, then %s", why);
            zp_ns_live_set(l, ZP_NS_ERROR, 0, d);
            return;
        }
        zp_ns_classify(tp, a->fqdn, a->value, l);
        ldns_pkt_free(tp);
        return;
    }
    zp_ns_classify(p, a->fqdn, a->value, l);
}

static void recv_all(struct zp_wq *q, int fd)
{
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        struct query *x;
        ldns_pkt *p = NULL;
        ssize_t n;

        n = recvfrom(fd, q->rx, sizeof(q->rx), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
                errno == ENETUNREACH)
                continue; /* a pending ICMP error: the error queue names the query */
            return;
        }
        if (n < 12)
            continue;
        x = query_find(q, (uint16_t)(q->rx[0] << 8 | q->rx[1]), (struct sockaddr *)&from);
        if (x == NULL)
            continue; /* late (timed out) or not ours */
        if (zp_tsig_wire2pkt(&p, q->rx, (size_t)n) != LDNS_STATUS_OK)
            continue;
        if (zp_dnsq_matches(p, x->id, x->ask->fqdn, LDNS_RR_TYPE_TXT)) {
            on_answer(x, p);
            query_done(q, x);
        }
        ldns_pkt_free(p);
    }
}

/* ICMP errors for unconnected sockets (IP_RECVERR): "connection refused" beats a timeout. */
static void recv_errors(struct zp_wq *q, int fd)
{
#ifdef __linux__
    for (;;) {
        union {
            char buf[512];
            struct cmsghdr align;
        } ctrl;
        struct sockaddr_storage to;
        struct iovec iov = {q->rx, sizeof(q->rx)};
        struct msghdr msg = {.msg_name = &to,
                             .msg_namelen = sizeof(to),
                             .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = ctrl.buf,
                             .msg_controllen = sizeof(ctrl.buf)};
        struct sock_extended_err *ee = NULL;
        struct cmsghdr *cm;
        struct query *x;
        ssize_t n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
        const char *d;

        if (n < 0)
            return;
        for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
            if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
                (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR))
                ee = (struct sock_extended_err *)CMSG_DATA(cm);
        if (ee == NULL || n < 2)
            continue;
        x = query_find(q, (uint16_t)(q->rx[0] << 8 | q->rx[1]), (struct sockaddr *)&to);
        if (x == NULL)
            continue;
        d = ee->ee_errno == ECONNREFUSED   ? "connection refused: nothing listens on that port "
                                             "(server down? wrong port?)"
            : ee->ee_errno == EHOSTUNREACH ? "host unreachable"
            : ee->ee_errno == ENETUNREACH  ? "network unreachable"
                                           : strerror((int)ee->ee_errno);
        zp_ns_live_set(&x->ask->ns[x->ns], ZP_NS_ERROR, 0, d);
        query_done(q, x);
    }
#else
    (void)q;
    (void)fd;
#endif
}

size_t zp_wq_pollfds(const struct zp_wq *q, struct pollfd *pfd)
{
    size_t n = 0;

    pfd[n++] = (struct pollfd){q->fd4, POLLIN, 0};
    if (q->fd6 >= 0)
        pfd[n++] = (struct pollfd){q->fd6, POLLIN, 0};
    return n;
}

void zp_wq_ready(struct zp_wq *q, const struct pollfd *pfd, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (pfd[i].revents & POLLERR)
            recv_errors(q, pfd[i].fd);
        if (pfd[i].revents & (POLLIN | POLLERR))
            recv_all(q, pfd[i].fd); /* also consumes a pending socket error */
    }
}

/* --- timeouts ---------------------------------------------------------------------------- */

size_t zp_wq_expire(struct zp_wq *q, uint64_t now, struct zp_wask *only)
{
    struct query *list = NULL, *x, **pp;
    size_t b, n = 0;

    /* Detach first: ending a round may send the next one into the buckets. */
    for (b = 0; b < QBUCKETS; b++)
        for (pp = &q->bucket[b]; (x = *pp) != NULL;) {
            if (only != NULL ? x->ask == only : x->deadline <= now) {
                *pp = x->next;
                q->n_inflight--;
                x->cut |= only != NULL;
                x->next = list;
                list = x;
                n++;
            } else {
                pp = &x->next;
            }
        }
    while ((x = list) != NULL) {
        struct zp_ns_live *l = &x->ask->ns[x->ns];

        list = x->next;
        /*
         * A query cut short keeps what the server said last time. No detail:
         * whether the deadline or the query's own second ran out first is a
         * matter of timing, and the report's sentence must not change with it.
         */
        if (!x->cut || l->state == ZP_NS_PENDING)
            zp_ns_live_set(l, ZP_NS_TIMEOUT, 0, NULL);
        query_finish(q, x);
    }
    return n;
}

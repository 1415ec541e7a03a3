/*
 * rfc2136_net.c — the exchange of one DNS message with a nameserver: a
 * socket per address, the reply that answers the query, a deadline.
 *
 * rfc2136.c does not use ldns_resolver_send_pkt, which throws away a reply
 * whose signature does not verify (the one whose TSIG error says what to
 * fix). Owning the socket also gives a connected UDP socket (a refused port
 * fails at once instead of after the timeout), reply-ID matching and a
 * deadline in milliseconds. What went wrong comes back as a kind and an
 * errno; the sentence is the caller's.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/httpc.h"
#include "base/metrics.h"
#include "providers/rfc2136_int.h"

#define RFC_HDR 12

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error (errno). */
static int rfc_wait(int fd, short events, uint64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;

    for (;;) {
        uint64_t left = zp_ms_left(deadline);
        if (left == 0)
            return 0;
        n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            return -1;
        if (n == 1)
            return 1;
    }
}

/* Maps a failed socket call to the kind of network failure. */
static enum zp_rfc_net rfc_errno_net(int e, int *eno)
{
    *eno = e;
    return e == ECONNREFUSED ? ZP_RFC_NET_REFUSED : ZP_RFC_NET_ERROR;
}

/*
 * Moves bytes on a non-blocking socket before deadline: exactly *n of them
 * when all is set (a stream), else one datagram of at most *n. A stream
 * still connecting answers EAGAIN, so connect needs no wait of its own.
 */
static enum zp_rfc_net rfc_io(int fd, uint8_t *p, size_t *n, int out, int all, uint64_t deadline,
                              int *eno)
{
    size_t done = 0;

    while (done < *n) {
        ssize_t k =
            out ? send(fd, p + done, *n - done, MSG_NOSIGNAL) : recv(fd, p + done, *n - done, 0);
        if (k >= 0 && !all) {
            *n = (size_t)k;
            return ZP_RFC_NET_OK;
        }
        if (k == 0 && !out)
            return rfc_errno_net(ECONNRESET, eno);
        if (k >= 0) {
            done += (size_t)k;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            return rfc_errno_net(errno, eno);
        int w = rfc_wait(fd, out ? POLLOUT : POLLIN, deadline);
        if (w <= 0)
            return w == 0 ? ZP_RFC_NET_TIMEOUT : rfc_errno_net(errno, eno);
    }
    return ZP_RFC_NET_OK;
}

/* Whether the n bytes at m answer the query q. */
static int rfc_is_reply(const uint8_t *m, size_t n, const uint8_t *q)
{
    return n >= RFC_HDR && m[0] == q[0] && m[1] == q[1] && (m[2] & 0x80);
}

/* A new non-blocking socket of type to ai, connecting. -1 with the kind in *net. */
static int rfc_connect(const struct addrinfo *ai, int type, enum zp_rfc_net *net, int *eno)
{
    int fd = socket(ai->ai_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd == -1 || (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS)) {
        *net = rfc_errno_net(errno, eno);
        if (fd != -1)
            close(fd);
        return -1;
    }
    return fd;
}

enum zp_rfc_net zp_rfc_stream(const struct addrinfo *ai, unsigned lenbytes, const uint8_t *q,
                              size_t qlen, size_t max, uint64_t deadline, struct zp_buf *reply,
                              int *eno)
{
    enum zp_rfc_net rc;
    size_t n = lenbytes + qlen, len = 0;
    /* Length and message in one send: two small writes would meet Nagle and a delayed ACK. */
    uint8_t *buf = zp_xmalloc(n);
    int fd = rfc_connect(ai, SOCK_STREAM, &rc, eno);

    if (fd == -1)
        goto out;
    for (unsigned i = 0; i < lenbytes; i++)
        buf[i] = (uint8_t)(qlen >> (8 * (lenbytes - 1 - i)));
    memcpy(buf + lenbytes, q, qlen);
    if ((rc = rfc_io(fd, buf, &n, 1, 1, deadline, eno)) != ZP_RFC_NET_OK ||
        (n = lenbytes, rc = rfc_io(fd, buf, &n, 0, 1, deadline, eno)) != ZP_RFC_NET_OK)
        goto out;
    for (unsigned i = 0; i < lenbytes; i++)
        len = len << 8 | buf[i];
    /* A length past max (for Kerberos: its reserved top bit set) is not an answer we take. */
    if (len > max) {
        rc = rfc_errno_net(EMSGSIZE, eno);
        goto out;
    }
    free(buf);
    buf = zp_xmalloc(len + 1);
    n = len;
    if ((rc = rfc_io(fd, buf, &n, 0, 1, deadline, eno)) != ZP_RFC_NET_OK)
        goto out;
    zp_buf_reset(reply);
    if (zp_buf_append(reply, buf, len) == -1)
        rc = rfc_errno_net(EMSGSIZE, eno);
out:
    if (fd != -1)
        close(fd);
    free(buf);
    return rc;
}

/*
 * One query over UDP or TCP. UDP sockets are connected, so the kernel drops
 * datagrams from elsewhere and reports a refused port at once.
 */
static enum zp_rfc_net rfc_query(const struct addrinfo *ai, int tcp, const uint8_t *q, size_t qlen,
                                 uint64_t deadline, struct zp_buf *reply, int *eno)
{
    enum zp_rfc_net rc;
    uint8_t *buf;
    size_t n = qlen;
    int fd;

    if (tcp) {
        rc = zp_rfc_stream(ai, 2, q, qlen, ZP_RFC_MSG_MAX, deadline, reply, eno);
        /* Over TCP, an answer to another query means a broken server. */
        if (rc == ZP_RFC_NET_OK && !rfc_is_reply((const uint8_t *)reply->data, reply->len, q))
            rc = rfc_errno_net(EPROTO, eno);
        return rc;
    }
    if ((fd = rfc_connect(ai, SOCK_DGRAM, &rc, eno)) == -1)
        return rc;
    buf = zp_xmalloc(ZP_RFC_MSG_MAX);
    if ((rc = rfc_io(fd, (uint8_t *)q, &n, 1, 1, deadline, eno)) != ZP_RFC_NET_OK)
        goto out;
    do { /* a stray datagram is skipped */
        n = ZP_RFC_MSG_MAX;
        if ((rc = rfc_io(fd, buf, &n, 0, 0, deadline, eno)) != ZP_RFC_NET_OK)
            goto out;
    } while (!rfc_is_reply(buf, n, q));
    zp_buf_reset(reply);
    if (zp_buf_append(reply, buf, n) == -1)
        rc = rfc_errno_net(EMSGSIZE, eno);
out:
    close(fd);
    free(buf);
    return rc;
}

/* One exchange in the provider metrics: method UPDATE or QUERY, code the reply's RCODE. */
static void count_exchange(const uint8_t *q, enum zp_rfc_net net, const struct zp_buf *reply,
                           uint64_t took_ms)
{
    static const char *const rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                         "NXRRSET", "NOTAUTH", "NOTZONE"};
    const char *prov = zp_metrics_scope();
    const char *method = ((q[2] >> 3) & 0xf) == 5 ? "UPDATE" : "QUERY";
    unsigned rc = net == ZP_RFC_NET_OK && reply->len >= RFC_HDR ? reply->data[3] & 0xfu : 99;

    if (prov == NULL)
        return;
    zp_metric_inc(&zp_m_provider_requests, prov, method,
                  rc < sizeof(rcodes) / sizeof(rcodes[0]) ? rcodes[rc]
                  : rc == 99                              ? "none"
                                                          : "other");
    zp_metric_observe(&zp_m_provider_latency, (double)took_ms / 1000.0, prov, method);
}

enum zp_rfc_net zp_rfc_send(const struct addrinfo *res, int tcp, uint64_t timeout_ms,
                            uint64_t deadline_ms, const uint8_t *q, size_t qlen,
                            struct zp_buf *reply, int *eno)
{
    enum zp_rfc_net net = ZP_RFC_NET_ERROR;
    uint64_t t0 = zp_now_ms();

    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        uint64_t left = zp_ms_left(deadline_ms);
        uint64_t deadline = zp_now_ms() + (left < timeout_ms ? left : timeout_ms);

        if (left == 0)
            break;
        net = rfc_query(ai, tcp, q, qlen, deadline, reply, eno);
        /* A truncated reply: ask again over TCP. */
        if (net == ZP_RFC_NET_OK && !tcp && (reply->data[2] & 0x02))
            net = rfc_query(ai, 1, q, qlen, deadline, reply, eno);
        if (net == ZP_RFC_NET_OK)
            break;
    }
    if (qlen >= RFC_HDR)
        count_exchange(q, net, reply, zp_now_ms() - t0);
    return net;
}

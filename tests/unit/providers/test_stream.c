/*
 * test_stream.c — zp_rfc_stream (providers/rfc2136_net.c), the one
 * length-framed TCP exchange of the rfc2136 provider: DNS's 2-octet and
 * Kerberos' 4-octet lengths (the KDC requests of GSS-TSIG go through it).
 * A peer thread on loopback reads the framed request and answers as the
 * test says: a framed reply sent whole or a byte at a time, a length past
 * the cap, Kerberos' reserved top bit, or a close before any reply. The
 * request must arrive framed and whole; a broken answer must never come
 * back as a reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "providers/rfc2136_int.h"

#define REQ "a request of some bytes"
#define REPLY "the reply"

enum how { WHOLE, BYTEWISE, PAST_CAP, TOP_BIT, CLOSE };

struct peer {
    int fd; /* listening */
    unsigned short port;
    unsigned lenbytes;
    enum how how;
    pthread_t thread;
    /* what arrived (written by the thread before it ends; read after the join) */
    uint8_t got[256];
    size_t got_len;
    int framed; /* its length prefix matched what followed */
};

static int read_n(int fd, uint8_t *p, size_t n)
{
    for (size_t done = 0; done < n;) {
        ssize_t k = recv(fd, p + done, n - done, 0);
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

static void put_len(uint8_t *p, unsigned lenbytes, uint32_t len)
{
    for (unsigned i = 0; i < lenbytes; i++)
        p[i] = (uint8_t)(len >> (8 * (lenbytes - 1 - i)));
}

static void answer(struct peer *pr, int c)
{
    uint8_t out[4 + sizeof(REPLY)];
    size_t n = pr->lenbytes + strlen(REPLY);

    put_len(out, pr->lenbytes, (uint32_t)strlen(REPLY));
    if (pr->how == PAST_CAP)
        put_len(out, pr->lenbytes, pr->lenbytes == 2 ? 0xffffu : 0x00100000u);
    if (pr->how == TOP_BIT)
        put_len(out, 4, 0x80000000u | (uint32_t)strlen(REPLY));
    memcpy(out + pr->lenbytes, REPLY, strlen(REPLY));
    if (pr->how == CLOSE)
        return;
    /* Not asserted here (cmocka's checks belong to the test's thread): the reader's view is. */
    if (pr->how != BYTEWISE) {
        (void)!send(c, out, n, MSG_NOSIGNAL);
        return;
    }
    /* Each byte its own segment: the reader must reassemble the length and the body. */
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    for (size_t i = 0; i < n; i++)
        (void)!send(c, out + i, 1, MSG_NOSIGNAL);
}

static void *peer_main(void *arg)
{
    struct peer *pr = arg;
    uint8_t hdr[4];
    size_t len = 0;
    int c = accept(pr->fd, NULL, NULL);

    if (c == -1)
        return NULL;
    if (read_n(c, hdr, pr->lenbytes) == 0) {
        for (unsigned i = 0; i < pr->lenbytes; i++)
            len = len << 8 | hdr[i];
        pr->framed = len <= sizeof(pr->got) && read_n(c, pr->got, len) == 0;
        pr->got_len = pr->framed ? len : 0;
        answer(pr, c);
    }
    close(c);
    return NULL;
}

static void peer_start(struct peer *pr, unsigned lenbytes, enum how how)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);

    memset(pr, 0, sizeof(*pr));
    pr->lenbytes = lenbytes;
    pr->how = how;
    pr->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(pr->fd >= 0);
    assert_int_equal(bind(pr->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(pr->fd, 1), 0);
    assert_int_equal(getsockname(pr->fd, (struct sockaddr *)&a, &alen), 0);
    pr->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&pr->thread, NULL, peer_main, pr), 0);
}

/* One exchange with the peer; the reply (if any) in reply, errno in *eno. */
static enum zp_rfc_net exchange(struct peer *pr, size_t max, struct zp_buf *reply, int *eno)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[8];
    enum zp_rfc_net net;

    snprintf(port, sizeof(port), "%u", pr->port);
    assert_int_equal(getaddrinfo("127.0.0.1", port, &hints, &ai), 0);
    net = zp_rfc_stream(ai, pr->lenbytes, (const uint8_t *)REQ, strlen(REQ), max,
                        zp_now_ms() + 10000, reply, eno);
    freeaddrinfo(ai);
    pthread_join(pr->thread, NULL);
    close(pr->fd);
    return net;
}

static void framed_both_ways(void **state)
{
    static const enum how hows[] = {WHOLE, BYTEWISE};

    (void)state;
    for (unsigned lenbytes = 2; lenbytes <= 4; lenbytes += 2)
        for (size_t h = 0; h < 2; h++) {
            struct peer pr;
            struct zp_buf reply;
            int eno = 0;

            zp_buf_init(&reply, 65536);
            peer_start(&pr, lenbytes, hows[h]);
            assert_int_equal(exchange(&pr, 65535, &reply, &eno), ZP_RFC_NET_OK);
            /* The request arrived behind its own length, whole. */
            assert_true(pr.framed);
            assert_int_equal(pr.got_len, strlen(REQ));
            assert_memory_equal(pr.got, REQ, strlen(REQ));
            assert_int_equal(reply.len, strlen(REPLY));
            assert_memory_equal(reply.data, REPLY, strlen(REPLY));
            zp_buf_free(&reply);
        }
}

/* A length past the cap (or with Kerberos' reserved bit) is no reply, whatever follows. */
static void oversized_lengths_refused(void **state)
{
    static const struct {
        unsigned lenbytes;
        enum how how;
        size_t max;
    } cases[] = {{2, PAST_CAP, 512}, {4, PAST_CAP, 65536}, {4, TOP_BIT, 1u << 20}};

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct peer pr;
        struct zp_buf reply;
        int eno = 0;

        zp_buf_init(&reply, 1u << 21);
        peer_start(&pr, cases[i].lenbytes, cases[i].how);
        assert_int_equal(exchange(&pr, cases[i].max, &reply, &eno), ZP_RFC_NET_ERROR);
        assert_int_equal(eno, EMSGSIZE);
        assert_int_equal(reply.len, 0);
        zp_buf_free(&reply);
    }
}

static void closed_before_reply(void **state)
{
    struct peer pr;
    struct zp_buf reply;
    int eno = 0;

    (void)state;
    zp_buf_init(&reply, 65536);
    peer_start(&pr, 4, CLOSE);
    assert_int_equal(exchange(&pr, 65535, &reply, &eno), ZP_RFC_NET_ERROR);
    assert_int_equal(eno, ECONNRESET);
    assert_int_equal(reply.len, 0);
    zp_buf_free(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(framed_both_ways),
        cmocka_unit_test(oversized_lengths_refused),
        cmocka_unit_test(closed_before_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * listen.c — binding a listening TCP socket (listen.h). Called at start,
 * by whichever thread starts a listener.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "k8s/listen.h"

static int open_listener(const struct addrinfo *ai, int dual_stack, int backlog, int nodelay)
{
    int fd, one = 1, zero = 0;

    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd == -1)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1) ||
        (dual_stack && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == -1) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, backlog) == -1) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int zp_listen_tcp(const char *host, const char *port, int backlog, int nodelay, int *eno)
{
    int every = host == NULL || *host == '\0';
    const char *tries[2] = {every ? "::" : host, "0.0.0.0"};
    struct addrinfo hints, *res = NULL;
    int fd = -1;

    *eno = EADDRNOTAVAIL;
    for (size_t i = 0; i < (every ? 2u : 1u) && fd == -1; i++) {
        memset(&hints, 0, sizeof(hints));
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(tries[i], port, &hints, &res) != 0) {
            if (!every)
                return ZP_LISTEN_NOT_NUMERIC;
            continue;
        }
        fd = open_listener(res, every && res->ai_family == AF_INET6, backlog, nodelay);
        *eno = errno;
        freeaddrinfo(res);
        if (fd == -1 && (*eno == EADDRINUSE || *eno == EACCES))
            break; /* IPv4 alone would fail the same way */
    }
    return fd == -1 ? ZP_LISTEN_FAILED : fd;
}

/*
 * listen.h — the listening TCP sockets of zoneproof's two listeners (the
 * API server's HTTPS port and the observability listener): one way to
 * bind, so both treat "every address" and numeric hosts alike.
 */
#ifndef ZP_K8S_LISTEN_H
#define ZP_K8S_LISTEN_H

enum { ZP_LISTEN_FAILED = -1, ZP_LISTEN_NOT_NUMERIC = -2 };

/*
 * A non-blocking, close-on-exec socket listening on host and port (both
 * numeric: nothing is looked up), with SO_REUSEADDR, and TCP_NODELAY when
 * nodelay (accepted sockets inherit it). host NULL or "": every address,
 * [::] with IPv6-only off (which takes IPv4 too), or 0.0.0.0 on a host
 * without IPv6. Returns the descriptor; ZP_LISTEN_NOT_NUMERIC when host
 * is not an IP address; ZP_LISTEN_FAILED with *eno set otherwise.
 */
int zp_listen_tcp(const char *host, const char *port, int backlog, int nodelay, int *eno);

#endif

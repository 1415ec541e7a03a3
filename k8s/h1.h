/*
 * h1.h — an HTTP/1.1 request that evhttp has read, as an exchange
 * (xchg.h), so that api.c answers both protocols one way. Event-loop
 * thread only.
 */
#ifndef ZP_K8S_H1_H
#define ZP_K8S_H1_H

struct evhttp_request;
struct zp_xchg;

/* Wraps req and calls handle(x, arg), which answers or watches before it returns. */
void zp_h1_handle(struct evhttp_request *req, void (*handle)(struct zp_xchg *x, void *arg),
                  void *arg);

#endif

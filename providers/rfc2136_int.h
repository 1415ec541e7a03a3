/*
 * rfc2136_int.h — what rfc2136.c uses of rfc2136_net.c: one DNS message
 * sent to a nameserver's addresses and the reply that answers it, or why
 * none came.
 */
#ifndef ZP_PROVIDERS_RFC2136_INT_H
#define ZP_PROVIDERS_RFC2136_INT_H

#include <stddef.h>
#include <stdint.h>

struct addrinfo;
struct ldns_struct_pkt;
struct zp_buf;

#define ZP_RFC_MSG_MAX 65535 /* the largest DNS message */

/* Why an exchange produced no reply. */
enum zp_rfc_net { ZP_RFC_NET_OK, ZP_RFC_NET_REFUSED, ZP_RFC_NET_TIMEOUT, ZP_RFC_NET_ERROR };

/*
 * Sends the message q (qlen bytes) to each address in res in turn until
 * one answers, over TCP when tcp is set, else over UDP and again over TCP
 * when the reply is truncated. Each address gets timeout_ms, all of them
 * together end at deadline_ms (zp_now_ms clock). ZP_RFC_NET_OK with the
 * reply in reply; otherwise why the last address gave none, and for
 * ZP_RFC_NET_REFUSED and ZP_RFC_NET_ERROR its errno in *eno. No address
 * tried (the deadline already passed): ZP_RFC_NET_ERROR, *eno untouched.
 */
enum zp_rfc_net zp_rfc_send(const struct addrinfo *res, int tcp, uint64_t timeout_ms,
                            uint64_t deadline_ms, const uint8_t *q, size_t qlen,
                            struct zp_buf *reply, int *eno);

/* The TSIG error a reply carries (its TSIG RR's error field), 0 if none or unsigned. */
int zp_rfc_tsig_error(const struct ldns_struct_pkt *reply);

#endif

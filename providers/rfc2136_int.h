/*
 * rfc2136_int.h — what the files of the rfc2136 provider share: its
 * configuration and the update in flight (rfc2136.c), the exchange of one
 * DNS message with a nameserver's addresses (rfc2136_net.c) and the
 * sentences for a server's refusals (rfc2136_explain.c).
 */
#ifndef ZP_PROVIDERS_RFC2136_INT_H
#define ZP_PROVIDERS_RFC2136_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/dname.h"
#include "providers/common.h"

struct addrinfo;
struct ldns_struct_pkt;
struct zp_buf;
struct zp_err;
struct zp_gss_cache;
struct zp_krb;
struct zp_prov_call;
struct zp_record;
struct zp_tsig_alg;

struct rfc_cfg {
    char *nameserver; /* as written, for messages */
    char host[ZP_DNAME_MAX];
    unsigned port;
    int numeric;    /* host is an address literal: never resolved */
    char *key;      /* tsigKeyName as written; NULL for unsigned updates */
    char *key_wire; /* the same, absolute */
    char *alg_name; /* tsigAlgorithm as written */
    const struct zp_tsig_alg *alg;
    struct zp_cred secret; /* tsigSecretFile or tsigSecretSecretRef */
    char *protocol;        /* as written: udp or tcp */
    int tcp;
    uint64_t timeout_ms;
    char *zone; /* zone override, canonical; NULL: the record's zone */
    /* GSS-TSIG (tsigAlgorithm gss-tsig): the Kerberos identity and the cached contexts. */
    struct zp_krb *krb;
    struct zp_gss_cache *gss;
};

/* One update in flight: everything the explanations need. */
struct rfc_op {
    const struct rfc_cfg *cfg;
    const struct zp_record *rec;
    const struct zp_prov_call *call;
    const char *zone;
    int del;
    int probe; /* doctor: a delete guarded by a prerequisite that fails by design */
    int tcp;   /* this exchange over TCP (a TKEY), whatever protocol says */
};

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

/*
 * One request and its reply on a new TCP connection to ai, each behind a
 * big-endian length of lenbytes (2: DNS, RFC 1035 4.2.2; 4: Kerberos,
 * RFC 4120 7.2.2), before deadline. A reply longer than max fails with
 * EMSGSIZE in *eno; what went wrong otherwise as for zp_rfc_send.
 */
enum zp_rfc_net zp_rfc_stream(const struct addrinfo *ai, unsigned lenbytes, const uint8_t *q,
                              size_t qlen, size_t max, uint64_t deadline, struct zp_buf *reply,
                              int *eno);

/* The TSIG error a reply carries (its TSIG RR's error field), 0 if none or unsigned. */
int zp_rfc_tsig_error(const struct ldns_struct_pkt *reply);

/* "NOERROR", "REFUSED", "BADKEY", ...: the name of a reply code or TSIG error, for logs. */
const char *zp_rfc_rcode_name(int rcode);

/*
 * The sentence for a reply that is not NOERROR, or a TSIG error; verified:
 * the reply is signed with the key (or the GSS-TSIG context). Returns -1.
 */
int zp_rfc_explain(const struct rfc_op *op, int rcode, int tsig_error, int verified,
                   struct zp_err *err);

#endif

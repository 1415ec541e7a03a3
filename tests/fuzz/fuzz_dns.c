/*
 * fuzz_dns.c — DNS replies as the solver and the rfc2136 provider read
 * them: the watcher's view of one server's answer to the TXT query
 * (rcode, CNAME, values), the id/question match and the EDE text, NS
 * discovery's NS names and glue out of an answer or referral, and an
 * UPDATE reply's TSIG error and signature check (providers/tsig.c, which
 * reads the message itself: it runs on every input, before ldns parses
 * it). Checks that the watcher's state is one it reports, that discovery
 * keeps at most ZP_WATCH_MAX_NS names, each canonical, and that a reply
 * ldns finds no TSIG RR in never verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "base/err.h"
#include "providers/rfc2136_int.h"
#include "providers/tsig.h"
#include "solver/dnsq.h"
#include "solver/nsdiscover_int.h"
#include "solver/watch_int.h"
#include "solver/zone.h"

#define FQDN "_acme-challenge.www.example.test."
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define ZONE "example.test."

#define SECRET "ZnV6ei10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5"
#define NOW 1700000000u /* the check's clock */

static struct zp_tsig_key key = {
    .name = "zp-key.", .secret = SECRET, .secret_len = sizeof(SECRET) - 1};
static struct zp_tsig_mac orig_mac; /* the MAC of the signed query the reply answers */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    key.alg = zp_tsig_alg_find("hmac-sha256");
    if (key.alg == NULL)
        abort();
    for (size_t i = 0; i < 32; i++)
        orig_mac.mac[i] = (uint8_t)(i + 1);
    orig_mac.len = 32;
    return 0;
}

/* The reply's signature as the rfc2136 provider checks it; it cannot fail to check. */
static enum zp_tsig_check fuzz_tsig(const uint8_t *data, size_t size)
{
    enum zp_tsig_check check = ZP_TSIG_OK;
    struct zp_err err = {0};

    if (zp_tsig_verify(&key, &orig_mac, NOW, data, size, &check, &err) == -1 ||
        (unsigned)check > ZP_TSIG_BADTIME)
        abort();
    return check;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_ns_target t;
    struct zp_ns_live l;
    struct zp_deleg *d;
    ldns_pkt *p = NULL;
    char ede[256];
    enum zp_tsig_check check = fuzz_tsig(data, size);
    int tsig_error, signed_reply;

    if (zp_tsig_wire2pkt(&p, data, size) != LDNS_STATUS_OK) /* as every reader does */
        return 0;
    /* The watcher. */
    (void)zp_dnsq_matches(p, 4660, FQDN, LDNS_RR_TYPE_TXT);
    (void)zp_dnsq_txt_has(p, VALUE);
    zp_dnsq_ede(p, ede, sizeof(ede));
    memset(&t, 0, sizeof(t));
    memcpy(t.name, "ns1.example.test.", sizeof("ns1.example.test."));
    zp_ns_live_init(&l, &t);
    zp_ns_classify(p, FQDN, VALUE, &l);
    if ((unsigned)l.state > ZP_NS_ERROR || l.n_other > ZP_WATCH_MAX_OTHER)
        abort();
    for (unsigned i = 0; i < l.n_other; i++)
        if (l.other[i] == NULL)
            abort();
    zp_ns_live_free(&l);
    /* NS discovery: the zone's own set, then a referral with glue. */
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        abort();
    d->ttl = UINT32_MAX;
    zp_ns_collect(ldns_pkt_answer(p), ZONE, ZP_DELEG_CHILD, d);
    zp_ns_collect(ldns_pkt_authority(p), ZONE, ZP_DELEG_PARENT, d);
    zp_ns_glue(ldns_pkt_additional(p), d);
    if (d->n > ZP_WATCH_MAX_NS)
        abort();
    for (size_t i = 0; i < d->n; i++)
        if (d->t[i].name[0] == '\0' || d->where[i] == 0)
            abort();
    free(d);
    /* An UPDATE reply: the TSIG error and the signature. */
    tsig_error = zp_rfc_tsig_error(p);
    signed_reply = ldns_pkt_tsig(p) != NULL;
    if (!signed_reply &&
        (tsig_error != 0 || (check != ZP_TSIG_UNSIGNED && check != ZP_TSIG_FORMERR)))
        abort();
    ldns_pkt_free(p);
    return 0;
}

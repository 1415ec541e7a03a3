/*
 * fuzz_dns.c — DNS replies as the solver and the rfc2136 provider read
 * them: the watcher's view of one server's answer to the TXT query
 * (rcode, CNAME, values), the id/question match and the EDE text, NS
 * discovery's NS names and glue out of an answer or referral, and an
 * UPDATE reply's TSIG error and signature check. Checks that the watcher's
 * state is one it reports, that discovery keeps at most ZP_WATCH_MAX_NS
 * names, each canonical, and that an unsigned reply never verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "providers/rfc2136_int.h"
#include "solver/dnsq.h"
#include "solver/nsdiscover_int.h"
#include "solver/watch_int.h"
#include "solver/zone.h"

#define FQDN "_acme-challenge.www.example.test."
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define ZONE "example.test."

static ldns_rdf *orig_mac; /* the MAC of the signed query the reply answers */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t mac[] = {0,  32, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                  11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                  23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    (void)argc;
    (void)argv;
    orig_mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, sizeof(mac), mac);
    if (orig_mac == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zp_ns_target t;
    struct zp_ns_live l;
    struct zp_deleg *d;
    ldns_pkt *p = NULL;
    char ede[256];
    ldns_rr *tsig;
    int tsig_error, verified, signed_reply;

    if (ldns_wire2pkt(&p, data, size) != LDNS_STATUS_OK)
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
    tsig = ldns_pkt_tsig(p);
    signed_reply = tsig != NULL;
    verified =
        signed_reply && ldns_pkt_tsig_verify(p, data, size, "zp-key.",
                                             "ZnV6ei10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5", orig_mac);
    if (tsig != NULL && ldns_pkt_tsig(p) == NULL) /* as rfc2136.c: ldns may leave it unhooked */
        ldns_pkt_set_tsig(p, tsig);
    if (!signed_reply && (tsig_error != 0 || verified))
        abort();
    ldns_pkt_free(p);
    return 0;
}

/*
 * test_dnssec_denial.c — proofs of non-existence (dnssecdenial.c): NSEC
 * and NSEC3 records built and signed in memory prove, or fail to prove,
 * that a name has no record of a type, with the exact sentence a user
 * reads. Verification runs at a fixed time, never the wall clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "solver/dnssec.h"

#include "dnssec_fixture.h"

/* --- proofs that a delegation has no DS --------------------------------------------------- */

static ldns_rr_list *signed_auth(ldns_rr *nsec, ldns_key *k)
{
    ldns_rr_list *auth = list1(nsec), *sigs = sign_now(auth, k);

    ldns_rr_list_cat(auth, sigs);
    ldns_rr_list_free(sigs);
    return auth;
}

static void nsec_denial(void **state)
{
    struct zp_dnssec_result res;
    struct zone p;
    ldns_rr_list *keys, *auth;

    zone_new(&p, "test.");
    keys = dnskey_set(&p);
    auth = signed_auth(rr("unsigned.test. 3600 IN NSEC zzz.test. NS RRSIG NSEC"), p.zsk);
    assert_int_equal(zp_dnssec_verify_denial("unsigned.test.", LDNS_RR_TYPE_DS, 0, auth, keys,
                                             "test.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    assert_string_equal(res.why, "test. proves that unsigned.test. has no DS record (NSEC)");
    ldns_rr_list_deep_free(auth);

    /* the bitmap says a DS exists: no proof */
    auth = signed_auth(rr("unsigned.test. 3600 IN NSEC zzz.test. NS DS RRSIG NSEC"), p.zsk);
    assert_int_equal(zp_dnssec_verify_denial("unsigned.test.", LDNS_RR_TYPE_DS, 0, auth, keys,
                                             "test.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.zone, "test.");
    assert_string_equal(res.why, "the NSEC records from test. do not prove that unsigned.test. "
                                 "has no DS record");
    ldns_rr_list_deep_free(auth);

    /* an unsigned NSEC proves nothing */
    auth = list1(rr("unsigned.test. 3600 IN NSEC zzz.test. NS RRSIG NSEC"));
    assert_int_equal(zp_dnssec_verify_denial("unsigned.test.", LDNS_RR_TYPE_DS, 0, auth, keys,
                                             "test.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.why, "the NSEC record at unsigned.test. (the proof that "
                                 "unsigned.test. has no DS record) has no signature (RRSIG)");
    ldns_rr_list_deep_free(auth);

    auth = ldns_rr_list_new();
    assert_int_equal(zp_dnssec_verify_denial("unsigned.test.", LDNS_RR_TYPE_DS, 0, auth, keys,
                                             "test.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.why, "test. answers that unsigned.test. has no DS record, but without "
                                 "a proof (no NSEC or NSEC3 record)");
    assert_string_equal(res.dig, "dig +dnssec +cd @127.0.0.1 unsigned.test. DS");
    free_lists(keys, auth, NULL);
    zone_free(&p);
}

/* base32hex arithmetic on an NSEC3 hash label: the names just before and after it. */
static void b32_step(char *s, int delta)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuv";

    for (int i = (int)strlen(s) - 1; i >= 0; i--) {
        int v = (int)(strchr(digits, s[i]) - digits) + delta;

        s[i] = digits[(v + 32) % 32];
        if (v >= 0 && v < 32)
            return;
    }
}

static void nsec3_hash(const char *name, char *out, size_t sz)
{
    ldns_rdf *n = ldns_dname_new_frm_str(name);
    ldns_rdf *h = ldns_nsec3_hash_name(n, 1, 0, 0, NULL);
    char *s = ldns_rdf2str(h);

    snprintf(out, sz, "%.*s", (int)strcspn(s, "."), s);
    for (char *p = out; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    free(s);
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(n);
}

static void nsec3_opt_out_denial(void **state)
{
    struct zp_dnssec_result res;
    struct zone p;
    ldns_rr_list *keys, *auth, *more;
    char he[64], he_next[64], hn[64], before[64], after[64], text[256];

    zone_new(&p, "test3.");
    keys = dnskey_set(&p);
    nsec3_hash("test3.", he, sizeof(he));
    nsec3_hash("unsigned.test3.", hn, sizeof(hn));
    snprintf(before, sizeof(before), "%s", hn);
    snprintf(after, sizeof(after), "%s", hn);
    b32_step(before, -1);
    b32_step(after, 1);
    /* the closest encloser (test3.) exists; the next closer is covered by an opt-out span */
    snprintf(he_next, sizeof(he_next), "%s", he);
    b32_step(he_next, 1);
    snprintf(text, sizeof(text),
             "%s.test3. 3600 IN NSEC3 1 0 0 - %s NS SOA RRSIG DNSKEY "
             "NSEC3PARAM",
             he, he_next);
    auth = signed_auth(rr(text), p.zsk);
    snprintf(text, sizeof(text), "%s.test3. 3600 IN NSEC3 1 1 0 - %s NS", before, after);
    more = signed_auth(rr(text), p.zsk);
    ldns_rr_list_cat(auth, more);
    ldns_rr_list_free(more);
    assert_int_equal(zp_dnssec_verify_denial("unsigned.test3.", LDNS_RR_TYPE_DS, 0, auth, keys,
                                             "test3.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    assert_string_equal(res.why,
                        "test3. proves that unsigned.test3. has no DS record (NSEC3, opt-out)");
    free_lists(keys, auth, NULL);
    zone_free(&p);
}

static void nsec3_nodata_denial(void **state)
{
    struct zp_dnssec_result res;
    struct zone p;
    ldns_rr_list *keys, *auth;
    char hx[64], next[64], text[256];

    zone_new(&p, "test3.");
    keys = dnskey_set(&p);
    nsec3_hash("_acme-challenge.test3.", hx, sizeof(hx));
    snprintf(next, sizeof(next), "%s", hx);
    b32_step(next, 1);
    snprintf(text, sizeof(text), "%s.test3. 3600 IN NSEC3 1 0 0 - %s A RRSIG", hx, next);
    auth = signed_auth(rr(text), p.zsk);
    assert_int_equal(zp_dnssec_verify_denial("_acme-challenge.test3.", LDNS_RR_TYPE_TXT, 0, auth,
                                             keys, "test3.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_SECURE);
    assert_string_equal(res.why, "test3. proves that _acme-challenge.test3. has no TXT record "
                                 "(NSEC3)");
    assert_int_equal(zp_dnssec_verify_denial("_acme-challenge.test3.", LDNS_RR_TYPE_A, 0, auth,
                                             keys, "test3.", SERVER, T0, &res),
                     0);
    assert_int_equal(res.state, ZP_DNSSEC_BOGUS);
    assert_string_equal(res.why, "the NSEC3 records from test3. do not prove that "
                                 "_acme-challenge.test3. has no A record");
    free_lists(keys, auth, NULL);
    zone_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nsec_denial),
        cmocka_unit_test(nsec3_opt_out_denial),
        cmocka_unit_test(nsec3_nodata_denial),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_dnsq.c — what the shared DNS transport reads out of an answer: the
 * Extended DNS Error a resolver or server attaches (RFC 8914) as a stable,
 * printable phrase, and whether a TXT answer holds a value (joined strings,
 * any owner of a CNAME chain).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <ldns/ldns.h>

#include "solver/dnsq.h"

static ldns_pkt *answer_with(const char *const *rrs)
{
    ldns_pkt *p = ldns_pkt_new();

    assert_non_null(p);
    for (size_t i = 0; rrs[i] != NULL; i++) {
        ldns_rr *rr = NULL;
        assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL), LDNS_STATUS_OK);
        assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr));
    }
    return p;
}

static void ede_text(void **state)
{
    static const uint8_t bogus[] = {0, 6, 'n', 'o', ' ', 'k', 'e', 'y', 's', '\n'};
    ldns_edns_option_list *l = ldns_edns_option_list_new();
    ldns_pkt *p = ldns_pkt_new();
    char out[96];

    (void)state;
    zp_dnsq_ede(p, out, sizeof(out));
    assert_string_equal(out, "");
    assert_true(ldns_edns_option_list_push(
        l, ldns_edns_new_from_data(LDNS_EDNS_EDE, sizeof(bogus), bogus)));
    ldns_pkt_set_edns_option_list(p, l);
    zp_dnsq_ede(p, out, sizeof(out));
    /* Bytes a sentence must not carry (a newline here) are shown as '?'. */
    assert_string_equal(out, "Extended DNS Error 6: no keys?");
    ldns_pkt_free(p);
}

static void txt_values(void **state)
{
    static const char *const rrs[] = {
        "_acme-challenge.example.test. 60 IN CNAME c.acme.test.",
        "c.acme.test. 60 IN TXT \"abc\" \"def\"",
        "c.acme.test. 60 IN TXT \"other\"",
        NULL,
    };
    ldns_pkt *p = answer_with(rrs);
    char buf[16];

    (void)state;
    assert_true(zp_dnsq_txt_has(p, "abcdef")); /* strings joined, at the CNAME's target */
    assert_true(zp_dnsq_txt_has(p, "other"));
    assert_false(zp_dnsq_txt_has(p, "abc"));
    assert_false(zp_dnsq_txt_has(p, "\"other\""));
    assert_int_equal(zp_dnsq_txt_join(ldns_rr_list_rr(ldns_pkt_answer(p), 1), buf, 4), 3);
    assert_string_equal(buf, "abc"); /* cut to the room given, still terminated */
    ldns_pkt_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ede_text),
        cmocka_unit_test(txt_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

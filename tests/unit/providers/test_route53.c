/*
 * test_route53.c — reading Route 53's XML replies (record sets from a
 * start-from cursor, both error shapes, escaped names and entities) and
 * writing change batches, from route53_xml.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "providers/route53_int.h"

#define NS "https://route53.amazonaws.com/doc/2013-04-01/"
#define FQDN "_acme-challenge.example.com."

static const char list_reply[] =
    "<?xml version=\"1.0\"?>\n<ListResourceRecordSetsResponse xmlns=\"" NS "\">"
    "<ResourceRecordSets><ResourceRecordSet><Name>_ACME-challenge.example.com.</Name>"
    "<Type>TXT</Type><TTL>300</TTL><ResourceRecords>"
    "<ResourceRecord><Value>\"existing &amp; &lt;kept&gt;\"</Value></ResourceRecord>"
    "<ResourceRecord><Value>&quot;abc&#34; \"def\"</Value></ResourceRecord>"
    "</ResourceRecords></ResourceRecordSet></ResourceRecordSets>"
    "<IsTruncated>true</IsTruncated><NextRecordName>b.example.com.</NextRecordName>"
    "<MaxItems>1</MaxItems></ListResourceRecordSetsResponse>";

static void rrset_of_the_name(void **state)
{
    struct zp_r53_rrset set;
    struct zp_buf why;

    zp_buf_init(&why, 256);
    assert_int_equal(zp_r53_rrset_parse(list_reply, strlen(list_reply), FQDN, &set, &why), 0);
    assert_true(set.found);
    assert_int_equal(set.ttl, 300);
    assert_int_equal(set.n, 2);
    assert_string_equal(set.v[0], "\"existing & <kept>\"");
    assert_string_equal(set.v[1], "\"abc\" \"def\"");
    assert_int_equal(zp_r53_rrset_find(&set, "abcdef"), 1);
    assert_int_equal(zp_r53_rrset_find(&set, "abc"), -1);
    zp_r53_rrset_free(&set);
    zp_buf_free(&why);
}

static void cursor_is_not_a_filter(void **state)
{
    /* No TXT at the name: Route 53 returns the next set in DNS order. */
    static const char other_name[] =
        "<ListResourceRecordSetsResponse xmlns=\"" NS "\"><ResourceRecordSets><ResourceRecordSet>"
        "<Name>sub._acme-challenge.example.com.</Name><Type>TXT</Type><TTL>60</TTL>"
        "<ResourceRecords><ResourceRecord><Value>\"v\"</Value></ResourceRecord></ResourceRecords>"
        "</ResourceRecordSet></ResourceRecordSets></ListResourceRecordSetsResponse>";
    static const char other_type[] =
        "<ListResourceRecordSetsResponse xmlns=\"" NS "\"><ResourceRecordSets><ResourceRecordSet>"
        "<Name>_acme-challenge.example.com.</Name><Type>TXTX</Type><TTL>60</TTL>"
        "<ResourceRecords/></ResourceRecordSet></ResourceRecordSets>"
        "</ListResourceRecordSetsResponse>";
    static const char empty[] = "<ListResourceRecordSetsResponse xmlns=\"" NS "\">"
                                "<ResourceRecordSets/><IsTruncated>false</IsTruncated>"
                                "</ListResourceRecordSetsResponse>";
    static const char routed[] =
        "<ListResourceRecordSetsResponse><ResourceRecordSets><ResourceRecordSet>"
        "<Name>_acme-challenge.example.com.</Name><Type>TXT</Type><SetIdentifier>\"k\""
        "</SetIdentifier><MultiValueAnswer>true</MultiValueAnswer><TTL>60</TTL>"
        "</ResourceRecordSet></ResourceRecordSets></ListResourceRecordSetsResponse>";
    struct zp_r53_rrset set;
    struct zp_buf why;

    zp_buf_init(&why, 256);
    assert_int_equal(zp_r53_rrset_parse(other_name, strlen(other_name), FQDN, &set, &why), 0);
    assert_false(set.found);
    assert_int_equal(zp_r53_rrset_parse(other_type, strlen(other_type), FQDN, &set, &why), 0);
    assert_false(set.found);
    assert_int_equal(zp_r53_rrset_parse(empty, strlen(empty), FQDN, &set, &why), 0);
    assert_false(set.found);
    assert_int_equal(zp_r53_rrset_parse(routed, strlen(routed), FQDN, &set, &why), -1);
    assert_non_null(strstr(zp_buf_str(&why), "SetIdentifier \"\"k\"\""));
    zp_r53_rrset_free(&set);
    zp_buf_free(&why);
}

static void names(void **state)
{
    assert_true(zp_r53_name_eq("\\052.example.com.", "*.example.com."));
    assert_true(zp_r53_name_eq("Example.COM.", "example.com."));
    assert_true(zp_r53_name_eq("example.com", "example.com."));
    assert_false(zp_r53_name_eq("example.com.", "example.co."));
    assert_false(zp_r53_name_eq("badexample.com.", "example.com."));
    assert_false(zp_r53_name_eq("a.example.com.", "example.com."));
    assert_false(zp_r53_name_eq("@xample.com.", "`xample.com."));
}

static void errors_of_both_shapes(void **state)
{
    static const char resp[] =
        "<ErrorResponse xmlns=\"" NS "\"><Error><Type>Sender</Type><Code>AccessDenied</Code>"
        "<Message>User: arn:aws:iam::1:user/u is not\nauthorized</Message></Error>"
        "<RequestId>r-1</RequestId></ErrorResponse>";
    static const char icb[] =
        "<InvalidChangeBatch xmlns=\"" NS "\"><Messages><Message>Tried to delete resource record "
        "set [name='x.', type='TXT'] but it was not found</Message></Messages>"
        "<RequestId>r-2</RequestId></InvalidChangeBatch>";
    char code[64], msg[256];

    assert_int_equal(zp_r53_error_parse(resp, strlen(resp), code, sizeof(code), msg, sizeof(msg)),
                     1);
    assert_string_equal(code, "AccessDenied");
    assert_string_equal(msg, "User: arn:aws:iam::1:user/u is not authorized");
    assert_int_equal(zp_r53_error_parse(icb, strlen(icb), code, sizeof(code), msg, sizeof(msg)), 1);
    assert_string_equal(code, "InvalidChangeBatch");
    assert_non_null(strstr(msg, "but it was not found"));
    assert_int_equal(zp_r53_error_parse("<html/>", 7, code, sizeof(code), msg, sizeof(msg)), 0);
    assert_string_equal(code, "");
}

static void batch_delete_as_read_then_create(void **state)
{
    char *old_v[] = {"\"a&b\"", "\"c\""};
    struct zp_r53_rrset old = {1, 120, old_v, 2};
    char *next[3];
    struct zp_buf b;
    size_t n;

    zp_buf_init(&b, 8192);
    n = zp_r53_rrset_next(&old, 0, "new", "\"new\"", next);
    assert_int_equal(n, 3);
    assert_int_equal(zp_r53_batch(FQDN, &old, next, n, old.ttl, &b), 0);
    assert_string_equal(
        zp_buf_str(&b),
        "<ChangeResourceRecordSetsRequest xmlns=\"" NS "\"><ChangeBatch><Comment>zoneproof dns-01 "
        "challenge</Comment><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>" FQDN
        "</Name><Type>TXT</Type><TTL>120</TTL><ResourceRecords><ResourceRecord><Value>\"a&amp;b\""
        "</Value></ResourceRecord><ResourceRecord><Value>\"c\"</Value></ResourceRecord>"
        "</ResourceRecords></ResourceRecordSet></Change><Change><Action>CREATE</Action>"
        "<ResourceRecordSet><Name>" FQDN "</Name><Type>TXT</Type><TTL>120</TTL><ResourceRecords>"
        "<ResourceRecord><Value>\"a&amp;b\"</Value></ResourceRecord><ResourceRecord><Value>\"c\""
        "</Value></ResourceRecord><ResourceRecord><Value>\"new\"</Value></ResourceRecord>"
        "</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>"
        "</ChangeResourceRecordSetsRequest>");

    /* Removing the last value: a lone DELETE, never an empty set. */
    char *one_v[] = {"\"new\""};
    struct zp_r53_rrset one = {1, 60, one_v, 1};
    n = zp_r53_rrset_next(&one, 1, "new", "\"new\"", next);
    assert_int_equal(n, 0);
    zp_buf_reset(&b);
    assert_int_equal(zp_r53_batch(FQDN, &one, next, n, 60, &b), 0);
    assert_non_null(strstr(zp_buf_str(&b), "<Action>DELETE</Action>"));
    assert_null(strstr(zp_buf_str(&b), "CREATE"));

    /* Removing one of two keeps the other; adding to nothing is a lone CREATE. */
    n = zp_r53_rrset_next(&old, 1, "c", "\"c\"", next);
    assert_int_equal(n, 1);
    assert_string_equal(next[0], "\"a&b\"");
    struct zp_r53_rrset none = {0};
    n = zp_r53_rrset_next(&none, 0, "v", "\"v\"", next);
    zp_buf_reset(&b);
    assert_int_equal(zp_r53_batch(FQDN, &none, next, n, 60, &b), 0);
    assert_null(strstr(zp_buf_str(&b), "DELETE"));
    assert_non_null(strstr(zp_buf_str(&b), "<TTL>60</TTL>"));
    zp_buf_free(&b);
}

static void same_set(void **state)
{
    char *a_v[] = {"\"a\"", "\"b\""}, *b_v[] = {"\"a\"", "\"c\""};
    struct zp_r53_rrset a = {1, 60, a_v, 2}, b = {1, 60, b_v, 2}, c = {1, 300, a_v, 2};

    assert_true(zp_r53_rrset_same(&a, &a));
    assert_false(zp_r53_rrset_same(&a, &b));
    assert_false(zp_r53_rrset_same(&a, &c));
}

static void xml_scanning(void **state)
{
    static const char doc[] = "<A><Id>/change/C1</Id><IdX>no</IdX><Empty/><Bad>&bogus;</Bad>"
                              "<U>&#xE9;&#233;</U></A>";
    const char *end = doc + strlen(doc), *cs, *ce, *next;
    struct zp_buf t;

    zp_buf_init(&t, 256);
    assert_true(zp_r53_xml_get(doc, end, "Id", &t));
    assert_string_equal(zp_buf_str(&t), "/change/C1");
    assert_true(zp_r53_xml_get(doc, end, "IdX", &t));
    assert_string_equal(zp_buf_str(&t), "no");
    assert_true(zp_r53_xml_elem(doc, end, "Empty", &cs, &ce, &next));
    assert_ptr_equal(cs, ce);
    assert_false(zp_r53_xml_get(doc, end, "Bad", &t));
    assert_false(zp_r53_xml_get(doc, end, "Missing", &t));
    assert_true(zp_r53_xml_get(doc, end, "U", &t));
    assert_string_equal(zp_buf_str(&t), "\xc3\xa9\xc3\xa9");
    /* A NUL after the name is not the end of a tag name. */
    static const char nul[] = "<Id\0>x</Id>";
    assert_false(zp_r53_xml_elem(nul, nul + sizeof(nul) - 1, "Id", &cs, &ce, &next));
    /* Cut short: no end tag, no element. */
    assert_false(zp_r53_xml_get(doc, doc + 12, "Id", &t));
    zp_buf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rrset_of_the_name),
        cmocka_unit_test(cursor_is_not_a_filter),
        cmocka_unit_test(names),
        cmocka_unit_test(errors_of_both_shapes),
        cmocka_unit_test(batch_delete_as_read_then_create),
        cmocka_unit_test(same_set),
        cmocka_unit_test(xml_scanning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

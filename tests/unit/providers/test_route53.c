/*
 * test_route53.c — reading Route 53's XML replies with expat (record sets
 * from a start-from cursor, both error shapes, escaped names, entities,
 * CDATA, namespaces, and what is refused: malformed XML, DTDs, oversized
 * text) and writing change batches, from route53_xml.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "providers/awssts.h"
#include "providers/awssts_int.h"
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

/* zp_r53_rrset_read of a reply that must be well-formed XML. */
static int rrset(const char *body, struct zp_r53_rrset *set, struct zp_buf *why)
{
    struct zp_xml x;
    char no[160];
    int rc;

    assert_int_equal(zp_r53_xml_parse(body, strlen(body), 4096, &x, no, sizeof(no)), 0);
    rc = zp_r53_rrset_read(&x, FQDN, set, why);
    zp_xml_free(&x);
    return rc;
}

static void rrset_of_the_name(void **state)
{
    struct zp_r53_rrset set;
    struct zp_buf why;

    zp_buf_init(&why, 256);
    assert_int_equal(rrset(list_reply, &set, &why), 0);
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
    assert_int_equal(rrset(other_name, &set, &why), 0);
    assert_false(set.found);
    assert_int_equal(rrset(other_type, &set, &why), 0);
    assert_false(set.found);
    assert_int_equal(rrset(empty, &set, &why), 0);
    assert_false(set.found);
    assert_int_equal(rrset(routed, &set, &why), -1);
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

static void xml_reading(void **state)
{
    static const char doc[] = "<A><Id>/change/C1</Id><IdX>no</IdX><Empty/>"
                              "<U>&#xE9;&#233;&lt;&amp;&quot;</U><C><![CDATA[<b>&amp;]]></C></A>";
    struct zp_xml x;
    char why[160];

    assert_int_equal(zp_r53_xml_parse(doc, strlen(doc), 64, &x, why, sizeof(why)), 0);
    assert_int_equal(x.n, 6);
    assert_string_equal(zp_xml_get(&x, 0, "Id"), "/change/C1");
    assert_string_equal(zp_xml_get(&x, 0, "IdX"), "no");
    assert_string_equal(zp_xml_get(&x, 0, "Empty"), "");
    assert_null(zp_xml_get(&x, 0, "Missing"));
    assert_null(zp_xml_get(&x, 0, "A")); /* the root is not inside itself */
    assert_null(zp_xml_get(&x, 1, "IdX"));
    assert_int_equal(zp_xml_find(&x, 0, x.n, "IdX"), 2);
    assert_int_equal(zp_xml_find(&x, 3, x.n, "IdX"), -1);
    assert_int_equal(x.e[0].end, 6);
    /* Character references become UTF-8; CDATA is text, not markup. */
    assert_string_equal(zp_xml_get(&x, 0, "U"), "\xc3\xa9\xc3\xa9<&\"");
    assert_string_equal(zp_xml_get(&x, 0, "C"), "<b>&amp;");
    zp_xml_free(&x);

    /* Names are matched without their namespace, whatever the prefix. */
    static const char ns[] =
        "<r:A xmlns:r=\"urn:r\" xmlns=\"urn:d\"><r:Id>1</r:Id><Id>2</Id></r:A>";
    assert_int_equal(zp_r53_xml_parse(ns, strlen(ns), 64, &x, why, sizeof(why)), 0);
    assert_string_equal(x.e[0].name, "A");
    assert_string_equal(zp_xml_get(&x, 0, "Id"), "1");
    assert_int_equal(zp_xml_find(&x, 2, x.n, "Id"), 2);
    zp_xml_free(&x);
}

/* What is not well-formed, or not bounded, is refused whole, with a phrase that says why. */
static void refused(const char *doc, size_t len, size_t textmax, const char *needle)
{
    struct zp_xml x;
    char why[160] = "";

    if (zp_r53_xml_parse(doc, len, textmax, &x, why, sizeof(why)) != -1)
        fail_msg("accepted: %s", doc);
    if (strstr(why, needle) == NULL)
        fail_msg("\"%s\" not in \"%s\"", needle, why);
    assert_int_equal(x.n, 0);
    assert_null(x.e);
    zp_xml_free(&x);
}

static void xml_refused(void **state)
{
    static const char nul[] = "<Id\0>x</Id>";
    static const char laughs[] = "<!DOCTYPE A [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">"
                                 "]><A>&b;&b;&b;&b;</A>";
    static const char doc[] = "<A><Id>/change/C1</Id></A>";
    struct zp_buf b;

    refused("<A><Bad>&bogus;</Bad></A>", 25, 64, "line 1, column 9: undefined entity");
    refused(nul, sizeof(nul) - 1, 64, "not well-formed XML");
    refused(doc, 12, 64, "the reply is cut short"); /* no end tag */
    refused("", 0, 64, "the reply is empty");
    refused("<A><B></C></A>", 14, 64, "mismatched tag");
    refused("<A>&#0;</A>", 11, 64, "reference to invalid character number");
    refused("<A>\xff</A>", 8, 64, "not well-formed (invalid token)");
    refused("<A><n:B/></A>", 13, 64, "unbound prefix");
    refused("<A/><B/>", 8, 64, "content after </A>");
    refused(laughs, strlen(laughs), 64, "a DTD (<!DOCTYPE>)");
    refused(doc, strlen(doc), 8, "an element with more than 8 bytes of text");

    zp_buf_init(&b, 1 << 16);
    for (int i = 0; i < 40; i++)
        zp_buf_puts(&b, "<a>");
    refused(zp_buf_str(&b), b.len, 64, "elements nested more than 32 deep");
    zp_buf_reset(&b);
    zp_buf_puts(&b, "<A>");
    for (int i = 0; i < 9000; i++)
        zp_buf_puts(&b, "<b/>");
    zp_buf_puts(&b, "</A>");
    refused(zp_buf_str(&b), b.len, 64, "more than 8192 elements");
    zp_buf_free(&b);
}

/* STS's error replies have ErrorResponse's shape; a page from a proxy is no error reply. */
static void errors_not_xml(void **state)
{
    static const char sts[] =
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender"
        "</Type><Code>InvalidIdentityToken</Code><Message><![CDATA[No OpenIDConnect provider]]>"
        "</Message></Error></ErrorResponse>";
    static const char cut[] = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>x";
    char code[64], msg[256];

    assert_int_equal(zp_r53_error_parse(sts, strlen(sts), code, sizeof(code), msg, sizeof(msg)), 1);
    assert_string_equal(code, "InvalidIdentityToken");
    assert_string_equal(msg, "No OpenIDConnect provider");
    assert_int_equal(zp_r53_error_parse(cut, strlen(cut), code, sizeof(code), msg, sizeof(msg)), 0);
    assert_string_equal(code, "");
    assert_string_equal(msg, "");
    assert_int_equal(
        zp_r53_error_parse("<h1>502 Bad Gateway</h2>", 24, code, sizeof(code), msg, sizeof(msg)),
        0);
}

/* AWS STS's reply to AssumeRoleWithWebIdentity, read with the same reader (awssts.c). */
static int sts(const char *reply, struct zp_awssts_creds *c, struct zp_err *err)
{
    struct zp_buf body;
    time_t expires = 0;
    int rc;

    zp_buf_init(&body, 1 << 16);
    zp_buf_puts(&body, reply);
    memset(c, 0, sizeof(*c));
    zp_err_clear(err);
    rc = zp_awssts_parse(&body, "arn:aws:iam::1:role/r", c, &expires, err);
    if (rc == 0)
        assert_int_equal(expires, 1792882823);
    zp_buf_free(&body);
    return rc;
}

static void sts_replies(void **state)
{
#define STS_REPLY(key)                                                                             \
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"      \
    "<AssumeRoleWithWebIdentityResult><Credentials><SessionToken>tok&#x2B;en</SessionToken>"       \
    "<SecretAccessKey><![CDATA[s/k+]]></SecretAccessKey>"                                          \
    "<Expiration>2026-10-24T23:00:23Z</Expiration>" key "</Credentials>"                           \
    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
    struct zp_awssts_creds c;
    struct zp_err err;

    assert_int_equal(sts(STS_REPLY("<AccessKeyId>ASIA1</AccessKeyId>"), &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIA1");
    assert_string_equal(c.secret_access_key, "s/k+");
    assert_string_equal(c.session_token, "tok+en");
    zp_awssts_creds_wipe(&c);
    assert_int_equal(sts(STS_REPLY("<AccessKeyId></AccessKeyId>"), &c, &err), -1);
    assert_string_equal(err.msg, "AWS STS answered AssumeRoleWithWebIdentity for role "
                                 "arn:aws:iam::1:role/r without usable credentials");
    zp_awssts_creds_wipe(&c);
    assert_int_equal(sts(STS_REPLY("<AccessKeyId>A&#0;B</AccessKeyId>"), &c, &err), -1);
    assert_non_null(strstr(err.msg, "without usable credentials (not well-formed XML at line 1, "
                                    "column 282: reference to invalid character number)"));
    assert_null(c.access_key_id);
    assert_int_equal(sts("<!DOCTYPE x><x/>", &c, &err), -1);
    assert_non_null(strstr(err.msg, "(a DTD (<!DOCTYPE>), which AWS replies do not have)"));
#undef STS_REPLY
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
        cmocka_unit_test(xml_reading),
        cmocka_unit_test(xml_refused),
        cmocka_unit_test(errors_not_xml),
        cmocka_unit_test(sts_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_caa.c — the CAA check: the decision over one RRset (issue and
 * issuewild, values and parameters, flags, case, exact sentences) and the
 * walk up the tree through a fake resolver on loopback (parents, wildcards,
 * NXDOMAIN, CNAME, SERVFAIL with an Extended DNS Error).
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "solver/caa.h"

/* --- the decision ------------------------------------------------------------------------- */

/* A set of CAA records at owner, from "FLAGS TAG VALUE" strings; NULL-terminated. */
static ldns_rr_list *set_of(const char *owner, ...)
{
    ldns_rr_list *l = ldns_rr_list_new();
    const char *r;
    va_list ap;

    va_start(ap, owner);
    while ((r = va_arg(ap, const char *)) != NULL) {
        char line[512];
        ldns_rr *rr = NULL;

        snprintf(line, sizeof(line), "%s 60 IN CAA %s", owner, r);
        assert_int_equal(ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL), LDNS_STATUS_OK);
        ldns_rr_list_push_rr(l, rr);
    }
    va_end(ap);
    return l;
}

/*
 * The set as a resolver's answer delivers it: through the wire and back. ldns
 * parses an empty value from the wire as two fields, from text as three.
 */
static ldns_rr_list *via_wire(ldns_rr_list *l)
{
    ldns_pkt *q = ldns_pkt_new(), *back = NULL;
    uint8_t *wire = NULL;
    size_t len = 0;
    ldns_rr_list *out;

    assert_non_null(q);
    ldns_pkt_push_rr_list(q, LDNS_SECTION_ANSWER, l);
    assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    assert_int_equal(ldns_wire2pkt(&back, wire, len), LDNS_STATUS_OK);
    out = ldns_rr_list_clone(ldns_pkt_answer(back));
    free(wire);
    ldns_pkt_free(back);
    ldns_pkt_free(q); /* it owns the RRs of l now */
    ldns_rr_list_free(l);
    return out;
}

/* Decides name against set (freed) for issuer, through the resolver 127.0.0.1:53. */
static void decide(ldns_rr_list *set, const char *name, const char *issuer, struct zp_check *c)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(zp_caa_decide(set, "caa.test.", name, issuer, "127.0.0.1:53", c), 0);
    assert_string_equal(c->id, "caa");
    ldns_rr_list_deep_free(set);
}

static void test_issue_match(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issue \"letsencrypt.org\"", NULL), "www.caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for "
                                 "www.caa.test.");
    assert_string_equal(c.fix, "");
    assert_string_equal(c.dig, "dig @127.0.0.1 caa.test. CAA");
    /* One of several is enough; the others and iodef do not matter. */
    decide(set_of("caa.test.", "0 issue \"ca.example.net\"", "0 issue \"letsencrypt.org\"",
                  "0 iodef \"mailto:sec@caa.test\"", NULL),
           "caa.test", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for caa.test.");
}

static void test_issue_mismatch(void **state)
{
    struct zp_check c, d;

    decide(set_of("caa.test.", "0 issue \"ca.example.net\"", NULL), "www.caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. allows issuance only by ca.example.net; "
                                 "letsencrypt.org is not allowed");
    assert_string_equal(c.fix, "add 'caa.test. CAA 0 issue \"letsencrypt.org\"' or issue from a "
                               "CA the record allows");
    assert_string_equal(c.dig, "dig @127.0.0.1 caa.test. CAA");
    /* Several CAs, in any order: the same sorted sentence. */
    decide(set_of("caa.test.", "0 issue \"c.example\"", "0 issue \"a.example\"",
                  "0 issue \"b.example\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    decide(set_of("caa.test.", "0 issue \"b.example\"", "0 issue \"c.example\"",
                  "0 issue \"a.example\"", NULL),
           "www.caa.test.", "letsencrypt.org", &d);
    assert_string_equal(c.cause, "CAA at caa.test. allows issuance only by a.example, b.example "
                                 "and c.example; letsencrypt.org is not allowed");
    assert_string_equal(c.cause, d.cause);
    assert_string_equal(c.fix, d.fix);
    /* A name that merely ends like the CA's is another CA. */
    decide(set_of("caa.test.", "0 issue \"notletsencrypt.org\"", NULL), "caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
}

static void test_empty_issue_forbids(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issue \";\"", NULL), "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. forbids issuance by any CA; letsencrypt.org "
                                 "is not allowed");
    assert_string_equal(c.fix, "add 'caa.test. CAA 0 issue \"letsencrypt.org\"' if certificates "
                               "for www.caa.test. are wanted");
    decide(set_of("caa.test.", "0 issue \"\"", NULL), "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. forbids issuance by any CA; letsencrypt.org "
                                 "is not allowed");
    /* The same record as a resolver answers it (an empty value on the wire). */
    decide(via_wire(set_of("caa.test.", "0 issue \"\"", NULL)), "www.caa.test.", "letsencrypt.org",
           &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. forbids issuance by any CA; letsencrypt.org "
                                 "is not allowed");
    decide(via_wire(set_of("caa.test.", "0 issue \"letsencrypt.org\"", "0 issuewild \"\"", NULL)),
           "*.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    /* Authorizations add up: ";" beside a CA is that CA alone. */
    decide(set_of("caa.test.", "0 issue \";\"", "0 issue \"letsencrypt.org\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    decide(set_of("caa.test.", "0 issue \";\"", "0 issue \"ca.example.net\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_string_equal(c.cause, "CAA at caa.test. allows issuance only by ca.example.net; "
                                 "letsencrypt.org is not allowed");
}

static void test_issuewild_for_wildcards(void **state)
{
    struct zp_check c;

    /* issuewild present: it alone decides for a wildcard. */
    decide(
        set_of("caa.test.", "0 issue \"letsencrypt.org\"", "0 issuewild \"ca.example.net\"", NULL),
        "*.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. allows wildcard issuance only by "
                                 "ca.example.net; letsencrypt.org is not allowed");
    assert_string_equal(c.fix, "add 'caa.test. CAA 0 issuewild \"letsencrypt.org\"' or issue "
                               "from a CA the record allows");
    decide(
        set_of("caa.test.", "0 issue \"ca.example.net\"", "0 issuewild \"letsencrypt.org\"", NULL),
        "*.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for "
                                 "*.caa.test.");
    decide(set_of("caa.test.", "0 issue \"letsencrypt.org\"", "0 issuewild \";\"", NULL),
           "*.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. forbids wildcard issuance by any CA; "
                                 "letsencrypt.org is not allowed");
    /* No issuewild: issue decides for wildcards too. */
    decide(set_of("caa.test.", "0 issue \"letsencrypt.org\"", NULL), "*.caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    decide(set_of("caa.test.", "0 issue \"ca.example.net\"", NULL), "*.caa.test.",
           "letsencrypt.org", &c);
    assert_string_equal(c.cause, "CAA at caa.test. allows issuance only by ca.example.net; "
                                 "letsencrypt.org is not allowed");
}

static void test_issuewild_ignored_for_names(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issuewild \"ca.example.net\"", NULL), "www.caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. has no issue property: any CA may issue for "
                                 "www.caa.test.");
    decide(set_of("caa.test.", "0 issue \"letsencrypt.org\"", "0 issuewild \";\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    decide(
        set_of("caa.test.", "0 issue \"ca.example.net\"", "0 issuewild \"letsencrypt.org\"", NULL),
        "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
}

static void test_parameters(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.",
                  "0 issue \"letsencrypt.org; accounturi=https://acme.example/"
                  "acct/1\"",
                  NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for "
                                 "www.caa.test. with the ACME account https://acme.example/acct/1 "
                                 "only");
    /* A record without accounturi lifts the restriction. */
    decide(set_of("caa.test.", "0 issue \"letsencrypt.org;accounturi=https://acme.example/1\"",
                  "0 issue \"letsencrypt.org\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for "
                                 "www.caa.test.");
    /* White space around the parts, unknown parameters. */
    decide(set_of("caa.test.", "0 issue \"  letsencrypt.org\t;  foo = bar ; x=y  \"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    /* RFC 8657: dns-01 must be among the validation methods. */
    decide(set_of("caa.test.", "0 issue \"letsencrypt.org; validationmethods=http-01\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for "
                                 "www.caa.test. only through the validation methods http-01; "
                                 "dns-01 is not among them");
    assert_string_equal(c.fix, "add dns-01 to the validationmethods parameter of the issue "
                               "record for letsencrypt.org at caa.test., or remove the parameter");
    decide(
        set_of("caa.test.", "0 issue \"letsencrypt.org; validationmethods=http-01,dns-01\"", NULL),
        "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
}

static void test_malformed_values(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issue \"letsencrypt.org.\"", NULL), "www.caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. forbids issuance by any CA; letsencrypt.org "
                                 "is not allowed; the value \"letsencrypt.org.\" is malformed and "
                                 "allows no CA");
    decide(set_of("caa.test.", "0 issue \"ca.example.net; letsencrypt.org\"",
                  "0 issue \"x.example\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_string_equal(c.cause, "CAA at caa.test. allows issuance only by x.example; "
                                 "letsencrypt.org is not allowed; the value \"ca.example.net; "
                                 "letsencrypt.org\" is malformed and allows no CA");
    decide(set_of("caa.test.", "0 issue \"-bad.example\"", "0 issue \"a b\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_string_equal(c.cause, "CAA at caa.test. forbids issuance by any CA; letsencrypt.org "
                                 "is not allowed; the values \"-bad.example\" and \"a b\" are "
                                 "malformed and allow no CA");
}

static void test_case(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 ISSUE \"LetsEncrypt.ORG\"", NULL), "WWW.Caa.Test",
           "LETSENCRYPT.org.", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. allows letsencrypt.org to issue for "
                                 "www.caa.test.");
    decide(
        set_of("caa.test.", "0 issue \"ca.example.net\"", "0 IssueWild \"letsencrypt.org\"", NULL),
        "*.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
}

static void test_critical_unknown(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issue \"letsencrypt.org\"", "128 tbs \"Unknown\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. has the property \"tbs\" with the critical "
                                 "flag, unknown to CAs: every CA must refuse to issue for "
                                 "www.caa.test.");
    assert_string_equal(c.fix, "remove the critical flag (128) from the \"tbs\" record at "
                               "caa.test., or remove that record");
    /* Without a CA to judge, it is still a refusal by all. */
    decide(set_of("caa.test.", "128 zzz \"1\"", "128 aaa \"2\"", NULL), "caa.test.", NULL, &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. has the properties \"aaa\" and \"zzz\" with "
                                 "the critical flag, unknown to CAs: every CA must refuse to "
                                 "issue for caa.test.");
    /* The critical flag on a known property changes nothing. */
    decide(set_of("caa.test.", "128 issue \"letsencrypt.org\"", "128 iodef \"mailto:a@b.c\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
}

static void test_noncritical_unknown(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issue \"letsencrypt.org\"", "0 tbs \"Unknown\"", NULL),
           "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    decide(set_of("caa.test.", "0 tbs \"Unknown\"", NULL), "www.caa.test.", "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. has no issue property: any CA may issue for "
                                 "www.caa.test.");
}

static void test_iodef_only(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 iodef \"mailto:sec@caa.test\"", NULL), "www.caa.test.",
           "letsencrypt.org", &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. has no issue property: any CA may issue for "
                                 "www.caa.test.");
    decide(set_of("caa.test.", "0 iodef \"mailto:sec@caa.test\"", NULL), "*.caa.test.", NULL, &c);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at caa.test. has no issue or issuewild property: any CA "
                                 "may issue for *.caa.test.");
}

static void test_no_set(void **state)
{
    struct zp_check c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(zp_caa_decide(NULL, NULL, "www.caa.test.", "letsencrypt.org", NULL, &c), 0);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "no CAA records at www.caa.test. or its parent domains: any CA "
                                 "may issue");
    assert_string_equal(c.dig, "dig www.caa.test. CAA");
    decide(ldns_rr_list_new(), "*.caa.test.", NULL, &c);
    assert_string_equal(c.cause, "no CAA records at caa.test. or its parent domains: any CA may "
                                 "issue");
}

static void test_without_issuer(void **state)
{
    struct zp_check c;

    decide(set_of("caa.test.", "0 issue \"b.example\"", "0 issue \"a.example\"", NULL),
           "www.caa.test.", NULL, &c);
    assert_int_equal(c.verdict, ZP_CHECK_WARN);
    assert_string_equal(c.cause, "CAA at caa.test. allows only a.example and b.example to issue "
                                 "certificates for www.caa.test.");
    assert_string_equal(c.fix, "check that your CA's CAA identity is among those allowed");
    decide(set_of("caa.test.", "0 issue \"a.example\"", "0 issuewild \"w.example\"", NULL),
           "*.caa.test.", NULL, &c);
    assert_string_equal(c.cause, "CAA at caa.test. allows only w.example to issue wildcard "
                                 "certificates for *.caa.test.");
    decide(set_of("caa.test.", "0 issue \";\"", NULL), "www.caa.test.", NULL, &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. forbids issuance by any CA");
    assert_string_equal(c.fix, "add 'caa.test. CAA 0 issue \"<your CA's CAA identity>\"' if "
                               "certificates for www.caa.test. are wanted");
    decide(set_of("caa.test.", "0 issue \"a.example; validationmethods=http-01\"", NULL),
           "www.caa.test.", NULL, &c);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at caa.test. allows only a.example to issue certificates "
                                 "for www.caa.test., through the validation methods http-01; "
                                 "dns-01 is not among them");
}

static void test_bad_name_and_dig(void **state)
{
    ldns_rr_list *l = set_of("caa.test.", "0 issue \"letsencrypt.org\"", NULL);
    struct zp_check c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(zp_caa_decide(l, "caa.test.", "bad name!", "letsencrypt.org", NULL, &c), -1);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "\"bad name!\" is not a DNS name");
    assert_int_equal(zp_caa_decide(l, "caa.test.", ".", "letsencrypt.org", NULL, &c), -1);
    assert_int_equal(zp_caa_decide(l, "caa.test.", "*.", "letsencrypt.org", NULL, &c), -1);
    assert_int_equal(zp_caa_decide(l, "caa.test.", "caa.test.", "x", "[::1]:5353", &c), 0);
    assert_string_equal(c.dig, "dig @::1 -p 5353 caa.test. CAA");
    /* Other types in the list are not CAA records. */
    ldns_rr *rr = NULL;
    assert_int_equal(ldns_rr_new_frm_str(&rr, "caa.test. 60 IN TXT \"issue\"", 0, NULL, NULL),
                     LDNS_STATUS_OK);
    ldns_rr_list_push_rr(l, rr);
    assert_int_equal(zp_caa_decide(l, "caa.test.", "caa.test.", "letsencrypt.org", NULL, &c), 0);
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    ldns_rr_list_deep_free(l);
}

/* --- the walk, through a fake resolver ---------------------------------------------------- */

struct fake {
    int fd;
    unsigned port;
    pthread_t th;
    pthread_mutex_t mu;
    int stop;           /* under mu */
    char asked[16][64]; /* under mu: the names asked, in order */
    size_t n_asked;     /* under mu */
};

/* The fake's DNS: a few names with CAA, one NXDOMAIN, one SERVFAIL with EDE 6, one CNAME. */
static void fake_fill(ldns_pkt *a, const char *qname)
{
    static const char *const rrs[][2] = {
        {"walk.test.", "walk.test. 60 IN CAA 0 issue \"ca.example.net\""},
        {"alias.test.", "alias.test. 60 IN CNAME target.test."},
        {"alias.test.", "target.test. 60 IN CAA 0 issue \"letsencrypt.org\""},
    };
    ldns_rr *rr = NULL;

    if (strcmp(qname, "nx.walk.test.") == 0 || strcmp(qname, "a.nx.walk.test.") == 0) {
        ldns_pkt_set_rcode(a, LDNS_RCODE_NXDOMAIN);
        return;
    }
    if (strcmp(qname, "sf.test.") == 0) {
        static const uint8_t ede[] = {0,   6,   'D', 'N', 'S', 'S', 'E',
                                      'C', ' ', 'B', 'o', 'g', 'u', 's'};
        ldns_edns_option_list *opts = ldns_edns_option_list_new();

        ldns_pkt_set_rcode(a, LDNS_RCODE_SERVFAIL);
        ldns_edns_option_list_push(opts, ldns_edns_new_from_data(LDNS_EDNS_EDE, sizeof(ede), ede));
        ldns_pkt_set_edns_udp_size(a, 1232);
        ldns_pkt_set_edns_option_list(a, opts);
        return;
    }
    for (size_t i = 0; i < sizeof(rrs) / sizeof(rrs[0]); i++) {
        if (strcmp(qname, rrs[i][0]) != 0)
            continue;
        assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i][1], 0, NULL, NULL), LDNS_STATUS_OK);
        ldns_pkt_push_rr(a, LDNS_SECTION_ANSWER, rr);
    }
}

static void fake_serve(struct fake *f)
{
    uint8_t buf[4096], *wire = NULL;
    struct sockaddr_storage from;
    socklen_t fl = sizeof(from);
    ldns_pkt *q = NULL, *a;
    size_t wlen;
    ssize_t n = recvfrom(f->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
    char *qname;

    if (n <= 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
        return;
    a = ldns_pkt_new();
    ldns_pkt_set_id(a, ldns_pkt_id(q));
    ldns_pkt_set_qr(a, true);
    ldns_pkt_set_rd(a, true);
    ldns_pkt_set_ra(a, true);
    ldns_pkt_push_rr(a, LDNS_SECTION_QUESTION,
                     ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
    qname = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
    pthread_mutex_lock(&f->mu);
    if (f->n_asked < 16)
        snprintf(f->asked[f->n_asked++], 64, "%s", qname);
    pthread_mutex_unlock(&f->mu);
    fake_fill(a, qname);
    if (ldns_pkt2wire(&wire, a, &wlen) == LDNS_STATUS_OK)
        (void)!sendto(f->fd, wire, wlen, 0, (struct sockaddr *)&from, fl);
    free(wire);
    free(qname);
    ldns_pkt_free(a);
    ldns_pkt_free(q);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;

    for (;;) {
        struct pollfd p = {f->fd, POLLIN, 0};
        int stop;

        pthread_mutex_lock(&f->mu);
        stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            return NULL;
        if (poll(&p, 1, 50) == 1)
            fake_serve(f);
    }
}

static int fake_setup(void **state)
{
    struct fake *f = zp_xcalloc(1, sizeof(*f));
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(f->fd >= 0);
    assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    pthread_mutex_init(&f->mu, NULL);
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
    *state = f;
    return 0;
}

static int fake_teardown(void **state)
{
    struct fake *f = *state;

    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    close(f->fd);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

/* Runs the check against the fake; asked receives the names asked, joined by spaces. */
static void walk_cas(struct fake *f, const char *name, const char *const *cas, size_t n,
                     struct zp_check *c, char *asked, size_t askedsz)
{
    char addr[32], *list[1] = {addr};
    struct zp_dnsq_resolvers r;
    struct zp_buf why;

    snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->port);
    zp_buf_init(&why, 1024);
    assert_int_equal(zp_dnsq_resolvers(list, 1, &r, &why), 1);
    zp_buf_free(&why);
    pthread_mutex_lock(&f->mu);
    f->n_asked = 0;
    pthread_mutex_unlock(&f->mu);
    memset(c, 0, sizeof(*c));
    assert_int_equal(zp_caa_check_any(&r, name, cas, n, zp_now_ms() + 10000, c), 0);
    asked[0] = '\0';
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_asked; i++)
        snprintf(asked + strlen(asked), askedsz - strlen(asked), "%s%s", i ? " " : "", f->asked[i]);
    pthread_mutex_unlock(&f->mu);
}

static void walk(struct fake *f, const char *name, const char *issuer, struct zp_check *c,
                 char *asked, size_t askedsz)
{
    walk_cas(f, name, &issuer, issuer != NULL, c, asked, askedsz);
}

/* Several CAs: one lookup, and the one that may issue answers. */
static void test_walk_several_cas(void **state)
{
    static const char *const cas[] = {"letsencrypt.org", "ca.example.net"};
    struct fake *f = *state;
    char asked[512];
    struct zp_check c;

    walk_cas(f, "www.walk.test.", cas, 2, &c, asked, sizeof(asked));
    assert_string_equal(asked, "www.walk.test. walk.test.");
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at walk.test. allows ca.example.net to issue for "
                                 "www.walk.test.");
    walk_cas(f, "www.walk.test.", cas, 1, &c, asked, sizeof(asked));
    assert_string_equal(c.cause, "CAA at walk.test. allows issuance only by ca.example.net; "
                                 "letsencrypt.org is not allowed");
}

static void test_walk_parent(void **state)
{
    struct fake *f = *state;
    char asked[512], dig[128];
    struct zp_check c;

    walk(f, "www.walk.test.", "letsencrypt.org", &c, asked, sizeof(asked));
    assert_string_equal(asked, "www.walk.test. walk.test.");
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "CAA at walk.test. allows issuance only by ca.example.net; "
                                 "letsencrypt.org is not allowed");
    snprintf(dig, sizeof(dig), "dig @127.0.0.1 -p %u walk.test. CAA", f->port);
    assert_string_equal(c.dig, dig);
    /* A wildcard starts at its base; NXDOMAIN on the way goes on up. */
    walk(f, "*.walk.test.", "letsencrypt.org", &c, asked, sizeof(asked));
    assert_string_equal(asked, "walk.test.");
    walk(f, "a.nx.walk.test.", "ca.example.net", &c, asked, sizeof(asked));
    assert_string_equal(asked, "a.nx.walk.test. nx.walk.test. walk.test.");
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at walk.test. allows ca.example.net to issue for "
                                 "a.nx.walk.test.");
}

static void test_walk_none_stops_below_root(void **state)
{
    struct fake *f = *state;
    char asked[512];
    struct zp_check c;

    walk(f, "www.none.example.", "letsencrypt.org", &c, asked, sizeof(asked));
    assert_string_equal(asked, "www.none.example. none.example. example.");
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "no CAA records at www.none.example. or its parent domains: "
                                 "any CA may issue");
}

static void test_walk_cname(void **state)
{
    struct fake *f = *state;
    char asked[512];
    struct zp_check c;

    walk(f, "alias.test.", "letsencrypt.org", &c, asked, sizeof(asked));
    assert_string_equal(asked, "alias.test.");
    assert_int_equal(c.verdict, ZP_CHECK_OK);
    assert_string_equal(c.cause, "CAA at target.test. allows letsencrypt.org to issue for "
                                 "alias.test.");
}

static void test_walk_servfail(void **state)
{
    struct fake *f = *state;
    char asked[512], want[1024];
    struct zp_check c;

    walk(f, "x.sf.test.", "letsencrypt.org", &c, asked, sizeof(asked));
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    snprintf(want, sizeof(want),
             "cannot read the CAA records of sf.test.: asked 127.0.0.1:%u "
             "for sf.test. CAA (recursion desired): answers SERVFAIL (Extended DNS Error 6: "
             "DNSSEC Bogus); the CA's own lookup fails the same way, and CAs refuse to issue "
             "when CAA cannot be read",
             f->port);
    assert_string_equal(c.cause, want);
    assert_string_equal(c.fix, "make CAA queries for sf.test. answerable: repair what the "
                               "resolver reports (often broken DNSSEC, or nameservers that fail "
                               "CAA queries)");
    snprintf(want, sizeof(want), "127.0.0.1:%u", f->port);
    assert_string_equal(c.servers, want);
    snprintf(want, sizeof(want), "dig @127.0.0.1 -p %u sf.test. CAA", f->port);
    assert_string_equal(c.dig, want);
}

static void test_walk_bad_name(void **state)
{
    struct zp_dnsq_resolvers r = {0};
    struct zp_check c;

    assert_int_equal(
        zp_caa_check(&r, "no spaces allowed", "letsencrypt.org", zp_now_ms() + 100, &c), -1);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    /* No resolver at all: a lookup failure, not silence. */
    assert_int_equal(zp_caa_check(&r, "caa.test.", "letsencrypt.org", zp_now_ms() + 100, &c), 0);
    assert_int_equal(c.verdict, ZP_CHECK_FAIL);
    assert_string_equal(c.cause, "cannot read the CAA records of caa.test.: no resolver to ask; "
                                 "the CA's own lookup fails the same way, and CAs refuse to issue "
                                 "when CAA cannot be read");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_match),
        cmocka_unit_test(test_issue_mismatch),
        cmocka_unit_test(test_empty_issue_forbids),
        cmocka_unit_test(test_issuewild_for_wildcards),
        cmocka_unit_test(test_issuewild_ignored_for_names),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_malformed_values),
        cmocka_unit_test(test_case),
        cmocka_unit_test(test_critical_unknown),
        cmocka_unit_test(test_noncritical_unknown),
        cmocka_unit_test(test_iodef_only),
        cmocka_unit_test(test_no_set),
        cmocka_unit_test(test_without_issuer),
        cmocka_unit_test(test_bad_name_and_dig),
        cmocka_unit_test_setup_teardown(test_walk_parent, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_walk_several_cas, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_walk_none_stops_below_root, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_walk_cname, fake_setup, fake_teardown),
        cmocka_unit_test_setup_teardown(test_walk_servfail, fake_setup, fake_teardown),
        cmocka_unit_test(test_walk_bad_name),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

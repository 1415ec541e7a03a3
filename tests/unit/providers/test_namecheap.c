/*
 * test_namecheap.c — Namecheap's getHosts/setHosts replies read strictly:
 * a complete reply gives every host with every field decoded; a reply cut
 * anywhere, garbled, with an error element, an unknown record type, another
 * domain or a domain not on Namecheap's DNS gives no host list at all (so
 * nothing can be written); the host list goes back as a form unchanged; a
 * read is compared with the last one by the hosts it lost; and the settings
 * a user can get wrong are refused at start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/namecheap_int.h"
#include "providers/provider.h"

extern const struct zp_provider_ops zp_prov_namecheap;

#define HEAD                                                                                       \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"                                               \
    "<ApiResponse Status=\"OK\" xmlns=\"http://api.namecheap.com/xml.response\">\r\n"              \
    "  <Errors />\r\n  <Warnings />\r\n"                                                           \
    "  <RequestedCommand>namecheap.domains.dns.gethosts</RequestedCommand>\r\n"                    \
    "  <CommandResponse Type=\"namecheap.domains.dns.getHosts\">\r\n"
#define TAIL                                                                                       \
    "  </CommandResponse>\r\n  <Server>PHX01SBAPIEXT06</Server>\r\n"                               \
    "  <GMTTimeDifference>--4:00</GMTTimeDifference>\r\n"                                          \
    "  <ExecutionTime>0.011</ExecutionTime>\r\n</ApiResponse>"
#define RESULT(attrs, hosts)                                                                       \
    HEAD "    <DomainDNSGetHostsResult Domain=\"example.test\" " attrs ">\r\n" hosts               \
         "    </DomainDNSGetHostsResult>\r\n" TAIL

#define HOST_WWW                                                                                   \
    "      <host HostId=\"217076\" Name=\"www\" Type=\"A\" Address=\"192.0.2.2\" MXPref=\"10\" "   \
    "TTL=\"1800\" AssociatedAppTitle=\"\" FriendlyName=\"\" IsActive=\"true\" "                    \
    "IsDDNSEnabled=\"false\" />\r\n"
#define HOST_CAA                                                                                   \
    "      <host HostId=\"217077\" Name=\"@\" Type=\"CAA\" Address=\"0 issue "                     \
    "&quot;letsencrypt.org"                                                                        \
    "&quot;\" MXPref=\"10\" TTL=\"1799\" IsActive=\"true\" />\r\n"
#define HOST_TXT                                                                                   \
    "      <host HostId='217078' Name='_acme-challenge' Type='TXT' Address='a&amp;b&lt;c&gt;d"     \
    "&apos;e&#x41;&#66;&#xe9;' MXPref='10' TTL='60' IsActive='true' />\r\n"
#define HOST_MX                                                                                    \
    "      <Host HostId=\"217079\" Name=\"@\" Type=\"MX\" Address=\"mail.example.test.\" "         \
    "MXPref=\"5\" TTL=\"3600\" IsActive=\"true\"></Host>\r\n"

static const char good[] = RESULT("EmailType=\"MX\" IsUsingOurDNS=\"true\"",
                                  HOST_WWW HOST_CAA "<!-- a comment -->" HOST_TXT HOST_MX);

static int parse(const char *body, size_t len, struct zp_nc_hosts *h, struct zp_nc_apierr *a,
                 struct zp_err *err)
{
    zp_err_clear(err);
    return zp_nc_parse_gethosts(body, len, "example.test", h, a, err);
}

static void complete_reply(void **state)
{
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};

    assert_int_equal(parse(good, strlen(good), &h, &a, &err), 0);
    assert_string_equal(h.email_type, "MX");
    assert_int_equal(h.n, 4);
    assert_string_equal(h.host[0].name, "www");
    assert_string_equal(h.host[0].type, "A");
    assert_string_equal(h.host[0].address, "192.0.2.2");
    assert_string_equal(h.host[0].mxpref, "10");
    assert_string_equal(h.host[0].ttl, "1800");
    assert_string_equal(h.host[1].address, "0 issue \"letsencrypt.org\"");
    assert_string_equal(h.host[1].ttl, "1799");
    assert_string_equal(h.host[2].name, "_acme-challenge");
    assert_string_equal(h.host[2].address, "a&b<c>d'eAB\xc3\xa9");
    assert_string_equal(h.host[3].type, "MX"); /* <Host> as in Namecheap's documentation */
    assert_string_equal(h.host[3].mxpref, "5");
    zp_nc_hosts_free(&h);

    /* The domain is compared without regard to case; a domain with no host is a list of none. */
    {
        const char *empty = RESULT("IsUsingOurDNS=\"true\"", "");
        assert_int_equal(zp_nc_parse_gethosts(empty, strlen(empty), "Example.TEST", &h, &a, &err),
                         0);
        assert_int_equal(h.n, 0);
        assert_null(h.email_type);
        zp_nc_hosts_free(&h);
    }
}

/* Cut anywhere, the reply is refused: the root element is never closed. */
static void every_truncation_refused(void **state)
{
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};

    for (size_t n = 0; n < strlen(good); n++) {
        char *cut = zp_xmalloc(n + 1);
        memcpy(cut, good, n);
        cut[n] = '\0';
        if (parse(cut, n, &h, &a, &err) != -1)
            fail_msg("a reply cut at %zu bytes was accepted", n);
        assert_non_null(strstr(err.msg, "Namecheap's getHosts reply for example.test cannot be "
                                        "understood"));
        assert_non_null(strstr(err.msg, "nothing was written"));
        if (n > strlen("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<"))
            if (strstr(err.msg, "(the reply is cut short)") == NULL)
                fail_msg("cut at %zu: %s", n, err.msg);
        assert_int_equal(h.n, 0);
        free(cut);
    }
    assert_int_equal(parse(good, 0, &h, &a, &err), -1);
    assert_non_null(strstr(err.msg, "(the reply is empty)"));
    assert_int_equal(parse(good, strlen(good) - 1, &h, &a, &err), -1);
    assert_non_null(strstr(err.msg, "(the reply is cut short)"));
}

/* Garbled bytes anywhere: never a crash, never a leak, and never a host list with a NUL in it. */
static void garbled_bytes(void **state)
{
    static const char subst[] = {'<', '>', '"', '\'', '&',    '/',
                                 '=', ' ', 'x', '\0', '\x01', '\xff'};
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};
    size_t len = strlen(good), accepted = 0;
    char *copy = zp_xmalloc(len);

    for (size_t i = 0; i < len; i++) {
        for (size_t s = 0; s < sizeof(subst); s++) {
            memcpy(copy, good, len);
            copy[i] = subst[s];
            int rc = parse(copy, len, &h, &a, &err);
            if (rc == 0) {
                accepted++;
                assert_true(h.n <= 4);
                zp_nc_hosts_free(&h);
            } else if (rc == -1) {
                assert_true(err.msg[0] != '\0');
            }
        }
    }
    /* Changes inside values and ignored elements may still parse; most do not. */
    assert_true(accepted < len * sizeof(subst) / 2);
    free(copy);
}

static void refused(const char *body, const char *needle, enum zp_errkind kind)
{
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};

    if (parse(body, strlen(body), &h, &a, &err) != -1)
        fail_msg("accepted: %s", body);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("\"%s\" not in \"%s\"", needle, err.msg);
    assert_int_equal(err.kind, kind);
    assert_int_equal(h.n, 0);
}

static void incomplete_or_not_understood(void **state)
{
    refused(RESULT("IsUsingOurDNS=\"false\"", HOST_WWW),
            "domain example.test does not use Namecheap's DNS servers", ZP_ECONFIG);
    refused(RESULT("", HOST_WWW), "IsUsingOurDNS is neither true nor false", ZP_ETRANSIENT);
    refused(RESULT("IsUsingOurDNS=\"true\"",
                   HOST_WWW "<host Name=\"x\" Type=\"SRV\" Address=\"1 2 3 t.\" MXPref=\"10\" "
                            "TTL=\"60\"/>"),
            "holds host \"x\" of record type \"SRV\", which zoneproof cannot write back",
            ZP_EINVAL);
    refused(RESULT("IsUsingOurDNS=\"true\"",
                   "<host Name=\"x\" Type=\"A\" Address=\"192.0.2.1\" MXPref=\"10\"/>"),
            "a host without TTL", ZP_ETRANSIENT);
    refused(RESULT("IsUsingOurDNS=\"true\"",
                   "<host Name=\"x\" Type=\"A\" Address=\"192.0.2.1\" MXPref=\"10\" TTL=\"1h\"/>"),
            "has a malformed field", ZP_ETRANSIENT);
    refused(
        RESULT("IsUsingOurDNS=\"true\"",
               "<host Name=\"x y\" Type=\"A\" Address=\"192.0.2.1\" MXPref=\"10\" TTL=\"60\"/>"),
        "has a malformed field", ZP_ETRANSIENT);
    refused(RESULT("IsUsingOurDNS=\"true\"",
                   "<host Name=\"x\" Type=\"A\" Address=\"192.0.2.1\" MXPref=\"10\" TTL=\"60\" "
                   "IsActive=\"false\"/>"),
            "inactive host \"x\"", ZP_EINVAL);
    refused(RESULT("IsUsingOurDNS=\"true\"", HOST_WWW "<EmailForward To=\"x\"/>"),
            "an element <EmailForward> among the hosts", ZP_ETRANSIENT);
    refused(RESULT("IsUsingOurDNS=\"true\"", HOST_WWW "stray text"), "text among the hosts",
            ZP_ETRANSIENT);
    refused(RESULT("IsUsingOurDNS=\"true\" EmailType=\"M X\"", HOST_WWW), "EmailType is malformed",
            ZP_ETRANSIENT);
    refused(HEAD "<DomainDNSGetHostsResult Domain=\"other.test\" IsUsingOurDNS=\"true\"/>" TAIL,
            "it is about domain other.test", ZP_ETRANSIENT);
    refused(HEAD TAIL, "it has no <DomainDNSGetHostsResult>", ZP_ETRANSIENT);
    refused("<ApiResponse Status=\"OK\"><Errors/></ApiResponse>", "it has no <CommandResponse>",
            ZP_ETRANSIENT);
    refused("<ApiResponse Status=\"OK\"><Errors/><CommandResponse Type=\"namecheap.domains."
            "getList\"/></ApiResponse>",
            "it answers namecheap.domains.getList", ZP_ETRANSIENT);
    refused("<ApiResponse Status=\"WARNING\"><Errors/></ApiResponse>",
            "Status is \"WARNING\" without an <Error>", ZP_ETRANSIENT);
    refused("<html><body>502 Bad Gateway</body></html>", "its root element is <html>",
            ZP_ETRANSIENT);
    refused("502 Bad Gateway", "the reply is not XML", ZP_ETRANSIENT);
}

/* expat says what is not well-formed, and where; markup Namecheap never sends is refused. */
static void malformed_xml(void **state)
{
#define BAD(hosts) RESULT("IsUsingOurDNS=\"true\"", hosts)
    refused(BAD("<host Name=\"a&nbsp;b\"/>"),
            "(not well-formed XML at line 8, column 1: "
            "undefined entity)",
            ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a&#0;b\"/>"), "column 14: reference to invalid character number",
            ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a&#xD800;\"/>"), "reference to invalid character number",
            ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a&#x110000;\"/>"), "reference to invalid character number",
            ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a&amp\"/>"), "column 18: not well-formed (invalid token)",
            ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a<b\"/>"), "column 14: not well-formed (invalid token)",
            ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a\" Name=\"b\"/>"), "duplicate attribute", ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a\"Type=\"b\"/>"), "not well-formed (invalid token)", ZP_ETRANSIENT);
    refused(BAD("<host Name=a/>"), "not well-formed (invalid token)", ZP_ETRANSIENT);
    refused(BAD("<host></hots>"), "mismatched tag", ZP_ETRANSIENT);
    refused(BAD("<host Name=\"\x01\"/>"), "not well-formed (invalid token)", ZP_ETRANSIENT);
    refused(BAD("<host Name=\"\xff\"/>"), "not well-formed (invalid token)", ZP_ETRANSIENT);
    refused(BAD("<x:host/>"), "unbound prefix", ZP_ETRANSIENT);
    refused(BAD("<host Name=\"a\"/>") "<extra/>", "content after </ApiResponse>", ZP_ETRANSIENT);
    refused("<ApiResponse Status=\"&nbsp;\"/>", "undefined entity", ZP_ETRANSIENT);
    /* No DTD (so no entity of its own, and no billion laughs), no CDATA, no instructions. */
    refused(BAD("<![CDATA[x]]>"), "<!DOCTYPE, CDATA or <?", ZP_ETRANSIENT);
    refused(BAD("<?php x?>"), "<!DOCTYPE, CDATA or <?", ZP_ETRANSIENT);
    refused("<!DOCTYPE x [<!ENTITY e \"e\">]><ApiResponse/>", "<!DOCTYPE, CDATA or <?",
            ZP_ETRANSIENT);
    refused("<!DOCTYPE ApiResponse [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
            "<ApiResponse Status=\"&b;&b;&b;\"/>",
            "<!DOCTYPE, CDATA or <?", ZP_ETRANSIENT);
    /* Attributes are read by local name: the same one twice is ambiguous. */
    refused(BAD("<host xmlns:x=\"urn:x\" Name=\"a\" x:Name=\"b\"/>"),
            "attribute Name twice in <host>", ZP_ETRANSIENT);
#undef BAD
}

/* What expat reads that the hand-written reader did not: prefixes, other encodings. */
static void namespaces_and_encodings(void **state)
{
    static const char prefixed[] =
        "<nc:ApiResponse xmlns:nc=\"http://api.namecheap.com/xml.response\" Status=\"OK\">"
        "<nc:Errors/><nc:CommandResponse Type=\"namecheap.domains.dns.getHosts\">"
        "<nc:DomainDNSGetHostsResult Domain=\"example.test\" IsUsingOurDNS=\"true\">"
        "<nc:host Name=\"@\" Type=\"TXT\" Address=\"caf\xc3\xa9 &#x1F600;\" MXPref=\"10\" "
        "TTL=\"60\"/></nc:DomainDNSGetHostsResult></nc:CommandResponse></nc:ApiResponse>";
    static const char latin1[] =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ApiResponse Status=\"OK\"><Errors/>"
        "<CommandResponse Type=\"namecheap.domains.dns.getHosts\">"
        "<DomainDNSGetHostsResult Domain=\"example.test\" IsUsingOurDNS=\"true\">"
        "<host Name=\"@\" Type=\"TXT\" Address=\"caf\xe9\" MXPref=\"10\" TTL=\"60\"/>"
        "</DomainDNSGetHostsResult></CommandResponse></ApiResponse>";
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};

    assert_int_equal(parse(prefixed, strlen(prefixed), &h, &a, &err), 0);
    assert_int_equal(h.n, 1);
    assert_string_equal(h.host[0].address, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    zp_nc_hosts_free(&h);
    assert_int_equal(parse(latin1, strlen(latin1), &h, &a, &err), 0);
    assert_string_equal(h.host[0].address, "caf\xc3\xa9");
    zp_nc_hosts_free(&h);
}

static void caps(void **state)
{
    struct zp_buf b;

    /* Nesting. */
    zp_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100; i++)
        zp_buf_puts(&b, "<a>");
    refused(zp_buf_str(&b), "elements nested more than 16 deep", ZP_ETRANSIENT);
    zp_buf_reset(&b);

    /* Too many hosts for any domain. */
    zp_buf_puts(&b,
                HEAD "<DomainDNSGetHostsResult Domain=\"example.test\" IsUsingOurDNS=\"true\">");
    for (int i = 0; i <= ZP_NC_HOSTS_MAX; i++)
        zp_buf_printf(&b,
                      "<host Name=\"h%d\" Type=\"A\" Address=\"192.0.2.1\" MXPref=\"10\" "
                      "TTL=\"60\"/>",
                      i);
    zp_buf_puts(&b, "</DomainDNSGetHostsResult>" TAIL);
    refused(zp_buf_str(&b), "more than 1000 hosts", ZP_ETRANSIENT);
    zp_buf_reset(&b);

    /* A value longer than any record. */
    zp_buf_puts(&b, HEAD "<DomainDNSGetHostsResult Domain=\"example.test\" IsUsingOurDNS=\"true\">"
                         "<host Name=\"x\" Type=\"TXT\" MXPref=\"10\" TTL=\"60\" Address=\"");
    for (int i = 0; i < 20000; i++)
        zp_buf_puts(&b, "v");
    zp_buf_puts(&b, "\"/></DomainDNSGetHostsResult>" TAIL);
    refused(zp_buf_str(&b), "a value longer than 16384 bytes", ZP_ETRANSIENT);
    zp_buf_free(&b);
}

static void api_errors(void **state)
{
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};
    const char *e1 = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ApiResponse Status=\"ERROR\" "
                     "xmlns=\"http://api.namecheap.com/xml.response\"><Errors><Error "
                     "Number=\"1011102\">API Key is invalid or API access has not been enabled"
                     "</Error></Errors><Warnings /><RequestedCommand /><Server>X</Server>"
                     "</ApiResponse>";
    /* An error element in a reply that says OK is still an error. */
    const char *e2 = "<ApiResponse Status=\"OK\"><Errors><Error Number=\"2030288\">Cannot complete "
                     "this command as this domain is not using proper DNS servers</Error>"
                     "</Errors><CommandResponse Type=\"namecheap.domains.dns.getHosts\"/>"
                     "</ApiResponse>";

    assert_int_equal(parse(e1, strlen(e1), &h, &a, &err), 1);
    assert_int_equal(a.number, 1011102);
    assert_string_equal(a.text, "API Key is invalid or API access has not been enabled");
    assert_int_equal(h.n, 0);
    assert_int_equal(parse(e2, strlen(e2), &h, &a, &err), 1);
    assert_int_equal(a.number, 2030288);
    assert_int_equal(zp_nc_parse_sethosts(e1, strlen(e1), "example.test", &a, &err), 1);
    assert_int_equal(a.number, 1011102);
}

static void sethosts_replies(void **state)
{
    struct zp_nc_apierr a;
    struct zp_err err = {0};
    const char *ok = "<?xml version=\"1.0\"?><ApiResponse Status=\"OK\"><Errors/>"
                     "<CommandResponse Type=\"namecheap.domains.dns.setHosts\">"
                     "<DomainDNSSetHostsResult Domain=\"example.test\" IsSuccess=\"true\">"
                     "<Warnings/></DomainDNSSetHostsResult></CommandResponse></ApiResponse>";
    const char *no = "<ApiResponse Status=\"OK\"><Errors/>"
                     "<CommandResponse Type=\"namecheap.domains.dns.setHosts\">"
                     "<DomainDNSSetHostsResult Domain=\"example.test\" IsSuccess=\"false\"/>"
                     "</CommandResponse></ApiResponse>";

    assert_int_equal(zp_nc_parse_sethosts(ok, strlen(ok), "example.test", &a, &err), 0);
    assert_int_equal(zp_nc_parse_sethosts(no, strlen(no), "example.test", &a, &err), -1);
    assert_non_null(strstr(err.msg, "may or may not have been replaced"));
    zp_err_clear(&err);
    assert_int_equal(zp_nc_parse_sethosts(ok, strlen(ok) / 2, "example.test", &a, &err), -1);
    zp_err_clear(&err);
    assert_int_equal(zp_nc_parse_sethosts(ok, strlen(ok), "other.test", &a, &err), -1);
}

/* Every host goes back with every field, percent-encoded, numbered from 1. */
static void form_of_hosts(void **state)
{
    struct zp_nc_hosts h;
    struct zp_nc_apierr a;
    struct zp_err err = {0};
    struct zp_buf b;

    zp_buf_init(&b, 1 << 16);
    assert_int_equal(parse(good, strlen(good), &h, &a, &err), 0);
    zp_nc_hosts_add(&h, "_acme-challenge", "TXT", "new-value", "10", "60");
    zp_nc_hosts_remove(&h, 0);
    assert_int_equal(zp_nc_form_hosts(&h, &b), 0);
    assert_string_equal(zp_buf_str(&b),
                        "&EmailType=MX"
                        "&HostName1=%40&RecordType1=CAA&Address1=0%20issue%20%22letsencrypt.org%22"
                        "&MXPref1=10&TTL1=1799"
                        "&HostName2=_acme-challenge&RecordType2=TXT"
                        "&Address2=a%26b%3Cc%3Ed%27eAB%C3%A9&MXPref2=10&TTL2=60"
                        "&HostName3=%40&RecordType3=MX&Address3=mail.example.test."
                        "&MXPref3=5&TTL3=3600"
                        "&HostName4=_acme-challenge&RecordType4=TXT&Address4=new-value"
                        "&MXPref4=10&TTL4=60");
    zp_nc_hosts_free(&h);
    zp_buf_free(&b);
}

static int config(const char *yaml, struct zp_err *err)
{
    struct zp_ydoc doc;
    void *cfg = NULL;
    int rc;

    zp_err_clear(err);
    assert_int_equal(zp_yaml_load_string("c.yaml", yaml, strlen(yaml), &doc, err), 0);
    rc = zp_prov_namecheap.config_parse(doc.root, "providers[0]", &cfg, err);
    if (rc == 0)
        zp_prov_namecheap.config_free(cfg);
    zp_yaml_free(&doc);
    return rc;
}

static void settings(void **state)
{
    struct zp_err err;
    char path[] = "/tmp/zp-nc-keyXXXXXX", yaml[512];
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, "k3y\n", 4), 4);
    close(fd);
    snprintf(yaml, sizeof(yaml), "apiUser: u\napiKeyFile: %s\nclientIp: 203.0.113.7\n", path);
    assert_int_equal(config(yaml, &err), 0);
    snprintf(yaml, sizeof(yaml), "apiUser: u\napiKeyFile: %s\nclientIp: 2001:db8::1\n", path);
    assert_int_equal(config(yaml, &err), -1);
    assert_non_null(strstr(err.msg, "c.yaml:3: providers[0]: clientIp \"2001:db8::1\" is IPv6"));
    snprintf(yaml, sizeof(yaml), "apiUser: u\napiKeyFile: %s\nclientIp: my-host\n", path);
    assert_int_equal(config(yaml, &err), -1);
    assert_non_null(strstr(err.msg, "must be the public IPv4 address"));
    snprintf(yaml, sizeof(yaml), "apiUser: u\napiKeyFile: %s\n", path);
    assert_int_equal(config(yaml, &err), -1);
    assert_non_null(strstr(err.msg, "clientIp"));
    snprintf(yaml, sizeof(yaml), "apiUser: u\napiKeyFile: %s\nclientIp: 203.0.113.7\ndomain: com\n",
             path);
    assert_int_equal(config(yaml, &err), -1);
    assert_non_null(strstr(err.msg, "domain \"com\" must be a domain registered at Namecheap"));
    snprintf(yaml, sizeof(yaml), "apiUser: u\napiKeyFile: %s.missing\nclientIp: 203.0.113.7\n",
             path);
    assert_int_equal(config(yaml, &err), -1);
    assert_non_null(strstr(err.msg, "apiKeyFile"));
    unlink(path);
}

/* The keys of a host list given as "TYPE name" pairs. */
static void keys_of(struct zp_nc_keys *k, const char *const *hosts, size_t n)
{
    struct zp_nc_hosts h = {0};

    for (size_t i = 0; i < n; i++) {
        char type[16], name[64];
        assert_int_equal(sscanf(hosts[i], "%15s %63s", type, name), 2);
        zp_nc_hosts_add(&h, name, type, "x", "10", "1800");
    }
    zp_nc_keys_of(&h, k);
    zp_nc_hosts_free(&h);
}

static void lost_hosts(void **state)
{
    static const char *const before[] = {"A @",   "CNAME www", "TXT @",
                                         "TXT @", "MX @",      "TXT _acme-challenge"};
    /* Another order and case, a host added, the challenge TXT gone: nothing lost. */
    static const char *const more[] = {"TXT @", "MX @", "A @", "TXT @", "CNAME WWW", "A new"};
    /* One of two TXT at the apex gone, and the CNAME. */
    static const char *const fewer[] = {"A @", "TXT @", "MX @", "TXT _acme-challenge.x"};
    struct zp_nc_keys b, m, f, f2;
    size_t n;

    (void)state;
    keys_of(&b, before, 6);
    keys_of(&m, more, 6);
    keys_of(&f, fewer, 4);
    keys_of(&f2, fewer, 4);
    assert_int_equal(b.n, 5); /* the challenge TXT is not compared */
    assert_null(zp_nc_keys_lost(&b, &m, &n));
    assert_int_equal(n, 0);
    assert_string_equal(zp_nc_keys_lost(&b, &f, &n), "CNAME www");
    assert_int_equal(n, 2);
    assert_null(zp_nc_keys_lost(&f, &b, &n));
    assert_true(zp_nc_keys_equal(&f, &f2));
    assert_false(zp_nc_keys_equal(&f, &b));
    zp_nc_keys_free(&b);
    zp_nc_keys_free(&m);
    zp_nc_keys_free(&f);
    zp_nc_keys_free(&f2);
}

/* A read judged at t ms: the verdict, and the first host it lost in *lost. */
static int judge(struct zp_nc_seen *seen, const char *const *hosts, size_t n, uint64_t t,
                 char *lost)
{
    struct zp_nc_keys now;
    size_t nlost;

    keys_of(&now, hosts, n);
    return zp_nc_seen_judge(seen, &now, t, lost, 64, &nlost);
}

static void reads_judged(void **state)
{
    static const char *const full[] = {"A @", "CNAME www", "URL go", "TXT @"};
    static const char *const added[] = {"A @",   "CNAME www",           "URL go",
                                        "TXT @", "TXT _acme-challenge", "A new"};
    static const char *const half[] = {"A @", "CNAME www"};
    static const char *const third[] = {"A @"};
    struct zp_nc_seen seen = {0};
    struct zp_nc_hosts written = {0};
    char lost[64];
    uint64_t t = 1000000;

    (void)state;
    /* The first read of the process has nothing to be compared with. */
    assert_int_equal(judge(&seen, half, 2, t, lost), ZP_NC_READ_OK);
    assert_int_equal(judge(&seen, full, 4, t, lost), ZP_NC_READ_OK);
    assert_int_equal(judge(&seen, added, 6, t, lost), ZP_NC_READ_OK);
    assert_int_equal(judge(&seen, full, 4, t, lost), ZP_NC_READ_LOST); /* A new */
    assert_string_equal(lost, "A new");
    assert_int_equal(judge(&seen, added, 6, t, lost), ZP_NC_READ_OK); /* complete again */
    /* A shorter list is refused, also read again soon after; another shorter list starts the
     * clock again; the same one ZP_NC_CONFIRM_MS after its first refusal is taken as real. */
    assert_int_equal(judge(&seen, half, 2, t, lost), ZP_NC_READ_LOST);
    assert_string_equal(lost, "A new"); /* the first lost, in the keys' order */
    assert_int_equal(judge(&seen, half, 2, t + ZP_NC_CONFIRM_MS - 1, lost), ZP_NC_READ_LOST);
    assert_int_equal(judge(&seen, third, 1, t + ZP_NC_CONFIRM_MS, lost), ZP_NC_READ_LOST);
    assert_int_equal(judge(&seen, half, 2, t + ZP_NC_CONFIRM_MS, lost), ZP_NC_READ_LOST);
    assert_int_equal(judge(&seen, half, 2, t + 2 * ZP_NC_CONFIRM_MS - 1, lost), ZP_NC_READ_LOST);
    assert_int_equal(judge(&seen, half, 2, t + 2 * ZP_NC_CONFIRM_MS, lost), ZP_NC_READ_CONFIRMED);
    assert_string_equal(lost, "A new");
    assert_int_equal(judge(&seen, half, 2, t, lost), ZP_NC_READ_OK); /* now what is there */
    /* What was written is what the next read is compared with. */
    zp_nc_hosts_add(&written, "@", "A", "192.0.2.1", "10", "60");
    zp_nc_hosts_add(&written, "www", "CNAME", "x.", "10", "60");
    zp_nc_hosts_add(&written, "@", "MX", "mx.", "10", "60");
    zp_nc_seen_keep(&seen, &written);
    assert_int_equal(judge(&seen, half, 2, t, lost), ZP_NC_READ_LOST);
    assert_string_equal(lost, "MX @");
    zp_nc_hosts_free(&written);
    zp_nc_seen_free(&seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(complete_reply),
        cmocka_unit_test(every_truncation_refused),
        cmocka_unit_test(garbled_bytes),
        cmocka_unit_test(incomplete_or_not_understood),
        cmocka_unit_test(malformed_xml),
        cmocka_unit_test(namespaces_and_encodings),
        cmocka_unit_test(caps),
        cmocka_unit_test(api_errors),
        cmocka_unit_test(sethosts_replies),
        cmocka_unit_test(form_of_hosts),
        cmocka_unit_test(settings),
        cmocka_unit_test(lost_hosts),
        cmocka_unit_test(reads_judged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_rfc2136.c — the rfc2136 provider against its configuration rules and
 * against a scripted DNS server in a thread: the message it sends, and the
 * sentence each reply code and TSIG error turns into.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/provider.h"
#include "parse_entry.h"
#include "providers/settings.h"

#define KEY "acme-key"
#define SECRET "h8mTBe3nXxuQ9Fgbh9sQKZ8oOOV4mhH0Y3bZZs3dJwA="
#define OTHER_SECRET "c2VjcmV0LXRoYXQtdGhlLXNlcnZlci1kb2VzLW5vdC1rbm93"
#define FQDN "_acme-challenge.example.test."
#define ZONE "example.test."
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

extern const struct zp_provider_ops zp_prov_rfc2136;
static const struct zp_provider_ops *ops = &zp_prov_rfc2136;

/* ---- a scripted server ----------------------------------------------------------------------- */

enum sign { SIGN_NONE, SIGN_GOOD, SIGN_BAD };

/*
 * The test thread holds mu except while it is inside a provider call (call()), and the server
 * thread holds it while it handles a message: so the script and the record of what arrived are
 * never read and written at once, and ThreadSanitizer sees the hand-over.
 */
struct fake {
    int udp, tcp; /* bound to 127.0.0.1:port, both */
    unsigned short port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop; /* read and written with __atomic builtins */
    /* the script */
    int rcode, tsig_error;
    enum sign sign;
    int silent;         /* never answer */
    int truncate;       /* answer UDP with TC set */
    int stray;          /* send a reply with a wrong ID before the real one */
    const char *secret; /* what the server holds for KEY */
    const char *alg;    /* TSIG algorithm name, absolute */
    /* what it saw */
    int queries, over_tcp, request_verified;
    ldns_pkt *last;
};

static ldns_pkt *fake_reply(struct fake *f, ldns_pkt *q, const uint8_t *wire, size_t len)
{
    ldns_pkt *r = ldns_pkt_new();
    ldns_rr *t = ldns_pkt_tsig(q);

    ldns_pkt_set_id(r, ldns_pkt_id(q));
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, LDNS_PACKET_UPDATE);
    ldns_pkt_set_rcode(r, (uint8_t)f->rcode);
    ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION,
                     ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
    if (t != NULL) {
        f->request_verified = ldns_pkt_tsig_verify(q, wire, len, KEY, f->secret, NULL);
        t = ldns_pkt_tsig(q); /* verify may have replaced it */
    }
    if (t != NULL && f->sign != SIGN_NONE)
        assert_int_equal(ldns_pkt_tsig_sign(r, KEY, f->sign == SIGN_GOOD ? f->secret : OTHER_SECRET,
                                            300, f->alg, ldns_rr_rdf(t, 3)),
                         LDNS_STATUS_OK);
    if (f->tsig_error != 0) {
        if (ldns_pkt_tsig(r) == NULL)
            assert_int_equal(ldns_pkt_tsig_sign(r, KEY, OTHER_SECRET, 300, f->alg, NULL),
                             LDNS_STATUS_OK);
        ldns_rdf_deep_free(ldns_rr_set_rdf(
            ldns_pkt_tsig(r), ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, (uint16_t)f->tsig_error),
            5));
    }
    return r;
}

/* Handles one query; returns the reply's wire form (or NULL when silent). */
static uint8_t *fake_handle(struct fake *f, const uint8_t *wire, size_t len, int tcp, size_t *rlen)
{
    ldns_pkt *q = NULL, *r;
    uint8_t *out = NULL;

    assert_int_equal(ldns_wire2pkt(&q, wire, len), LDNS_STATUS_OK);
    f->queries++;
    f->over_tcp = tcp;
    ldns_pkt_free(f->last);
    f->last = q;
    if (f->silent)
        return NULL;
    r = fake_reply(f, q, wire, len);
    if (f->truncate && !tcp)
        ldns_pkt_set_tc(r, true);
    assert_int_equal(ldns_pkt2wire(&out, r, rlen), LDNS_STATUS_OK);
    ldns_pkt_free(r);
    return out;
}

static void fake_tcp_conn(struct fake *f, int c)
{
    uint8_t len[2], *q, *out;
    size_t n, rlen;
    struct timeval tv = {.tv_sec = 2};

    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (recv(c, len, 2, MSG_WAITALL) != 2)
        return;
    n = (size_t)len[0] << 8 | len[1];
    q = zp_xmalloc(n);
    if (recv(c, q, n, MSG_WAITALL) == (ssize_t)n &&
        (out = fake_handle(f, q, n, 1, &rlen)) != NULL) {
        len[0] = (uint8_t)(rlen >> 8);
        len[1] = (uint8_t)rlen;
        assert_int_equal(send(c, len, 2, 0), 2);
        assert_int_equal(send(c, out, rlen, 0), (ssize_t)rlen);
        free(out);
    }
    free(q);
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    uint8_t buf[65536], *out;
    struct sockaddr_storage from;
    socklen_t fl;
    size_t rlen;

    while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
        struct pollfd p[2] = {{.fd = f->udp, .events = POLLIN}, {.fd = f->tcp, .events = POLLIN}};
        if (poll(p, 2, 50) <= 0)
            continue;
        pthread_mutex_lock(&f->mu);
        if (p[0].revents & POLLIN) {
            fl = sizeof(from);
            ssize_t n = recvfrom(f->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            if (n > 0 && (out = fake_handle(f, buf, (size_t)n, 0, &rlen)) != NULL) {
                if (f->stray) {
                    out[0] ^= 0x55;
                    sendto(f->udp, out, rlen, 0, (struct sockaddr *)&from, fl);
                    out[0] ^= 0x55;
                }
                sendto(f->udp, out, rlen, 0, (struct sockaddr *)&from, fl);
                free(out);
            }
        }
        if (p[1].revents & POLLIN) {
            int c = accept(f->tcp, NULL, NULL);
            if (c >= 0) {
                fake_tcp_conn(f, c);
                close(c);
            }
        }
        pthread_mutex_unlock(&f->mu);
    }
    return NULL;
}

static struct fake *active; /* the running fake, unlocked by call() */

static struct fake *fake_start(void)
{
    struct fake *f = zp_xcalloc(1, sizeof(*f));
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);
    int one = 1;

    /*
     * The UDP port the kernel picks may already be taken for TCP by another
     * connection on a busy machine: pick again until both binds succeed.
     */
    for (int tries = 0;; tries++) {
        a.sin_port = 0;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        f->udp = socket(AF_INET, SOCK_DGRAM, 0);
        assert_int_equal(bind(f->udp, (struct sockaddr *)&a, sizeof(a)), 0);
        al = sizeof(a);
        assert_int_equal(getsockname(f->udp, (struct sockaddr *)&a, &al), 0);
        f->port = ntohs(a.sin_port);
        f->tcp = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(f->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(f->tcp, (struct sockaddr *)&a, sizeof(a)) == 0)
            break;
        close(f->tcp);
        close(f->udp);
        assert_true(tries < 50);
    }
    assert_int_equal(listen(f->tcp, 4), 0);
    f->secret = SECRET;
    f->alg = "hmac-sha256.";
    f->sign = SIGN_GOOD;
    pthread_mutex_init(&f->mu, NULL);
    pthread_mutex_lock(&f->mu);
    active = f;
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
    return f;
}

static void fake_stop(struct fake *f)
{
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
    active = NULL;
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->mu);
    close(f->udp);
    close(f->tcp);
    ldns_pkt_free(f->last);
    free(f);
}

/* ---- configuration helpers ------------------------------------------------------------------- */

static char tmpdir[64];

static char *tmpfile_with(const char *name, const char *text)
{
    static char path[160];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

/* Parses a providers[0] entry whose extra settings are lines; 0 or -1 as config_parse. */
static int parse(const char *lines, void **cfg, struct zp_err *err)
{
    return parse_entry(ops, "lab", lines, cfg, err);
}

/* A config aimed at the fake, signed with KEY; extra lines are appended. */
static void *cfg_for(const struct fake *f, const char *extra)
{
    char lines[1024];
    struct zp_err err;
    void *cfg;

    snprintf(lines, sizeof(lines),
             "    nameserver: \"127.0.0.1:%u\"\n"
             "    tsigKeyName: " KEY "\n"
             "    tsigSecretFile: %s/secret\n"
             "%s",
             f->port, tmpdir, extra ? extra : "");
    if (parse(lines, &cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    return cfg;
}

static const char *call_value = VALUE; /* what call() writes */

static int call(void *cfg, int del, uint64_t budget_ms, struct zp_err *err)
{
    struct zp_record rec = {.fqdn = FQDN, .zone = ZONE, .value = call_value, .ttl = 60};
    struct zp_prov_call c = {.deadline_ms = zp_now_ms() + budget_ms, .instance = "lab"};
    struct fake *f = active;
    int rc;

    zp_err_clear(err);
    if (f)
        pthread_mutex_unlock(&f->mu); /* the server may answer now */
    rc = del ? ops->cleanup(cfg, &rec, &c, err) : ops->present(cfg, &rec, &c, err);
    if (f)
        pthread_mutex_lock(&f->mu);
    return rc;
}

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/zp-rfc2136-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    tmpfile_with("secret", SECRET "\n");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#define assert_has(s, sub)                                                                         \
    do {                                                                                           \
        if (strstr((s), (sub)) == NULL)                                                            \
            fail_msg("\"%s\" lacks \"%s\"", (s), (sub));                                           \
    } while (0)

/* ---- configuration --------------------------------------------------------------------------- */

static void config_good(void **state)
{
    struct zp_err err;
    void *cfg;
    char lines[512];

    snprintf(lines, sizeof(lines),
             "    nameserver: \"[::1]:5353\"\n"
             "    tsigKeyName: acme-key\n"
             "    tsigAlgorithm: hmac-sha512\n"
             "    tsigSecretFile: %s/secret\n"
             "    protocol: tcp\n"
             "    timeout: 2s\n"
             "    zone: Example.Test\n",
             tmpdir);
    assert_int_equal(parse(lines, &cfg, &err), 0);
    ops->config_free(cfg);
    /* Only nameserver is required; a host name is resolved later, per call. */
    assert_int_equal(parse("    nameserver: ns1.example.test\n", &cfg, &err), 0);
    ops->config_free(cfg);
    snprintf(lines, sizeof(lines),
             "    nameserver: 192.0.2.1\n    tsigKeyName: k\n    tsigAlgorithm: hmac-md5\n"
             "    tsigSecretFile: %s/secret\n",
             tmpdir);
    assert_int_equal(parse(lines, &cfg, &err), 0);
    ops->config_free(cfg);
}

static void config_refusals(void **state)
{
    static const struct {
        const char *lines, *want[3];
    } cases[] = {
        {"    tsigKeyName: k\n", {"zoneproof.yaml:2: providers[0]: nameserver is required"}},
        {"    nameserver: \"1.2.3.4:99999\"\n", {"nameserver \"1.2.3.4:99999\" is not host:port"}},
        {"    nameserver: \"bad host\"\n", {"\"bad host\" is not host:port: it has a space"}},
        {"    nameserver: 127.0.0.1\n    tsigKeyName: k\n    tsigAlgorithm: hmac-sha384\n",
         {":7: providers[0]: tsigAlgorithm \"hmac-sha384\" is not supported", "hmac-sha256",
          "hmac-sha512"}},
        {"    nameserver: 127.0.0.1\n    tsigKeyName: k\n", {"tsigKeyName needs tsigSecretFile"}},
        {"    nameserver: 127.0.0.1\n    tsigSecretFile: /x\n",
         {"tsigSecretFile needs tsigKeyName"}},
        {"    nameserver: 127.0.0.1\n    protocol: quic\n",
         {":6: providers[0]: protocol must be udp or tcp, not \"quic\""}},
        {"    nameserver: 127.0.0.1\n    timeout: soon\n", {"timeout must be a duration"}},
        {"    nameserver: 127.0.0.1\n    zone: \"a..b\"\n", {"zone \"a..b\" is not a domain name"}},
    };
    struct zp_err err;
    void *cfg;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i].lines, &cfg, &err), -1);
        assert_int_equal(err.kind, ZP_ECONFIG);
        for (size_t k = 0; k < 3 && cases[i].want[k]; k++)
            assert_has(err.msg, cases[i].want[k]);
    }
}

static void config_secret_file(void **state)
{
    static const struct {
        const char *content, *want;
    } cases[] = {
        {NULL, "No such file"},
        {"", "is empty"},
        {"not base64 at all!\n", "does not hold base64 text"},
        {"abc\n", "does not hold base64 text"},
        {"key \"k\" { algorithm hmac-sha256; secret \"" SECRET "\"; };\n", "key statement"},
    };
    struct zp_err err;
    void *cfg;
    char lines[512], path[160];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(path, sizeof(path), "%s/case%zu", tmpdir, i);
        if (cases[i].content)
            tmpfile_with(strrchr(path, '/') + 1, cases[i].content);
        snprintf(lines, sizeof(lines),
                 "    nameserver: 127.0.0.1\n    tsigKeyName: k\n    tsigSecretFile: %s\n", path);
        assert_int_equal(parse(lines, &cfg, &err), -1);
        assert_has(err.msg, "zoneproof.yaml:7: providers[0]: tsigSecretFile");
        assert_has(err.msg, path);
        assert_has(err.msg, cases[i].want);
        /* The secret never reaches a message. */
        assert_null(strstr(err.msg, SECRET));
    }
    /* A directory, and (unless root reads anything) a file without read permission. */
    snprintf(lines, sizeof(lines),
             "    nameserver: 127.0.0.1\n    tsigKeyName: k\n    tsigSecretFile: %s\n", tmpdir);
    assert_int_equal(parse(lines, &cfg, &err), -1);
    assert_has(err.msg, "is a directory");
    if (geteuid() != 0) {
        char *p = tmpfile_with("unreadable", SECRET);
        chmod(p, 0);
        snprintf(lines, sizeof(lines),
                 "    nameserver: 127.0.0.1\n    tsigKeyName: k\n    tsigSecretFile: %s\n", p);
        assert_int_equal(parse(lines, &cfg, &err), -1);
        assert_has(err.msg, "Permission denied");
    }
}

/* The solver refuses settings that are neither generic nor in ops->keys or ops->settings. */
static void config_keys(void **state)
{
    static const char *const generic[] = {"name", "type", "dnsZones", "ttl", "propagation"};
    const char *allowed[32];
    size_t n = 0;
    struct zp_err err = {0};
    struct zp_ydoc doc;
    const char *text = "nameserver: x\ntsigKeyName: x\ntsigAlgorithm: x\ntsigSecretFile: x\n"
                       "protocol: x\ntimeout: x\nzone: x\nname: x\ntype: x\n";
    const char *typo = "nameserver: x\ntsigSecret: x\n";

    for (size_t i = 0; i < 5; i++)
        allowed[n++] = generic[i];
    for (size_t i = 0; ops->keys && ops->keys[i]; i++)
        allowed[n++] = ops->keys[i];
    n += zp_settings_keys(ops->settings, allowed + n, 31 - n);
    assert_true(n < 32);
    allowed[n] = NULL;
    assert_int_equal(zp_yaml_load_string("c.yaml", text, strlen(text), &doc, &err), 0);
    assert_int_equal(zp_y_check_keys(doc.root, "providers[0]", allowed, &err), 0);
    zp_yaml_free(&doc);
    assert_int_equal(zp_yaml_load_string("c.yaml", typo, strlen(typo), &doc, &err), 0);
    assert_int_equal(zp_y_check_keys(doc.root, "providers[0]", allowed, &err), -1);
    assert_has(err.msg, "c.yaml:2: providers[0]: unknown setting \"tsigSecret\"");
    assert_has(err.msg, "tsigSecretFile");
    zp_yaml_free(&doc);
    assert_string_equal(ops->type, "rfc2136");
    assert_int_equal(ops->flags & ZP_PROV_RMW, 0);
}

/* ---- the messages it sends ------------------------------------------------------------------- */

static void sends_one_rr_update(void **state)
{
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, NULL);
    struct zp_err err;
    const ldns_rr *rr;
    ldns_rdf *txt, *zone = ldns_dname_new_frm_str(ZONE);

    assert_int_equal(call(cfg, 0, 5000, &err), 0);
    assert_true(f->request_verified);
    assert_false(f->over_tcp);
    assert_int_equal(ldns_pkt_get_opcode(f->last), LDNS_PACKET_UPDATE);
    assert_false(ldns_pkt_rd(f->last));
    /* zone section: the apex, SOA, IN; no prerequisites; one update. */
    assert_int_equal(ldns_pkt_qdcount(f->last), 1);
    rr = ldns_rr_list_rr(ldns_pkt_question(f->last), 0);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
    assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
    assert_int_equal(ldns_dname_compare(ldns_rr_owner(rr), zone), 0);
    ldns_rdf_deep_free(zone);
    assert_int_equal(ldns_pkt_ancount(f->last), 0);
    assert_int_equal(ldns_pkt_nscount(f->last), 1);
    rr = ldns_rr_list_rr(ldns_pkt_authority(f->last), 0);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TXT);
    assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
    assert_int_equal(ldns_rr_ttl(rr), 60);
    txt = ldns_rr_rdf(rr, 0);
    assert_int_equal(ldns_rr_rd_count(rr), 1);
    assert_int_equal(ldns_rdf_size(txt), 1 + strlen(VALUE));
    assert_memory_equal(ldns_rdf_data(txt) + 1, VALUE, strlen(VALUE));

    /* cleanup: the same RR, class NONE, TTL 0 — never an RRset delete. */
    assert_int_equal(call(cfg, 1, 5000, &err), 0);
    rr = ldns_rr_list_rr(ldns_pkt_authority(f->last), 0);
    assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_NONE);
    assert_int_equal(ldns_rr_ttl(rr), 0);
    assert_int_equal(ldns_rr_rd_count(rr), 1);
    assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, 0)) + 1, VALUE, strlen(VALUE));
    ops->config_free(cfg);
    fake_stop(f);
}

static void secret_is_read_on_every_call(void **state)
{
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, NULL);
    struct zp_err err;

    tmpfile_with("secret", OTHER_SECRET "\n");
    f->secret = OTHER_SECRET;
    assert_int_equal(call(cfg, 0, 5000, &err), 0);
    assert_true(f->request_verified);
    tmpfile_with("secret", SECRET "\n");
    ops->config_free(cfg);
    fake_stop(f);
}

static void md5_and_unsigned(void **state)
{
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, "    tsigAlgorithm: hmac-md5\n");
    struct zp_err err;
    char lines[128];

    f->alg = "hmac-md5.sig-alg.reg.int.";
    assert_int_equal(call(cfg, 0, 5000, &err), 0);
    assert_true(f->request_verified);
    ops->config_free(cfg);

    snprintf(lines, sizeof(lines), "    nameserver: \"127.0.0.1:%u\"\n", f->port);
    assert_int_equal(parse(lines, &cfg, &err), 0);
    f->sign = SIGN_NONE;
    assert_int_equal(call(cfg, 0, 5000, &err), 0);
    assert_null(ldns_pkt_tsig(f->last));
    f->rcode = LDNS_RCODE_REFUSED;
    assert_int_equal(call(cfg, 0, 5000, &err), -1);
    assert_int_equal(err.kind, ZP_EPERM);
    assert_has(err.msg, "unsigned updates may not change TXT at " FQDN);
    f->rcode = LDNS_RCODE_NOTAUTH; /* Knot's answer to an unsigned update no acl allows */
    assert_int_equal(call(cfg, 0, 5000, &err), -1);
    assert_int_equal(err.kind, ZP_ENOTFOUND);
    assert_has(err.msg, "not authoritative (primary) for zone " ZONE ", or (Knot answers the "
                        "same way) no acl lets unsigned updates from this host change it");
    ops->config_free(cfg);
    fake_stop(f);
}

static void transport(void **state)
{
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, NULL);
    struct zp_err err;

    f->truncate = 1; /* UDP says TC: the same update goes again over TCP */
    assert_int_equal(call(cfg, 0, 5000, &err), 0);
    assert_int_equal(f->queries, 2);
    assert_true(f->over_tcp);
    f->truncate = 0;
    f->stray = 1; /* a datagram with a foreign ID is ignored */
    assert_int_equal(call(cfg, 0, 5000, &err), 0);
    assert_false(f->over_tcp);
    f->stray = 0;
    ops->config_free(cfg);

    cfg = cfg_for(f, "    protocol: tcp\n");
    assert_int_equal(call(cfg, 1, 5000, &err), 0);
    assert_true(f->over_tcp);
    ops->config_free(cfg);
    fake_stop(f);
}

/* Copies want with each '@' replaced by the fake's address. */
static void expand(char *out, size_t size, const char *want, unsigned port)
{
    size_t n = 0;

    for (; *want && n + 16 < size; want++) {
        if (*want == '@')
            n += (size_t)snprintf(out + n, size - n, "127.0.0.1:%u", port);
        else
            out[n++] = *want;
    }
    out[n] = '\0';
}

/* ---- the sentences --------------------------------------------------------------------------- */

static void replies_become_sentences(void **state)
{
    static const struct {
        int rcode, tsig_error;
        enum sign sign;
        enum zp_errkind kind;
        const char *want;
    } cases[] = {
        /* signed: the server holds the key, its policy refuses (BIND, PowerDNS) */
        {LDNS_RCODE_REFUSED, 0, SIGN_GOOD, ZP_EPERM,
         "update refused by @: the key acme-key may not change TXT at " FQDN
         " (the server holds the key: it signed its answer); allow it in the zone's update "
         "policy (BIND: grant acme-key name " FQDN " TXT; in update-policy. PowerDNS: acme-key "
         "in the zone's TSIG-ALLOW-DNSUPDATE metadata"},
        /* not signed with the key: the key was not accepted (PowerDNS), the secret first */
        {LDNS_RCODE_REFUSED, 0, SIGN_NONE, ZP_EAUTH,
         "update of TXT at " FQDN " refused by @ in an answer not signed with key acme-key, so "
         "the server did not accept the key: most likely tsigSecretFile does not hold the "
         "server's secret, else tsigKeyName names a key the server does not have or "
         "tsigAlgorithm (hmac-sha256) differs"},
        {LDNS_RCODE_REFUSED, 0, SIGN_BAD, ZP_EAUTH, "in an answer not signed with key acme-key"},
        /* BADKEY: an unknown key (BIND, Knot) or one no acl allows (Knot), in that order */
        {LDNS_RCODE_NOTAUTH, 17, SIGN_NONE, ZP_EAUTH,
         "rejected by @: the server does not know key acme-key with algorithm "
         "hmac-sha256, or (Knot answers the same way) no acl lets that key update TXT at " FQDN
         "; check tsigKeyName and tsigAlgorithm against the server's key statement, then the "
         "zone's acl"},
        {LDNS_RCODE_NOTAUTH, 16, SIGN_NONE, ZP_EAUTH,
         "rejected by @: signature rejected: tsigSecretFile does not hold the "
         "server's secret for key acme-key"},
        {LDNS_RCODE_NOTAUTH, 18, SIGN_GOOD, ZP_EAUTH,
         "differ by more than 300 s, so the signature of key acme-key is refused; fix NTP"},
        {LDNS_RCODE_NOTAUTH, 22, SIGN_NONE, ZP_EAUTH, "TSIG error BADTRUNC (22) for key acme-key"},
        {LDNS_RCODE_NOTAUTH, 0, SIGN_GOOD, ZP_ENOTFOUND,
         "rejected by @: the server is not authoritative (primary) for zone " ZONE
         "; point nameserver at the zone's primary"},
        {LDNS_RCODE_NOTZONE, 0, SIGN_GOOD, ZP_ECONFIG, FQDN " is not inside zone " ZONE},
        {LDNS_RCODE_SERVFAIL, 0, SIGN_GOOD, ZP_ETRANSIENT,
         "@ failed to apply the update of TXT at " FQDN " (SERVFAIL)"},
        {LDNS_RCODE_FORMERR, 0, SIGN_NONE, ZP_ECONFIG, "could not parse the update"},
        {LDNS_RCODE_NOTIMPL, 0, SIGN_NONE, ZP_ECONFIG,
         "@ does not accept dynamic updates (NOTIMP) for zone " ZONE},
        {LDNS_RCODE_YXRRSET, 0, SIGN_GOOD, ZP_ETRANSIENT, "answered YXRRSET (rcode 7)"},
        /* success counts only with a signature made with the key */
        {LDNS_RCODE_NOERROR, 0, SIGN_BAD, ZP_EAUTH,
         "@ answered the update of TXT at " FQDN " without a valid signature of key "
         "acme-key"},
        {LDNS_RCODE_NOERROR, 0, SIGN_NONE, ZP_EAUTH, "without a valid signature"},
    };
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, NULL);
    struct zp_err err;
    char want[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->rcode = cases[i].rcode;
        f->tsig_error = cases[i].tsig_error;
        f->sign = cases[i].sign;
        for (int del = 0; del < 2; del++) {
            assert_int_equal(call(cfg, del, 5000, &err), -1);
            expand(want, sizeof(want), cases[i].want, f->port);
            assert_has(err.msg, want);
            if (err.kind != cases[i].kind)
                fail_msg("case %zu: kind %s for \"%s\"", i, zp_errkind_name(err.kind), err.msg);
            assert_null(strstr(err.msg, SECRET));
        }
    }
    ops->config_free(cfg);
    fake_stop(f);
}

static void network_failures(void **state)
{
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, "    timeout: 200ms\n");
    struct zp_err err;
    char lines[256], first[ZP_ERR_MSG_MAX];
    int s;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);

    /* no answer within the per-exchange timeout: transient, names the server, no figures */
    f->silent = 1;
    assert_int_equal(call(cfg, 0, 10000, &err), -1);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_has(err.msg, "no answer from 127.0.0.1:");
    assert_null(strstr(err.msg, " ms"));
    snprintf(first, sizeof(first), "%s", err.msg);
    ops->config_free(cfg);

    /*
     * The call's deadline ending the wait before the server's timeout, or leaving no time to
     * send at all, is only timing: the same sentence (cert-manager re-reconciles on a change).
     */
    cfg = cfg_for(f, "    timeout: 30s\n");
    assert_int_equal(call(cfg, 0, 300, &err), -1);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_string_equal(err.msg, first);
    assert_int_equal(call(cfg, 0, 0, &err), -1);
    assert_string_equal(err.msg, first);
    ops->config_free(cfg);
    fake_stop(f);

    /* nobody listening: refused at once, over UDP and TCP */
    s = socket(AF_INET, SOCK_DGRAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
    close(s);
    for (int tcp = 0; tcp < 2; tcp++) {
        snprintf(lines, sizeof(lines), "    nameserver: \"127.0.0.1:%u\"\n    protocol: %s\n",
                 ntohs(a.sin_port), tcp ? "tcp" : "udp");
        assert_int_equal(parse(lines, &cfg, &err), 0);
        assert_int_equal(call(cfg, 0, 5000, &err), -1);
        assert_int_equal(err.kind, ZP_ETRANSIENT);
        assert_has(err.msg, "connection refused by 127.0.0.1:");
        ops->config_free(cfg);
    }
}

/* A value over 255 octets: character-strings of 255, the last shorter; the same to delete. */
static void splits_long_value(void **state)
{
    static const size_t want[] = {255, 255, 90};
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, NULL);
    struct zp_err err;
    char big[601];

    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = (char)('a' + i % 26);
    big[sizeof(big) - 1] = '\0';
    call_value = big;
    for (int del = 0; del < 2; del++) {
        const ldns_rr *rr;
        assert_int_equal(call(cfg, del, 5000, &err), 0);
        rr = ldns_rr_list_rr(ldns_pkt_authority(f->last), 0);
        assert_int_equal(ldns_rr_get_class(rr), del ? LDNS_RR_CLASS_NONE : LDNS_RR_CLASS_IN);
        assert_int_equal(ldns_rr_rd_count(rr), 3);
        for (size_t i = 0, off = 0; i < 3; off += want[i], i++) {
            assert_int_equal(ldns_rdf_size(ldns_rr_rdf(rr, i)), 1 + want[i]);
            assert_int_equal(ldns_rdf_data(ldns_rr_rdf(rr, i))[0], want[i]);
            assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(rr, i)) + 1, big + off, want[i]);
        }
    }
    call_value = VALUE;
    ops->config_free(cfg);
    fake_stop(f);
}

static void refused_before_sending(void **state)
{
    struct fake *f = fake_start();
    void *cfg = cfg_for(f, "    zone: other.test\n");
    struct zp_err err;
    struct zp_record rec = {.fqdn = FQDN, .zone = ZONE, .value = VALUE, .ttl = 60};
    struct zp_prov_call c = {.deadline_ms = zp_now_ms() + 5000, .instance = "lab"};
    char big[1100], gone[128];

    assert_int_equal(call(cfg, 0, 5000, &err), -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_has(err.msg, FQDN " is not inside zone other.test.");
    ops->config_free(cfg);

    cfg = cfg_for(f, NULL);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rec.value = big;
    zp_err_clear(&err);
    assert_int_equal(ops->present(cfg, &rec, &c, &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    assert_has(err.msg, "is 1099 bytes; at most 1024 are written");

    /* a secret file that disappears after start fails the call, naming it */
    snprintf(gone, sizeof(gone), "%s/gone", tmpdir);
    rename(tmpfile_with("secret", SECRET "\n"), gone);
    assert_int_equal(call(cfg, 0, 5000, &err), -1);
    assert_has(err.msg, "tsigSecretFile");
    rename(gone, tmpfile_with("secret", SECRET "\n"));
    assert_int_equal(f->queries, 0);
    ops->config_free(cfg);
    fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_good),
        cmocka_unit_test(config_refusals),
        cmocka_unit_test(config_secret_file),
        cmocka_unit_test(config_keys),
        cmocka_unit_test(sends_one_rr_update),
        cmocka_unit_test(secret_is_read_on_every_call),
        cmocka_unit_test(md5_and_unsigned),
        cmocka_unit_test(transport),
        cmocka_unit_test(replies_become_sentences),
        cmocka_unit_test(network_failures),
        cmocka_unit_test(splits_long_value),
        cmocka_unit_test(refused_before_sending),
    };

    zp_log_set_fd(open("/dev/null", O_WRONLY));
    return cmocka_run_group_tests(tests, setup, teardown);
}

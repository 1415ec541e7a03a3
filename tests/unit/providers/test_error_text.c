/*
 * test_error_text.c — what an HTTP-API provider quotes from an error reply
 * in the sentence a user reads (Challenge.status.reason): a credential the
 * reply echoes (GoDaddy's sso-key header, OVH's consumer key and
 * application secret, Hetzner's token, PowerDNS's api-key, acme-dns's
 * password, Azure's bearer token, httpreq's basic-auth password) is redacted, and no control
 * character survives, while the rest of the provider's message is still shown. Each provider runs
 * present for real against a scripted HTTP endpoint in a thread that answers its requests in order.
 * And the advice about a CNAME at the name: the webhook's names the Issuer's cnameStrategy, the
 * command line's (zp_prov_call.cli) names --follow-cname.
 */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/provider.h"

#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define GD_KEY "gdK3y3fA9x2Lm7QwZ"
#define GD_SECRET "gdS3cr3tP0o9I8u7Y6"
#define OVH_AS "ovhAppS3cr3t7Hj2Kl9Mn4Bv"
#define OVH_CK "ovhC0nsum3rK3y5Rt8Yu1Io6Pa"
#define HZ_TOKEN "hzTok3n-Qm4xV9s2LpW7eRt5YuI0oPaS"
#define PD_KEY "pdnsK3y-8c1f0a7e9b2d4c6f"
#define AD_PASS "acmeDnsPassw0rd-4f6g8h0j2k4l6z8x0c2v4b6n"
#define AZ_SECRET "azCl13ntS3cret~Qw8Er7Ty6.Ui5"
#define HR_PASS "httpreqPassw0rd-9Kd2Lm4Nb6Vc8Xz"
/* base64 of "zoneproof:" HR_PASS, as the Authorization header carries it */
#define HR_BASIC "em9uZXByb29mOmh0dHByZXFQYXNzdzByZC05S2QyTG00TmI2VmM4WHo="
#define AZ_TOKEN "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJhcm0ifQ.c2lnbmF0dXJlLXRlc3Q"

static char dir[64];

/* ---- a scripted HTTP endpoint ------------------------------------------------------------- */

struct reply {
    int status;
    const char *body;
};

struct endpoint {
    int fd;
    unsigned short port;
    pthread_t thread;
    const struct reply *replies;
    size_t n, next; /* next: written by the thread, read after endpoint_stop */
};

/* Reads one request: headers, then Content-Length bytes of body (ignored). */
static void read_request(int c)
{
    char req[65536];
    size_t n = 0;
    ssize_t k;

    while (n < sizeof(req) - 1 && (k = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
        const char *end, *cl;
        n += (size_t)k;
        req[n] = '\0';
        end = strstr(req, "\r\n\r\n");
        cl = strcasestr(req, "Content-Length:");
        if (end != NULL &&
            (cl == NULL || cl > end || n >= (size_t)(end + 4 - req) + strtoul(cl + 15, NULL, 10)))
            break;
    }
}

static void *endpoint_run(void *arg)
{
    struct endpoint *e = arg;
    char head[256];

    for (;;) {
        int c = accept(e->fd, NULL, NULL);
        const struct reply *r;

        if (c < 0)
            break;
        read_request(c);
        /* Past the script: a refusal no provider retries, so a missing reply shows in its test. */
        r = e->next < e->n ? &e->replies[e->next] : &(struct reply){418, "{}"};
        e->next++;
        snprintf(head, sizeof(head),
                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 r->status, strlen(r->body));
        if (write(c, head, strlen(head)) < 0 || write(c, r->body, strlen(r->body)) < 0)
            fail_msg("cannot answer a request");
        close(c);
    }
    return NULL;
}

static void endpoint_start(struct endpoint *e, const struct reply *replies, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);

    memset(e, 0, sizeof(*e));
    e->replies = replies;
    e->n = n;
    e->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(e->fd >= 0);
    assert_int_equal(bind(e->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(e->fd, 8), 0);
    assert_int_equal(getsockname(e->fd, (struct sockaddr *)&a, &len), 0);
    e->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&e->thread, NULL, endpoint_run, e), 0);
}

static void endpoint_stop(struct endpoint *e)
{
    shutdown(e->fd, SHUT_RDWR);
    close(e->fd);
    pthread_join(e->thread, NULL);
}

/* ---- one provider's present --------------------------------------------------------------- */

static void write_file(const char *name, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/zp-errtext-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    write_file("gdk", GD_KEY);
    write_file("gds", GD_SECRET);
    write_file("ovhas", OVH_AS);
    write_file("ovhck", OVH_CK);
    write_file("hz", HZ_TOKEN);
    write_file("pd", PD_KEY);
    write_file("az", AZ_SECRET);
    write_file("hr", HR_PASS);
    write_file("accounts.json",
               "{\"www.example.test\":{\"username\":\"c36f50e8-4632-44f0-83fe-e070fef28a10\","
               "\"password\":\"" AD_PASS "\",\"fulldomain\":\"d420c923.auth.example.org\","
               "\"subdomain\":\"d420c923\"}}");
    zp_log_set_level(ZP_LOG_ERROR);
    return 0;
}

static int teardown(void **state)
{
    static const char *const names[] = {"gdk", "gds", "ovhas", "ovhck",        "hz",
                                        "pd",  "az",  "hr",    "accounts.json"};
    char path[128];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}

/* settings with "{url}" (the endpoint's http://127.0.0.1:port) and "{dir}" filled in. */
static void fill(const char *settings, unsigned short port, struct zp_buf *out)
{
    for (const char *p = settings; *p;) {
        if (strncmp(p, "{url}", 5) == 0) {
            zp_buf_printf(out, "http://127.0.0.1:%u", port);
            p += 5;
        } else if (strncmp(p, "{dir}", 5) == 0) {
            zp_buf_puts(out, dir);
            p += 5;
        } else {
            zp_buf_append(out, p++, 1);
        }
    }
    assert_true(zp_buf_ok(out));
}

/* Runs present of a type's instance for a record in zone against replies, asked as the CLI when
 * cli; its sentence in err. */
static void present_in(const char *type, const char *settings, const char *zone,
                       const struct reply *replies, size_t n, int cli, struct zp_err *err)
{
    const struct zp_provider_ops *ops = zp_provider_find(type);
    const struct zp_record rec = {
        .fqdn = "_acme-challenge.www.example.test.", .zone = zone, .value = VALUE, .ttl = 60};
    struct zp_prov_call call = {.deadline_ms = zp_now_ms() + 20000, .instance = type, .cli = cli};
    struct zp_ydoc doc = {0};
    struct endpoint e;
    struct zp_buf y;
    void *cfg = NULL;

    assert_non_null(ops);
    endpoint_start(&e, replies, n);
    zp_buf_init(&y, 4096);
    fill(settings, e.port, &y);
    zp_err_clear(err);
    if (zp_yaml_load_string("test.yaml", y.data, y.len, &doc, err) == -1 ||
        ops->config_parse(doc.root, "providers[0]", &cfg, err) == -1)
        fail_msg("%s: %s", type, err->msg);
    assert_int_equal(ops->present(cfg, &rec, &call, err), -1);
    ops->config_free(cfg);
    zp_yaml_free(&doc);
    zp_buf_free(&y);
    endpoint_stop(&e);
    if (e.next != n)
        fail_msg("%s: %zu requests for %zu replies: %s", type, e.next, n, err->msg);
}

/* present_in for the record in example.test. */
static void present_as(const char *type, const char *settings, const struct reply *replies,
                       size_t n, int cli, struct zp_err *err)
{
    present_in(type, settings, "example.test.", replies, n, cli, err);
}

/* present_as for the webhook. */
static void present(const char *type, const char *settings, const struct reply *replies, size_t n,
                    struct zp_err *err)
{
    present_as(type, settings, replies, n, 0, err);
}

/* The sentence quotes the provider (want), with secrets redacted and no control character. */
static void check(const struct zp_err *err, const char *want, const char *const *secrets)
{
    for (size_t i = 0; secrets[i] != NULL; i++)
        if (strstr(err->msg, secrets[i]) != NULL)
            fail_msg("the sentence quotes %s: %s", secrets[i], err->msg);
    for (const char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            fail_msg("the sentence holds the control character 0x%02x: %s", *p, err->msg);
    if (strstr(err->msg, "[REDACTED]") == NULL || strstr(err->msg, want) == NULL)
        fail_msg("the sentence lost the provider's words (want \"%s\"): %s", want, err->msg);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* GoDaddy's 422 message, its fields' messages and paths echo the sso-key header. */
static void godaddy_echo(void **state)
{
    static const struct reply r[] = {
        {200, "[]"},
        {422, "{\"code\":\"INVALID_BODY\",\"message\":\"Authorization: sso-key " GD_KEY
              ":" GD_SECRET " was\\u001b[2J rejected\",\"fields\":[{\"code\":\"X\",\"message\":"
              "\"secret " GD_SECRET " is\\nnot valid\",\"path\":\"" GD_KEY "\"}]}"},
    };
    const char *const secrets[] = {GD_KEY, GD_SECRET, NULL};
    struct zp_err err;

    (void)state;
    present("godaddy", "endpoint: \"{url}\"\napiKeyFile: {dir}/gdk\napiSecretFile: {dir}/gds\n", r,
            2, &err);
    assert_int_equal(err.kind, ZP_EINVAL);
    check(&err, "rejected", secrets);
    assert_non_null(strstr(err.msg, "is not valid"));
}

/* OVH's message echoes the consumer key and the application secret. */
static void ovh_echo(void **state)
{
    static const struct reply r[] = {
        {200, "1767322800"},
        {200, "[]"},
        {400, "{\"class\":\"Client::BadRequest\",\"errorCode\":\"X\",\"message\":\"consumer "
              "key " OVH_CK "\\r\\nsigned with " OVH_AS " is unknown here\"}"},
    };
    const char *const secrets[] = {OVH_CK, OVH_AS, NULL};
    struct zp_err err;

    (void)state;
    present("ovh",
            "endpoint: \"{url}/1.0\"\napplicationKey: 7kbG7Bk7S9Nt7ZSV\n"
            "applicationSecretFile: {dir}/ovhas\nconsumerKeyFile: {dir}/ovhck\n",
            r, 3, &err);
    assert_int_equal(err.kind, ZP_EINVAL);
    check(&err, "is unknown here", secrets);
}

/* Hetzner's invalid_input message and its field messages echo the bearer token. */
static void hetzner_echo(void **state)
{
    static const struct reply r[] = {
        {200, "{\"zone\":{\"id\":4711,\"name\":\"example.test\",\"mode\":\"primary\"}}"},
        {404, "{\"error\":{\"code\":\"not_found\",\"message\":\"not found\"}}"},
        {400, "{\"error\":{\"code\":\"invalid_input\",\"message\":\"token " HZ_TOKEN
              "\\u007f is not allowed\",\"details\":{\"fields\":[{\"name\":\"auth\","
              "\"messages\":[\"Bearer " HZ_TOKEN "\"]}]}}}"},
    };
    const char *const secrets[] = {HZ_TOKEN, NULL};
    struct zp_err err;

    (void)state;
    present("hetzner", "endpoint: \"{url}/v1\"\napiTokenFile: {dir}/hz\n", r, 3, &err);
    assert_int_equal(err.kind, ZP_EINVAL);
    check(&err, "is not allowed", secrets);
}

/* PowerDNS's 422 "error" echoes the api-key. */
static void powerdns_echo(void **state)
{
    static const struct reply r[] = {
        {200, "{\"daemon_type\":\"authoritative\",\"version\":\"5.1.0\"}"},
        {200, "{\"name\":\"example.test.\",\"kind\":\"Native\",\"rrsets\":[]}"},
        {422, "{\"error\":\"X-API-Key " PD_KEY "\\n is read-only\"}"},
    };
    const char *const secrets[] = {PD_KEY, NULL};
    struct zp_err err;

    (void)state;
    present("powerdns", "endpoint: \"{url}\"\napiKeyFile: {dir}/pd\n", r, 3, &err);
    assert_int_equal(err.kind, ZP_EINVAL);
    check(&err, "is read-only", secrets);
}

/* acme-dns's "error" echoes the account's password. */
static void acmedns_echo(void **state)
{
    static const struct reply r[] = {
        {403, "{\"error\": \"forbidden for " AD_PASS "\\t\"}"},
    };
    const char *const secrets[] = {AD_PASS, NULL};
    struct zp_err err;

    (void)state;
    present("acmedns", "endpoint: \"{url}\"\nnameserver: none\naccountsFile: {dir}/accounts.json\n",
            r, 1, &err);
    check(&err, "forbidden for", secrets);
}

/* Azure Resource Manager's error code echoes the bearer token Entra ID handed out. */
static void azuredns_echo(void **state)
{
    static const struct reply r[] = {
        {200, "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" AZ_TOKEN "\"}"},
        {400, "{\"error\":{\"code\":\"Bearer " AZ_TOKEN "\\u001b is invalid\",\"message\":\"x\"}}"},
    };
    const char *const secrets[] = {AZ_TOKEN, AZ_SECRET, NULL};
    struct zp_err err;

    (void)state;
    present("azuredns",
            "subscriptionId: 5f2b5bd2-3c3a-4a0b-9d6e-1a2b3c4d5e6f\nresourceGroup: dns\n"
            "tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47\n"
            "clientId: 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\nclientSecretFile: {dir}/az\n"
            "endpoint: \"{url}\"\nauthorityEndpoint: \"{url}\"\n",
            r, 2, &err);
    assert_int_equal(err.kind, ZP_EINVAL);
    check(&err, "is invalid", secrets);
}

/* A careless httpreq service repeats the user:password pair and the Authorization header. */
static void httpreq_echo(void **state)
{
    static const struct reply r[] = {
        {400, "{\"message\":\"was refused: request from zoneproof:" HR_PASS "\\u001b[2J "
              "(Authorization: Basic " HR_BASIC ")\"}"},
    };
    const char *const secrets[] = {HR_PASS, HR_BASIC, NULL};
    struct zp_err err;

    (void)state;
    present("httpreq", "endpoint: \"{url}/acme\"\nusername: zoneproof\npasswordFile: {dir}/hr\n", r,
            1, &err);
    assert_int_equal(err.kind, ZP_EINVAL);
    check(&err, "was refused", secrets);
}

/* ---- the advice about a CNAME at the name ------------------------------------------------- */

#define PD_SETTINGS "endpoint: \"{url}\"\napiKeyFile: {dir}/pd\n"
#define PD_CNAME_ZONE                                                                              \
    "{\"name\":\"example.test.\",\"kind\":\"Native\",\"rrsets\":[{\"name\":"                       \
    "\"_acme-challenge.www.example.test.\",\"type\":\"CNAME\",\"ttl\":60,\"records\":[{"           \
    "\"content\":\"elsewhere.example.net.\",\"disabled\":false}],\"comments\":[]}]}"
#define PD_CNAME_SAID                                                                              \
    "_acme-challenge.www.example.test. is an alias (CNAME) of elsewhere.example.net. in zone "     \
    "example.test. on PowerDNS server \"localhost\", so it cannot hold TXT records; "
#define PD_CNAME_THEN                                                                              \
    " so the value is written at elsewhere.example.net., and list that name's zone in dnsZones"

/* PowerDNS refuses a TXT beside a CNAME: the webhook's sentence as it was, the CLI's its flag. */
static void powerdns_cname_advice(void **state)
{
    static const struct reply r[] = {
        {200, "{\"daemon_type\":\"authoritative\",\"version\":\"5.1.0\"}"},
        {200, PD_CNAME_ZONE},
    };
    struct zp_err err;

    (void)state;
    present_as("powerdns", PD_SETTINGS, r, 2, 0, &err);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_string_equal(err.msg, PD_CNAME_SAID
                        "set cnameStrategy: Follow on the Issuer's solver" PD_CNAME_THEN);
    present_as("powerdns", PD_SETTINGS, r, 2, 1, &err);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_string_equal(err.msg, PD_CNAME_SAID
                        "pass --follow-cname (or set followCNAME: true)" PD_CNAME_THEN);
}

/* acme-dns writes at the account's fulldomain: the warning names the Issuer's setting or the flag.
 */
static void acmedns_follow_advice(void **state)
{
    static const struct reply r[] = {{403, "{\"error\": \"forbidden\"}"}};
    static const char *const said[] = {
        "set cnameStrategy: Follow on the Issuer's solver so propagation is checked where the "
        "value is served",
        "pass --follow-cname (or set followCNAME: true) so propagation is checked where the value "
        "is served"};
    struct zp_err err;
    char logs[16384];
    ssize_t n;
    int fds[2];

    (void)state;
    for (int cli = 0; cli < 2; cli++) {
        assert_int_equal(pipe(fds), 0);
        zp_log_set_level(ZP_LOG_WARN);
        zp_log_set_fd(fds[1]);
        present_as("acmedns",
                   "endpoint: \"{url}\"\nnameserver: none\naccountsFile: {dir}/accounts.json\n", r,
                   1, cli, &err);
        zp_log_set_fd(2);
        zp_log_set_level(ZP_LOG_ERROR);
        close(fds[1]);
        n = read(fds[0], logs, sizeof(logs) - 1);
        close(fds[0]);
        assert_true(n > 0);
        logs[n] = '\0';
        if (strstr(logs, said[cli]) == NULL || strstr(logs, said[!cli]) != NULL)
            fail_msg("cli %d: want \"%s\" alone in: %s", cli, said[cli], logs);
    }
}

/* ---- what cert-manager does, and what a command-line user does instead --------------------- */

/* s ends with tail. */
static void ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    if (n < k || strcmp(s + n - k, tail) != 0)
        fail_msg("want the end \"%s\" in: %s", tail, s);
}

/* The zone cert-manager found, or on the command line --zone, discovery or dnsZones. */
static void powerdns_zone_unheld(void **state)
{
    static const char *const said[] = {
        "_acme-challenge.www.example.test. is not inside zone other.test.; the zone cert-manager "
        "found does not hold the name",
        "_acme-challenge.www.example.test. is not inside zone other.test.; the zone taken from "
        "--zone, zone discovery or dnsZones does not hold the name"};
    struct zp_err err;

    (void)state;
    for (int cli = 0; cli < 2; cli++) {
        present_in("powerdns", PD_SETTINGS, "other.test.", NULL, 0, cli, &err);
        assert_int_equal(err.kind, ZP_ECONFIG);
        assert_string_equal(err.msg, said[cli]);
    }
}

/* A failing service: cert-manager retries; a command-line run may succeed later. */
static void httpreq_retry(void **state)
{
    static const struct reply r[] = {{500, "{}"}, {500, "{}"}, {500, "{}"}}; /* httpc tries 3 */
    static const char *const said[] = {
        "): it is failing or unavailable; its log says why, and cert-manager retries",
        "): it is failing or unavailable; its log says why, and a later run may succeed"};
    struct zp_err err;

    (void)state;
    for (int cli = 0; cli < 2; cli++) {
        present_as("httpreq", "endpoint: \"{url}/acme\"\n", r, 3, cli, &err);
        assert_int_equal(err.kind, ZP_ETRANSIENT);
        ends_with(err.msg, said[cli]);
    }
}

/* Cloudflare refuses a TXT beside a CNAME: who follows it is cert-manager, or --follow-cname. */
static void cloudflare_cname_follower(void **state)
{
    static const struct reply r[] = {
        {200, "{\"success\":true,\"errors\":[],\"result\":[],\"result_info\":{\"page\":1,"
              "\"per_page\":100,\"count\":0,\"total_count\":0,\"total_pages\":1}}"},
        {400, "{\"success\":false,\"errors\":[{\"code\":81054,\"message\":\"A CNAME record "
              "with that host already exists.\"}],\"result\":null}"},
    };
    static const char *const said[] = {"(cert-manager follows it)", "(--follow-cname follows it)"};
    struct zp_err err;
    char want[512];

    (void)state;
    for (int cli = 0; cli < 2; cli++) {
        present_as("cloudflare",
                   "endpoint: \"{url}/client/v4\"\napiTokenFile: {dir}/pd\n"
                   "zoneId: 0123456789abcdef0123456789abcdef\n",
                   r, 2, cli, &err);
        assert_int_equal(err.kind, ZP_EINVAL);
        snprintf(want, sizeof(want),
                 "Cloudflare: a CNAME record sits at _acme-challenge.www.example.test (error "
                 "81054) and no TXT record may sit beside it; remove the CNAME, or list the zone "
                 "it points to in dnsZones %s",
                 said[cli]);
        assert_string_equal(err.msg, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(godaddy_echo),          cmocka_unit_test(ovh_echo),
        cmocka_unit_test(hetzner_echo),          cmocka_unit_test(powerdns_echo),
        cmocka_unit_test(acmedns_echo),          cmocka_unit_test(azuredns_echo),
        cmocka_unit_test(httpreq_echo),          cmocka_unit_test(powerdns_cname_advice),
        cmocka_unit_test(acmedns_follow_advice), cmocka_unit_test(powerdns_zone_unheld),
        cmocka_unit_test(httpreq_retry),         cmocka_unit_test(cloudflare_cname_follower),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}

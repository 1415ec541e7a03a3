/*
 * fuzz_provcall.c — the HTTP-API providers' readers of their APIs' replies,
 * run the way the solver runs them: one present, cleanup or verify of a
 * hetzner, powerdns, acmedns, godaddy, ovh, azuredns, clouddns or httpreq
 * instance,
 * answered by replies taken from the input. That covers each reader in the
 * order its provider meets it (zone lookup, record set, write, status poll,
 * error body) and the Entra ID and Google token endpoints (client secret,
 * workload identity, service-account key, metadata server) that come first.
 * zp_http_call and zp_ratelimit_take are replaced at link time (--wrap), so
 * the readers need no hook of their own and nothing leaves the process.
 *
 * Input: a first line "<type> <present|cleanup|verify> [cred|zone|ambient]",
 * then replies separated by "\n%%\n", each "<status>\n<body>"; a status
 * below 100 is a request that got no answer. "cred": the first part is the
 * instance's credential file instead (a token, acme-dns's accounts,
 * httpreq's password, the Google key file; type rfc2136 reads only its TSIG secret file, at
 * configuration). "zone": the instance names its zone. "ambient": the
 * pod's identity (Azure workload identity, GKE's metadata server).
 *
 * Checks what a user sees and what the API is sent: a failed call has a
 * kind and a sentence that is non-empty, fits its buffer, holds no control
 * character and none of the call's credentials (the planted files' values,
 * the tokens the token endpoints handed out, the assertions sent); a call
 * that succeeds sets no kind; every request has a URL without blanks or
 * control characters and header lines without CR or LF.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/provider.h"

#define FQDN "_acme-challenge.www.example.test."
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define SEP "\n%%\n"

/* The credentials the instances hold: none may reach a sentence. */
#define HZ_TOKEN "hzTok3n-Qm4xV9s2LpW7eRt5YuI0oPaS"
#define PD_KEY "pdnsK3y-8c1f0a7e9b2d4c6f"
#define GD_KEY "gdK3y3fA9x2Lm7QwZ"
#define GD_SECRET "gdS3cr3tP0o9I8u7Y6"
#define OVH_AS "ovhAppS3cr3t7Hj2Kl9Mn4Bv"
#define OVH_CK "ovhC0nsum3rK3y5Rt8Yu1Io6Pa"
#define AZ_SECRET "azCl13ntS3cret~Qw8Er7Ty6.Ui5"
#define AZ_ASSERTION "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ6cCJ9.c2lnbmF0dXJlLXBvZC10b2tlbg"
#define AD_PASS "acmeDnsPassw0rd-4f6g8h0j2k4l6z8x0c2v4b6n"
#define HR_PASS "httpreqPassw0rd-9Kd2Lm4Nb6Vc8Xz"
/* base64 of "zoneproof:" HR_PASS, as the Authorization header carries it */
#define HR_BASIC "em9uZXByb29mOmh0dHByZXFQYXNzdzByZC05S2QyTG00TmI2VmM4WHo="

enum {
    F_HZ,
    F_PD,
    F_GD_KEY,
    F_GD_SECRET,
    F_OVH_AS,
    F_OVH_CK,
    F_AZ,
    F_AZ_FED,
    F_GSA,
    F_AD,
    F_HR,
    F_CRED,
    F_N
};
enum {
    P_HETZNER,
    P_POWERDNS,
    P_ACMEDNS,
    P_GODADDY,
    P_OVH,
    P_AZUREDNS,
    P_CLOUDDNS,
    P_HTTPREQ,
    P_RFC2136,
    P_N
};
enum { V_NONE, V_CRED, V_ZONE, V_AMBIENT };

static const char *const types[P_N] = {"hetzner",  "powerdns", "acmedns", "godaddy", "ovh",
                                       "azuredns", "clouddns", "httpreq", "rfc2136"};
static char dir[64], paths[F_N][128];
static char *pem_slice; /* a stretch of the Google key's PEM: a secret too */

/* The replies not yet handed out, and what the requests carried. */
static const char *rest;
static size_t rest_len;
#define CAPTURED_MAX 16
static char *captured[CAPTURED_MAX];
static size_t n_captured;
static char config_text[4096]; /* what the instance was told: text a sentence may quote */
static int trace;              /* ZP_FUZZ_TRACE set: each request and the outcome on stderr */
static int any_host;           /* the input wrote a key file, whose token_uri may name any */

static void fail(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz_provcall: %s: %s\n", why, detail);
    abort();
}

/* ---- the instances' files ------------------------------------------------------------------ */

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        fail("cannot write", path);
}

/* A service-account key file with a fresh RSA key (1024 bits: signing is on every run). */
static void write_google_key(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    BIO *b = BIO_new(BIO_s_mem());
    cJSON *j = cJSON_CreateObject();
    char *pem, *text;
    long n;

    if (k == NULL || b == NULL || j == NULL ||
        !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
        fail("cannot make", "an RSA key");
    n = BIO_get_mem_data(b, &pem);
    pem = zp_xstrndup(pem, (size_t)n);
    pem_slice = zp_xstrndup(strchr(pem, '\n') + 1, 32);
    cJSON_AddStringToObject(j, "type", "service_account");
    cJSON_AddStringToObject(j, "project_id", "zp-test");
    cJSON_AddStringToObject(j, "private_key_id", "0123456789abcdef0123456789abcdef01234567");
    cJSON_AddStringToObject(j, "private_key", pem);
    cJSON_AddStringToObject(j, "client_email", "zoneproof@zp-test.iam.gserviceaccount.com");
    cJSON_AddStringToObject(j, "token_uri", "https://oauth2.googleapis.test/token");
    if ((text = cJSON_PrintUnformatted(j)) == NULL)
        fail("cannot print", "the key file");
    write_file(paths[F_GSA], text, strlen(text));
    free(text);
    free(pem);
    cJSON_Delete(j);
    BIO_free(b);
    EVP_PKEY_free(k);
}

static void remove_files(void)
{
    for (int i = 0; i < F_N; i++)
        unlink(paths[i]);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const names[F_N] = {"hz",    "pd",  "gdk",   "gds",      "ovhas",
                                           "ovhck", "az",  "azfed", "gsa.json", "accounts.json",
                                           "hr",    "cred"};
    static const char accounts[] =
        "{\"www.example.test\":{\"username\":\"c36f50e8-4632-44f0-83fe-e070fef28a10\","
        "\"password\":\"" AD_PASS "\",\"fulldomain\":\"d420c923-bbd7-4056-ab64-c3ca54c9b3cf."
        "auth.example.org\",\"subdomain\":\"d420c923-bbd7-4056-ab64-c3ca54c9b3cf\","
        "\"allowfrom\":[]}}";
    const char *const values[] = {HZ_TOKEN, PD_KEY, GD_KEY,    GD_SECRET,
                                  OVH_AS,   OVH_CK, AZ_SECRET, AZ_ASSERTION};

    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/zp-fuzz-provcall-XXXXXX");
    if (mkdtemp(dir) == NULL)
        fail("cannot make", dir);
    for (int i = 0; i < F_N; i++)
        snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]);
    for (int i = 0; i <= F_AZ_FED; i++)
        write_file(paths[i], values[i], strlen(values[i]));
    write_file(paths[F_AD], accounts, strlen(accounts));
    write_file(paths[F_HR], HR_PASS, strlen(HR_PASS));
    write_google_key();
    atexit(remove_files);
    setenv("AZURE_FEDERATED_TOKEN_FILE", paths[F_AZ_FED], 1);
    setenv("GCE_METADATA_HOST", "metadata.test", 1);
    zp_clock_set_mode(ZP_CLOCK_FAST); /* polls and backoffs cost nothing; deadlines still end */
    zp_log_set_fd(open("/dev/null", O_WRONLY));
    zp_log_set_level(ZP_LOG_WARN);
    trace = getenv("ZP_FUZZ_TRACE") != NULL;
    return 0;
}

/* ---- the HTTP client, replaced --------------------------------------------------------------- */

int __wrap_zp_ratelimit_take(const char *key, double rate, double burst, uint64_t deadline_ms,
                             const char *what, struct zp_err *err);
int __wrap_zp_http_call(const struct zp_http_req *req, struct zp_http_resp *resp,
                        struct zp_err *err);

int __wrap_zp_ratelimit_take(const char *key, double rate, double burst, uint64_t deadline_ms,
                             const char *what, struct zp_err *err)
{
    (void)key, (void)rate, (void)burst, (void)deadline_ms, (void)what, (void)err;
    return 0;
}

static void capture(const char *p, size_t n)
{
    if (n >= 16 && n_captured < CAPTURED_MAX)
        captured[n_captured++] = zp_xstrndup(p, n);
}

/*
 * A URL to the configured host, with nothing a server could read as the end
 * of it; headers that stay one line each.
 */
static void check_request(const struct zp_http_req *req)
{
    /* Where the instances were told to call: no reply may send a request elsewhere. */
    static const char *const hosts[] = {
        "https://api.hetzner.test/v1/",
        "http://pdns.test:8081/api/v1/",
        "https://acme-dns.test/",
        "https://dns-api.test/acme/",
        "https://api.godaddy.test/",
        "https://eu.api.ovh.test/1.0/",
        "https://management.azure.test/",
        "https://login.microsoftonline.test/",
        "https://dns.googleapis.test/dns/v1/",
        "https://oauth2.googleapis.test/",
        "http://metadata.test/",
    };
    const char *b = req->body ? req->body : "", *v;
    size_t i = 0;

    if (req->url == NULL || req->method == NULL || req->what == NULL)
        fail("request without", "url, method or what");
    while (i < sizeof(hosts) / sizeof(hosts[0]) && strncmp(req->url, hosts[i], strlen(hosts[i])))
        i++;
    if (i == sizeof(hosts) / sizeof(hosts[0]) && !any_host)
        fail("request to a host the instance does not name", req->url);
    for (const char *p = req->url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            fail("URL with a blank or control character", req->url);
    for (const char *const *h = req->headers; h != NULL && *h != NULL; h++) {
        if (strpbrk(*h, "\r\n") != NULL)
            fail("header with CR or LF", *h);
        if (strncmp(*h, "Authorization: Bearer ", 22) == 0)
            capture(*h + 22, strlen(*h + 22));
    }
    /* What a token request sends: the assertion, or the client secret. */
    if ((v = strstr(b, "assertion=")) != NULL)
        capture(v + 10, strcspn(v + 10, "&"));
}

/* The next reply of the input: [*p, *p + *n). -1 when there is none left. */
static int next_reply(const char **p, size_t *n)
{
    const char *sep;

    if (rest == NULL)
        return -1;
    *p = rest;
    sep = memmem(rest, rest_len, SEP, strlen(SEP));
    *n = sep ? (size_t)(sep - rest) : rest_len;
    rest_len -= sep ? *n + strlen(SEP) : rest_len;
    rest = sep ? sep + strlen(SEP) : NULL;
    return 0;
}

int __wrap_zp_http_call(const struct zp_http_req *req, struct zp_http_resp *resp,
                        struct zp_err *err)
{
    const char *p;
    size_t n, i = 0;
    long status = 0;

    check_request(req);
    if (trace) /* for whoever writes a seed: which reply answers which request */
        fprintf(stderr, "request: %s %s\n", req->method, req->url);
    zp_buf_reset(&resp->body);
    zp_buf_reset(&resp->headers);
    resp->body.max = req->max_response ? req->max_response : ZP_HTTP_BODY_MAX;
    resp->status = 0;
    resp->retry_after_ms = 0;
    if (next_reply(&p, &n) == -1)
        return zp_err_set(err, ZP_ETIMEOUT, "%s did not answer in time", req->what);
    while (i < n && i < 3 && p[i] >= '0' && p[i] <= '9')
        status = status * 10 + (p[i++] - '0');
    while (i < n && p[i] != '\n')
        i++;
    i += i < n;
    if (status < 100)
        return zp_err_set(err, ZP_ETRANSIENT, "cannot reach %s: connection refused", req->what);
    if (zp_buf_append(&resp->body, p + i, n - i) == -1)
        return zp_err_set(err, ZP_ETRANSIENT, "%s answered with more than %zu bytes", req->what,
                          resp->body.max);
    resp->status = status;
    if (status == 429) { /* what the real client says once a 429 cannot be waited out */
        zp_err_set(err, ZP_ERATELIMIT, "rate limited by %s (the driver's stand-in)", req->what);
        err->upstream = 429;
        return -1;
    }
    return 0;
}

/* ---- one call ------------------------------------------------------------------------------ */

/* The instance's settings; cred replaces its main credential file. */
static void settings(int type, int variant, const char *cred, struct zp_buf *y)
{
    int zone = variant == V_ZONE;

    switch (type) {
    case P_HETZNER:
        zp_buf_printf(y, "endpoint: https://api.hetzner.test/v1\napiTokenFile: %s\n%s",
                      cred ? cred : paths[F_HZ], zone ? "zone: \"4711\"\n" : "");
        break;
    case P_POWERDNS:
        zp_buf_printf(y, "endpoint: http://pdns.test:8081\nserverId: localhost\napiKeyFile: %s\n%s",
                      cred ? cred : paths[F_PD], zone ? "zone: example.test\n" : "");
        break;
    case P_ACMEDNS:
        zp_buf_printf(y, "endpoint: https://acme-dns.test\nnameserver: none\naccountsFile: %s\n",
                      cred ? cred : paths[F_AD]);
        break;
    case P_GODADDY:
        zp_buf_printf(
            y, "endpoint: https://api.godaddy.test\napiKeyFile: %s\napiSecretFile: %s\n%s",
            cred ? cred : paths[F_GD_KEY], paths[F_GD_SECRET], zone ? "zone: example.test\n" : "");
        break;
    case P_OVH:
        zp_buf_printf(y,
                      "endpoint: https://eu.api.ovh.test/1.0\napplicationKey: 7kbG7Bk7S9Nt7ZSV\n"
                      "applicationSecretFile: %s\nconsumerKeyFile: %s\n%s",
                      paths[F_OVH_AS], cred ? cred : paths[F_OVH_CK],
                      zone ? "zone: example.test\n" : "");
        break;
    case P_AZUREDNS:
        zp_buf_printf(y,
                      "subscriptionId: 5f2b5bd2-3c3a-4a0b-9d6e-1a2b3c4d5e6f\nresourceGroup: dns\n"
                      "tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47\n"
                      "clientId: 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\n"
                      "endpoint: https://management.azure.test\n"
                      "authorityEndpoint: https://login.microsoftonline.test\n%s%s%s%s",
                      variant == V_AMBIENT ? "" : "clientSecretFile: ",
                      variant == V_AMBIENT ? "" : (cred ? cred : paths[F_AZ]),
                      variant == V_AMBIENT ? "" : "\n", zone ? "zoneName: example.test\n" : "");
        break;
    case P_HTTPREQ:
        zp_buf_printf(
            y, "endpoint: https://dns-api.test/acme\nusername: zoneproof\npasswordFile: %s\n",
            cred ? cred : paths[F_HR]);
        break;
    case P_RFC2136: /* only its configuration: its calls are DNS messages (fuzz_dns) */
        zp_buf_printf(y, "nameserver: 127.0.0.1\ntsigKeyName: acme-key\ntsigSecretFile: %s\n",
                      cred ? cred : paths[F_PD]);
        break;
    default:
        zp_buf_printf(y, "project: zp-test\nendpoint: https://dns.googleapis.test/dns/v1\n%s%s%s%s",
                      variant == V_AMBIENT ? "" : "serviceAccountFile: ",
                      variant == V_AMBIENT ? "" : (cred ? cred : paths[F_GSA]),
                      variant == V_AMBIENT ? "" : "\n", zone ? "managedZone: zp-zone\n" : "");
        break;
    }
}

/*
 * The credential of the instance that msg quotes, or NULL. Only what the
 * instance holds counts: another's value may be any text of a reply.
 */
static const char *leaked(int type, int variant, const char *msg)
{
    int ambient = variant == V_AMBIENT;
    const char *const planted[P_N][3] = {
        [P_HETZNER] = {HZ_TOKEN},
        [P_POWERDNS] = {PD_KEY},
        [P_ACMEDNS] = {AD_PASS},
        [P_GODADDY] = {GD_KEY, GD_SECRET},
        [P_OVH] = {OVH_AS, OVH_CK},
        [P_AZUREDNS] = {ambient ? AZ_ASSERTION : AZ_SECRET},
        [P_CLOUDDNS] = {ambient ? NULL : pem_slice, "PRIVATE KEY"},
        [P_HTTPREQ] = {HR_PASS, HR_BASIC},
    };

    for (size_t i = 0; i < 3; i++)
        if (planted[type][i] != NULL && strstr(msg, planted[type][i]) != NULL)
            return planted[type][i];
    /* A token the input handed out may also be text the instance was told (a host name). */
    for (size_t i = 0; i < n_captured; i++)
        if (strstr(msg, captured[i]) != NULL && strstr(config_text, captured[i]) == NULL)
            return captured[i];
    return NULL;
}

/* The sentence a user reads (Challenge.status.reason, doctor, the log). */
static void check_outcome(int type, int variant, int rc, const struct zp_err *err)
{
    size_t n = strnlen(err->msg, sizeof(err->msg));
    const char *s;

    if (trace)
        fprintf(stderr, "outcome: %d %s: %s\n", rc, zp_errkind_name(err->kind), err->msg);

    if (n == sizeof(err->msg))
        fail("sentence without NUL", "");
    if (rc == -1 && (err->kind == ZP_EOK || n == 0))
        fail("failure without a kind or a sentence", err->msg);
    if (rc == 0 && err->kind != ZP_EOK)
        fail("success with an error kind", err->msg);
    if (rc != 0 && rc != -1)
        fail("return value", "neither 0 nor -1");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)err->msg[i] < 0x20 || err->msg[i] == 0x7f)
            fail("control character in the sentence", err->msg);
    /* A credential the input wrote may be any text, even words of a sentence. */
    if (variant != V_CRED && (s = leaked(type, variant, err->msg)) != NULL)
        fail(s, err->msg);
}

/* "<type> <op> [variant]": -1 for a line that names none. */
static int parse_first_line(const char *p, size_t n, int *type, int *op, int *variant)
{
    static const char *const ops[] = {"present", "cleanup", "verify"};
    static const char *const variants[] = {"", "cred", "zone", "ambient"};
    char line[64], w[3][24] = {"", "", ""};

    if (n >= sizeof(line))
        return -1;
    memcpy(line, p, n);
    line[n] = '\0';
    if (sscanf(line, "%23s %23s %23s", w[0], w[1], w[2]) < 2)
        return -1;
    *type = *op = *variant = -1;
    for (int i = 0; i < P_N; i++)
        if (strcmp(w[0], types[i]) == 0)
            *type = i;
    for (int i = 0; i < 3; i++)
        if (strcmp(w[1], ops[i]) == 0)
            *op = i;
    for (int i = 0; i < 4; i++)
        if (strcmp(w[2], variants[i]) == 0)
            *variant = i;
    return *type == -1 || *op == -1 || *variant == -1 ? -1 : 0;
}

static void run(int type, int op, int variant)
{
    const struct zp_provider_ops *ops = zp_provider_find(types[type]);
    const struct zp_record rec = {.fqdn = FQDN, .zone = "example.test.", .value = VALUE, .ttl = 60};
    struct zp_prov_call call = {.deadline_ms = zp_now_ms() + 60000,
                                .allow_ambient = variant == V_AMBIENT,
                                .resource_namespace = "cert-manager",
                                .instance = "fuzz"};
    struct zp_err err = {0};
    struct zp_ydoc doc = {0};
    struct zp_buf y;
    void *cfg = NULL;
    const char *cred = NULL, *p;
    size_t n;
    int rc;

    if (variant == V_CRED) {
        if (next_reply(&p, &n) == -1)
            return;
        write_file(paths[F_CRED], p, n);
        cred = paths[F_CRED];
    }
    any_host = cred != NULL && type == P_CLOUDDNS;
    zp_buf_init(&y, sizeof(config_text) - 1);
    settings(type, variant, cred, &y);
    zp_strlcpy(config_text, zp_buf_str(&y), sizeof(config_text));
    if (ops == NULL || zp_yaml_load_string("fuzz.yaml", y.data, y.len, &doc, &err) == -1)
        fail("cannot set up", types[type]);
    /* A credential from the input may be refused, with a sentence that never quotes it. */
    if (ops->config_parse(doc.root, "providers[0]", &cfg, &err) == -1) {
        check_outcome(type, variant, -1, &err);
        goto out;
    }
    /* rfc2136: its configuration only; verify is optional (acme-dns has none). */
    if (type == P_RFC2136 || (op == 2 && ops->verify == NULL)) {
        ops->config_free(cfg);
        goto out;
    }
    rc = op == 0   ? ops->present(cfg, &rec, &call, &err)
         : op == 1 ? ops->cleanup(cfg, &rec, &call, &err)
                   : ops->verify(cfg, &rec, &call, &err);
    check_outcome(type, variant, rc, &err);
    ops->config_free(cfg);
out:
    zp_yaml_free(&doc);
    zp_buf_free(&y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    int type, op, variant;

    if (nl == NULL || parse_first_line((const char *)data, (size_t)(nl - (const char *)data), &type,
                                       &op, &variant) == -1)
        return 0;
    rest = nl + 1;
    rest_len = size - (size_t)(nl + 1 - (const char *)data);
    n_captured = 0;
    run(type, op, variant);
    for (size_t i = 0; i < n_captured; i++)
        zp_free_secret(captured[i]);
    return 0;
}

/*
 * test_common.c — TXT quoting and comparison as the APIs store values
 * (quoted or raw, split into character-strings), endpoint settings,
 * credentials, and the one line a provider logs about an upstream reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/httpc.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/yaml.h"
#include "providers/common.h"
#include "providers/provider.h"

static void quoting(void **state)
{
    struct zp_buf b;

    zp_buf_init(&b, 256);
    assert_int_equal(zp_txt_quote("abc-_123", &b), 0);
    assert_string_equal(zp_buf_str(&b), "\"abc-_123\"");
    zp_buf_reset(&b);
    assert_int_equal(zp_txt_quote("a\"b\\c", &b), 0);
    assert_string_equal(zp_buf_str(&b), "\"a\\\"b\\\\c\"");
    zp_buf_free(&b);
}

static void equality_across_api_forms(void **state)
{
    assert_true(zp_txt_equal("\"abc\"", "abc"));      /* Cloudflare, PowerDNS, Route 53 */
    assert_true(zp_txt_equal("abc", "abc"));          /* DigitalOcean, Linode, Azure */
    assert_true(zp_txt_equal("\"ab\" \"c\"", "abc")); /* split character-strings */
    assert_true(zp_txt_equal("\"a\\\"b\"", "a\"b"));
    assert_false(zp_txt_equal("\"abc\"", "ab"));
    assert_false(zp_txt_equal("\"ab\"", "abc"));
    assert_false(zp_txt_equal("\"abcd\"", "abc"));
    assert_false(zp_txt_equal("abc ", "abc"));
    assert_false(zp_txt_equal("\"abc", "abc"));
    assert_true(zp_txt_equal("\"abc", "\"abc")); /* not quoted: compared as is */
}

static void endpoint_settings(void **state)
{
    struct zp_ydoc doc;
    struct zp_err err = {0};
    char *ep = NULL, *ca = NULL;
    const char *y1 = "endpoint: https://api.example.com/v4/\n";
    const char *y2 = "endpoint: ftp://x\n";
    const char *y3 = "caFile: /nonexistent/ca.pem\n";

    assert_int_equal(zp_yaml_load_string("c.yaml", y1, strlen(y1), &doc, &err), 0);
    assert_int_equal(zp_endpoint_parse(doc.root, "providers[0]", "https://default", &ep, &ca, &err),
                     0);
    assert_string_equal(ep, "https://api.example.com/v4");
    assert_null(ca);
    free(ep);
    zp_yaml_free(&doc);

    assert_int_equal(zp_yaml_load_string("c.yaml", y2, strlen(y2), &doc, &err), 0);
    assert_int_equal(zp_endpoint_parse(doc.root, "providers[0]", "https://default", &ep, &ca, &err),
                     -1);
    assert_non_null(
        strstr(err.msg, "c.yaml:1: providers[0]: endpoint \"ftp://x\" must start with"));
    zp_yaml_free(&doc);

    zp_err_clear(&err);
    assert_int_equal(zp_yaml_load_string("c.yaml", y3, strlen(y3), &doc, &err), 0);
    assert_int_equal(zp_endpoint_parse(doc.root, "providers[0]", "https://default", &ep, &ca, &err),
                     -1);
    assert_non_null(strstr(err.msg, "caFile /nonexistent/ca.pem cannot be read"));
    zp_yaml_free(&doc);
}

/* ---- credentials ---- */

#define CRED_VALUE "s3cr3t-T0KEN-value"

/* A Secret source holding one Secret, web/cf (token: " s3cr3t…\n"), and counting its calls. */
struct fake_src {
    int calls;
    char ns[64], name[64], key[64];
};

static int fake_secret_get(void *arg, const char *ns, const char *name, const char *key,
                           struct zp_buf *out, struct zp_err *err)
{
    struct fake_src *f = arg;

    f->calls++;
    snprintf(f->ns, sizeof(f->ns), "%s", ns);
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->key, sizeof(f->key), "%s", key);
    if (strcmp(ns, "web") != 0 || strcmp(name, "cf") != 0)
        return zp_err_set(err, ZP_ENOTFOUND, "secret %s/%s not found", ns, name);
    if (strcmp(key, "empty") == 0)
        return zp_buf_puts(out, " \n");
    if (strcmp(key, "token") != 0)
        return zp_err_set(err, ZP_ENOTFOUND, "secret %s/%s has no key %s (it has: token)", ns, name,
                          key);
    return zp_buf_puts(out, " " CRED_VALUE "\n");
}

static int load(const char *text, struct zp_ydoc *doc)
{
    struct zp_err err = {0};
    return zp_yaml_load_string("c.yaml", text, strlen(text), doc, &err);
}

/* Parses text's apiToken option; returns the rc and leaves the sentence in err. */
static int parse_cred(const char *text, int required, struct zp_cred *cred, struct zp_err *err)
{
    struct zp_ydoc doc;
    int rc;

    zp_err_clear(err);
    assert_int_equal(load(text, &doc), 0);
    rc = zp_cred_parse(doc.root, "providers[0]", "apiToken", required, cred, err);
    zp_yaml_free(&doc);
    if (rc == -1)
        assert_null(strstr(err->msg, CRED_VALUE));
    return rc;
}

static void cred_from_file(void **state)
{
    char file[] = "/tmp/zp-cred-XXXXXX", yaml[256];
    int fd = mkstemp(file);
    struct zp_cred cred;
    struct zp_err err = {0};
    struct zp_buf b;
    struct zp_prov_call call = {.resource_namespace = "web"};

    assert_true(fd >= 0);
    assert_int_equal(write(fd, CRED_VALUE "\n", strlen(CRED_VALUE) + 1),
                     (long)strlen(CRED_VALUE) + 1);
    close(fd);
    snprintf(yaml, sizeof(yaml), "apiTokenFile: %s\n", file);
    assert_int_equal(parse_cred(yaml, 1, &cred, &err), 0);
    assert_true(zp_cred_set(&cred));
    assert_string_equal(cred.setting, "apiTokenFile");
    assert_string_equal(cred.where, file);
    zp_buf_init(&b, 1024);
    /* No Kubernetes API is needed for a file. */
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), 0);
    assert_string_equal(zp_buf_str(&b), CRED_VALUE);
    zp_buf_free_secret(&b);

    /* Emptied after start: a sentence naming the setting and the file, no value. */
    fd = open(file, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    close(fd);
    zp_buf_init(&b, 1024);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), -1);
    assert_non_null(strstr(err.msg, "apiTokenFile"));
    assert_non_null(strstr(err.msg, "is empty"));
    zp_buf_free_secret(&b);
    zp_cred_free(&cred);

    /* An empty file fails at start. */
    assert_int_equal(parse_cred(yaml, 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "c.yaml:1: providers[0]: apiTokenFile"));
    unlink(file);
}

static void cred_from_secret_ref(void **state)
{
    struct zp_cred cred;
    struct zp_err err = {0};
    struct zp_buf b;
    struct fake_src src = {0};
    struct zp_prov_call call = {
        .resource_namespace = "web", .secret_get = fake_secret_get, .secret_arg = &src};

    assert_int_equal(parse_cred("apiTokenSecretRef:\n  name: cf\n  key: token\n", 1, &cred, &err),
                     0);
    assert_true(zp_cred_set(&cred));
    assert_string_equal(cred.setting, "apiTokenSecretRef");
    assert_string_equal(cred.where, "secret cf, key token");
    assert_null(cred.file);

    zp_buf_init(&b, 1024);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), 0);
    assert_string_equal(zp_buf_str(&b), CRED_VALUE); /* trimmed */
    assert_int_equal(src.calls, 1);
    assert_string_equal(src.ns, "web");
    assert_string_equal(src.name, "cf");
    assert_string_equal(src.key, "token");
    zp_buf_free_secret(&b);

    /* Another namespace: the source's sentence, prefixed with the option. */
    call.resource_namespace = "other";
    zp_buf_init(&b, 1024);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), -1);
    assert_int_equal(err.kind, ZP_ENOTFOUND);
    assert_string_equal(err.msg, "apiTokenSecretRef: secret other/cf not found");
    zp_buf_free_secret(&b);

    /* No namespace in the request: refused before any API call. */
    src.calls = 0;
    zp_err_clear(&err);
    call.resource_namespace = "";
    zp_buf_init(&b, 1024);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), -1);
    assert_non_null(strstr(err.msg, "apiTokenSecretRef: the challenge names no resourceNamespace"));
    call.resource_namespace = NULL;
    zp_err_clear(&err);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), -1);
    assert_non_null(strstr(err.msg, "no resourceNamespace"));
    assert_int_equal(src.calls, 0);
    zp_buf_free_secret(&b);

    /* No cluster configured. */
    zp_err_clear(&err);
    call.resource_namespace = "web";
    call.secret_get = NULL;
    zp_buf_init(&b, 1024);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), -1);
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_string_equal(err.msg,
                        "apiTokenSecretRef needs a Kubernetes API: run zoneproof serve in a "
                        "cluster or with --kubeconfig, or use apiTokenFile");
    zp_buf_free_secret(&b);
    zp_cred_free(&cred);

    /* An empty value. */
    call.secret_get = fake_secret_get;
    assert_int_equal(parse_cred("apiTokenSecretRef: {name: cf, key: empty}\n", 1, &cred, &err), 0);
    zp_err_clear(&err);
    zp_buf_init(&b, 1024);
    assert_int_equal(zp_cred_read(&cred, &call, &b, &err), -1);
    assert_string_equal(err.msg, "apiTokenSecretRef: key empty of secret web/cf is empty");
    zp_buf_free_secret(&b);
    zp_cred_free(&cred);
}

static void cred_settings_refused(void **state)
{
    struct zp_cred cred;
    struct zp_err err = {0};

    assert_int_equal(
        parse_cred("apiTokenFile: /x\napiTokenSecretRef: {name: cf, key: token}\n", 1, &cred, &err),
        -1);
    assert_non_null(strstr(err.msg, "apiTokenFile and apiTokenSecretRef are both set"));

    assert_int_equal(parse_cred("zone: example.com\n", 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "providers[0]: apiTokenFile or apiTokenSecretRef is required"));
    assert_int_equal(parse_cred("zone: example.com\n", 0, &cred, &err), 0);
    assert_false(zp_cred_set(&cred));
    zp_cred_free(&cred);

    assert_int_equal(parse_cred("apiTokenSecretRef: cf\n", 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "apiTokenSecretRef must be a mapping with name"));
    assert_int_equal(parse_cred("apiTokenSecretRef: {name: cf}\n", 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "providers[0].apiTokenSecretRef: key is required"));
    assert_int_equal(parse_cred("apiTokenSecretRef: {key: token}\n", 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "providers[0].apiTokenSecretRef: name is required"));
    assert_int_equal(parse_cred("apiTokenSecretRef: {name: Cf_X, key: token}\n", 1, &cred, &err),
                     -1);
    assert_non_null(strstr(err.msg, "name \"Cf_X\" is not a Secret's name"));
    assert_int_equal(parse_cred("apiTokenSecretRef: {name: cf, key: a/b}\n", 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "key \"a/b\" is not a key a Secret may have"));
    assert_int_equal(
        parse_cred("apiTokenSecretRef: {name: cf, key: token, namespace: x}\n", 1, &cred, &err),
        -1);
    assert_non_null(strstr(err.msg, "namespace"));
    assert_int_equal(parse_cred("apiTokenFile: /nonexistent/token\n", 1, &cred, &err), -1);
    assert_non_null(strstr(err.msg, "apiTokenFile"));
}

/*
 * What a provider logs about a reply it did not expect: its message, instance, fields and
 * status, and the body cut to ZP_PROV_LOG_BODY with a credential the API echoed redacted and
 * its control characters escaped: the log line stays one line, and never carries a secret.
 */
static void reply_log_line(void **state)
{
    static const char secret[] = "s3cr3t-T0ken-Echoed-9f8e7d";
    const char *vals[] = {secret, NULL};
    const char *fields[] = {"zone", "example.test.", "action", "present", NULL};
    struct zp_prov_call call = {.instance = "prod"};
    struct zp_http_resp r;
    char line[4096];
    ssize_t n;
    int fds[2];

    (void)state;
    zp_http_resp_init(&r);
    r.status = 403;
    assert_int_equal(zp_buf_printf(&r.body, "{\"error\":\"token %s refused\"}\n\x01", secret), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(zp_buf_printf(&r.body, "0123456789"), 0);
    assert_int_equal(pipe(fds), 0);
    zp_log_set_fd(fds[1]);
    zp_prov_log_reply(ZP_LOG_WARN, "lab: unexpected answer", &call, fields, &r, NULL, vals);
    zp_log_set_fd(2);
    close(fds[1]);
    n = read(fds[0], line, sizeof(line) - 1);
    close(fds[0]);
    assert_true(n > 0);
    line[n] = '\0';
    assert_non_null(strstr(line, "\"msg\":\"lab: unexpected answer\""));
    assert_non_null(strstr(line, "\"instance\":\"prod\""));
    assert_non_null(strstr(line, "\"zone\":\"example.test.\",\"action\":\"present\""));
    assert_non_null(strstr(line, "\"status\":403"));
    assert_null(strstr(line, secret));
    assert_non_null(strstr(line, "refused"));
    assert_non_null(strstr(line, "\\n\\u0001")); /* escaped: the line stays one JSON line */
    assert_null(strstr(line, "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789"));
    assert_ptr_equal(strchr(line, '\n'), line + n - 1); /* one line */
    zp_http_resp_free(&r);
}

/*
 * The token cache hands out a token only to a caller holding the credential
 * that bought it, only while it is fresh (its lifetime less the margin), and
 * forgets it when the API refused it.
 */
static void token_cache(void **state)
{
    struct zp_tokcache c;
    unsigned char k1[ZP_TOKCACHE_KEY], k2[ZP_TOKCACHE_KEY], none[ZP_TOKCACHE_KEY];
    char *t;

    (void)state;
    zp_clock_set_mode(ZP_CLOCK_MANUAL);
    zp_tokcache_init(&c);
    assert_int_equal(zp_tokcache_key("secret-one", 10, k1), 0);
    assert_int_equal(zp_tokcache_key("secret-two", 10, k2), 0);
    assert_int_equal(zp_tokcache_key(NULL, 0, none), 0);
    assert_memory_not_equal(k1, k2, sizeof(k1));
    assert_null(zp_tokcache_get(&c, k1));

    /* 3600 s with a 300 s margin: fresh for 3300 s, and only for the secret that bought it. */
    t = zp_tokcache_put(&c, k1, zp_xstrdup("tok-A"), 3600, 300);
    assert_string_equal(t, "tok-A");
    free(t);
    assert_null(zp_tokcache_get(&c, k2)); /* a rotated secret buys its own */
    assert_null(zp_tokcache_get(&c, none));
    zp_clock_advance(3299 * 1000u);
    t = zp_tokcache_get(&c, k1);
    assert_non_null(t);
    assert_string_equal(t, "tok-A");
    free(t);
    zp_clock_advance(1000u);
    assert_null(zp_tokcache_get(&c, k1));

    /* A lifetime shorter than twice the margin keeps half of it. */
    t = zp_tokcache_put(&c, none, zp_xstrdup("tok-B"), 60, 300);
    free(t);
    zp_clock_advance(29 * 1000u);
    assert_non_null(t = zp_tokcache_get(&c, none));
    free(t);
    zp_clock_advance(1000u);
    assert_null(zp_tokcache_get(&c, none));

    /* A refused token is forgotten; forgetting another one keeps it. */
    free(zp_tokcache_put(&c, k2, zp_xstrdup("tok-C"), 3600, 300));
    zp_tokcache_forget(&c, "tok-other");
    assert_non_null(t = zp_tokcache_get(&c, k2));
    free(t);
    zp_tokcache_forget(&c, "tok-C");
    assert_null(zp_tokcache_get(&c, k2));
    zp_tokcache_fini(&c);
    zp_clock_set_mode(ZP_CLOCK_REAL);
}

/*
 * A refusal table: the first row whose statuses and code match gives kind
 * and sentence, with {name} filled from the caller's values; with no row, a
 * 5xx is the provider's trouble and anything else an unexpected answer.
 */
static void refusal_table(void **state)
{
    static const struct zp_prov_refusal tab[] = {
        {401, 401, NULL, ZP_EAUTH, "{what} rejected the key in {setting} (HTTP {status})"},
        {400, 400, "CNAME", ZP_EINVAL, "a CNAME sits at {fqdn}; {unknown} stays"},
        {400, 499, NULL, ZP_EINVAL, "{what} refused to {doing} (HTTP {status})"},
        {0, 0, "Throttled", ZP_ERATELIMIT, "{what} throttles ({reason|no reason given})"},
        {0},
    };
    const char *const vars[] = {"what",  "Example DNS",  "setting", "apiKeyFile",
                                "doing", "add TXT at x", "fqdn",    "_acme-challenge.x",
                                NULL};
    struct zp_err err;

    (void)state;
    zp_err_clear(&err);
    assert_int_equal(zp_prov_refuse(tab, 401, "whatever", vars, &err), -1);
    assert_int_equal(err.kind, ZP_EAUTH);
    assert_int_equal(err.upstream, 401);
    assert_string_equal(err.msg, "Example DNS rejected the key in apiKeyFile (HTTP 401)");

    zp_err_clear(&err);
    zp_prov_refuse(tab, 400, "CNAME", vars, &err);
    assert_string_equal(err.msg, "a CNAME sits at _acme-challenge.x; {unknown} stays");
    zp_err_clear(&err);
    zp_prov_refuse(tab, 400, "OTHER", vars, &err); /* the code decides: the next row */
    assert_int_equal(err.kind, ZP_EINVAL);
    assert_string_equal(err.msg, "Example DNS refused to add TXT at x (HTTP 400)");

    /* A row for any status; {name|word} stands in for a value that is missing or empty. */
    zp_err_clear(&err);
    zp_prov_refuse(tab, 503, "Throttled", vars, &err);
    assert_int_equal(err.kind, ZP_ERATELIMIT);
    assert_string_equal(err.msg, "Example DNS throttles (no reason given)");
    const char *const with_reason[] = {"what", "Example DNS", "reason", "quota", NULL};
    zp_err_clear(&err);
    zp_prov_refuse(tab, 200, "Throttled", with_reason, &err);
    assert_string_equal(err.msg, "Example DNS throttles (quota)");

    zp_err_clear(&err);
    zp_prov_refuse(tab, 503, NULL, vars, &err);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_non_null(strstr(err.msg, "Example DNS answered HTTP 503 (server error) when asked to "
                                    "add TXT at x"));
    zp_err_clear(&err);
    zp_prov_refuse(NULL, 302, NULL, vars, &err);
    assert_int_equal(err.kind, ZP_EINTERNAL);
    assert_non_null(strstr(err.msg, "which its API does not describe"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting),
        cmocka_unit_test(equality_across_api_forms),
        cmocka_unit_test(endpoint_settings),
        cmocka_unit_test(cred_from_file),
        cmocka_unit_test(cred_from_secret_ref),
        cmocka_unit_test(cred_settings_refused),
        cmocka_unit_test(reply_log_line),
        cmocka_unit_test(token_cache),
        cmocka_unit_test(refusal_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

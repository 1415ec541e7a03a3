/*
 * test_api.c — the pure parts of the API server: routes, Content-Type,
 * Status and discovery documents, the ChallengePayload reply and decoding,
 * the front-proxy header rules and certificate checks, and the thread
 * hand-off.
 */
#include <sys/queue.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "solver/challenge.h"

#define G "acme.example.com"

/* ---- routes and content types ----------------------------------------------- */

static void test_route(void **state)
{
    (void)state;
    assert_int_equal(zp_api_route("/healthz", G, "zp"), ZP_ROUTE_HEALTH);
    assert_int_equal(zp_api_route("/livez", G, "zp"), ZP_ROUTE_HEALTH);
    assert_int_equal(zp_api_route("/readyz", G, "zp"), ZP_ROUTE_READY);
    assert_int_equal(zp_api_route("/healthz/ping", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/openapi/v2", G, "zp"), ZP_ROUTE_OPENAPI);
    assert_int_equal(zp_api_route("/openapi/v3/apis", G, "zp"), ZP_ROUTE_OPENAPI);
    assert_int_equal(zp_api_route("/openapix", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/apis", G, "zp"), ZP_ROUTE_APIS);
    assert_int_equal(zp_api_route("/apis/" G, G, "zp"), ZP_ROUTE_GROUP);
    assert_int_equal(zp_api_route("/apis/" G "/v1alpha1", G, "zp"), ZP_ROUTE_VERSION);
    assert_int_equal(zp_api_route("/apis/" G "/v1alpha1/zp", G, "zp"), ZP_ROUTE_SOLVER);
    assert_int_equal(zp_api_route("/apis/" G "/v1alpha1/zpx", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/apis/" G "/v1alpha1/zp/x", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/apis/" G "/v1", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/apis/" G "x", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/apis/other.com/v1alpha1", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/apisx", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("/", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route("", G, "zp"), ZP_ROUTE_NOT_FOUND);
    assert_int_equal(zp_api_route(NULL, G, "zp"), ZP_ROUTE_NOT_FOUND);
}

static void test_content_type(void **state)
{
    (void)state;
    assert_true(zp_api_json_content_type(NULL));
    assert_true(zp_api_json_content_type(""));
    assert_true(zp_api_json_content_type("application/json"));
    assert_true(zp_api_json_content_type("Application/JSON"));
    assert_true(zp_api_json_content_type("application/json; charset=utf-8"));
    assert_true(zp_api_json_content_type(" application/json ;charset=UTF-8"));
    assert_false(zp_api_json_content_type("text/plain"));
    assert_false(zp_api_json_content_type("application/jsonx"));
    assert_false(zp_api_json_content_type("application/yaml"));
    assert_false(zp_api_json_content_type("application/json-patch+json"));
    assert_false(zp_api_json_content_type(";charset=utf-8"));
}

/* ---- documents ---------------------------------------------------------------- */

static void check_json(char *got, const char *want)
{
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_status_json(void **state)
{
    (void)state;
    check_json(zp_api_status_json(404, "NotFound", "the server could not find it"),
               "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
               "\"message\":\"the server could not find it\",\"reason\":\"NotFound\","
               "\"code\":404}");
    check_json(zp_api_status_json(400, "BadRequest", "a \"quoted\" word"),
               "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
               "\"message\":\"a \\\"quoted\\\" word\",\"reason\":\"BadRequest\",\"code\":400}");
    check_json(zp_api_too_large_json(),
               "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
               "\"message\":\"Request entity too large: limit is 262144\","
               "\"reason\":\"RequestEntityTooLarge\",\"code\":413}");
}

static void test_discovery_json(void **state)
{
    (void)state;
    check_json(zp_api_group_list_json(G),
               "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{\"name\":\"" G "\","
               "\"versions\":[{\"groupVersion\":\"" G "/v1alpha1\",\"version\":\"v1alpha1\"}],"
               "\"preferredVersion\":{\"groupVersion\":\"" G "/v1alpha1\",\"version\":"
               "\"v1alpha1\"}}]}");
    check_json(zp_api_group_json(G),
               "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\",\"name\":\"" G "\","
               "\"versions\":[{\"groupVersion\":\"" G "/v1alpha1\",\"version\":\"v1alpha1\"}],"
               "\"preferredVersion\":{\"groupVersion\":\"" G "/v1alpha1\",\"version\":"
               "\"v1alpha1\"}}");
    check_json(zp_api_resource_list_json(G, "my-solver"),
               "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"" G
               "/v1alpha1\",\"resources\":[{\"name\":\"my-solver\",\"singularName\":"
               "\"ChallengePayload\",\"namespaced\":false,\"group\":"
               "\"webhook.acme.cert-manager.io\",\"version\":\"v1alpha1\",\"kind\":"
               "\"ChallengePayload\",\"verbs\":[\"create\"]}]}");
}

static void test_result_json(void **state)
{
    char *s;

    (void)state;
    check_json(zp_api_result_json("u1", 1, ZP_EOK, ""),
               "{\"apiVersion\":\"webhook.acme.cert-manager.io/v1alpha1\",\"kind\":"
               "\"ChallengePayload\",\"response\":{\"uid\":\"u1\",\"success\":true}}");
    check_json(zp_api_result_json(NULL, 0, ZP_EPERM, "token lacks DNS edit"),
               "{\"apiVersion\":\"webhook.acme.cert-manager.io/v1alpha1\",\"kind\":"
               "\"ChallengePayload\",\"response\":{\"uid\":\"\",\"success\":false,\"status\":"
               "{\"metadata\":{},\"status\":\"Failed\",\"reason\":\"Forbidden\",\"message\":"
               "\"token lacks DNS edit\"}}}");
    /* An empty message would read as success to cert-manager. */
    s = zp_api_result_json("", 0, ZP_EOK, "");
    assert_non_null(strstr(s, "\"reason\":\"InternalError\""));
    assert_null(strstr(s, "\"message\":\"\""));
    assert_non_null(strstr(s, "\"message\":\"the challenge failed"));
    free(s);
    s = zp_api_result_json("", 0, ZP_ETRANSIENT, NULL);
    assert_non_null(strstr(s, "\"message\":\"the challenge failed"));
    free(s);
}

static int decode(const char *body, struct zp_err *err)
{
    struct zp_challenge ch;

    zp_err_clear(err);
    return zp_api_decode(body, strlen(body), &ch, err);
}

static void test_decode(void **state)
{
    static const char good[] =
        "{\"apiVersion\":\"webhook.acme.cert-manager.io/v1alpha1\",\"kind\":\"ChallengePayload\","
        "\"request\":{\"uid\":\"abc\",\"action\":\"CleanUp\",\"type\":\"dns-01\",\"dnsName\":"
        "\"example.com\",\"key\":\"123d==\",\"resolvedFQDN\":\"_acme-challenge.Example.com.\","
        "\"resolvedZone\":\"example.com.\",\"config\":null}}";
    struct zp_challenge ch;
    struct zp_err err = {0};

    (void)state;
    assert_int_equal(decode("", &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(decode("{\"request\":", &err), -1);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    assert_int_equal(decode("[1]", &err), -1);
    assert_non_null(strstr(err.msg, "JSON object"));
    assert_int_equal(decode("{}", &err), -1);
    assert_string_equal(err.msg, "payload request field cannot be empty");
    assert_int_equal(decode("{\"request\":{}}", &err), -1);
    assert_string_equal(err.msg, "payload request field cannot be empty");
    assert_int_equal(decode("{\"request\":null}", &err), -1);
    assert_string_equal(err.msg, "payload request field cannot be empty");
    assert_int_equal(decode("{\"request\":{\"action\":\"Bogus\",\"key\":\"a\","
                            "\"resolvedFQDN\":\"a.example.com.\"}}",
                            &err),
                     -1);
    assert_non_null(strstr(err.msg, "Bogus"));

    zp_err_clear(&err);
    assert_int_equal(zp_api_decode(good, strlen(good), &ch, &err), 0);
    assert_int_equal(ch.action, ZP_CLEANUP);
    assert_string_equal(ch.uid, "abc");
    assert_string_equal(ch.key, "123d==");
    assert_string_equal(ch.fqdn, "_acme-challenge.example.com.");
    /* The length bounds the parse: trailing bytes past it are not read. */
    assert_int_equal(zp_api_decode("{}garbage", 2, &ch, &err), -1);
    assert_string_equal(err.msg, "payload request field cannot be empty");
}

/* ---- front-proxy headers ------------------------------------------------------- */

static char *user_h[] = {"X-Remote-User", "X-Other-User"};
static char *group_h[] = {"X-Remote-Group"};
static char *extra_p[] = {"X-Remote-Extra-"};
static const struct zp_authn_cfg hcfg = {
    .username_headers = user_h,
    .n_username_headers = 2,
    .group_headers = group_h,
    .n_group_headers = 1,
    .extra_prefixes = extra_p,
    .n_extra_prefixes = 1,
};

static void test_headers(void **state)
{
    struct evkeyvalq h;
    struct zp_identity id;
    struct zp_err err = {0};

    (void)state;
    TAILQ_INIT(&h);
    evhttp_add_header(&h, "x-other-user", "second");
    evhttp_add_header(&h, "X-Remote-User", "system:serviceaccount:cm:cm");
    evhttp_add_header(&h, "X-Remote-User", "ignored");
    evhttp_add_header(&h, "X-Remote-Group", "system:serviceaccounts");
    evhttp_add_header(&h, "x-remote-group", "a,b");
    evhttp_add_header(&h, "X-Remote-Group", "");
    evhttp_add_header(&h, "X-Remote-Extra-Authentication.kubernetes.io%2fPod-Name", "pod-0");
    evhttp_add_header(&h, "X-Remote-Extra-Scopes", "one");
    evhttp_add_header(&h, "x-remote-extra-scopes", "");
    assert_int_equal(zp_authn_headers(&hcfg, &h, &id, &err), 0);
    assert_string_equal(id.user, "system:serviceaccount:cm:cm");
    /* One group per header line, never split at commas; empty lines dropped. */
    assert_int_equal(id.n_groups, 3);
    assert_string_equal(id.groups[0], "system:serviceaccounts");
    assert_string_equal(id.groups[1], "a,b");
    assert_string_equal(id.groups[2], ZP_GROUP_AUTHENTICATED);
    assert_true(zp_identity_in_group(&id, "a,b"));
    assert_false(zp_identity_in_group(&id, "a"));
    assert_int_equal(id.n_extra, 2);
    assert_string_equal(id.extra[0].key, "authentication.kubernetes.io/pod-name");
    assert_int_equal(id.extra[0].n_values, 1);
    assert_string_equal(id.extra[0].values[0], "pod-0");
    assert_string_equal(id.extra[1].key, "scopes");
    assert_int_equal(id.extra[1].n_values, 2);
    zp_identity_cleanup(&id);
    evhttp_clear_headers(&h);

    /* An empty first name falls through to the next header name. */
    evhttp_add_header(&h, "X-Remote-User", "");
    evhttp_add_header(&h, "X-Other-User", "second");
    evhttp_add_header(&h, "X-Remote-Group", ZP_GROUP_AUTHENTICATED);
    assert_int_equal(zp_authn_headers(&hcfg, &h, &id, &err), 0);
    assert_string_equal(id.user, "second");
    assert_int_equal(id.n_groups, 1); /* not added twice */
    zp_identity_cleanup(&id);
    evhttp_clear_headers(&h);

    evhttp_add_header(&h, "X-Remote-Group", "system:masters");
    assert_int_equal(zp_authn_headers(&hcfg, &h, &id, &err), -1);
    assert_int_equal(err.kind, ZP_EAUTH);
    zp_identity_cleanup(&id);
    evhttp_clear_headers(&h);
}

static void test_unescape(void **state)
{
    static const char *cases[][2] = {
        {"plain", "plain"}, {"a%2fb%2Fc", "a/b/c"},         {"a+b", "a+b"},
        {"%41%42", "AB"},   {"bad%zz", "bad%zz"},           {"cut%4", "cut%4"},
        {"cut%", "cut%"},   {"mixed%2f%g0", "mixed%2f%g0"}, {"", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = zp_authn_unescape(cases[i][0]);
        assert_string_equal(s, cases[i][1]);
        free(s);
    }
}

/* ---- front-proxy certificates ---------------------------------------------------- */

struct pki {
    EVP_PKEY *key;
    X509 *ca, *other_ca, *mid;
    char ca_path[64], mid_path[64];
};

static void write_pem(char *path, size_t len, X509 *x)
{
    FILE *f;

    snprintf(path, len, "/tmp/zp-test-ca-XXXXXX");
    f = fdopen(mkstemp(path), "w");
    PEM_write_X509(f, x);
    fclose(f);
}

static X509 *make_ca_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn,
                          const char *eku, long serial, long not_after_s, int ca)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), not_after_s);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                              ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (eku != NULL) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    X509_NAME_free(name);
    return x;
}

static X509 *make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn,
                       const char *eku, long serial, long not_after_s)
{
    return make_ca_cert(key, issuer, issuer_key, cn, eku, serial, not_after_s, issuer == NULL);
}

static int pki_setup(void **state)
{
    struct pki *p = zp_xcalloc(1, sizeof(*p));

    p->key = EVP_EC_gen("P-256");
    p->ca = make_cert(p->key, NULL, NULL, "front-proxy-ca", NULL, 1, 3600);
    p->other_ca = make_cert(p->key, NULL, NULL, "other-ca", NULL, 2, 3600);
    /* An intermediate of other-ca, trusted on its own. */
    p->mid =
        make_ca_cert(p->key, p->other_ca, p->key, "front-proxy-intermediate", NULL, 3, 3600, 1);
    write_pem(p->ca_path, sizeof(p->ca_path), p->ca);
    write_pem(p->mid_path, sizeof(p->mid_path), p->mid);
    *state = p;
    return 0;
}

static int pki_teardown(void **state)
{
    struct pki *p = *state;

    unlink(p->ca_path);
    unlink(p->mid_path);
    X509_free(p->mid);
    X509_free(p->ca);
    X509_free(p->other_ca);
    EVP_PKEY_free(p->key);
    free(p);
    return 0;
}

static int verify(struct zp_authn *a, X509 *leaf)
{
    struct zp_err err = {0};
    int rc = zp_authn_verify_cert(a, leaf, NULL, &err);

    if (rc == -1)
        assert_int_equal(err.kind, ZP_EAUTH);
    X509_free(leaf);
    return rc;
}

static void test_verify_cert(void **state)
{
    struct pki *p = *state;
    char *allowed[] = {"front-proxy-client"};
    struct zp_authn_cfg cfg = hcfg;
    struct zp_authn *a, *any;
    struct zp_err err = {0};

    cfg.client_ca_file = p->ca_path;
    cfg.allowed_names = allowed;
    cfg.n_allowed_names = 1;
    a = zp_authn_new(&cfg, &err);
    assert_non_null(a);
    cfg.n_allowed_names = 0;
    any = zp_authn_new(&cfg, &err);
    assert_non_null(any);

    assert_int_equal(
        verify(a, make_cert(p->key, p->ca, p->key, "front-proxy-client", "clientAuth", 10, 3600)),
        0);
    /* No EKU at all means any usage, as in Go. */
    assert_int_equal(
        verify(a, make_cert(p->key, p->ca, p->key, "front-proxy-client", NULL, 11, 3600)), 0);
    assert_int_equal(
        verify(a, make_cert(p->key, p->ca, p->key, "front-proxy-client", "serverAuth", 12, 3600)),
        -1);
    assert_int_equal(
        verify(a, make_cert(p->key, p->ca, p->key, "intruder", "clientAuth", 13, 3600)), -1);
    assert_int_equal(
        verify(any, make_cert(p->key, p->ca, p->key, "intruder", "clientAuth", 14, 3600)), 0);
    assert_int_equal(verify(a, make_cert(p->key, p->other_ca, p->key, "front-proxy-client",
                                         "clientAuth", 15, 3600)),
                     -1);
    assert_int_equal(
        verify(a, make_cert(p->key, p->ca, p->key, "front-proxy-client", "clientAuth", 16, -30)),
        -1); /* expired */
    assert_int_equal(zp_authn_verify_cert(a, NULL, NULL, &err), -1);

    /* The CA file is re-read only when it changed. */
    assert_int_equal(zp_authn_reload(a, 0, &err), 0);
    assert_int_equal(zp_authn_reload(a, 1, &err), 1);
    zp_authn_free(a);
    zp_authn_free(any);

    /* A bundle holding only an intermediate anchors chains at it, as Go's Roots do. */
    cfg.client_ca_file = p->mid_path;
    a = zp_authn_new(&cfg, &err);
    assert_non_null(a);
    assert_int_equal(
        verify(a, make_cert(p->key, p->mid, p->key, "front-proxy-client", "clientAuth", 17, 3600)),
        0);
    assert_int_equal(verify(a, make_cert(p->key, p->other_ca, p->key, "front-proxy-client",
                                         "clientAuth", 18, 3600)),
                     -1);
    zp_authn_free(a);
}

static void test_no_ca(void **state)
{
    struct zp_authn_cfg cfg = hcfg;
    struct zp_authn *a;
    struct zp_err err = {0};
    struct pki *p = *state;

    cfg.client_ca_file = NULL;
    a = zp_authn_new(&cfg, &err);
    assert_non_null(a);
    assert_int_equal(
        verify(a, make_cert(p->key, p->ca, p->key, "front-proxy-client", "clientAuth", 20, 3600)),
        -1);
    zp_authn_free(a);
    cfg.client_ca_file = "/nonexistent/ca.crt";
    zp_err_clear(&err);
    assert_null(zp_authn_new(&cfg, &err));
    assert_int_equal(err.kind, ZP_ECONFIG);
    assert_non_null(strstr(err.msg, "--requestheader-client-ca-file"));
}

/* ---- the hand-off ----------------------------------------------------------------- */

struct probe {
    struct zp_handoff_item item;
    struct zp_handoff *h;
    int runs, live;
    pthread_t on;
};

static void probe_fn(struct zp_handoff_item *it, int live)
{
    struct probe *p = (struct probe *)it;

    p->runs++;
    p->live = live;
    p->on = pthread_self();
}

static void *poster(void *arg)
{
    struct probe *p = arg;

    /* Before or while the loop runs: either way the item runs on the loop's thread. */
    zp_handoff_post(p->h, &p->item);
    return NULL;
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void test_handoff(void **state)
{
    struct event_base *base;
    struct zp_handoff *h;
    struct probe a = {.item.fn = probe_fn}, b = {.item.fn = probe_fn};
    struct event *tick;
    struct timeval tv = {0, 10000};
    pthread_t t;

    (void)state;
    assert_int_equal(evthread_use_pthreads(), 0);
    base = event_base_new();
    h = zp_handoff_new(base);
    a.h = b.h = h;
    zp_handoff_hold(h);
    zp_handoff_hold(h);
    assert_int_equal(zp_handoff_pending(h), 2);

    pthread_create(&t, NULL, poster, &a);
    /* Loop until the post from the other thread has run here. */
    tick = event_new(base, -1, EV_PERSIST, stop_loop, base);
    event_add(tick, &tv);
    while (a.runs == 0)
        event_base_loop(base, EVLOOP_ONCE);
    pthread_join(t, NULL);
    assert_int_equal(a.runs, 1);
    assert_int_equal(a.live, 1);
    assert_true(pthread_equal(a.on, pthread_self()));
    assert_int_equal(zp_handoff_pending(h), 1);

    /* After close, a late post runs at once on its own thread with live = 0. */
    event_free(tick);
    zp_handoff_close(h);
    pthread_create(&t, NULL, poster, &b);
    pthread_join(t, NULL);
    assert_int_equal(b.runs, 1);
    assert_int_equal(b.live, 0);
    assert_true(pthread_equal(b.on, t));
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_status_json),
        cmocka_unit_test(test_discovery_json),
        cmocka_unit_test(test_result_json),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_unescape),
        cmocka_unit_test_setup_teardown(test_verify_cert, pki_setup, pki_teardown),
        cmocka_unit_test_setup_teardown(test_no_ca, pki_setup, pki_teardown),
        cmocka_unit_test(test_handoff),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_kclient.c — the Kubernetes client's pure parts: kubeconfig parsing
 * (base/base64.c decodes its -data values; test_base64.c tests that), the
 * in-cluster settings, the sentences for refused calls; the
 * SubjectAccessReview body, answer and 403 wording; the ConfigMap's
 * front-proxy settings; Secret name checks; the server's worker threads.
 *
 * With arguments `secret-get NS NAME KEY [--kubeconfig FILE]` it is instead a
 * driver for tests/integration/test_kube.py: it calls the Secret source that
 * `serve` lends the solver, and prints the value's length and SHA-256 (never
 * the value) or the error sentence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/sha.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "k8s/api.h"
#include "k8s/authn.h"
#include "k8s/authsource.h"
#include "k8s/authz.h"
#include "k8s/kclient.h"
#include "k8s/kubeconfig.h"
#include "k8s/secrets.h"

static char tmpdir[] = "/tmp/zp-kclient-XXXXXX";

/* What the tests write, removed at the end. */
static const char *const made[] = {"kubeconfig",   "sa/ca.crt", "sa/token",
                                   "sa/namespace", "sa",        NULL};

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* ---- kubeconfig ---------------------------------------------------------------- */

static const char kc_head[] = "apiVersion: v1\n"
                              "kind: Config\n"
                              "current-context: dev\n"
                              "preferences: {}\n"
                              "contexts:\n"
                              "- name: other\n"
                              "  context: {cluster: nowhere, user: nobody}\n"
                              "- name: dev\n"
                              "  context:\n"
                              "    cluster: lab\n"
                              "    user: admin\n"
                              "    namespace: zoneproof\n";

static int parse_text(const char *text, struct zp_kubeconfig *kc, struct zp_err *err)
{
    return zp_kubeconfig_parse(write_file("kubeconfig", text), kc, err);
}

static void test_kubeconfig_token_and_paths(void **state)
{
    struct zp_kubeconfig kc;
    struct zp_err err = {0};
    char *text = zp_xasprintf("%s"
                              "clusters:\n"
                              "- name: lab\n"
                              "  cluster:\n"
                              "    server: https://127.0.0.1:6443/\n"
                              "    certificate-authority: pki/ca.crt\n"
                              "users:\n"
                              "- name: admin\n"
                              "  user:\n"
                              "    tokenFile: token\n",
                              kc_head);
    char *want;

    (void)state;
    assert_int_equal(parse_text(text, &kc, &err), 0);
    assert_string_equal(kc.context, "dev");
    assert_string_equal(kc.server, "https://127.0.0.1:6443"); /* no trailing slash */
    assert_string_equal(kc.namespace, "zoneproof");
    want = zp_xasprintf("%s/pki/ca.crt", tmpdir); /* relative to the kubeconfig */
    assert_string_equal(kc.ca_file, want);
    free(want);
    want = zp_xasprintf("%s/token", tmpdir);
    assert_string_equal(kc.token_file, want);
    free(want);
    assert_null(kc.token);
    assert_null(kc.cert_file);
    zp_kubeconfig_cleanup(&kc);
    free(text);
}

static void test_kubeconfig_inline_certificate(void **state)
{
    struct zp_kubeconfig kc;
    struct zp_err err = {0};
    /* "-----BEGIN CERTIFICATE-----\n", "KEY", "CA" in base64 */
    char *text =
        zp_xasprintf("%s"
                     "clusters:\n"
                     "- name: lab\n"
                     "  cluster:\n"
                     "    server: https://kube.example:443\n"
                     "    certificate-authority-data: Q0E=\n"
                     "users:\n"
                     "- name: admin\n"
                     "  user:\n"
                     "    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
                     "    client-key-data: S0VZ\n"
                     "    token: t0ken\n",
                     kc_head);

    (void)state;
    assert_int_equal(parse_text(text, &kc, &err), 0);
    assert_non_null(kc.ca_data);
    assert_string_equal(zp_buf_str(kc.ca_data), "CA");
    assert_string_equal(zp_buf_str(kc.cert_data), "-----BEGIN CERTIFICATE-----\n");
    assert_string_equal(zp_buf_str(kc.key_data), "KEY");
    assert_string_equal(kc.token, "t0ken");
    assert_null(kc.ca_file);
    zp_kubeconfig_cleanup(&kc);
    free(text);
}

static void expect_refusal(const char *users, const char *cluster_extra, const char *phrase)
{
    struct zp_kubeconfig kc;
    struct zp_err err = {0};
    char *text = zp_xasprintf("%s"
                              "clusters:\n"
                              "- name: lab\n"
                              "  cluster:\n"
                              "    server: https://127.0.0.1:6443\n"
                              "%s"
                              "users:\n%s",
                              kc_head, cluster_extra, users);

    assert_int_equal(parse_text(text, &kc, &err), -1);
    if (strstr(err.msg, phrase) == NULL)
        fail_msg("\"%s\" not in \"%s\"", phrase, err.msg);
    assert_null(strstr(err.msg, "s3cret"));
    free(text);
}

static void test_kubeconfig_refusals(void **state)
{
    (void)state;
    expect_refusal("- name: admin\n  user:\n    exec: {command: aws}\n", "",
                   "exec is not supported");
    expect_refusal("- name: admin\n  user:\n    auth-provider: {name: gcp}\n", "",
                   "auth-provider is not supported");
    expect_refusal("- name: admin\n  user:\n    username: u\n    password: s3cret\n", "",
                   "not supported");
    expect_refusal("- name: admin\n  user:\n    client-certificate: c.crt\n", "",
                   "client-certificate and client-key go together");
    expect_refusal("- name: admin\n  user:\n    client-key-data: '!!!'\n", "",
                   "client-key-data is not valid base64");
    expect_refusal("- name: someone\n  user: {token: s3cret}\n", "", "no entry named \"admin\"");
    expect_refusal("- name: admin\n  user: {token: s3cret}\n",
                   "    insecure-skip-tls-verify: true\n", "insecure-skip-tls-verify");
    expect_refusal("- name: admin\n  user: {token: s3cret}\n", "    server: x\n", "server");
}

static void test_kubeconfig_structure_errors(void **state)
{
    struct zp_kubeconfig kc;
    struct zp_err err = {0};

    (void)state;
    assert_int_equal(parse_text("apiVersion: v1\nkind: Config\n", &kc, &err), -1);
    assert_non_null(strstr(err.msg, "current-context"));
    zp_err_clear(&err);
    assert_int_equal(parse_text("current-context: dev\ncontexts: []\n", &kc, &err), -1);
    assert_non_null(strstr(err.msg, "contexts"));
    assert_non_null(strstr(err.msg, "\"dev\""));
    zp_err_clear(&err);
    assert_int_equal(parse_text("current-context: dev\ncontexts:\n- name: dev\n  context: "
                                "{cluster: gone}\nclusters: []\n",
                                &kc, &err),
                     -1);
    assert_non_null(strstr(err.msg, "clusters"));
    assert_non_null(strstr(err.msg, "\"gone\""));
    zp_err_clear(&err);
    assert_int_equal(zp_kubeconfig_parse("/nonexistent/kubeconfig", &kc, &err), -1);
}

/* ---- in-cluster ------------------------------------------------------------------ */

static void test_in_cluster(void **state)
{
    struct zp_kclient *k = (struct zp_kclient *)1;
    struct zp_err err = {0};
    char *sa = zp_xasprintf("%s/sa", tmpdir);

    (void)state;
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(zp_kclient_new(NULL, &k, &err), 0);
    assert_null(k); /* no cluster: no client and no error */

    mkdir(sa, 0700);
    setenv(ZP_SA_DIR_ENV, sa, 1);
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    /* automountServiceAccountToken off: no directory, no cluster, no error. */
    k = (struct zp_kclient *)1;
    assert_int_equal(zp_kclient_new(NULL, &k, &err), 0);
    assert_null(k);

    write_file("sa/token", "tok\n");
    assert_int_equal(zp_kclient_new(NULL, &k, &err), -1);
    assert_non_null(strstr(err.msg, "ca.crt"));
    zp_err_clear(&err);
    remove(write_file("sa/token", ""));

    write_file("sa/ca.crt", "not checked until the first call\n");
    assert_int_equal(zp_kclient_new(NULL, &k, &err), -1);
    assert_non_null(strstr(err.msg, "token"));
    zp_err_clear(&err);

    write_file("sa/token", "tok\n");
    write_file("sa/namespace", "zoneproof\n");
    assert_int_equal(zp_kclient_new(NULL, &k, &err), 0);
    assert_non_null(k);
    assert_string_equal(zp_kclient_server(k), "https://[fd00::1]:6443");
    assert_string_equal(zp_kclient_namespace(k), "zoneproof");
    assert_string_equal(zp_kclient_who(k), "the zoneproof service account");
    zp_kclient_free(k);

    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv(ZP_SA_DIR_ENV);
    free(sa);
}

/* ---- sentences for refused calls -------------------------------------------------- */

static void test_status_errors(void **state)
{
    const struct zp_kobj secret = {.verb = "get",
                                   .group = "",
                                   .version = "v1",
                                   .resource = "secrets",
                                   .ns = "web",
                                   .name = "cf-token"};
    const struct zp_kobj sar = {.verb = "create",
                                .group = "authorization.k8s.io",
                                .version = "v1",
                                .resource = "subjectaccessreviews",
                                .hint = "bind it to ClusterRole system:auth-delegator"};
    const char *who = "the zoneproof service account";
    const char body[] = "{\"kind\":\"Status\",\"reason\":\"InternalError\",\"code\":500}";
    struct zp_err err = {0};

    (void)state;
    zp_kclient_status_error(&secret, who, 403, NULL, 0, &err);
    assert_string_equal(err.msg, "cannot get secret web/cf-token (403 Forbidden): the zoneproof "
                                 "service account needs get on secrets in namespace web");
    assert_int_equal(err.kind, ZP_EPERM);
    assert_int_equal(err.upstream, 403);
    zp_err_clear(&err);
    zp_kclient_status_error(&secret, who, 404, NULL, 0, &err);
    assert_string_equal(err.msg, "secret web/cf-token not found");
    assert_int_equal(err.kind, ZP_ENOTFOUND);
    zp_err_clear(&err);
    zp_kclient_status_error(&sar, who, 403, NULL, 0, &err);
    assert_string_equal(err.msg, "cannot create subjectaccessreviews.authorization.k8s.io (403 "
                                 "Forbidden): the zoneproof service account needs create on "
                                 "subjectaccessreviews.authorization.k8s.io (bind it to "
                                 "ClusterRole system:auth-delegator)");
    zp_err_clear(&err);
    zp_kclient_status_error(&secret, who, 401, NULL, 0, &err);
    assert_int_equal(err.kind, ZP_EAUTH);
    assert_non_null(strstr(err.msg, "401 Unauthorized"));
    zp_err_clear(&err);
    zp_kclient_status_error(&secret, who, 500, body, strlen(body), &err);
    assert_int_equal(err.kind, ZP_ETRANSIENT);
    assert_string_equal(err.msg, "cannot get secret web/cf-token: the Kubernetes API server "
                                 "answered 500 Internal Server Error, reason InternalError");
}

/* ---- SubjectAccessReview ------------------------------------------------------------ */

static void test_sar_json(void **state)
{
    char *groups[] = {"system:serviceaccounts", "system:authenticated", NULL};
    char *vals[] = {"cm-0", NULL};
    struct zp_extra extra = {
        .key = "authentication.kubernetes.io/pod-name", .values = vals, .n_values = 1};
    struct zp_identity id = {.user = "system:serviceaccount:cert-manager:cert-manager",
                             .groups = groups,
                             .n_groups = 2,
                             .extra = &extra,
                             .n_extra = 1};
    struct zp_identity agg = {.user = "system:kube-aggregator"};
    struct zp_authz_attrs post = {.verb = "create",
                                  .group = "acme.example.com",
                                  .version = "v1alpha1",
                                  .resource = "zoneproof"};
    struct zp_authz_attrs disc = {.verb = "get", .path = "/apis/acme.example.com/v1alpha1"};
    char *s;

    (void)state;
    s = zp_authz_sar_json(&id, &post);
    assert_string_equal(
        s, "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\","
           "\"spec\":{\"resourceAttributes\":{\"verb\":\"create\",\"group\":\"acme.example.com\","
           "\"version\":\"v1alpha1\",\"resource\":\"zoneproof\"},"
           "\"user\":\"system:serviceaccount:cert-manager:cert-manager\","
           "\"groups\":[\"system:serviceaccounts\",\"system:authenticated\"],"
           "\"extra\":{\"authentication.kubernetes.io/pod-name\":[\"cm-0\"]}}}");
    free(s);
    s = zp_authz_sar_json(&agg, &disc);
    assert_string_equal(
        s, "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\","
           "\"spec\":{\"nonResourceAttributes\":{\"path\":\"/apis/acme.example.com/v1alpha1\","
           "\"verb\":\"get\"},\"user\":\"system:kube-aggregator\",\"groups\":[]}}");
    free(s);

    s = zp_authz_forbidden_message(&id, &post, "RBAC: no binding");
    assert_string_equal(s, "zoneproof.acme.example.com is forbidden: User "
                           "\"system:serviceaccount:cert-manager:cert-manager\" cannot create "
                           "resource \"zoneproof\" in API group \"acme.example.com\" at the "
                           "cluster scope: RBAC: no binding");
    free(s);
    s = zp_authz_forbidden_message(&agg, &disc, "");
    assert_string_equal(s, "forbidden: User \"system:kube-aggregator\" cannot get path "
                           "\"/apis/acme.example.com/v1alpha1\"");
    free(s);
}

static void test_sar_attributes(void **state)
{
    struct zp_authz_attrs at;

    (void)state;
    zp_authz_attrs_for("POST", 1, "acme.example.com", "v1alpha1", "zoneproof", "/x", &at);
    assert_string_equal(at.verb, "create");
    assert_string_equal(at.resource, "zoneproof");
    assert_string_equal(at.group, "acme.example.com");
    assert_null(at.path);
    zp_authz_attrs_for("GET", 1, "g", "v1alpha1", "zoneproof", "/x", &at);
    assert_string_equal(at.verb, "list");
    zp_authz_attrs_for("DELETE", 1, "g", "v1alpha1", "zoneproof", "/x", &at);
    assert_string_equal(at.verb, "deletecollection");
    zp_authz_attrs_for("GET", 0, "g", "v1alpha1", "zoneproof", "/apis/g", &at);
    assert_string_equal(at.verb, "get");
    assert_string_equal(at.path, "/apis/g");
    assert_null(at.resource);
    zp_authz_attrs_for("HEAD", 0, "g", "v1alpha1", "zoneproof", "/apis", &at);
    assert_string_equal(at.verb, "head");
}

static void parse_answer(const char *json, struct zp_authz_answer *ans)
{
    cJSON *j = cJSON_Parse(json);

    memset(ans, 0, sizeof(*ans));
    zp_authz_parse(j, ans);
    cJSON_Delete(j);
}

static void test_sar_parse(void **state)
{
    struct zp_authz_answer ans;

    (void)state;
    parse_answer("{\"status\":{\"allowed\":true}}", &ans);
    assert_true(ans.allowed);
    assert_false(ans.failed);
    parse_answer("{\"status\":{\"allowed\":false,\"denied\":true,\"reason\":\"nope\"}}", &ans);
    assert_false(ans.allowed);
    assert_string_equal(ans.reason, "nope");
    parse_answer("{\"status\":{\"allowed\":false,\"evaluationError\":\"webhook down\"}}", &ans);
    assert_false(ans.allowed);
    assert_string_equal(ans.reason, "webhook down");
    parse_answer("{\"status\":{}}", &ans);
    assert_false(ans.allowed);
    parse_answer("{\"kind\":\"SubjectAccessReview\"}", &ans);
    assert_true(ans.failed);
}

/* ---- the ConfigMap's front-proxy settings ------------------------------------------ */

static void test_configmap(void **state)
{
    const char *json =
        "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"},\"data\":{"
        "\"client-ca-file\":\"ignored\","
        "\"requestheader-client-ca-file\":\"-----BEGIN CERTIFICATE-----\\n\","
        "\"requestheader-allowed-names\":\"[\\\"front-proxy-client\\\"]\","
        "\"requestheader-username-headers\":\"[\\\"X-Remote-User\\\"]\","
        "\"requestheader-group-headers\":\"[\\\"X-Remote-Group\\\"]\","
        "\"requestheader-extra-headers-prefix\":\"[\\\"X-Remote-Extra-\\\"]\"}}";
    cJSON *cm = cJSON_Parse(json), *bad;
    struct zp_authsrc_data d, d2;
    struct zp_authn_cfg flags = {0}, out;
    char *mine[] = {"aggregator", NULL};
    struct zp_err err = {0};

    (void)state;
    assert_int_equal(zp_authsrc_parse(cm, &d, &err), 0);
    assert_string_equal(d.ca_pem, "-----BEGIN CERTIFICATE-----\n");
    assert_int_equal(d.n_allowed_names, 1);
    assert_string_equal(d.allowed_names[0], "front-proxy-client");
    assert_string_equal(d.username_headers[0], "X-Remote-User");
    assert_string_equal(d.extra_prefixes[0], "X-Remote-Extra-");
    assert_int_equal(zp_authsrc_parse(cm, &d2, &err), 0);
    assert_true(zp_authsrc_data_same(&d, &d2));
    d2.ca_pem[0] = 'x';
    assert_false(zp_authsrc_data_same(&d, &d2));
    zp_authsrc_data_cleanup(&d2);

    /* Flags win list by list; the CA comes from the ConfigMap. */
    flags.allowed_names = mine;
    flags.n_allowed_names = 1;
    zp_authsrc_merge(&flags, &d, &out);
    assert_string_equal(out.allowed_names[0], "aggregator");
    assert_string_equal(out.group_headers[0], "X-Remote-Group");
    assert_ptr_equal(out.client_ca_pem, d.ca_pem);
    zp_authsrc_data_cleanup(&d);

    /* Without a ConfigMap: the header defaults, any CN. */
    memset(&flags, 0, sizeof(flags));
    zp_authsrc_merge(&flags, NULL, &out);
    assert_int_equal(out.n_allowed_names, 0);
    assert_string_equal(out.username_headers[0], "X-Remote-User");
    assert_string_equal(out.extra_prefixes[0], "X-Remote-Extra-");
    assert_null(out.client_ca_pem);

    bad = cJSON_Parse("{\"data\":{\"requestheader-allowed-names\":\"front-proxy-client\"}}");
    assert_int_equal(zp_authsrc_parse(bad, &d, &err), -1);
    assert_non_null(strstr(err.msg, "requestheader-allowed-names"));
    assert_non_null(strstr(err.msg, "kube-system/extension-apiserver-authentication"));
    cJSON_Delete(bad);
    cJSON_Delete(cm);
}

/* ---- Secret names --------------------------------------------------------------------- */

static void test_secret_names(void **state)
{
    struct zp_buf out;
    struct zp_err err = {0};

    (void)state;
    assert_true(zp_secret_valid_name("web", 1));
    assert_true(zp_secret_valid_name("cf-token.v2", 0));
    assert_false(zp_secret_valid_name("cf-token.v2", 1));
    assert_false(zp_secret_valid_name("../kube-system", 0));
    assert_false(zp_secret_valid_name("Web", 1));
    assert_false(zp_secret_valid_name("-web", 1));
    assert_false(zp_secret_valid_name("", 0));
    assert_true(zp_secret_valid_key("api-token"));
    assert_true(zp_secret_valid_key("tls.key"));
    assert_true(zp_secret_valid_key("API_TOKEN"));
    assert_false(zp_secret_valid_key(".."));
    assert_false(zp_secret_valid_key("a/b"));
    assert_false(zp_secret_valid_key(""));

    zp_buf_init(&out, 4096);
    assert_int_equal(zp_secret_get(NULL, "web", "cf-token", "api-token", &out, &err), -1);
    assert_non_null(strstr(err.msg, "secretRef needs a Kubernetes API server"));
    zp_err_clear(&err);
    assert_int_equal(zp_secret_get((void *)1, "", "cf-token", "api-token", &out, &err), -1);
    assert_non_null(strstr(err.msg, "resourceNamespace"));
    zp_err_clear(&err);
    assert_int_equal(zp_secret_get((void *)1, "web", "a/../b", "api-token", &out, &err), -1);
    assert_int_equal(err.kind, ZP_EINVAL);
    zp_err_clear(&err);
    assert_int_equal(zp_secret_get((void *)1, "web", "cf-token", "a/b", &out, &err), -1);
    assert_non_null(strstr(err.msg, "not a valid key"));
    zp_buf_free_secret(&out);
}

/* ---- the server's worker threads ---------------------------------------------------- */

struct probe {
    struct zp_kjob job; /* first */
    struct event_base *base;
    int ran, live;
    int *done, want;
    int gate; /* when set: a pipe to read one byte from before finishing */
};

static void probe_run(struct zp_kjob *job)
{
    struct probe *p = (struct probe *)job;
    char c;

    if (p->gate > 0 && read(p->gate, &c, 1) != 1)
        p->ran = -1;
    else
        p->ran = 1;
}

static void probe_back(struct zp_handoff_item *it, int live)
{
    struct probe *p = (struct probe *)it;

    p->live = live;
    if (++*p->done == p->want && live)
        event_base_loopbreak(p->base);
}

static void test_kworker(void **state)
{
    struct probe probes[6];
    struct event_base *base;
    struct zp_handoff *h;
    struct zp_kworker *w;
    struct timeval guard = {10, 0};
    int done = 0, gate[2];

    (void)state;
    assert_int_equal(evthread_use_pthreads(), 0);
    base = event_base_new();
    h = zp_handoff_new(base);
    w = zp_kworker_new(h);
    memset(probes, 0, sizeof(probes));
    for (int i = 0; i < 6; i++) {
        probes[i].job.run = probe_run;
        probes[i].job.item.fn = probe_back;
        probes[i].base = base;
        probes[i].done = &done;
        probes[i].want = 5;
    }
    for (int i = 0; i < 5; i++)
        assert_int_equal(zp_kworker_submit(w, &probes[i].job), 0);
    assert_int_equal(zp_handoff_pending(h), 5);
    event_base_loopexit(base, &guard);
    event_base_dispatch(base);
    assert_int_equal(done, 5);
    for (int i = 0; i < 5; i++)
        assert_true(probes[i].ran && probes[i].live);
    assert_int_equal(zp_handoff_pending(h), 0);

    /* A job that ends after the loop ended comes back exactly once, with live = 0. */
    assert_int_equal(pipe(gate), 0);
    probes[5].want = 6;
    probes[5].live = -1;
    probes[5].gate = gate[0];
    assert_int_equal(zp_kworker_submit(w, &probes[5].job), 0);
    zp_handoff_close(h);
    assert_int_equal(write(gate[1], "x", 1), 1);
    zp_kworker_free(w);
    assert_int_equal(done, 6);
    assert_true(probes[5].ran >= 0); /* run, or given back unrun if the stop came first */
    assert_int_equal(probes[5].live, 0);
    close(gate[0]);
    close(gate[1]);
    event_base_free(base);
}

/* ---- the driver for test_kube.py ------------------------------------------------------ */

static int secret_get_main(int argc, char **argv)
{
    const char *kubeconfig = argc >= 7 && strcmp(argv[5], "--kubeconfig") == 0 ? argv[6] : NULL;
    struct zp_kclient *k = NULL;
    struct zp_err err = {0};
    struct zp_buf out;
    unsigned char md[SHA256_DIGEST_LENGTH];
    int rc = 1;

    zp_buf_init(&out, ZP_SECRET_MAX);
    if (zp_kclient_new(kubeconfig, &k, &err) == -1 || k == NULL) {
        printf("error %s: %s\n", zp_errkind_name(err.kind), k ? err.msg : "no cluster");
        goto out;
    }
    if (zp_secret_get(k, argv[2], argv[3], argv[4], &out, &err) == -1) {
        printf("error %s: %s\n", zp_errkind_name(err.kind), err.msg);
        goto out;
    }
    SHA256((const unsigned char *)out.data, out.len, md);
    printf("ok len=%zu sha256=", out.len);
    for (size_t i = 0; i < sizeof(md); i++)
        printf("%02x", md[i]);
    printf("\n");
    rc = 0;
out:
    zp_buf_free_secret(&out);
    zp_kclient_free(k);
    return rc;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kubeconfig_token_and_paths),
        cmocka_unit_test(test_kubeconfig_inline_certificate),
        cmocka_unit_test(test_kubeconfig_refusals),
        cmocka_unit_test(test_kubeconfig_structure_errors),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_status_errors),
        cmocka_unit_test(test_sar_json),
        cmocka_unit_test(test_sar_attributes),
        cmocka_unit_test(test_sar_parse),
        cmocka_unit_test(test_configmap),
        cmocka_unit_test(test_secret_names),
        cmocka_unit_test(test_kworker),
    };
    int rc;

    if (argc >= 5 && strcmp(argv[1], "secret-get") == 0)
        return secret_get_main(argc, argv);
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (size_t i = 0; made[i] != NULL; i++) {
        char *p = zp_xasprintf("%s/%s", tmpdir, made[i]);
        remove(p);
        free(p);
    }
    rmdir(tmpdir);
    return rc;
}

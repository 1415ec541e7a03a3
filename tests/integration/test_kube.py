"""`zoneproof serve` with a cluster: a fake kube-apiserver (tests/fakes/fake_kube.py).

Front-proxy settings read from ConfigMap kube-system/extension-apiserver-
authentication, and a rotated CA taking effect without a restart (also in the
CA names the TLS handshake sends); SubjectAccessReviews: allow, deny (403
Status with the reason), the 10 s cache, one review for concurrent identical
requests, system:masters without a review, a review that cannot be made
(500), and the event loop answering while a review is slow; the service
account token re-read after it rotated; a kubeconfig whose user is a client
certificate; a start refused with the missing permission named; and the
Secret source lent to providers (called through the unit-test driver):
the right namespace, 403 and 404 sentences, a missing key.

No token or Secret value ever appears in what the server or the driver prints.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import pki  # noqa: E402
import zptest  # noqa: E402
from fake_kube import SA_USER, FakeKube, grant_zoneproof  # noqa: E402

GROUP = "acme.zoneproof.test"
SOLVER = "zoneproof"
RESOURCE = "/apis/%s/v1alpha1/%s" % (GROUP, SOLVER)
VERSION_PATH = "/apis/%s/v1alpha1" % GROUP
CM_USER = "system:serviceaccount:cert-manager:cert-manager"
MASTERS = {"X-Remote-User": "system:kube-aggregator", "X-Remote-Group": "system:masters"}
TOKEN1 = "sa-token-one-8c1f0e5d2b7a4f3e9d6c"
TOKEN2 = "sa-token-two-1a2b3c4d5e6f7a8b9c0d"
TOKEN_NOPE = "sa-token-without-rbac-77aa88bb99cc"
WEB_SECRET = "web-api-token-5f0c1d9e"
OTHER_SECRET = "other-api-token-3b7e2a6c"
ADMIN_CN = "zoneproof-admin"


def cert_manager(pod):
    """cert-manager's identity; pod makes the question (and so the cache key) unique."""
    return {"X-Remote-User": CM_USER, "X-Remote-Group": "system:serviceaccounts",
            "X-Remote-Extra-Authentication.kubernetes.io%2fpod-Name": pod}


def payload(uid="u1"):
    # A zone no provider serves: the solver answers at once, 201 with success:false.
    req = {"uid": uid, "action": "CleanUp", "type": "dns-01", "dnsName": "www.elsewhere.test",
           "key": zptest.acme_key(uid), "resourceNamespace": "web",
           "resolvedFQDN": "_acme-challenge.www.elsewhere.test.",
           "resolvedZone": "elsewhere.test.", "allowAmbientCredentials": False, "config": None}
    return json.dumps({"apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
                       "kind": "ChallengePayload", "request": req}).encode()


def read(path):
    with open(path) as f:
        return f.read()


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def clean_env(extra):
    """The environment without any real cluster, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    env.pop("ZP_SERVICEACCOUNT_DIR", None)
    env.update(extra)
    return env


class Server:
    """One `zoneproof serve` with a cluster (env or --kubeconfig) and no --requestheader flags."""

    def __init__(self, base, name, env, extra=(), expect_start=True):
        self.port = zptest.free_port()
        self.log_path = os.path.join(base.tmp, name + ".log")
        args = [zptest.zoneproof_bin(), "serve", "--config", base.config,
                "--secure-port", str(self.port), "--bind-address", "127.0.0.1",
                "--tls-cert-file", pki.path(base.pki, "serving.crt"),
                "--tls-private-key-file", pki.path(base.pki, "serving.key"),
                "--log-level", "debug"] + list(extra)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=clean_env(dict(env, GROUP_NAME=GROUP)),
                                     preexec_fn=zptest.die_with_parent)
        if not expect_start:
            return
        try:
            zptest.wait_for(lambda: self.proc.poll() is None and
                            zptest.tcp_open("127.0.0.1", self.port), what="zoneproof serve")
        except Exception:
            self.stop()
            raise RuntimeError("zoneproof serve did not start:\n" + self.output())

    def output(self):
        return read(self.log_path)

    def stop(self, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class KubeBase(unittest.TestCase):
    """PKI, the fake API server, a service-account directory and a configuration."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-kube-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        pki._leaf(cls.pki, "kube-admin", "serving-ca", ADMIN_CN, "clientAuth")
        cls.fake = FakeKube(cls.pki, client_ca=pki.path(cls.pki, "serving-ca.crt")).start()
        cls.fake.set_tokens({TOKEN1: SA_USER, TOKEN_NOPE: "system:serviceaccount:zoneproof:nope"})
        grant_zoneproof(cls.fake, secret_namespaces=["web"])
        grant_zoneproof(cls.fake, user=ADMIN_CN, secret_namespaces=["web"])
        cls.fake.set_auth_configmap(read(pki.path(cls.pki, "proxy-ca.crt")))
        cls.fake.set_secret("web", "cf-token", {"api-token": WEB_SECRET})
        cls.fake.set_secret("other", "cf-token", {"api-token": OTHER_SECRET})
        cls.fake.set_secret("web", "two-keys", {"a": "1", "b": "2"})
        cls.fake.sar_rules = [
            (lambda s: s.get("user") == CM_USER and s.get("resourceAttributes") ==
             {"verb": "create", "group": GROUP, "version": "v1alpha1", "resource": SOLVER},
             True, "RBAC: allowed by ClusterRoleBinding \"cert-manager-zoneproof\""),
            (lambda s: s.get("user") == "system:kube-aggregator" and
             s.get("nonResourceAttributes", {}).get("verb") == "get", True, ""),
            (lambda s: s.get("user") == "mallory", False,
             "RBAC: mallory is not bound to any role"),
        ]
        cls.sa = cls.sa_dir("sa", TOKEN1)
        secret = zptest.write_secret(cls.tmp)
        cls.config = os.path.join(cls.tmp, "config.yaml")
        with open(cls.config, "w") as f:
            f.write("\n".join([
                "propagation:",
                "  mode: skip",
                "providers:",
                "  - name: lab",
                "    type: rfc2136",
                '    dnsZones: ["example.test"]',
                "    namespaces: [web]",
                '    nameserver: "127.0.0.1:%d"' % zptest.free_port(),
                "    tsigKeyName: acme-key",
                '    tsigSecretFile: "%s"' % secret,
                ""]))

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        if not os.environ.get("ZP_KEEP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def sa_dir(cls, name, token):
        d = os.path.join(cls.tmp, name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(pki.path(cls.pki, "serving-ca.crt"), os.path.join(d, "ca.crt"))
        write_atomic(os.path.join(d, "token"), token + "\n")
        write_atomic(os.path.join(d, "namespace"), "zoneproof\n")
        return d

    def in_cluster(self, sa=None, **extra):
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(self.fake.port),
               "ZP_SERVICEACCOUNT_DIR": sa or self.sa}
        env.update(extra)
        return env

    # ---- HTTP helpers ----

    def call(self, srv, method, path, headers=None, body=None, client="proxy-client"):
        ctx = ssl.create_default_context(cafile=pki.path(self.pki, "serving-ca.crt"))
        if client:
            ctx.load_cert_chain(pki.path(self.pki, client + ".crt"),
                                pki.path(self.pki, client + ".key"))
        conn = http.client.HTTPSConnection("localhost", srv.port, context=ctx, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def post(self, srv, headers, uid="u1"):
        h = dict(headers, **{"Content-Type": "application/json"})
        return self.call(srv, "POST", RESOURCE, headers=h, body=payload(uid))

    def assert_status(self, result, code, reason, phrase=None):
        status, hdrs, data = result
        self.assertEqual(status, code, data)
        doc = json.loads(data)
        self.assertEqual((doc["kind"], doc["apiVersion"], doc["status"], doc["code"]),
                         ("Status", "v1", "Failure", code))
        self.assertEqual(doc["reason"], reason)
        if phrase:
            self.assertIn(phrase, doc["message"])
        return doc

    def assert_clean(self, text):
        for secret in (TOKEN1, TOKEN2, TOKEN_NOPE, WEB_SECRET, OTHER_SECRET,
                       zptest.TSIG_SECRET, "BEGIN PRIVATE KEY"):
            self.assertNotIn(secret, text)
        self.assertNotIn("Sanitizer", text)
        self.assertNotIn("runtime error:", text)

    @staticmethod
    def pod_count(fake, pod):
        return fake.sar_count(lambda s: s.get("extra", {}).get(
            "authentication.kubernetes.io/pod-name") == [pod])


class Authz(KubeBase):
    """One in-cluster server: front-proxy settings from the ConfigMap, SubjectAccessReviews."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = Server(cls, "authz", cls.in_cluster(cls))

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def test_configmap_settings_authenticate(self):
        self.assertEqual(self.call(self.srv, "GET", "/apis", MASTERS)[0], 200)
        # Allowed names come from the ConfigMap: front-proxy-client only.
        self.assert_status(self.call(self.srv, "GET", "/apis", MASTERS, client="wrongcn-client"),
                           401, "Unauthorized")
        self.assert_status(self.call(self.srv, "GET", "/apis", MASTERS, client="other-client"),
                           401, "Unauthorized")
        self.assertIn('"msg":"front-proxy settings read"', self.srv.output())

    def test_masters_need_no_review(self):
        before = self.fake.sar_count()
        for path in ("/apis", "/apis/" + GROUP, VERSION_PATH):
            self.assertEqual(self.call(self.srv, "GET", path, MASTERS)[0], 200)
        status, _, data = self.post(self.srv, dict(MASTERS), uid="masters")
        self.assertEqual(status, 201, data)
        self.assertEqual(self.fake.sar_count(), before)

    def test_allowed_review_and_cache(self):
        for uid in ("allow-1", "allow-2"):
            status, _, data = self.post(self.srv, cert_manager("cm-allow"), uid=uid)
            self.assertEqual(status, 201, data)
            self.assertIn("response", json.loads(data))
        self.assertEqual(self.pod_count(self.fake, "cm-allow"), 1, "the answer was not cached")
        spec = [s for s in self.fake.sar_calls
                if s.get("extra", {}).get("authentication.kubernetes.io/pod-name") ==
                ["cm-allow"]][0]
        self.assertEqual(spec["resourceAttributes"],
                         {"verb": "create", "group": GROUP, "version": "v1alpha1",
                          "resource": SOLVER})
        self.assertEqual(spec["user"], CM_USER)
        self.assertEqual(spec["groups"], ["system:serviceaccounts", "system:authenticated"])
        self.assertEqual(spec["extra"], {"authentication.kubernetes.io/pod-name": ["cm-allow"]})

    def test_denied_review_is_403_with_the_reason_and_cached(self):
        who = {"X-Remote-User": "mallory", "X-Remote-Group": "devs"}
        for _ in range(2):
            doc = self.assert_status(self.post(self.srv, who), 403, "Forbidden",
                                     "RBAC: mallory is not bound to any role")
            self.assertIn('User "mallory" cannot create resource "%s" in API group "%s"'
                          % (SOLVER, GROUP), doc["message"])
        self.assertEqual(self.fake.sar_count(lambda s: s.get("user") == "mallory"), 1)
        self.assert_status(self.call(self.srv, "GET", "/apis", who), 403, "Forbidden",
                           'cannot get path "/apis"')

    def test_discovery_review_is_non_resource(self):
        who = {"X-Remote-User": "system:kube-aggregator"}  # the legacy fallback: no groups
        self.assertEqual(self.call(self.srv, "GET", VERSION_PATH, who)[0], 200)
        specs = [s for s in self.fake.sar_calls if s.get("user") == "system:kube-aggregator"]
        self.assertEqual(specs[-1]["nonResourceAttributes"], {"path": VERSION_PATH, "verb": "get"})
        self.assertEqual(specs[-1]["groups"], ["system:authenticated"])
        self.assertNotIn("resourceAttributes", specs[-1])

    def test_slow_review_blocks_nothing_and_is_asked_once(self):
        results = []

        def post(uid):
            results.append(self.post(self.srv, cert_manager("cm-slow"), uid=uid))

        hold = threading.Event()  # the review answers when the test says
        self.fake.sar_hold = hold
        try:
            threads = [threading.Thread(target=post, args=("slow-%d" % i,)) for i in range(3)]
            for t in threads:
                t.start()
            zptest.wait_for(lambda: self.pod_count(self.fake, "cm-slow") >= 1,
                            what="the review under way")
            # Answered while the review is held: the event loop does not wait on it.
            self.assertEqual(self.call(self.srv, "GET", "/healthz", client=None)[0], 200)
            self.assertEqual(self.call(self.srv, "GET", "/apis", MASTERS)[0], 200)
            self.assertEqual(results, [], "a request waiting on the review was answered")
            hold.set()
            for t in threads:
                t.join(30)
        finally:
            self.fake.sar_hold = None
            hold.set()
        self.assertEqual([r[0] for r in results], [201, 201, 201])
        self.assertEqual(self.pod_count(self.fake, "cm-slow"), 1)

    def test_review_that_cannot_be_made_is_500_and_not_cached(self):
        self.fake.revoke_all(SA_USER)
        try:
            doc = self.assert_status(self.post(self.srv, cert_manager("cm-norbac")), 500,
                                     "InternalError", "system:auth-delegator")
            self.assertIn("cannot create subjectaccessreviews.authorization.k8s.io "
                          "(403 Forbidden)", doc["message"])
        finally:
            grant_zoneproof(self.fake, secret_namespaces=["web"])
        self.assertEqual(self.post(self.srv, cert_manager("cm-norbac"))[0], 201)

    def test_zz_nothing_secret_in_the_output(self):
        out = self.srv.output()
        self.assertIn('"msg":"request"', out)
        self.assertIn("SubjectAccessReview for every caller", out)
        self.assert_clean(out)


class Rotation(KubeBase):
    """Things that change under a running server: the front-proxy CA, the token."""

    def acceptable_cas(self, srv):
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % srv.port,
                            "-servername", "localhost"], input="", capture_output=True,
                           text=True, timeout=20)
        out = r.stdout
        start = out.find("Acceptable client certificate CA names")
        return out[start:out.find("\n---", start)] if start >= 0 else ""

    def test_front_proxy_ca_rotation(self):
        srv = Server(self, "ca-rotation", self.in_cluster(ZP_AUTH_REFRESH_SECONDS="1"))
        try:
            self.assertEqual(self.call(srv, "GET", "/apis", MASTERS)[0], 200)
            self.assertEqual(self.call(srv, "GET", "/apis", MASTERS, client="other-client")[0],
                             401)
            self.assertIn("front-proxy-ca", self.acceptable_cas(srv))

            self.fake.set_auth_configmap(read(pki.path(self.pki, "other-ca.crt")))
            zptest.wait_for(lambda: self.call(srv, "GET", "/apis", MASTERS,
                                              client="other-client")[0] == 200,
                            timeout=10, what="the new front-proxy CA")
            self.assertEqual(self.call(srv, "GET", "/apis", MASTERS)[0], 401)
            self.assertIn("some other CA", self.acceptable_cas(srv))
            self.assertNotIn("front-proxy-ca", self.acceptable_cas(srv))

            # A broken bundle is refused; the last good one stays.
            self.fake.set_auth_configmap("-----BEGIN CERTIFICATE-----\nbroken\n")
            zptest.wait_for(lambda: "changed but unusable" in srv.output(), timeout=10,
                            what="the refusal of a broken CA")
            # Two more refreshes read the same broken bundle: it is reported once.
            reads = len(self.fake.calls("GET", "configmaps/extension-apiserver-authentication"))
            zptest.wait_for(lambda: len(self.fake.calls(
                "GET", "configmaps/extension-apiserver-authentication")) >= reads + 2,
                timeout=15, what="two more refreshes of the front-proxy settings")
            self.assertEqual(srv.output().count("changed but unusable"), 1)
            self.assertEqual(self.call(srv, "GET", "/apis", MASTERS, client="other-client")[0],
                             200)
        finally:
            self.fake.set_auth_configmap(read(pki.path(self.pki, "proxy-ca.crt")))
            srv.stop()
        self.assertIn('"msg":"front-proxy settings changed"', srv.output())
        self.assert_clean(srv.output())

    def test_token_rotation(self):
        sa = self.sa_dir("sa-rotate", TOKEN1)
        srv = Server(self, "token-rotation", self.in_cluster(sa=sa))
        try:
            self.assertEqual(self.post(srv, cert_manager("cm-rot-1"))[0], 201)
            # The kubelet writes a new token; the API server stops accepting the old one.
            write_atomic(os.path.join(sa, "token"), TOKEN2 + "\n")
            self.fake.set_tokens({TOKEN2: SA_USER,
                                  TOKEN_NOPE: "system:serviceaccount:zoneproof:nope"})
            refused = self.fake.unauthorized
            status, _, data = self.post(srv, cert_manager("cm-rot-2"))
            self.assertEqual(status, 201, data)
            self.assertGreater(self.fake.unauthorized, refused, "the old token was not tried")
            self.assertEqual(self.pod_count(self.fake, "cm-rot-2"), 1)
            self.assertIn("token re-read", srv.output())
        finally:
            self.fake.set_tokens({TOKEN1: SA_USER,
                                  TOKEN_NOPE: "system:serviceaccount:zoneproof:nope"})
            srv.stop()
        self.assert_clean(srv.output())


class Startup(KubeBase):
    """The start: a kubeconfig with a client certificate; a missing permission."""

    def kubeconfig(self, inline):
        def b64(name):
            with open(pki.path(self.pki, name), "rb") as f:
                return base64.b64encode(f.read()).decode()

        if inline:
            user = ["    client-certificate-data: " + b64("kube-admin.crt"),
                    "    client-key-data: " + b64("kube-admin.key")]
            ca = ["    certificate-authority-data: " + b64("serving-ca.crt")]
        else:
            user = ["    client-certificate: pki/kube-admin.crt",
                    "    client-key: pki/kube-admin.key"]
            ca = ["    certificate-authority: pki/serving-ca.crt"]
        path = os.path.join(self.tmp, "kubeconfig-%s" % ("inline" if inline else "files"))
        with open(path, "w") as f:
            f.write("\n".join([
                "apiVersion: v1", "kind: Config", "current-context: lab",
                "contexts:", "- name: lab", "  context: {cluster: fake, user: admin}",
                "clusters:", "- name: fake", "  cluster:",
                "    server: https://127.0.0.1:%d" % self.fake.port] + ca + [
                "users:", "- name: admin", "  user:"] + user + [""]))
        return path

    def test_kubeconfig_client_certificate_user(self):
        for inline in (True, False):
            with self.subTest(inline=inline):
                kctmp = os.path.join(self.tmp, "kctmp-%d" % inline)
                os.makedirs(kctmp, exist_ok=True)
                kc = self.kubeconfig(inline)
                seen = len(self.fake.users_seen)
                srv = Server(self, "kubeconfig-%d" % inline, {"TMPDIR": kctmp},
                             extra=["--kubeconfig", kc])
                try:
                    self.assertEqual(self.post(srv, cert_manager("cm-kc-%d" % inline))[0], 201)
                    self.assertEqual(self.call(srv, "GET", "/apis", MASTERS)[0], 200)
                    self.assertEqual(set(self.fake.users_seen[seen:]), {ADMIN_CN})
                finally:
                    srv.stop()
                self.assertEqual(os.listdir(kctmp), [], "inline certificates left behind")
                self.assert_clean(srv.output())
                r = self.driver(["web", "cf-token", "api-token", "--kubeconfig", kc],
                                {"TMPDIR": kctmp})
                self.assertEqual(r, self.ok(WEB_SECRET))

    def test_signals_during_start_up_wait_for_the_loop(self):
        """SIGHUP (reload) and SIGUSR1 (persist check) that reach serve while it still starts,
        here waiting for a slow API server, do not end it: they wait until its event loop
        takes them, and each is then handled."""
        self.fake.hold()
        try:
            srv = Server(self, "held-signals", {}, extra=["--kubeconfig", self.kubeconfig(True)],
                         expect_start=False)
            zptest.wait_for(lambda: self.fake.held > 0, what="serve's first API call")
            srv.proc.send_signal(signal.SIGHUP)
            srv.proc.send_signal(signal.SIGUSR1)
        finally:
            self.fake.release()
        try:
            zptest.wait_for(lambda: "SIGUSR1: the configuration has no persist: records to "
                            "check" in srv.output() and "SIGHUP: reloading the certificate "
                            "files" in srv.output(), what="both signals taken by the loop")
            self.assertEqual(self.call(srv, "GET", "/apis", MASTERS)[0], 200)
        finally:
            self.assertIsNone(srv.proc.poll(), "serve ended:\n" + srv.output()[-2000:])
            srv.stop()
        self.assert_clean(srv.output())

    def test_missing_configmap_permission_stops_the_start(self):
        sa = self.sa_dir("sa-nope", TOKEN_NOPE)
        srv = Server(self, "nope", self.in_cluster(sa=sa), expect_start=False)
        try:
            self.assertNotEqual(srv.proc.wait(20), 0)
        finally:
            srv.stop()
        out = srv.output()
        self.assertIn("cannot get configmap kube-system/extension-apiserver-authentication "
                      "(403 Forbidden): the zoneproof service account needs get on configmaps "
                      "in namespace kube-system (bind it to Role "
                      "extension-apiserver-authentication-reader in kube-system)", out)
        self.assert_clean(out)

    # ---- the Secret source, through the unit-test driver ----

    @staticmethod
    def ok(value):
        return "ok len=%d sha256=%s" % (len(value), hashlib.sha256(value.encode()).hexdigest())

    def driver(self, args, env):
        tests_dir = os.path.join(os.path.dirname(os.path.dirname(zptest.zoneproof_bin())),
                                 "tests")
        exe = os.path.join(tests_dir, "unit_k8s_test_kclient")
        self.assertTrue(os.access(exe, os.X_OK), "the driver is missing: %s" % exe)
        r = subprocess.run([exe, "secret-get"] + args, capture_output=True, text=True,
                           timeout=60, env=clean_env(env))
        self.assert_clean(r.stdout + r.stderr)
        return r.stdout.strip()

    def test_secret_source(self):
        env = self.in_cluster()
        self.assertEqual(self.driver(["web", "cf-token", "api-token"], env), self.ok(WEB_SECRET))
        self.assertEqual(
            self.driver(["other", "cf-token", "api-token"], env),
            "error Forbidden: cannot get secret other/cf-token (403 Forbidden): the zoneproof "
            "service account needs get on secrets in namespace other")
        self.assertEqual(self.driver(["web", "gone", "api-token"], env),
                         "error NotFound: secret web/gone not found")
        self.assertEqual(self.driver(["web", "two-keys", "token"], env),
                         'error NotFound: secret web/two-keys has no key "token"; its keys are: '
                         "a, b")
        self.assertIn("not a valid", self.driver(["web", "../x", "api-token"], env))


if __name__ == "__main__":
    unittest.main(verbosity=2)

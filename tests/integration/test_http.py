"""The aggregated API server over real HTTPS: `zoneproof serve` on loopback.

Health without a client certificate; discovery shapes; front-proxy
authentication (wrong CA, CN outside the allowed names, serverAuth-only
certificates, forged X-Remote-User without a certificate); the protocol
errors as Status objects (400, 404, 405, 413, 415); Present and CleanUp
through a real BIND named; keep-alive; certificate hot reload on SIGHUP; a
client that leaves while its request is parked; the drain on SIGTERM; and no
TSIG secret in anything the server prints.

Every 2xx answer to a POST is checked to carry a `response` object, and every
success:false to carry a non-empty message: cert-manager crashes on the first
and reads the second as success.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pki  # noqa: E402
import zptest  # noqa: E402

GROUP = "acme.zoneproof.test"
SOLVER = "zoneproof"
ZONE = "example.test"
SLOW_ZONE = "slow.test"  # never propagates; Present answers at its 3 s budget
PARKED_ZONE = "parked.test"  # never propagates either, with a 50 s budget: a test ends the park
RESOURCE = "/apis/%s/v1alpha1/%s" % (GROUP, SOLVER)
AGGREGATOR = {"X-Remote-User": "system:kube-aggregator", "X-Remote-Group": "system:masters"}
CERT_MANAGER = {"X-Remote-User": "system:serviceaccount:cert-manager:cert-manager",
                "X-Remote-Group": "system:serviceaccounts",
                "X-Remote-Extra-Authentication.kubernetes.io%2fpod-Name": "cert-manager-0"}


def payload(action, fqdn, key, zone=None, uid="3f1c2a", namespace="default", config=None):
    req = {"uid": uid, "action": action, "type": "dns-01", "dnsName": fqdn.split(".", 1)[1],
           "key": key, "resourceNamespace": namespace, "resolvedFQDN": fqdn,
           "allowAmbientCredentials": False, "config": config}
    if zone:
        req["resolvedZone"] = zone
    return json.dumps({"apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
                       "kind": "ChallengePayload", "request": req}).encode()


class Server:
    """One `zoneproof serve` process with its output in a file."""

    def __init__(self, tmp, pkidir, config, name="serve", extra=()):
        self.port = zptest.free_port()
        self.tls_dir = os.path.join(tmp, name + "-tls")
        os.makedirs(self.tls_dir, exist_ok=True)
        self.cert = os.path.join(self.tls_dir, "tls.crt")
        self.key = os.path.join(self.tls_dir, "tls.key")
        shutil.copy(pki.path(pkidir, "serving.crt"), self.cert)
        shutil.copy(pki.path(pkidir, "serving.key"), self.key)
        self.log_path = os.path.join(tmp, name + ".log")
        args = [zptest.zoneproof_bin(), "serve", "--config", config,
                "--secure-port", str(self.port), "--bind-address", "127.0.0.1",
                "--tls-cert-file", self.cert, "--tls-private-key-file", self.key,
                "--requestheader-client-ca-file", pki.path(pkidir, "proxy-ca.crt"),
                "--requestheader-allowed-names", "front-proxy-client,aggregator",
                "--log-level", "debug"] + list(extra)
        # Never a cluster the machine may be in: this server must use the flags' CA only.
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env["GROUP_NAME"] = GROUP
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=zptest.die_with_parent)
        try:
            zptest.wait_for(lambda: self.proc.poll() is None and
                            zptest.tcp_open("127.0.0.1", self.port), what="zoneproof serve")
        except Exception:
            self.stop()
            raise RuntimeError("zoneproof serve did not start:\n" + self.output())

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

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


class HTTPBase(unittest.TestCase):
    """PKI, named and a configuration shared by the test classes."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-http-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.named = zptest.Named({ZONE: [], SLOW_ZONE: [], PARKED_ZONE: []})
        cls.named.start()
        secret = zptest.write_secret(cls.tmp)
        dead = zptest.free_port()  # nothing answers here: the slow zone never propagates
        cls.config = os.path.join(cls.tmp, "config.yaml")
        with open(cls.config, "w") as f:
            f.write("\n".join([
                "propagation:",
                "  mode: skip",
                "providers:",
                "  - name: lab",
                "    type: rfc2136",
                '    dnsZones: ["%s"]' % ZONE,
                "    namespaces: [default]",
                '    nameserver: "%s"' % cls.named.addr(),
                "    tsigKeyName: acme-key",
                '    tsigSecretFile: "%s"' % secret,
                "  - name: slow",
                "    type: rfc2136",
                '    dnsZones: ["%s"]' % SLOW_ZONE,
                "    namespaces: [default]",
                '    nameserver: "%s"' % cls.named.addr(),
                "    tsigKeyName: acme-key",
                '    tsigSecretFile: "%s"' % secret,
                "    propagation:",
                "      mode: wait",
                "      timeout: 3s",
                '      nameservers: ["127.0.0.1:%d"]' % dead,
                "  - name: parked",
                "    type: rfc2136",
                '    dnsZones: ["%s"]' % PARKED_ZONE,
                "    namespaces: [default]",
                '    nameserver: "%s"' % cls.named.addr(),
                "    tsigKeyName: acme-key",
                '    tsigSecretFile: "%s"' % secret,
                "    propagation:",
                "      mode: wait",
                "      timeout: 50s",
                '      nameservers: ["127.0.0.1:%d"]' % dead,
                ""]))

    @classmethod
    def tearDownClass(cls):
        cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- what the server did, from its log (never from how long it took) -----------------

    @staticmethod
    def wait_parked(server, fqdn):
        """Until the watcher has asked about fqdn: its Present is parked."""
        zptest.wait_for(lambda: '"msg":"watch round","fqdn":"%s"' % fqdn in server.output(),
                        what="a parked Present of %s" % fqdn)

    @staticmethod
    def answered(server, fqdn):
        """Whether the Present of fqdn has been answered (the "challenge" log line)."""
        return any('"msg":"challenge"' in line and '"action":"Present"' in line and
                   '"fqdn":"%s"' % fqdn in line for line in server.output().splitlines())

    # ---- HTTP helpers --------------------------------------------------------------------

    def context(self, client="proxy-client"):
        ctx = ssl.create_default_context(cafile=pki.path(self.pki, "serving-ca.crt"))
        if client:
            ctx.load_cert_chain(pki.path(self.pki, client + ".crt"),
                                pki.path(self.pki, client + ".key"))
        return ctx

    def connect(self, server, client="proxy-client", host="localhost"):
        return http.client.HTTPSConnection(host, server.port, context=self.context(client),
                                           timeout=30)

    def call(self, server, method, path, body=None, headers=None, client="proxy-client",
             conn=None):
        """One request; returns (status, headers, body bytes). Checks every 2xx POST."""
        own = conn is None
        conn = conn or self.connect(server, client)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            status, hdrs = resp.status, resp.headers
        finally:
            if own:
                conn.close()
        if method == "POST" and 200 <= status < 300:
            self.check_payload(data)
        return status, hdrs, data

    def check_payload(self, data):
        """What cert-manager needs of any 2xx: a response, and a message on failure."""
        doc = json.loads(data)
        self.assertIn("response", doc, "a 2xx without response crashes cert-manager: %r" % data)
        self.assertIsInstance(doc["response"].get("success"), bool)
        if not doc["response"]["success"]:
            self.assertTrue(doc["response"].get("status", {}).get("message"),
                            "success:false with an empty message reads as success: %r" % data)
        return doc

    def post(self, server, body, ctype="application/json", headers=None, **kw):
        h = dict(CERT_MANAGER)
        if ctype is not None:
            h["Content-Type"] = ctype
        h.update(headers or {})
        return self.call(server, "POST", RESOURCE, body=body, headers=h, **kw)

    def assert_status(self, result, code, reason=None, message=None):
        status, hdrs, data = result
        self.assertEqual(status, code, data)
        self.assertEqual(hdrs.get("Content-Type"), "application/json")
        doc = json.loads(data)
        self.assertEqual(doc["kind"], "Status")
        self.assertEqual(doc["apiVersion"], "v1")
        self.assertEqual(doc["metadata"], {})
        self.assertEqual(doc["status"], "Failure")
        self.assertEqual(doc["code"], code)
        self.assertTrue(doc["message"])
        if reason:
            self.assertEqual(doc["reason"], reason)
        if message:
            self.assertIn(message, doc["message"])
        return doc


class HTTP(HTTPBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = Server(cls.tmp, cls.pki, cls.config)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def get(self, path, client="proxy-client", headers=None):
        return self.call(self.srv, "GET", path, headers=AGGREGATOR if headers is None else headers,
                         client=client)

    # ---- health and discovery ------------------------------------------------------------

    def test_health_without_client_certificate(self):
        for path in ("/healthz", "/livez", "/readyz"):
            status, hdrs, data = self.call(self.srv, "GET", path, client=None)
            self.assertEqual((status, data), (200, b"ok"), path)
            self.assertTrue(hdrs.get("Content-Type").startswith("text/plain"))

    def test_discovery_shapes(self):
        gv = {"groupVersion": GROUP + "/v1alpha1", "version": "v1alpha1"}
        status, hdrs, data = self.get("/apis")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("Content-Type"), "application/json")
        self.assertEqual(json.loads(data), {
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": [{"name": GROUP, "versions": [gv], "preferredVersion": gv}]})
        status, _, data = self.get("/apis/" + GROUP)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data), {"kind": "APIGroup", "apiVersion": "v1", "name": GROUP,
                                            "versions": [gv], "preferredVersion": gv})
        status, _, data = self.get("/apis/%s/v1alpha1" % GROUP)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data), {
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP + "/v1alpha1",
            "resources": [{"name": SOLVER, "singularName": "ChallengePayload",
                           "namespaced": False, "group": "webhook.acme.cert-manager.io",
                           "version": "v1alpha1", "kind": "ChallengePayload",
                           "verbs": ["create"]}]})

    def test_discovery_fallback_identity_without_groups(self):
        # The aggregator's legacy fallback: a user name and no groups at all.
        status, _, _ = self.get("/apis/%s/v1alpha1" % GROUP,
                                headers={"X-Remote-User": "system:kube-aggregator"})
        self.assertEqual(status, 200)

    # ---- authentication ------------------------------------------------------------------

    def test_apis_without_certificate_is_401(self):
        self.assert_status(self.get("/apis", client=None), 401, "Unauthorized")

    def test_forged_remote_user_without_certificate_is_ignored(self):
        self.assert_status(self.get("/apis/%s/v1alpha1" % GROUP, client=None,
                                    headers={"X-Remote-User": "system:kube-aggregator",
                                             "X-Remote-Group": "system:masters"}),
                           401, "Unauthorized")
        self.assert_status(self.post(self.srv, payload("Present", "_acme-challenge.example.test.",
                                                       zptest.acme_key("forged")),
                                     client=None), 401)

    def test_certificate_from_another_ca_is_401(self):
        self.assert_status(self.get("/apis", client="other-client"), 401, "Unauthorized")

    def test_cn_outside_allowed_names_is_401(self):
        status = self.get("/apis", client="wrongcn-client")[0]
        self.assertIn(status, (401, 403))

    def test_server_auth_only_certificate_is_401(self):
        self.assert_status(self.get("/apis", client="serverauth-client"), 401, "Unauthorized")

    def test_valid_certificate_without_user_header_is_401(self):
        self.assert_status(self.get("/apis", headers={}), 401, "Unauthorized")

    def test_remote_user_with_valid_certificate_is_accepted(self):
        status, _, _ = self.get("/apis", headers=CERT_MANAGER)
        self.assertEqual(status, 200)
        self.assertIn('"user":"system:serviceaccount:cert-manager:cert-manager"',
                      self.srv.output())

    # ---- protocol errors -------------------------------------------------------------------

    def test_body_too_large_is_413(self):
        big = b'{"request":{"key":"' + b"a" * (300 * 1024) + b'"}}'
        self.assert_status(self.post(self.srv, big), 413, "RequestEntityTooLarge")

    def test_wrong_content_type_is_415(self):
        body = payload("Present", "_acme-challenge.example.test.", zptest.acme_key("ct"))
        self.assert_status(self.post(self.srv, body, ctype="text/plain"), 415,
                           "UnsupportedMediaType")

    def test_json_content_type_with_charset_and_missing_type_are_accepted(self):
        key = zptest.acme_key("charset")
        fqdn = "_acme-challenge.charset.example.test."
        for ctype in ("application/json; charset=utf-8", None):
            status, _, _ = self.post(self.srv, payload("CleanUp", fqdn, key, ZONE + "."),
                                     ctype=ctype)
            self.assertEqual(status, 201, ctype)

    def test_chunked_body_is_accepted(self):
        body = payload("CleanUp", "_acme-challenge.chunked.example.test.",
                       zptest.acme_key("chunked"), ZONE + ".")
        conn = self.connect(self.srv)
        try:
            h = dict(CERT_MANAGER, **{"Content-Type": "application/json"})
            conn.request("POST", RESOURCE, body=iter([body[:10], body[10:]]), headers=h,
                         encode_chunked=True)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        self.assertEqual(resp.status, 201, data)
        self.assertTrue(self.check_payload(data)["response"]["success"])

    def test_bad_payloads_are_400(self):
        cases = [(b"{not json", "not valid JSON"),
                 (b"{}", "payload request field cannot be empty"),
                 (b'{"request":{}}', "payload request field cannot be empty"),
                 (b"[]", "JSON object"),
                 (b"", "empty"),
                 (payload("Bogus", "_acme-challenge.example.test.", zptest.acme_key("b")),
                  "Bogus")]
        for body, phrase in cases:
            with self.subTest(body=body[:40]):
                self.assert_status(self.post(self.srv, body), 400, "BadRequest", phrase)

    def test_not_found_is_404(self):
        self.assert_status(self.call(self.srv, "POST", "/apis/%s/v1alpha1/other" % GROUP,
                                     body=b"{}", headers=dict(CERT_MANAGER)), 404, "NotFound")
        self.assert_status(self.get("/apis/other.example.com/v1alpha1"), 404, "NotFound")
        self.assert_status(self.get("/apis/%s/v1beta1" % GROUP), 404, "NotFound")
        self.assert_status(self.call(self.srv, "GET", "/openapi/v2", client=None), 404,
                           "NotFound")
        self.assert_status(self.get("/openapi/v3"), 404, "NotFound")

    def test_wrong_method_is_405(self):
        result = self.call(self.srv, "GET", RESOURCE, headers=dict(CERT_MANAGER))
        self.assert_status(result, 405, "MethodNotAllowed")
        self.assertEqual(result[1].get("Allow"), "POST")
        self.assert_status(self.call(self.srv, "DELETE", "/apis", headers=dict(AGGREGATOR)), 405)

    # ---- the ChallengePayload call ---------------------------------------------------------

    def test_present_and_cleanup(self):
        fqdn = "_acme-challenge.www.example.test."
        key = zptest.acme_key("http-present")
        status, hdrs, data = self.post(self.srv, payload("Present", fqdn, key, ZONE + "."))
        self.assertEqual(status, 201, data)
        self.assertEqual(hdrs.get("Content-Type"), "application/json")
        doc = json.loads(data)
        self.assertEqual(doc["apiVersion"], "webhook.acme.cert-manager.io/v1alpha1")
        self.assertEqual(doc["kind"], "ChallengePayload")
        self.assertEqual(doc["response"], {"uid": "3f1c2a", "success": True})
        self.assertEqual(self.named.txt(fqdn), [key])

        status, _, data = self.post(self.srv, payload("CleanUp", fqdn, key, ZONE + "."))
        self.assertEqual(status, 201, data)
        self.assertEqual(json.loads(data)["response"], {"uid": "3f1c2a", "success": True})
        self.assertEqual(self.named.txt(fqdn), [])
        out = self.srv.output()
        self.assertIn('"provider":"lab"', out)
        self.assertIn('"action":"Present"', out)

    def refused(self, body):
        status, _, data = self.post(self.srv, body)
        self.assertEqual(status, 201, data)
        resp = json.loads(data)["response"]
        self.assertFalse(resp["success"])
        return resp["status"]["message"]

    def test_namespace_not_allowed_writes_nothing(self):
        """lab serves namespace default only: an Issuer elsewhere cannot use its credentials."""
        fqdn = "_acme-challenge.intruder.example.test."
        msg = self.refused(payload("Present", fqdn, zptest.acme_key("ns"), ZONE + ".",
                                   namespace="intruder"))
        self.assertIn('namespace "intruder" may not use provider instance "lab"', msg)
        self.assertIn('add "intruder" to the instance\'s namespaces', msg)
        self.assertEqual(self.named.txt(fqdn), [])

    def test_named_instance_writes_only_inside_its_zones(self):
        """config.provider picks lab, but the name is in slow's zone: nothing is written."""
        fqdn = "_acme-challenge.esc.%s." % SLOW_ZONE
        msg = self.refused(payload("Present", fqdn, zptest.acme_key("esc"), SLOW_ZONE + ".",
                                   config={"provider": "lab"}))
        self.assertIn('provider instance "lab" writes only inside its dnsZones', msg)
        self.assertEqual(self.named.txt(fqdn), [])

    def test_only_challenge_names_are_written(self):
        for fqdn in ("%s." % ZONE, "www.%s." % ZONE):
            msg = self.refused(payload("Present", fqdn, zptest.acme_key("apex"), ZONE + "."))
            self.assertIn("writes only names whose first label is one of _acme-challenge", msg)
            self.assertEqual(self.named.txt(fqdn), [])

    def test_zone_no_provider_serves_fails_with_the_zones(self):
        fqdn = "_acme-challenge.www.elsewhere.test."
        status, _, data = self.post(self.srv, payload("Present", fqdn, zptest.acme_key("x"),
                                                      "elsewhere.test."))
        self.assertEqual(status, 201, data)
        resp = json.loads(data)["response"]
        self.assertFalse(resp["success"])
        self.assertEqual(resp["status"]["status"], "Failed")
        self.assertIn(ZONE, resp["status"]["message"])
        self.assertTrue(resp["status"].get("reason"))

    def test_keep_alive(self):
        conn = self.connect(self.srv)
        try:
            status, _, _ = self.call(self.srv, "GET", "/apis", headers=AGGREGATOR, conn=conn)
            self.assertEqual(status, 200)
            sock = conn.sock
            self.assertIsNotNone(sock)
            fqdn = "_acme-challenge.keep.example.test."
            status, _, _ = self.post(self.srv, payload("CleanUp", fqdn, zptest.acme_key("k"),
                                                       ZONE + "."), conn=conn)
            self.assertEqual(status, 201)
            status, _, _ = self.call(self.srv, "GET", "/healthz", conn=conn)
            self.assertEqual(status, 200)
            self.assertIs(conn.sock, sock, "the connection was not kept alive")
        finally:
            conn.close()

    def test_client_leaving_while_parked(self):
        # The parked zone parks Present; the client leaves; then the Present is answered.
        fqdn, key = "_acme-challenge.gone.%s." % PARKED_ZONE, zptest.acme_key("gone")
        body = payload("Present", fqdn, key, PARKED_ZONE + ".")
        raw = socket.create_connection(("127.0.0.1", self.srv.port))
        tls = self.context().wrap_socket(raw, server_hostname="localhost")
        head = ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                "X-Remote-User: u\r\nContent-Length: %d\r\n\r\n" % (RESOURCE, len(body)))
        tls.sendall(head.encode() + body)
        self.wait_parked(self.srv, fqdn)
        tls.close()
        # CleanUp forgets the watch, so the parked Present is answered now, to nobody.
        self.assertEqual(self.post(self.srv, payload("CleanUp", fqdn, key,
                                                     PARKED_ZONE + "."))[0], 201)
        zptest.wait_for(lambda: self.answered(self.srv, fqdn), what="the answer nobody reads")
        self.assertIsNone(self.srv.proc.poll(), "the server died:\n" + self.srv.output())
        self.assertEqual(self.call(self.srv, "GET", "/healthz", client=None)[0], 200)

    def test_parked_requests_do_not_block_others(self):
        fqdn, key = "_acme-challenge.wait.%s." % PARKED_ZONE, zptest.acme_key("w")
        result = {}

        def slow():
            result["slow"] = self.post(self.srv, payload("Present", fqdn, key,
                                                         PARKED_ZONE + "."))

        t = threading.Thread(target=slow)
        t.start()
        self.wait_parked(self.srv, fqdn)
        self.assertEqual(self.get("/apis")[0], 200)
        # Served while the Present was still parked: nothing waited for it to end.
        self.assertFalse(self.answered(self.srv, fqdn), self.srv.output())
        # CleanUp forgets the watch: the parked Present is answered with what it found.
        self.assertEqual(self.post(self.srv, payload("CleanUp", fqdn, key,
                                                     PARKED_ZONE + "."))[0], 201)
        t.join(30)
        status, _, data = result["slow"]
        self.assertEqual(status, 201)
        resp = json.loads(data)["response"]
        self.assertFalse(resp["success"])
        self.assertIn("127.0.0.1", resp["status"]["message"])

    # ---- certificate reload ----------------------------------------------------------------

    def peer_der(self, conn):
        return conn.sock.getpeercert(binary_form=True)

    def test_certificate_hot_reload(self):
        with open(self.srv.cert, "rb") as f:
            old_pem = f.read()
        old = ssl.PEM_cert_to_DER_cert(old_pem.decode())
        keep = self.connect(self.srv)
        try:
            self.assertEqual(self.call(self.srv, "GET", "/apis", headers=AGGREGATOR,
                                       conn=keep)[0], 200)
            self.assertEqual(self.peer_der(keep), old)

            # A broken certificate is refused and the old one stays.
            with open(self.srv.cert + ".tmp", "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
            os.replace(self.srv.cert + ".tmp", self.srv.cert)
            self.srv.signal(signal.SIGHUP)
            zptest.wait_for(lambda: "serving certificate not reloaded" in self.srv.output(),
                            what="the reload error")
            fresh = self.connect(self.srv)
            fresh.request("GET", "/healthz")
            fresh.getresponse().read()
            self.assertEqual(self.peer_der(fresh), old)
            fresh.close()

            # A renewed certificate: new connections get it, the old one lives on.
            pki._leaf(self.pki, "serving2", "serving-ca", "zoneproof", "serverAuth",
                      "DNS:localhost,DNS:zoneproof,IP:127.0.0.1")
            for src, dst in (("serving2.key", self.srv.key), ("serving2.crt", self.srv.cert)):
                shutil.copy(pki.path(self.pki, src), dst + ".tmp")
                os.replace(dst + ".tmp", dst)
            with open(self.srv.cert) as f:
                new = ssl.PEM_cert_to_DER_cert(f.read())
            self.assertNotEqual(new, old)
            self.srv.signal(signal.SIGHUP)

            def sees_new():
                c = self.connect(self.srv)
                try:
                    c.request("GET", "/healthz")
                    c.getresponse().read()
                    return self.peer_der(c) == new
                finally:
                    c.close()

            zptest.wait_for(sees_new, what="the new serving certificate")
            status, _, _ = self.call(self.srv, "GET", "/apis/" + GROUP, headers=AGGREGATOR,
                                     conn=keep)
            self.assertEqual(status, 200)
            self.assertEqual(self.peer_der(keep), old, "the old connection was not kept")
        finally:
            keep.close()

    # ---- last: nothing secret in the output --------------------------------------------------

    def test_zz_no_secret_in_output(self):
        out = self.srv.output()
        self.assertIn('"msg":"request"', out)
        self.assertNotIn(zptest.TSIG_SECRET, out)
        self.assertNotIn("BEGIN PRIVATE KEY", out)
        self.assertNotIn("Sanitizer", out)
        self.assertNotIn("runtime error:", out)


class Drain(HTTPBase):
    """SIGTERM: no new connections, parked challenges still answered, exit 0."""

    def test_sigterm_drains_parked_requests(self):
        srv = Server(self.tmp, self.pki, self.config, name="drain")
        result = {}

        def slow():
            try:
                # Parked for up to 50 s: the stop answers it at once instead.
                result["slow"] = self.post(srv, payload(
                    "Present", "_acme-challenge.drain.parked.test.", zptest.acme_key("d"),
                    PARKED_ZONE + "."))
            except Exception as e:  # reported below
                result["error"] = e

        def refused():
            try:
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            except OSError:
                return True
            return False

        try:
            t = threading.Thread(target=slow)
            t.start()
            self.wait_parked(srv, "_acme-challenge.drain.parked.test.")
            srv.signal(signal.SIGTERM)
            zptest.wait_for(refused, what="the listener closed")
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            t.join(30)
            self.assertNotIn("error", result, srv.output())
            status, hdrs, data = result["slow"]
            self.assertEqual(status, 201)
            self.assertEqual(hdrs.get("Connection"), "close")
            resp = json.loads(data)["response"]
            self.assertFalse(resp["success"])
            self.assertEqual(resp["status"]["message"],
                             "zoneproof is restarting; cert-manager will retry")
            # Its write was done and stays: cert-manager's CleanUp (or the sweeper) removes it.
            self.assertEqual(self.named.txt("_acme-challenge.drain.parked.test."),
                             [zptest.acme_key("d")])
            self.assertEqual(srv.proc.wait(15), 0, srv.output())
        finally:
            srv.stop()
        out = srv.output()
        self.assertNotIn(zptest.TSIG_SECRET, out)
        self.assertNotIn("Sanitizer", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)

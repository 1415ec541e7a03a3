"""HTTP/2, as kube-apiserver's aggregator speaks it to an APIService that offers h2 in ALPN.

The aggregator multiplexes every concurrent call on a few connections, so
each waiting Present costs a stream, not a TLS connection. Checked here with
three independent clients, Go's net/http (what kube-apiserver uses), curl (nghttp2) and
python3-h2 (hyper-h2):
ALPN picks h2 (and http/1.1 with --disable-http2); health without a client
certificate; discovery and Present/CleanUp through a real BIND named; many
Presents parked on one connection while other calls on it are answered; a
stream reset while parked; the limits a peer without a verified certificate
gets (few streams, no body, 401 before anything else); 413; and the drain
on SIGTERM (parked streams answered, then GOAWAY).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pki  # noqa: E402
import zptest  # noqa: E402
from h2client import H2  # noqa: E402  (first: it may re-run this under Debian's python3)
import h2.settings  # noqa: E402
from test_http import (AGGREGATOR, CERT_MANAGER, PARKED_ZONE, RESOURCE, ZONE,  # noqa: E402
                       HTTPBase, Server, payload)


class HTTP2(HTTPBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = Server(cls.tmp, cls.pki, cls.config, name="h2")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def h2(self, client="proxy-client", srv=None):
        c = H2((srv or self.srv).port, self.context(client))
        self.addCleanup(c.close)
        self.assertEqual(c.alpn, "h2")
        return c

    def present_headers(self):
        return dict(CERT_MANAGER, **{"content-type": "application/json"})

    def check_result(self, st):
        self.assertEqual(st["status"], 201, st)
        return self.check_payload(st["body"])["response"]

    def curl(self, *args):
        cmd = ["curl", "-sS", "--http2", "--cacert", pki.path(self.pki, "serving-ca.crt"),
               "-w", "\n%{http_version} %{http_code}"] + list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        body, _, tail = out.stdout.rpartition("\n")
        version, code = tail.split()
        return version, int(code), body

    def curl_cert(self):
        return ["--cert", pki.path(self.pki, "proxy-client.crt"),
                "--key", pki.path(self.pki, "proxy-client.key")]

    # ---- an independent client: curl over nghttp2 -----------------------------------------

    def test_curl_health_discovery_present_cleanup(self):
        base = "https://localhost:%d" % self.srv.port
        self.assertEqual(self.curl(base + "/healthz"), ("2", 200, "ok"))
        hdr = []
        for k, v in AGGREGATOR.items():
            hdr += ["-H", "%s: %s" % (k, v)]
        version, code, body = self.curl(*(self.curl_cert() + hdr + [base + "/apis"]))
        self.assertEqual((version, code), ("2", 200))
        self.assertEqual(json.loads(body)["kind"], "APIGroupList")
        fqdn, key = "_acme-challenge.curl.%s." % ZONE, zptest.acme_key("curl")
        hdr = ["-H", "Content-Type: application/json"]
        for k, v in CERT_MANAGER.items():
            hdr += ["-H", "%s: %s" % (k, v)]
        for action, want in (("Present", [key]), ("CleanUp", [])):
            version, code, body = self.curl(*(self.curl_cert() + hdr + [
                "--data-binary", payload(action, fqdn, key, ZONE + ".").decode(),
                base + RESOURCE]))
            self.assertEqual((version, code), ("2", 201), body)
            self.assertTrue(self.check_payload(body.encode())["response"]["success"], body)
            self.assertEqual(self.named.txt(fqdn), want)

    # ---- kube-apiserver's own client: Go's net/http --------------------------------------------

    def go_client(self):
        """tests/integration/h2go built once (Debian's golang-go, scripts/setup.sh)."""
        exe = os.path.join(self.tmp, "h2go")
        if not os.path.exists(exe):
            env = dict(os.environ)
            env.setdefault("GOCACHE", os.path.join(os.path.expanduser("~"), ".cache", "go-build")
                           if "HOME" in os.environ else os.path.join(self.tmp, "gocache"))
            r = subprocess.run(["go", "build", "-o", exe,
                                os.path.join(HERE, "h2go", "main.go")],
                               capture_output=True, text=True, env=env, timeout=600)
            self.assertEqual(r.returncode, 0, r.stderr)
        return exe

    def go_posts(self, bodies):
        r = subprocess.run([self.go_client(), "-url", "https://localhost:%d" % self.srv.port,
                            "-ca", pki.path(self.pki, "serving-ca.crt"),
                            "-cert", pki.path(self.pki, "proxy-client.crt"),
                            "-key", pki.path(self.pki, "proxy-client.key"),
                            "-path", RESOURCE] + [b.decode() for b in bodies],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_go_client_multiplexes_on_one_connection(self):
        names = ["_acme-challenge.go%d.%s." % (i, ZONE) for i in range(20)]
        keys = [zptest.acme_key("go%d" % i) for i in range(20)]
        out = self.go_posts([payload("Present", f, k, ZONE + ".", uid="go%d" % i)
                             for i, (f, k) in enumerate(zip(names, keys))])
        self.assertEqual((out["apis"]["status"], out["apis"]["proto"]), (200, "HTTP/2.0"))
        for i, res in enumerate(out["posts"]):
            self.assertEqual((res["status"], res["proto"]), (201, "HTTP/2.0"), res)
            resp = self.check_payload(res["body"].encode())["response"]
            self.assertEqual(resp["uid"], "go%d" % i)
            self.assertTrue(resp["success"], res["body"])
        self.assertEqual(out["connections"], 1, "the calls were not multiplexed")
        for f, k in zip(names, keys):
            self.assertIn(k, self.named.txt(f))
        out = self.go_posts([payload("CleanUp", f, k, ZONE + ".") for f, k in zip(names, keys)])
        self.assertTrue(all(r["status"] == 201 for r in out["posts"]), out)
        for f in names:
            self.assertEqual(self.named.txt(f), [])

    def test_disable_http2_offers_http11_only(self):
        srv = Server(self.tmp, self.pki, self.config, name="h1only", extra=["--disable-http2"])
        try:
            c = H2(srv.port, self.context())
            c.close()
            self.assertEqual(c.alpn, "http/1.1")
            version, code, _ = self.curl("https://localhost:%d/healthz" % srv.port)
            self.assertEqual((version, code), ("1.1", 200))
        finally:
            srv.stop()

    # ---- many calls on one connection --------------------------------------------------------

    def test_parked_presents_share_one_connection(self):
        c = self.h2()
        names = ["_acme-challenge.mux%d.%s." % (i, PARKED_ZONE) for i in range(20)]
        keys = [zptest.acme_key("mux%d" % i) for i in range(20)]
        sids = [c.request("POST", RESOURCE, self.present_headers(),
                          payload("Present", f, k, PARKED_ZONE + ".", uid="mux%d" % i))
                for i, (f, k) in enumerate(zip(names, keys))]
        for f in names:
            self.wait_parked(self.srv, f)
        # The same connection goes on serving while all twenty wait.
        st = c.call("GET", "/apis", AGGREGATOR)
        self.assertEqual(st["status"], 200)
        self.assertEqual(json.loads(st["body"])["kind"], "APIGroupList")
        self.assertFalse(any(c.streams[s]["ended"] for s in sids))
        # Each CleanUp, on the same connection, ends its Present's watch: each gets its answer.
        for f, k in zip(names, keys):
            self.assertTrue(self.check_result(c.call(
                "POST", RESOURCE, self.present_headers(),
                payload("CleanUp", f, k, PARKED_ZONE + ".")))["success"])
        for i, st in enumerate(c.wait(*sids)):
            resp = self.check_result(st)
            self.assertEqual(resp["uid"], "mux%d" % i)
            self.assertFalse(resp["success"])
            self.assertIn("127.0.0.1", resp["status"]["message"])

    def test_stream_reset_while_parked(self):
        c = self.h2()
        fqdn, key = "_acme-challenge.rst.%s." % PARKED_ZONE, zptest.acme_key("rst")
        sid = c.request("POST", RESOURCE, self.present_headers(),
                        payload("Present", fqdn, key, PARKED_ZONE + "."))
        self.wait_parked(self.srv, fqdn)
        c.reset(sid)
        # The connection and the server go on; the Present is answered to nobody.
        self.assertEqual(c.call("GET", "/healthz")["status"], 200)
        self.assertTrue(self.check_result(c.call(
            "POST", RESOURCE, self.present_headers(),
            payload("CleanUp", fqdn, key, PARKED_ZONE + ".")))["success"])
        zptest.wait_for(lambda: any(
            '"fqdn":"%s"' % fqdn in line and "the client went away before the answer" in line
            for line in self.srv.output().splitlines()), what="the answer nobody reads")
        self.assertIsNone(self.srv.proc.poll(), self.srv.output())

    def test_body_too_large_is_413(self):
        st = self.h2().call("POST", RESOURCE, self.present_headers(), b"x" * (300 * 1024))
        self.assertEqual(st["status"], 413)
        self.assertEqual(json.loads(st["body"])["code"], 413)

    # ---- a peer without a verified client certificate ----------------------------------------

    def test_unverified_peer_gets_health_and_401_only(self):
        c = self.h2(client=None)
        self.assertEqual(c.call("GET", "/healthz")["status"], 200)
        self.assertEqual(c.settings.get(h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS), 4)
        st = c.call("GET", "/apis", AGGREGATOR)
        self.assertEqual(st["status"], 401)
        self.assertEqual(json.loads(st["body"])["reason"], "Unauthorized")
        # A body from it is never kept: the answer is still the 401.
        st = c.call("POST", RESOURCE, self.present_headers(),
                    payload("Present", "_acme-challenge.x.%s." % ZONE, "k", ZONE + "."))
        self.assertEqual(st["status"], 401)

    def test_rotated_front_proxy_ca_applies_to_open_connections(self):
        # The chain verified at the handshake is remembered on the connection, but only while
        # the front-proxy settings that verified it are the current ones.
        ca = os.path.join(self.tmp, "rot-proxy-ca.crt")
        shutil.copy(pki.path(self.pki, "proxy-ca.crt"), ca)
        srv = Server(self.tmp, self.pki, self.config, name="h2rot",
                     extra=["--requestheader-client-ca-file", ca])
        try:
            c = self.h2(srv=srv)
            self.assertEqual(c.call("GET", "/apis", AGGREGATOR)["status"], 200)
            shutil.copy(pki.path(self.pki, "other-ca.crt"), ca + ".new")
            os.rename(ca + ".new", ca)
            srv.signal(signal.SIGHUP)
            zptest.wait_for(lambda: c.call("GET", "/apis", AGGREGATOR)["status"] == 401,
                            what="the open connection's next request refused")
        finally:
            srv.stop()

    def test_zz_no_secret_in_output(self):
        out = self.srv.output()
        self.assertIn('"msg":"request"', out)
        self.assertNotIn(zptest.TSIG_SECRET, out)
        self.assertNotIn("Sanitizer", out)
        self.assertNotIn("runtime error:", out)


class Drain2(HTTPBase):
    """SIGTERM with Presents parked on an HTTP/2 connection."""

    def test_sigterm_answers_parked_streams_then_goaway(self):
        srv = Server(self.tmp, self.pki, self.config, name="drain2")
        try:
            c = H2(srv.port, self.context())
            fqdn = "_acme-challenge.drain2.%s." % PARKED_ZONE
            sid = c.request("POST", RESOURCE, dict(CERT_MANAGER, **{
                "content-type": "application/json"}), payload(
                    "Present", fqdn, zptest.acme_key("d2"), PARKED_ZONE + "."))
            self.wait_parked(srv, fqdn)
            srv.signal(signal.SIGTERM)
            st = c.wait(sid)[0]
            self.assertEqual(st["status"], 201)
            resp = json.loads(st["body"])["response"]
            self.assertEqual(resp["status"]["message"],
                             "zoneproof is restarting; cert-manager will retry")
            while c.goaway is None and c.pump():
                pass
            self.assertIsNotNone(c.goaway, "no GOAWAY before the close")
            c.close()
            self.assertEqual(srv.proc.wait(15), 0, srv.output())
        finally:
            srv.stop()
        self.assertNotIn("Sanitizer", srv.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)

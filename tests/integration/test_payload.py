"""The ChallengePayload body through `zoneproof serve`, read strictly.

One JSON document with only whitespace around it; trailing bytes, two
concatenated documents, a duplicate key at any depth and a NUL character (a
\\u0000 escape or a zero byte) are each a 400 Status naming the problem, and
no DNS write happens for them. An escaped backslash before "u0000" is text,
not a NUL. Bodies above the limit are a 413 Status.

The servers, PKI and named come from test_http.py.
"""
import http.client
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import test_http  # noqa: E402
import zptest  # noqa: E402

ZONE = test_http.ZONE
TRAILING = "request body: trailing bytes after the JSON document"
NUL = "request body: a string contains a NUL character (\\u0000)"
ZERO = "request body: a zero byte is not allowed in JSON text"


def doc(fqdn, key, extra=""):
    """A ChallengePayload as text, so that a test can put bytes where JSON would not."""
    return ('{"apiVersion":"webhook.acme.cert-manager.io/v1alpha1","kind":"ChallengePayload",'
            '"request":{"uid":"7a1c","action":"Present","type":"dns-01","dnsName":"%s",'
            '"key":"%s","resourceNamespace":"default","resolvedFQDN":"%s",'
            '"resolvedZone":"%s."%s}}' % (ZONE, key, fqdn, ZONE, extra))


class Payload(test_http.HTTPBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = test_http.Server(cls.tmp, cls.pki, cls.config, name="payload")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def refused(self, body, message):
        st = self.assert_status(self.post(self.srv, body), 400, "BadRequest")
        self.assertEqual(st["message"], message)

    def assert_not_written(self, fqdn):
        self.assertEqual(self.named.txt(fqdn), [], "a refused body must not reach DNS")

    def test_whitespace_around_the_document_is_accepted(self):
        fqdn = "_acme-challenge.ws.example.test."
        key = zptest.acme_key("ws")
        body = " \r\n\t" + doc(fqdn, key).replace(",", " ,\n ") + "\r\n \t"
        status, _, data = self.post(self.srv, body.encode())
        self.assertEqual(status, 201, data)
        self.assertTrue(json.loads(data)["response"]["success"], data)
        self.assertEqual(self.named.txt(fqdn), [key])

    def test_trailing_bytes_are_400(self):
        fqdn = "_acme-challenge.trail.example.test."
        one = doc(fqdn, zptest.acme_key("trail"))
        for body in (one + "garbage", one + one, one + "\n" + one + "\n", one + "}"):
            with self.subTest(tail=body[len(one):][:20]):
                self.refused(body.encode(), TRAILING)
        self.assert_not_written(fqdn)

    def test_duplicate_keys_are_400(self):
        fqdn = "_acme-challenge.dup.example.test."
        key = zptest.acme_key("dup")
        cases = [(doc(fqdn, key, ',"uid":"other"'), 'duplicate key "uid" in request'),
                 (doc(fqdn, key, ',"resolvedFQDN":"_acme-challenge.other.example.test."'),
                  'duplicate key "resolvedFQDN" in request'),
                 (doc(fqdn, key, ',"config":{"provider":"lab","provider":"slow"}'),
                  'duplicate key "provider" in request.config'),
                 ('{"kind":"a",' + doc(fqdn, key)[1:],
                  'duplicate key "kind" in the top-level object')]
        for body, problem in cases:
            with self.subTest(problem=problem):
                self.refused(body.encode(), "request body: " + problem)
        self.assert_not_written(fqdn)

    def test_nul_is_400(self):
        # Before: the name ended at the NUL and _acme-challenge.nul.example.test. was written.
        fqdn = "_acme-challenge.nul.example.test."
        key = zptest.acme_key("nul")
        self.refused(doc(fqdn + "\\u0000.evil.", key).encode(), NUL)
        self.refused(doc(fqdn, key, ',"uid\\u0000x":"y"').encode(), NUL)
        self.refused(doc(fqdn, key).encode().replace(b'"7a1c"', b'"7a\x001c"'), ZERO)
        self.assert_not_written(fqdn)

    def test_escaped_backslash_before_u0000_is_not_a_nul(self):
        fqdn = "_acme-challenge.bs.example.test."
        key = zptest.acme_key("bs")
        status, _, data = self.post(self.srv, doc(fqdn, key, ',"note":"a\\\\u0000"').encode())
        self.assertEqual(status, 201, data)
        self.assertTrue(json.loads(data)["response"]["success"], data)

    def test_body_above_the_limit_is_413_status(self):
        big = b'{"request":{"key":"' + b"a" * (300 * 1024) + b'"}}'
        st = self.assert_status(self.post(self.srv, big), 413, "RequestEntityTooLarge")
        self.assertEqual(st["message"], "Request entity too large: limit is %d" % (256 * 1024))

    def post_raw(self, body):
        """Sends body whole and reads the answer; the server may stop reading first."""
        conn = self.connect(self.srv)
        try:
            conn.putrequest("POST", test_http.RESOURCE)
            for k, v in dict(test_http.CERT_MANAGER, **{"Content-Type": "application/json"}).items():
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            try:
                conn.send(body)
            except OSError:  # a reset, an EOF inside TLS: the answer may still be there
                pass
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            conn.close()

    def test_body_above_one_mib_is_413(self):
        big = b'{"request":{"key":"' + b"a" * (2 * 1024 * 1024) + b'"}}'
        status, _, data = self.post_raw(big)
        self.assertEqual(status, 413, data[:200])

    def test_body_above_one_mib_is_413_status(self):
        big = b'{"request":{"key":"' + b"a" * (2 * 1024 * 1024) + b'"}}'
        self.assert_status(self.post_raw(big), 413, "RequestEntityTooLarge")


if __name__ == "__main__":
    unittest.main(verbosity=2)

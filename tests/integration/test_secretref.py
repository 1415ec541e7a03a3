"""apiTokenSecretRef end to end: `zoneproof serve --kubeconfig` reads the
Cloudflare token from a Secret in the challenge's resourceNamespace (the fake
kube-apiserver), and a Present writes the record with it. A namespace whose
Secrets zoneproof may not get fails with a sentence; no token reaches the log.
The same for a Kerberos keytab (kerberos.keytabSecretRef, binary bytes) that
signs GSS-TSIG updates into BIND (tests/lib/krb.py).
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import fake_cloudflare  # noqa: E402
import krb  # noqa: E402
import test_kube  # noqa: E402
import zptest  # noqa: E402
from test_kube import RESOURCE, WEB_SECRET, Server, cert_manager  # noqa: E402

ZONE = "example.test"
FQDN = "_acme-challenge.www.example.test."


def present(uid, ns):
    req = {"uid": uid, "action": "Present", "type": "dns-01", "dnsName": "www.example.test",
           "key": zptest.acme_key(uid), "resourceNamespace": ns, "resolvedFQDN": FQDN,
           "resolvedZone": ZONE + ".", "allowAmbientCredentials": False, "config": None}
    return json.dumps({"apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
                       "kind": "ChallengePayload", "request": req}).encode()


class SecretRef(test_kube.KubeBase):
    """A kubeconfig user, with a configuration whose Cloudflare token is a secretRef."""

    kubeconfig = test_kube.Startup.kubeconfig

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cf = fake_cloudflare.FakeCloudflare(cls.pki).start()
        cls.cf.add_token(WEB_SECRET, "web", zone_read=[ZONE], dns_edit=[ZONE])
        with open(cls.config, "w") as f:
            f.write("\n".join([
                "propagation:",
                "  mode: skip",
                "providers:",
                "  - name: cf",
                "    type: cloudflare",
                '    dnsZones: ["%s"]' % ZONE,
                '    namespaces: ["*"]',
                "    apiTokenSecretRef: {name: cf-token, key: api-token}",
                '    endpoint: "%s"' % cls.cf.url("/client/v4"),
                '    caFile: "%s"' % cls.cf.ca_file,
                ""]))

    @classmethod
    def tearDownClass(cls):
        cls.cf.stop()
        super().tearDownClass()

    def send(self, srv, uid, ns):
        # cert-manager's Challenge exists before its Present: serve's sweep at start, which may
        # run meanwhile, takes the journaled value for a live one, not an orphan.
        self.fake.add_challenge(ns, "www-%s-1-0" % uid, zptest.acme_key(uid), "www.example.test")
        h = dict(cert_manager("cm-" + uid), **{"Content-Type": "application/json"})
        status, _, data = self.call(srv, "POST", RESOURCE, headers=h, body=present(uid, ns))
        self.assertEqual(status, 201, data)
        return json.loads(data)["response"]

    def test_present_reads_the_token_from_the_namespace(self):
        srv = Server(self, "secretref", {}, extra=["--kubeconfig", self.kubeconfig(True)])
        try:
            r = self.send(srv, "sr1", "web")
            self.assertTrue(r["success"], r)
            self.assertEqual(self.cf.txt_values(FQDN), [zptest.acme_key("sr1")])
            # "other" holds a cf-token too, but zoneproof may not get Secrets there.
            r = self.send(srv, "sr2", "other")
            self.assertFalse(r["success"], r)
            self.assertIn("apiTokenSecretRef", r["status"]["message"])
            self.assertIn("other", r["status"]["message"])
        finally:
            srv.stop()
        self.assert_clean(srv.output())


class KeytabSecretRef(SecretRef):
    """The rfc2136 provider with GSS-TSIG, its keytab a Secret in the challenge's namespace."""

    @classmethod
    def setUpClass(cls):
        test_kube.KubeBase.setUpClass.__func__(cls)
        cls.lab = krb.GssLab().start()
        with open(cls.lab.solver_keytab, "rb") as f:
            cls.fake.set_secret("web", "ad-keytab", {"keytab": f.read()})
        with open(cls.config, "w") as f:
            f.write("\n".join([
                "propagation:", "  mode: skip", "providers:", "  - name: ad",
                "    type: rfc2136", '    dnsZones: ["%s"]' % ZONE, '    namespaces: ["*"]',
                '    nameserver: "%s"' % cls.lab.named.addr(), "    tsigAlgorithm: gss-tsig",
                "    kerberos:", "      principal: %s" % cls.lab.solver,
                "      keytabSecretRef: {name: ad-keytab, key: keytab}",
                '      kdc: ["127.0.0.1:%d"]' % cls.lab.kdc.port, ""]))

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        test_kube.KubeBase.tearDownClass.__func__(cls)

    def test_present_reads_the_token_from_the_namespace(self):
        srv = Server(self, "keytabref", {}, extra=["--kubeconfig", self.kubeconfig(True)])
        try:
            r = self.send(srv, "kt1", "web")
            self.assertTrue(r["success"], r)
            self.assertEqual(self.lab.named.txt(FQDN), [zptest.acme_key("kt1")])
            r = self.send(srv, "kt2", "other")
            self.assertFalse(r["success"], r)
            self.assertIn("keytabSecretRef", r["status"]["message"])
            self.assertEqual(self.lab.named.txt(FQDN), [zptest.acme_key("kt1")])
        finally:
            srv.stop()
        self.assertIn('"msg":"gss-tsig context"', srv.output())
        self.assert_clean(srv.output())


class Parses(unittest.TestCase):
    """The …SecretRef form of a provider's credential is a valid configuration."""

    def check(self, typ, *settings):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, "config.yaml")
            with open(config, "w") as f:
                f.write("providers:\n  - name: p\n    type: %s\n    dnsZones: [%s]\n%s"
                        % (typ, ZONE, "".join("    %s\n" % s for s in settings)))
            r = zptest.run_zp(["check-config", "--config", config])
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_clouddns(self):
        self.check("clouddns", "project: zp-test",
                   "serviceAccountSecretRef: {name: gcp, key: key.json}")


    def test_azuredns(self):
        self.check("azuredns", "subscriptionId: 00000000-0000-0000-0000-000000000001",
                   "resourceGroup: dns", "tenantId: 00000000-0000-0000-0000-000000000002",
                   "clientId: 00000000-0000-0000-0000-000000000003",
                   "clientSecretSecretRef: {name: azure, key: client-secret}")


    def test_acmedns(self):
        self.check("acmedns", "endpoint: https://auth.example.test", "nameserver: none",
                   "accountsSecretRef: {name: acme-dns, key: accounts.json}")


if __name__ == "__main__":
    unittest.main()

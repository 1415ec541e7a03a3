"""Ambient cloud credentials through `zoneproof serve`: providers configured
without a credential file use the pod's identity (AWS IRSA web identity,
GKE's metadata server, Azure workload identity) when, and only when, the
ChallengeRequest has allowAmbientCredentials true.

For each: Present and CleanUp succeed when allowed; a request that does not
allow it fails with the sentence that says how to allow it; the identity
exchange's refusals become sentences; and the credentials are reused (one
exchange for two Presents in one process).
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import fake_azuredns  # noqa: E402
import fake_clouddns  # noqa: E402
import fake_route53  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402
from test_http import CERT_MANAGER, RESOURCE, HTTPBase, Server  # noqa: E402

R53_ZONE = "example.test"
GCP_ZONE = "gcp.test"
AZ_ZONE = "az.test"
NOT_ALLOWED = ("has no %s and the Issuer does not allow ambient credentials: set %s, or use a "
               "ClusterIssuer (cert-manager allows ambient credentials for ClusterIssuers by "
               "default) or start cert-manager with --issuer-ambient-credentials")


def payload(action, fqdn, key, zone, ambient, uid="a1b2c3"):
    req = {"uid": uid, "action": action, "type": "dns-01", "dnsName": fqdn.split(".", 1)[1],
           "key": key, "resourceNamespace": "default", "resolvedFQDN": fqdn,
           "resolvedZone": zone, "allowAmbientCredentials": ambient, "config": None}
    return json.dumps({"apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
                       "kind": "ChallengePayload", "request": req}).encode()


class AmbientBase(HTTPBase):
    """A temporary tree, the PKI and the fakes; each test class starts its own serve."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-ambient-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.servers = []
        cls.saved_env = dict(os.environ)
        cls.r53 = fake_route53.FakeRoute53(os.path.join(cls.tmp, "pki")).start()
        cls.r53.pending_polls = 0
        cls.aws_token = os.path.join(cls.tmp, "aws-token")
        with open(cls.aws_token, "w") as f:
            f.write(fake_route53.WEB_IDENTITY_TOKEN + "\n")
        cls.gcp = fake_clouddns.FakeCloudDNS(os.path.join(cls.tmp, "pki")).start()
        cls.gcp.add_zone("gcp-test", GCP_ZONE + ".")
        cls.gcp.pending_polls = 0
        cls.meta = fake_clouddns.FakeMetadata(cls.gcp)
        cls.az = fake_azuredns.FakeAzureDNS(os.path.join(cls.tmp, "pki")).start()
        cls.az.add_zone(cls.az.GROUP, AZ_ZONE)
        cls.az_token = os.path.join(cls.tmp, "azure-identity-token")
        with open(cls.az_token, "w") as f:
            f.write(cls.az.FEDERATED_TOKEN + "\n")
        os.environ.update({"AZURE_CLIENT_ID": cls.az.CLIENT,
                           "AZURE_TENANT_ID": cls.az.TENANT,
                           "AZURE_FEDERATED_TOKEN_FILE": cls.az_token,
                           "AZURE_AUTHORITY_HOST": cls.az.url() + "/"})
        os.environ.update({"GCE_METADATA_HOST": cls.meta.host,"AWS_ROLE_ARN": fake_route53.ROLE_ARN,
                           "AWS_WEB_IDENTITY_TOKEN_FILE": cls.aws_token,
                           "AWS_REGION": "us-east-1",
                           "AWS_STS_REGIONAL_ENDPOINTS": "regional"})

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.stop()
        cls.r53.stop()
        cls.gcp.stop()
        cls.meta.stop()
        cls.az.stop()
        os.environ.clear()
        os.environ.update(cls.saved_env)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def serve(cls, name, r53_extra=""):
        config = os.path.join(cls.tmp, name + ".yaml")
        with open(config, "w") as f:
            f.write("\n".join([
                "propagation:",
                "  mode: skip",
                "providers:",
                "  - name: aws",
                "    type: route53",
                '    dnsZones: ["%s"]' % R53_ZONE,
                "    namespaces: [default]",
                "    hostedZoneId: %s" % fake_route53.ZONE_ID,
                "    endpoint: %s" % cls.r53.url(),
                "    stsEndpoint: %s" % cls.r53.url("/sts"),
                "    caFile: %s" % cls.r53.ca_file,
                r53_extra,
                "  - name: gcp",
                "    type: clouddns",
                '    dnsZones: ["%s"]' % GCP_ZONE,
                "    namespaces: [default]",
                "    project: %s" % cls.gcp.PROJECT,
                "    managedZone: gcp-test",
                "    endpoint: %s" % cls.gcp.url("/dns/v1"),
                "    caFile: %s" % cls.gcp.ca_file,
                "  - name: az",
                "    type: azuredns",
                '    dnsZones: ["%s"]' % AZ_ZONE,
                "    namespaces: [default]",
                "    subscriptionId: %s" % cls.az.SUBSCRIPTION,
                "    resourceGroup: %s" % cls.az.GROUP,
                "    endpoint: %s" % cls.az.url(),
                "    caFile: %s" % cls.az.ca_file,
                ""]))
        srv = Server(cls.tmp, cls.pki, config, name=name)
        cls.servers.append(srv)
        return srv

    def present(self, srv, fqdn, key, zone, ambient=True, action="Present"):
        status, _, data = self.post(srv, payload(action, fqdn, key, zone + ".", ambient))
        self.assertEqual(status, 201, data)
        return json.loads(data)["response"]

    def assert_ok(self, resp):
        self.assertEqual(resp, {"uid": "a1b2c3", "success": True})

    def assert_fails(self, resp, *needles):
        self.assertFalse(resp["success"], resp)
        msg = resp["status"]["message"]
        for n in needles:
            self.assertIn(n, msg)
        return msg


class Route53Ambient(AmbientBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.serve("serve")

    def setUp(self):
        self.r53.sts_error = None

    def test_logs_ambient_at_start(self):
        self.assertIn("route53 uses ambient credentials", self.srv.output())

    def test_allowed_present_twice_one_sts_call_and_cleanup(self):
        fqdn = "_acme-challenge.amb.example.test."
        k1, k2 = zptest.acme_key("amb-r53-1"), zptest.acme_key("amb-r53-2")
        before = len(self.r53.sts_calls)
        self.assert_ok(self.present(self.srv, fqdn, k1, R53_ZONE))
        self.assert_ok(self.present(self.srv, fqdn, k2, R53_ZONE))
        self.assertEqual(sorted(self.r53.txt_values(fqdn)), sorted([k1, k2]))
        self.assertEqual(len(self.r53.sts_calls) - before, 1)  # the second reused the first's
        form = self.r53.sts_calls[-1]
        self.assertEqual(form["RoleArn"], [fake_route53.ROLE_ARN])
        self.assertEqual(form["RoleSessionName"], ["zoneproof"])
        self.assert_ok(self.present(self.srv, fqdn, k1, R53_ZONE, action="CleanUp"))
        self.assert_ok(self.present(self.srv, fqdn, k2, R53_ZONE, action="CleanUp"))
        self.assertEqual(self.r53.txt_values(fqdn), [])
        self.assertEqual(len(self.r53.sts_calls) - before, 1)

    def test_not_allowed_says_how(self):
        before = len(self.r53.sts_calls)
        resp = self.present(self.srv, "_acme-challenge.no.example.test.",
                            zptest.acme_key("amb-r53-no"), R53_ZONE, ambient=False)
        self.assert_fails(resp, "route53 instance aws " + NOT_ALLOWED
                          % (("secretAccessKeyFile or secretAccessKeySecretRef",) * 2))
        self.assertEqual(len(self.r53.sts_calls), before)

    def test_cli_uses_the_machines_identity(self):
        """A command-line run is the operator's own: no Issuer has to allow the identity."""
        config = os.path.join(self.tmp, "serve.yaml")
        fqdn, key = "_acme-challenge.cli.example.test.", zptest.acme_key("amb-r53-cli")
        for action in ("present", "cleanup"):
            r = zptest.run_zp([action, "--config", config, "--fqdn", fqdn, "--key", key,
                               "--zone", R53_ZONE])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("Issuer", r.stderr)
            self.assertEqual(self.r53.txt_values(fqdn), [key] if action == "present" else [])

    def test_zz_no_credentials_in_output(self):
        out = self.srv.output()
        self.assertNotIn(fake_route53.WEB_IDENTITY_TOKEN, out)
        for akid, token in self.r53.sessions.items():
            self.assertNotIn(token, out)
            self.assertNotIn(self.r53.keys[akid], out)


class CloudDNSAmbient(AmbientBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.serve("serve")

    def test_logs_ambient_at_start(self):
        self.assertIn("clouddns uses ambient credentials", self.srv.output())

    def test_allowed_present_twice_one_token_and_cleanup(self):
        fqdn = "_acme-challenge.amb.gcp.test."
        k1, k2 = zptest.acme_key("amb-gcp-1"), zptest.acme_key("amb-gcp-2")
        self.assert_ok(self.present(self.srv, fqdn, k1, GCP_ZONE))
        self.assert_ok(self.present(self.srv, fqdn, k2, GCP_ZONE))
        self.assertEqual(sorted(self.gcp.txt_values(fqdn)), sorted([k1, k2]))
        self.assertEqual(len(self.meta.token_requests()), 1)
        self.assertTrue(all(flavor == "Google" for _, flavor in self.meta.requests))
        self.assertEqual(self.gcp.token_requests, 0)  # no key file: no jwt-bearer grant
        self.assert_ok(self.present(self.srv, fqdn, k1, GCP_ZONE, action="CleanUp"))
        self.assert_ok(self.present(self.srv, fqdn, k2, GCP_ZONE, action="CleanUp"))
        self.assertEqual(self.gcp.txt_values(fqdn), [])
        self.assertEqual(len(self.meta.token_requests()), 1)

    def test_not_allowed_says_how(self):
        before = len(self.meta.requests)
        resp = self.present(self.srv, "_acme-challenge.no.gcp.test.",
                            zptest.acme_key("amb-gcp-no"), GCP_ZONE, ambient=False)
        self.assert_fails(resp, "clouddns instance gcp " + NOT_ALLOWED
                          % (("serviceAccountFile or serviceAccountSecretRef",) * 2))
        self.assertEqual(len(self.meta.requests), before)

    def test_zz_unbound_service_account_says_how(self):
        # A fresh process: the first one holds a token.
        self.meta.no_binding = True
        try:
            srv = self.serve("unbound")
            msg = self.assert_fails(self.present(srv, "_acme-challenge.ub.gcp.test.",
                                                 zptest.acme_key("amb-gcp-ub"), GCP_ZONE))
        finally:
            self.meta.no_binding = False
        self.assertIn("has no token for this pod (HTTP 404)", msg)
        self.assertIn("iam.gke.io/gcp-service-account", msg)


class AzureDNSAmbient(AmbientBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.serve("serve")

    def az_txt(self, fqdn):
        s = self.az.record_set(fqdn, zone=AZ_ZONE)
        return [fake_azuredns.joined(r) for r in s["properties"]["TXTRecords"]] if s else []

    def test_logs_ambient_at_start(self):
        self.assertIn("azuredns uses ambient credentials", self.srv.output())

    def test_allowed_present_twice_one_token_and_cleanup(self):
        fqdn = "_acme-challenge.amb.az.test."
        k1, k2 = zptest.acme_key("amb-az-1"), zptest.acme_key("amb-az-2")
        self.assert_ok(self.present(self.srv, fqdn, k1, AZ_ZONE))
        self.assert_ok(self.present(self.srv, fqdn, k2, AZ_ZONE))
        self.assertEqual(sorted(self.az_txt(fqdn)), sorted([k1, k2]))
        self.assertEqual(self.az.assertions, [self.az.FEDERATED_TOKEN])
        self.assert_ok(self.present(self.srv, fqdn, k1, AZ_ZONE, action="CleanUp"))
        self.assert_ok(self.present(self.srv, fqdn, k2, AZ_ZONE, action="CleanUp"))
        self.assertEqual(self.az_txt(fqdn), [])
        self.assertEqual(self.az.token_requests, 1)

    def test_not_allowed_says_how(self):
        before = self.az.token_requests
        resp = self.present(self.srv, "_acme-challenge.no.az.test.",
                            zptest.acme_key("amb-az-no"), AZ_ZONE, ambient=False)
        self.assert_fails(resp, "azuredns instance az " + NOT_ALLOWED
                          % (("clientSecretFile or clientSecretSecretRef",) * 2))
        self.assertEqual(self.az.token_requests, before)

    def test_zz_no_federated_credential_says_how(self):
        self.az.federated_token = "another"
        try:
            srv = self.serve("nofed")
            msg = self.assert_fails(self.present(srv, "_acme-challenge.nf.az.test.",
                                                 zptest.acme_key("amb-az-nf"), AZ_ZONE))
        finally:
            del self.az.federated_token
        self.assertIn("no federated credential of application %s" % self.az.CLIENT, msg)
        self.assertIn("api://AzureADTokenExchange", msg)
        self.assertNotIn(self.az.FEDERATED_TOKEN, srv.output())


class Route53StsErrors(AmbientBase):
    """Each refusal in a fresh process: the credentials of a good exchange would be reused."""

    def refused(self, name, extra="", **fake):
        for k, v in fake.items():
            setattr(self.r53, k, v)
        srv = self.serve(name, extra)
        try:
            return self.assert_fails(self.present(srv, "_acme-challenge.err.example.test.",
                                                  zptest.acme_key(name), R53_ZONE))
        finally:
            self.r53.web_identity_token = fake_route53.WEB_IDENTITY_TOKEN
            self.r53.sts_error = None

    def test_access_denied_names_trust_policy(self):
        msg = self.refused("denied", "    roleArn: arn:aws:iam::123456789012:role/other")
        self.assertIn("arn:aws:iam::123456789012:role/other (AccessDenied)", msg)
        self.assertIn("trust policy", msg)
        self.assertIn("sts.amazonaws.com", msg)

    def test_invalid_identity_token_names_audience(self):
        msg = self.refused("invalid", web_identity_token="another-token")
        self.assertIn("InvalidIdentityToken", msg)
        self.assertIn(self.aws_token, msg)
        self.assertIn("audience sts.amazonaws.com", msg)

    def test_expired_token_names_file(self):
        msg = self.refused("expired", sts_error=(400, "ExpiredTokenException",
                                                 "Token expired: current date/time 1 must be "
                                                 "before the expiration date/time 0"))
        self.assertIn("expired (ExpiredTokenException)", msg)
        self.assertIn(self.aws_token, msg)

    def test_half_a_key_pair_is_refused_at_start(self):
        config = os.path.join(self.tmp, "half.yaml")
        with open(config, "w") as f:
            f.write("providers:\n  - name: aws\n    type: route53\n"
                    "    dnsZones: [example.test]\n    accessKeyId: AKIAZPTESTEXAMPLE001\n")
        r = zptest.run_zp(["check-config", "--config", config])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("accessKeyId is set but secretAccessKeyFile or secretAccessKeySecretRef is "
                      "not", r.stderr)

    def test_secret_reference_with_access_key_parses(self):
        config = os.path.join(self.tmp, "ref.yaml")
        with open(config, "w") as f:
            f.write("providers:\n  - name: aws\n    type: route53\n"
                    "    dnsZones: [example.test]\n    accessKeyId: AKIAZPTESTEXAMPLE001\n"
                    "    secretAccessKeySecretRef: {name: aws, key: secret-access-key}\n")
        r = zptest.run_zp(["check-config", "--config", config])
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

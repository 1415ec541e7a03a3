"""The azuredns provider against fake_azuredns, through the CLI.

The shared conformance (foreign records survive, a second value at one name,
double CleanUp, bad credentials, wrong zone, 429, 5xx, a hanging API), then
what is particular to Azure DNS: values sent raw as one record each, every
write conditional (If-None-Match: * to create, If-Match: <etag> to change or
delete), a concurrent writer (412) handled by reading again, the last value
removed with a conditional DELETE and the set's metadata kept otherwise,
the client-credentials grant, one token per call and a new one after a 401,
zoneName, and each refusal's sentence (AADSTS codes, AuthorizationFailed,
a missing resource group or zone).
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_azuredns  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

F = fake_azuredns.FakeAzureDNS
WRONG_SECRET = "zp8Q~WRONG.secret_value-0000000000000000000"


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = F.GROUP

    @classmethod
    def make_fake(cls, pki_dir, named):
        cls.secret_file = zptest.write_secret(cls.tmp, "az-secret", F.SECRET)
        cls.wrong_secret_file = zptest.write_secret(cls.tmp, "az-secret-wrong", WRONG_SECRET)
        return F(pki_dir, named).start()

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        settings = {"name": "az", "type": "azuredns", "dnsZones": [ZONE, "other.test"],
                    "subscriptionId": F.SUBSCRIPTION, "resourceGroup": F.GROUP,
                    "tenantId": F.TENANT, "clientId": F.CLIENT,
                    "clientSecretFile": self.secret_file if good else self.wrong_secret_file,
                    "endpoint": fake.url(), "authorityEndpoint": fake.url(),
                    "caFile": fake.ca_file}
        settings.update(extra)
        return "\n".join("%s: %s" % (k, json.dumps(v)) for k, v in settings.items()
                         if v is not None)

    def seed_foreign(self, fake):
        fake.seed(FQDN, "TXT", [{"value": [FOREIGN]}], ttl=3600)
        fake.seed(FQDN, "A", [{"ipv4Address": "192.0.2.1"}], ttl=3600)

    def secrets(self):
        with self.fake.lock:
            return [F.SECRET, WRONG_SECRET] + list(self.fake.tokens)

    # --- helpers ---
    def config_with(self, mode="skip", **settings):
        entry = self.provider_yaml(self.fake, self.tmp, **settings)
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        path = os.path.join(self.tmp, "config-custom.yaml")
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: 8s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, self.named.addr(), entry))
        return path

    def run_with(self, action, key, fqdn, mode="skip", zone=None, **settings):
        path = self.config_with(mode, **settings)
        args = [action, "--config", path, "--fqdn", fqdn, "--key", key]
        if zone:
            args += ["--zone", zone]
        r = zptest.run_zp(args, timeout=60)
        self.no_secret_in(r)
        return r

    def failed(self, r, *phrases):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        for p in phrases:
            self.assertIn(p, r.stderr)

    def tearDown(self):
        self.fake.denied.clear()
        self.fake.after_get = None
        self.fake.api_faults = []
        self.assertEqual(self.fake.unconditional, [], "a write without If-Match/If-None-Match")

    def writes(self):
        return sum(len(self.fake.calls(m)) for m in ("PUT", "PATCH", "DELETE"))

    def test_doctor_proves_the_secret_without_writing(self):
        """doctor reads the TXT set at the name in the zone; a bad client secret is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: self.writes(),
            "the Azure DNS credentials can read zone %s" % ZONE)

    # --- Azure specifics ---
    def test_a_raw_values_and_conditional_writes(self):
        fqdn = "_acme-challenge.raw.example.test."
        del self.fake.writes[:]
        self.ok(self.run_with("present", KEY1, fqdn, ttl=120))
        self.assertEqual(self.fake.writes, [
            ("PUT", "TXT", "_acme-challenge.raw", None, "*",
             {"properties": {"TTL": 120, "TXTRecords": [{"value": [KEY1]}]}})])
        etag = self.fake.record_set(fqdn)["etag"]
        self.ok(self.run_with("present", KEY2, fqdn))
        self.assertEqual(self.fake.writes[1], (
            "PUT", "TXT", "_acme-challenge.raw", etag, None,
            {"properties": {"TTL": 120, "TXTRecords": [{"value": [KEY1]}, {"value": [KEY2]}]}}))
        etag = self.fake.record_set(fqdn)["etag"]
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.writes[2][:5], ("PUT", "TXT", "_acme-challenge.raw", etag, None))
        self.assertEqual(self.fake.txt_values(fqdn), [KEY2])
        etag = self.fake.record_set(fqdn)["etag"]
        self.ok(self.run_with("cleanup", KEY2, fqdn))  # the last value: a conditional DELETE
        self.assertEqual(self.fake.writes[3], ("DELETE", "TXT", "_acme-challenge.raw", etag, None,
                                               None))
        self.assertIsNone(self.fake.record_set(fqdn))

    def test_b_metadata_and_ttl_of_the_set_are_kept(self):
        fqdn = "_acme-challenge.meta.example.test."
        self.fake.seed(fqdn, "TXT", [{"value": ["v=spf1", " -all"]}], ttl=900,
                       metadata={"owner": "platform-team"})
        before = self.fake.record_set(fqdn)
        self.ok(self.run_with("present", KEY1, fqdn))
        mid = self.fake.record_set(fqdn)
        self.assertEqual(mid["properties"]["metadata"], {"owner": "platform-team"})
        self.assertEqual(mid["properties"]["TTL"], 900)
        self.assertEqual(mid["properties"]["TXTRecords"],
                         [{"value": ["v=spf1", " -all"]}, {"value": [KEY1]}])
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        after = self.fake.record_set(fqdn)
        self.assertEqual(after["properties"], before["properties"])

    def test_c_concurrent_writer_means_read_again(self):
        fqdn = "_acme-challenge.race.example.test."
        self.fake.seed(fqdn, "TXT", [{"value": [FOREIGN]}], ttl=60)

        def racer(fake, zone, rtype, name):
            fake.after_get = None
            fake.change_etag(fqdn, add="v=racer")
        for action, want in (("present", [FOREIGN, "v=racer", KEY1]),
                             ("cleanup", [FOREIGN, "v=racer", "v=racer"])):
            del self.fake.writes[:]
            self.fake.after_get = racer
            self.ok(self.run_with(action, KEY1, fqdn))
            self.assertEqual(len(self.fake.writes), 2)  # 412, then the write on the new etag
            self.assertEqual(sorted(self.fake.txt_values(fqdn)), sorted(want))

    def test_d_create_race_and_set_deleted_meanwhile(self):
        fqdn = "_acme-challenge.create.example.test."
        # Someone creates the set between our 404 and our If-None-Match PUT.
        real = self.fake._get

        def get_then_create(z, key, group, sub):
            reply = real(z, key, group, sub)
            if reply.status == 404 and key == ("TXT", "_acme-challenge.create"):
                self.fake._get = real
                self.fake.seed(fqdn, "TXT", [{"value": [KEY2]}], ttl=60)
            return reply
        self.fake._get = get_then_create
        try:
            self.ok(self.run_with("present", KEY1, fqdn))
        finally:
            self.fake._get = real
        self.assertEqual(sorted(self.fake.txt_values(fqdn)), sorted([KEY1, KEY2]))

        def remover(fake, zone, rtype, name):
            fake.after_get = None
            fake.change_etag(fqdn, drop_all=True)
        self.fake.after_get = remover
        self.ok(self.run_with("cleanup", KEY1, fqdn))  # 412 on the PUT, then nothing to do
        self.assertIsNone(self.fake.record_set(fqdn))

    def test_e_one_token_per_call_and_a_new_one_after_401(self):
        fqdn = "_acme-challenge.tok.example.test."
        before = self.fake.token_requests
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(self.fake.token_requests - before, 1)

        def revoke(fake, zone, rtype, name):
            fake.after_get = None
            fake.tokens.clear()
        self.fake.after_get = revoke
        before = self.fake.token_requests
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.token_requests - before, 2)
        self.assertIsNone(self.fake.record_set(fqdn))

    def test_f_wrong_secret_and_tenant_and_application(self):
        r = self.run_with("present", KEY1, "_acme-challenge.f.example.test.", good=False)
        self.failed(r, "rejected the client secret of application %s in tenant %s" %
                    (F.CLIENT, F.TENANT), "AADSTS7000215", "clientSecretFile")
        self.assertNotIn("Trace ID", r.stderr.split("zoneproof:")[-1])
        r = self.run_with("present", KEY1, "_acme-challenge.f.example.test.",
                          tenantId="contoso.onmicrosoft.com")
        self.failed(r, "tenant contoso.onmicrosoft.com was not found (AADSTS90002)")
        r = self.run_with("present", KEY1, "_acme-challenge.f.example.test.",
                          clientId="00000000-0000-0000-0000-000000000000")
        self.failed(r, "application 00000000-0000-0000-0000-000000000000 was not found in "
                       "tenant %s (AADSTS700016)" % F.TENANT)

    def test_g_permission_denied_names_the_action(self):
        fqdn = "_acme-challenge.g.example.test."
        self.fake.denied.add("Microsoft.Network/dnsZones/TXT/write")
        r = self.run_with("present", KEY1, fqdn)
        self.failed(r, "application %s may not perform Microsoft.Network/dnsZones/TXT/write on "
                       "DNS zone example.test in resource group %s" % (F.CLIENT, F.GROUP),
                    "DNS Zone Contributor")
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_h_missing_resource_group_and_subscription(self):
        r = self.run_with("present", KEY1, "_acme-challenge.h.example.test.",
                          resourceGroup="no-such-rg")
        self.failed(r, "resource group no-such-rg was not found in subscription %s"
                    % F.SUBSCRIPTION)
        r = self.run_with("present", KEY1, "_acme-challenge.h.example.test.",
                          subscriptionId="11111111-2222-3333-4444-555555555555")
        self.failed(r, "subscription 11111111-2222-3333-4444-555555555555 was not found")

    def test_i_zone_name_setting(self):
        # A delegated sub-domain managed inside the parent zone's record sets.
        fqdn = "_acme-challenge.www.sub.example.test."
        self.ok(self.run_with("present", KEY1, fqdn, zone="sub.example.test",
                              zoneName="example.test", dnsZones=["sub.example.test"]))
        self.assertIsNotNone(self.fake.record_set(fqdn))
        self.assertEqual(self.fake.writes[-1][2], "_acme-challenge.www.sub")
        self.ok(self.run_with("cleanup", KEY1, fqdn, zone="sub.example.test",
                              zoneName="example.test", dnsZones=["sub.example.test"]))
        self.assertIsNone(self.fake.record_set(fqdn))
        r = self.run_with("present", KEY1, fqdn, zoneName="other.test")
        self.failed(r, "is not inside zone other.test.")

    def test_j_config_errors_cite_the_setting(self):
        r = self.run_with("present", KEY1, FQDN, subscriptionId="my-subscription")
        self.failed(r, "config-custom.yaml:", "subscriptionId \"my-subscription\" must be a GUID")
        r = self.run_with("present", KEY1, FQDN, clientSecretFile="/nonexistent/secret")
        self.failed(r, "config-custom.yaml:", "clientSecretFile")
        r = self.run_with("present", KEY1, FQDN, resourceGroup="a/b")
        self.failed(r, "config-custom.yaml:", "resourceGroup \"a/b\"")

    def test_k_record_limit(self):
        fqdn = "_acme-challenge.full.example.test."
        self.fake.seed(fqdn, "TXT", [{"value": ["old-%d" % i]} for i in range(20)], ttl=60)
        r = self.run_with("present", KEY1, fqdn)
        self.failed(r, "Azure DNS refused to add the value to the TXT set at %s (BadRequest)"
                    % fqdn, "at most 20")
        self.fake.change_etag(fqdn, drop_all=True)

    def test_l_waits_with_the_watcher(self):
        fqdn = "_acme-challenge.watch.example.test."
        self.ok(self.run_with("present", KEY1, fqdn, mode="wait"))
        self.assertIn(KEY1, self.named.txt(fqdn))
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertNotIn(KEY1, self.named.txt(fqdn))

    def test_m_arm_429_and_503(self):
        fqdn = "_acme-challenge.m.example.test."
        self.fake.api_faults = [(429, 1)]
        r = zptest.run_zp(["present", "--config", self.config_with("skip"), "--fqdn", fqdn,
                           "--key", KEY1, "--log-level", "info"], timeout=60)
        self.ok(r)
        self.assertIn(1000, self.waits(r))  # Retry-After: 1 was honoured
        self.fake.api_faults = [(429, 300)] * 5
        r = self.run_with("cleanup", KEY1, fqdn)
        self.failed(r, "rate limited by Azure DNS; retry after its limit resets",
                    '"retry_after_ms":300000')  # the wait is in the log, not the sentence
        self.fake.api_faults = [(503, None)] * 20
        r = self.run_with("cleanup", KEY1, fqdn)
        self.failed(r, "Azure DNS answered HTTP 503 ServiceUnavailable to read the TXT set at %s"
                    % fqdn)
        self.fake.api_faults = []
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_n_authority_that_is_not_entra_id(self):
        r = self.run_with("present", KEY1, "_acme-challenge.n.example.test.",
                          authorityEndpoint=self.fake.url("/elsewhere"))
        self.failed(r, "no Entra ID error code; check authorityEndpoint")


if __name__ == "__main__":
    unittest.main()

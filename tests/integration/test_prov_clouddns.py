"""The clouddns provider against fake_clouddns, through the CLI.

The shared conformance (foreign records survive, a second value at one name,
double CleanUp, bad credentials, wrong zone, 429, 5xx, a hanging API), then
what is particular to Google Cloud DNS: the service-account JWT as Google
checks it, one token per call and a new one after a 401, values sent quoted
in ONE change holding the old set (deletions) and the new set (additions),
polling until the change is done, a concurrent writer (412) and a vanished
set (404) handled by reading again, managedZone skipping the lookup, zone
paging and private zones, and each refusal's sentence.

The service-account keys are generated for this run with the openssl CLI.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_clouddns  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

PROJECT = fake_clouddns.FakeCloudDNS.PROJECT
EMAIL = fake_clouddns.FakeCloudDNS.EMAIL


def pem_lines(pem):
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = PROJECT

    @classmethod
    def make_fake(cls, pki_dir, named):
        cls.key_file, n, e, key_id, pem = fake_clouddns.make_service_account(
            cls.tmp, "sa-good", PROJECT, EMAIL)
        # The same account, but a key Google does not know (deleted, or never uploaded).
        cls.bad_key_file, _, _, _, bad_pem = fake_clouddns.make_service_account(
            cls.tmp, "sa-bad", PROJECT, EMAIL)
        cls.key_id = key_id
        cls.pem_secrets = pem_lines(pem) + pem_lines(bad_pem)
        return fake_clouddns.FakeCloudDNS(pki_dir, named, n=n, e=e, key_id=key_id).start()

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        settings = {"name": "gcp", "type": "clouddns", "dnsZones": [ZONE, "other.test"],
                    "project": PROJECT,
                    "serviceAccountFile": self.key_file if good else self.bad_key_file,
                    "endpoint": fake.url("/dns/v1"), "tokenEndpoint": fake.url("/token"),
                    "caFile": fake.ca_file}
        settings.update(extra)
        return "\n".join("%s: %s" % (k, json.dumps(v)) for k, v in settings.items()
                         if v is not None)

    def seed_foreign(self, fake):
        fake.seed(FQDN, "TXT", ['"%s"' % FOREIGN], ttl=300)
        fake.seed(FQDN, "A", ["192.0.2.1"], ttl=300)

    def secrets(self):
        with self.fake.lock:
            return self.pem_secrets + list(self.fake.tokens)

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
        self.fake.after_read = None
        self.fake.api_faults = []
        self.fake.pending_polls = 2

    def test_doctor_proves_the_key_without_writing(self):
        """doctor finds the managed zone and reads the TXT set at the name; a bad key is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: len(self.fake.calls("POST", "/changes")),
            "the Google Cloud DNS credentials can read zone %s" % ZONE)

    # --- Google specifics ---
    def test_a_one_change_with_the_old_set_and_the_new(self):
        fqdn = "_acme-challenge.one.example.test."
        self.fake.seed(fqdn, "TXT", ['"%s"' % FOREIGN], ttl=300)
        old = self.fake.rrset(fqdn)
        del self.fake.change_bodies[:]
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(len(self.fake.change_bodies), 1)
        body = self.fake.change_bodies[0]
        self.assertEqual(body["deletions"], [old])  # exactly as read, byte for byte
        self.assertEqual(body["additions"], [{"name": fqdn, "type": "TXT", "ttl": 300,
                                              "rrdatas": ['"%s"' % FOREIGN, '"%s"' % KEY1]}])
        mid = self.fake.rrset(fqdn)
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(len(self.fake.change_bodies), 2)
        self.assertEqual(self.fake.change_bodies[1],
                         {"additions": [{"name": fqdn, "type": "TXT", "ttl": 300,
                                         "rrdatas": ['"%s"' % FOREIGN]}],
                          "deletions": [mid]})
        self.assertEqual(self.fake.rrset(fqdn), old)

    def test_b_new_set_and_last_value(self):
        fqdn = "_acme-challenge.new.example.test."
        del self.fake.change_bodies[:]
        self.ok(self.run_with("present", KEY1, fqdn, ttl=120))
        self.assertEqual(self.fake.change_bodies, [{"additions": [
            {"name": fqdn, "type": "TXT", "ttl": 120, "rrdatas": ['"%s"' % KEY1]}]}])
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.change_bodies[1], {"deletions": [
            {"kind": "dns#resourceRecordSet", "name": fqdn, "type": "TXT", "ttl": 120,
             "rrdatas": ['"%s"' % KEY1]}]})
        self.assertIsNone(self.fake.rrset(fqdn))

    def test_c_waits_until_the_change_is_done(self):
        fqdn = "_acme-challenge.poll.example.test."
        self.fake.pending_polls = 3
        before = len(self.fake.calls("GET", "/changes/"))
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(len(self.fake.calls("GET", "/changes/")) - before, 3)
        self.ok(self.run_with("cleanup", KEY1, fqdn))

    def test_d_one_token_per_call_and_the_claims_google_checks(self):
        fqdn = "_acme-challenge.tok.example.test."
        before = self.fake.token_requests
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(self.fake.token_requests - before, 1)
        header, claims = self.fake.claims[-1]
        self.assertEqual(header, {"alg": "RS256", "typ": "JWT", "kid": self.key_id})
        self.assertEqual(claims["iss"], EMAIL)
        self.assertEqual(claims["aud"], fake_clouddns.AUD)  # not the overridden endpoint
        self.assertEqual(claims["scope"], fake_clouddns.SCOPES[0])
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertNotIn("sub", claims)
        self.ok(self.run_with("cleanup", KEY1, fqdn))

    def test_e_revoked_token_is_replaced_once(self):
        fqdn = "_acme-challenge.revoke.example.test."

        def revoke(fake, zone, name):
            fake.tokens.clear()
            fake.after_read = None
        self.fake.after_read = revoke
        before = self.fake.token_requests
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(self.fake.token_requests - before, 2)
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn))

    def test_f_bad_key_sentence(self):
        r = self.run_with("present", KEY1, "_acme-challenge.f.example.test.",
                          serviceAccountFile=self.bad_key_file)
        self.failed(r, "Google rejected the key of service account %s" % EMAIL,
                    "invalid JWT signature", "serviceAccountFile")

    def test_g_permission_denied_names_the_permission(self):
        fqdn = "_acme-challenge.g.example.test."
        self.fake.denied.add("dns.changes.create")
        r = self.run_with("present", KEY1, fqdn)
        self.failed(r, "service account %s lacks permission dns.changes.create in project %s"
                    % (EMAIL, PROJECT), "managed zone example-test")
        self.assertEqual(self.fake.txt_values(fqdn), [])
        self.fake.denied = {"dns.managedZones.list"}
        r = self.run_with("present", KEY1, fqdn)
        self.failed(r, "lacks permission dns.managedZones.list", "list the managed zones")

    def test_h_managed_zone_skips_the_lookup(self):
        fqdn = "_acme-challenge.mz.example.test."
        # Only zone-level permissions: listing the project's zones is refused.
        self.fake.denied.add("dns.managedZones.list")
        lookups = len([c for c in self.fake.calls("GET") if c[1].endswith("/managedZones")])
        self.ok(self.run_with("present", KEY1, fqdn, managedZone="example-test"))
        self.ok(self.run_with("cleanup", KEY1, fqdn, managedZone="example-test"))
        self.assertEqual(len([c for c in self.fake.calls("GET")
                              if c[1].endswith("/managedZones")]), lookups)
        r = self.run_with("present", KEY1, fqdn, managedZone="no-such-zone")
        self.failed(r, "managed zone no-such-zone does not exist in project %s" % PROJECT,
                    "check managedZone")

    def test_i_zone_list_paging_prefers_the_public_zone(self):
        fqdn = "_acme-challenge.page.example.test."
        self.fake.add_zone("a-internal", "example.test.", visibility="private")
        self.fake.zones = dict(sorted(self.fake.zones.items()))
        self.fake.page_size = 1
        try:
            before = len(self.fake.calls("GET", "/managedZones"))
            self.ok(self.run_with("present", KEY1, fqdn))
            lists = [c for c in self.fake.calls("GET") if c[1].endswith("/managedZones")]
            self.assertIn(["1"], [c[2].get("pageToken") for c in lists])
            self.assertGreater(len(self.fake.calls("GET", "/managedZones")), before)
            self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
            self.assertEqual(self.fake.rrsets["a-internal"], {})
            self.ok(self.run_with("cleanup", KEY1, fqdn))
        finally:
            self.fake.page_size = 50
            del self.fake.zones["a-internal"]

    def test_j_private_zone_only(self):
        self.fake.add_zone("corp-internal", "internal.test.", visibility="private")
        try:
            r = self.run_with("present", KEY1, "_acme-challenge.internal.test.",
                              zone="internal.test", dnsZones=[ZONE, "internal.test"])
            self.failed(r, "only a private managed zone (corp-internal) for internal.test.",
                        "managedZone: corp-internal")
        finally:
            del self.fake.zones["corp-internal"]

    def test_k_concurrent_writer_means_read_again(self):
        fqdn = "_acme-challenge.race.example.test."
        self.fake.seed(fqdn, "TXT", ['"%s"' % FOREIGN], ttl=300)

        def racer(fake, zone, name):
            fake.after_read = None
            s = fake.rrsets[zone][(name, "TXT")]
            s["rrdatas"] = s["rrdatas"] + ['"v=racer"']
        self.fake.after_read = racer
        del self.fake.change_bodies[:]
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(len(self.fake.change_bodies), 2)  # 412, then the change on the new set
        self.assertEqual(sorted(self.fake.txt_values(fqdn)), sorted([FOREIGN, "v=racer", KEY1]))
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(sorted(self.fake.txt_values(fqdn)), sorted([FOREIGN, "v=racer"]))

    def test_l_set_deleted_meanwhile(self):
        fqdn = "_acme-challenge.gone.example.test."
        self.ok(self.run_with("present", KEY1, fqdn))

        def remover(fake, zone, name):
            fake.after_read = None
            del fake.rrsets[zone][(name, "TXT")]
        self.fake.after_read = remover
        self.ok(self.run_with("cleanup", KEY1, fqdn))  # deletions-only change: 404 is success
        self.assertIsNone(self.fake.rrset(fqdn))
        # With a sibling value the change also adds: 404 means read again, then nothing to do.
        self.fake.seed(fqdn, "TXT", ['"%s"' % KEY1, '"%s"' % KEY2], ttl=60)
        self.fake.after_read = remover
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertIsNone(self.fake.rrset(fqdn))

    def test_m_wrong_project(self):
        r = self.run_with("present", KEY1, "_acme-challenge.m.example.test.",
                          project="no-such-project")
        self.failed(r, "project no-such-project does not exist")

    def test_n_key_file_errors_cite_the_setting(self):
        notjson = zptest.write_secret(self.tmp, "sa-notjson", "not json at all")
        user = os.path.join(self.tmp, "sa-user.json")
        with open(user, "w") as f:
            json.dump({"type": "authorized_user", "client_id": "x", "refresh_token": "y"}, f)
        r = self.run_with("present", KEY1, FQDN, serviceAccountFile=notjson)
        self.failed(r, "config-custom.yaml:", "serviceAccountFile", "is not JSON")
        r = self.run_with("present", KEY1, FQDN, serviceAccountFile=user)
        self.failed(r, "config-custom.yaml:", "authorized_user", "not a service-account key")

    def test_o_quoting_of_values_other_clients_wrote_unquoted(self):
        fqdn = "_acme-challenge.uq.example.test."
        # The console accepts unquoted text and stores it quoted; it is still our value.
        self.fake.seed(fqdn, "TXT", [fake_clouddns.quote_rrdata(KEY2)], ttl=60)
        before = len(self.fake.change_bodies)
        self.ok(self.run_with("present", KEY2, fqdn))
        self.assertEqual(len(self.fake.change_bodies), before, "a change was sent")
        self.ok(self.run_with("cleanup", KEY2, fqdn))
        self.assertIsNone(self.fake.rrset(fqdn))

    def test_p_waits_with_the_watcher(self):
        fqdn = "_acme-challenge.watch.example.test."
        self.ok(self.run_with("present", KEY1, fqdn, mode="wait"))
        self.assertIn(KEY1, self.named.txt(fqdn))
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertNotIn(KEY1, self.named.txt(fqdn))

    def test_q_dns_api_429_and_503(self):
        fqdn = "_acme-challenge.q.example.test."
        self.fake.api_faults = [(429, 1)]
        r = zptest.run_zp(["present", "--config", self.config_with("skip"), "--fqdn", fqdn,
                           "--key", KEY1, "--log-level", "info"], timeout=60)
        self.ok(r)
        self.assertIn(1000, self.waits(r))  # Retry-After: 1 was honoured
        self.fake.api_faults = [(429, 300)] * 5
        r = self.run_with("cleanup", KEY1, fqdn)
        self.failed(r, "rate limited by Google Cloud DNS; retry after its limit resets",
                    '"retry_after_ms":300000')  # the wait is in the log, not the sentence
        self.fake.api_faults = [(503, None)] * 20
        r = self.run_with("cleanup", KEY1, fqdn)
        self.failed(r, "Google Cloud DNS answered HTTP 503 UNAVAILABLE to list the managed zones")
        self.fake.api_faults = []
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [])


if __name__ == "__main__":
    unittest.main()

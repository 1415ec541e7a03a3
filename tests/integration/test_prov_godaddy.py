"""The godaddy provider against the GoDaddy fake (tests/fakes/fake_godaddy.py).

The conformance suite, then what GoDaddy adds: the exact calls and bodies
(only the per-name TXT route, every sibling value kept with its own TTL,
DELETE only when ours was the last), the eligibility 403, validation
errors, a retryAfterSec given only in the body, and the records with empty
data that the API's early days left behind.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import fake_godaddy  # noqa: E402
import zptest  # noqa: E402
from conformance import FQDN, FOREIGN, KEY1, KEY2, ZONE  # noqa: E402
from fakebase import Reply  # noqa: E402

PATH = "/v1/domains/example.test/records/TXT/_acme-challenge"


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = "GoDaddy account"

    @classmethod
    def make_fake(cls, pki_dir, named):
        return fake_godaddy.FakeGoDaddy(pki_dir, named).start()

    def secrets(self):
        return [fake_godaddy.KEY, fake_godaddy.SECRET, fake_godaddy.SMALL_SECRET]

    def provider_yaml(self, fake, creds_dir, good=True, key=None, secret=None, **extra):
        kf = zptest.write_secret(creds_dir, "gd-key", key or fake_godaddy.KEY)
        sf = zptest.write_secret(creds_dir, "gd-secret-%s" % ("good" if good else "bad"),
                                 secret or (fake_godaddy.SECRET if good else "gd-secret-wrong"))
        settings = {"name": "gd", "type": "godaddy",
                    "dnsZones": '["example.test", "other.test"]',
                    "endpoint": fake.url(), "caFile": fake.ca_file,
                    "apiKeyFile": kf, "apiSecretFile": sf}
        settings.update(extra)
        return "\n".join("%s: %s" % (k, v) for k, v in settings.items()) + "\n"

    def seed_foreign(self, fake):
        fake.seed(FQDN, "TXT", FOREIGN, ttl=3600)
        fake.seed(FQDN, "A", "192.0.2.1", ttl=600)

    def config_with(self, mode="skip", timeout="6s", good=True, **extra):
        path = os.path.join(self.tmp, "config-extra.yaml")
        entry = self.provider_yaml(self.fake, self.tmp, good, **extra)
        entry = "\n".join("    " + line for line in entry.strip("\n").splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: %s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, timeout, self.named.addr(), entry))
        return path

    def run_with(self, action, value, fqdn=FQDN, mode="skip", timeout="6s", **extra):
        path = self.config_with(mode, timeout, **extra)
        return zptest.run_zp([action, "--config", path, "--fqdn", fqdn, "--key", value],
                             timeout=90)

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.no_secret_in(r)

    def writes(self, since):
        return [(m, p, b) for m, p, b in self.fake.bodies[since:] if m != "GET"]

    def test_doctor_proves_the_key_without_writing(self):
        """doctor reads the TXT records at the name; a bad API secret is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: len([c for c in self.fake.calls() if c[0] != "GET"]),
            "the GoDaddy credentials can read domain %s" % ZONE)

    # --- GoDaddy specifics ---
    def test_8_only_the_name_is_written(self):
        name = "_acme-challenge.exact.example.test."
        path = "/v1/domains/example.test/records/TXT/_acme-challenge.exact"
        self.fake.seed(name, "TXT", FOREIGN, ttl=3600)
        n0 = len(self.fake.bodies)
        self.ok(self.run_with("present", KEY1, fqdn=name))
        self.ok(self.run_with("present", KEY2, fqdn=name))
        self.ok(self.run_with("present", KEY2, fqdn=name))  # already there: no write
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))  # already gone: no write
        w = self.writes(n0)
        self.assertEqual([(m, p) for m, p, _ in w], [("PUT", path)] * 3)
        self.assertEqual(w[0][2], [{"data": FOREIGN, "ttl": 3600}, {"data": KEY1, "ttl": 600}])
        self.assertEqual(w[2][2], [{"data": FOREIGN, "ttl": 3600}, {"data": KEY2, "ttl": 600}])
        self.ok(self.run_with("cleanup", KEY2, fqdn=name))
        self.assertEqual(self.fake.records_at(name),
                         [{"type": "TXT", "name": "_acme-challenge.exact", "data": FOREIGN,
                           "ttl": 3600}])
        self.assertEqual(self.named.txt(name), [FOREIGN])
        # Never the routes that replace every TXT of the domain, or the zone.
        for m, p, _ in self.fake.bodies:
            self.assertTrue(p.count("/") == 6 or m == "GET", (m, p))
        self.assertIn(("TXT", "@", "v=spf1 -all"),
                      [(r[1], r[2], r[3]) for r in self.fake.snapshot()])

    def test_9_last_value_goes_by_delete(self):
        name = "_acme-challenge.solo.example.test."
        n0 = len(self.fake.bodies)
        self.ok(self.run_with("present", KEY1, fqdn=name, mode="wait"))
        self.assertEqual(self.named.txt(name), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        self.assertEqual([m for m, _, _ in self.writes(n0)], ["PUT", "DELETE"])
        self.assertEqual(self.fake.records_at(name), [])
        self.assertEqual(self.named.txt(name), [])

    def test_10_small_account(self):
        r = self.run_with("present", KEY1, key=fake_godaddy.SMALL_KEY,
                          secret=fake_godaddy.SMALL_SECRET)
        self.refused(r, "ACCESS_DENIED", "10 or more domains", "example.test")

    def test_11_bad_secret_sentence(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        self.refused(r, "apiKeyFile and apiSecretFile", "UNABLE_TO_AUTHENTICATE", "OTE")

    def test_12_validation_error(self):
        self.fake.reply_next(Reply(200, []))
        self.fake.reply_next(fake_godaddy.err(
            422, "INVALID_BODY", "Request body doesn't fulfill schema, see details in `fields`",
            [{"code": "INVALID_VALUE", "message": "must be a valid TXT value",
              "path": "records[0].data"}]))
        r = self.run_with("present", KEY1, fqdn="_acme-challenge.val.example.test.")
        self.refused(r, "GoDaddy refused to write the TXT records at _acme-challenge.val.",
                     "422 INVALID_BODY", "records[0].data must be a valid TXT value")

    def test_13_retry_after_in_body_only(self):
        self.fake.retry_header = False
        try:
            self.fake.inject(status=429, retry_after=300, count=30)
            r = self.run_with("present", KEY1, timeout="2s")
            # The body's figure goes to the log; the sentence names the limit (issue #9).
            self.refused(r, "rate limited by GoDaddy (60 requests a minute per API); retry "
                         "after its limit resets", '"retry_after_s":300')
        finally:
            self.fake.clear_faults()
            self.fake.retry_header = True

    def test_14_empty_data_leftovers(self):
        name = "_acme-challenge.old.example.test."
        self.fake.seed(name, "TXT", "", ttl=600, mirror=False)
        self.fake.seed(name, "TXT", FOREIGN, ttl=600)
        self.ok(self.run_with("present", KEY1, fqdn=name))
        self.assertEqual(sorted(self.fake.txt_values(name)), sorted([FOREIGN, KEY1]))
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        self.assertEqual(self.fake.txt_values(name), [FOREIGN])

    def test_15_zone_option(self):
        name = "_acme-challenge.a.b.example.test."
        r = zptest.run_zp(["present", "--config", self.config(mode="skip"), "--fqdn", name,
                           "--key", KEY1, "--zone", "b.example.test"], timeout=60)
        self.refused(r, "domain b.example.test is not in the GoDaddy account")
        self.ok(self.run_with("present", KEY1, fqdn=name, zone="example.test"))
        self.assertEqual(self.fake.records_at(name)[0]["name"], "_acme-challenge.a.b")
        self.ok(self.run_with("cleanup", KEY1, fqdn=name, zone="example.test"))

    def test_16_sso_key_header(self):
        self.ok(self.run_with("present", KEY1, fqdn="_acme-challenge.hdr.example.test."))
        self.ok(self.run_with("cleanup", KEY1, fqdn="_acme-challenge.hdr.example.test."))
        # The fake answers only the exact "sso-key KEY:SECRET" header; the secret is in no log.
        self.assertTrue(self.fake.calls("PUT", "/records/TXT/_acme-challenge.hdr"))


if __name__ == "__main__":
    unittest.main()

"""The ovh provider against the fake OVH API (tests/fakes/fake_ovh.py), through the CLI.

The shared conformance (strict present/cleanup with foreign records, bad
credentials, wrong zone, 429, 5xx, a hanging API), then what is particular to
OVH: the raw target sent and the quoted one compared, the refresh that
publishes every change, signing with OVH's clock rather than the host's, each
authentication failure and the missing access rule named, and the
least-privilege rules of the documentation being enough.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_ovh  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

WRONG_SECRET = "zpWrongAppSecret00000000000000bb"
LIMITED_CK = "zpTestConsumerKeyLimited00000002"
NODELETE_CK = "zpTestConsumerKeyNoDelete0000003"
PENDING_CK = "zpTestConsumerKeyPending00000004"


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = fake_ovh.APP_KEY

    @classmethod
    def make_fake(cls, pki_dir, named):
        fake = fake_ovh.FakeOvh(pki_dir, named).start()
        rules = fake_ovh.zone_rules(ZONE)
        fake.add_consumer(LIMITED_CK, rules)
        fake.add_consumer(NODELETE_CK, [r for r in rules if r[0] != "DELETE"])
        fake.add_consumer(PENDING_CK, rules, state="pendingValidation")
        return fake

    def provider_yaml(self, fake, creds_dir, good=True, ck=fake_ovh.CONSUMER_KEY, extra=""):
        secret = zptest.write_secret(creds_dir, "ovh-as-%s" % ("good" if good else "bad"),
                                     fake_ovh.APP_SECRET if good else WRONG_SECRET)
        ckfile = zptest.write_secret(creds_dir, "ovh-ck-%s" % ck, ck)
        return ("name: ovh-test\n"
                "type: ovh\n"
                "dnsZones: [\"example.test\", \"other.test\"]\n"
                "endpoint: %s\n"
                "caFile: %s\n"
                "applicationKey: %s\n"
                "applicationSecretFile: %s\n"
                "consumerKeyFile: %s\n%s"
                % (fake.base_url(), fake.ca_file, fake_ovh.APP_KEY, secret, ckfile, extra))

    def seed_foreign(self, fake):
        fake.add_record(ZONE, "_acme-challenge", "TXT", '"%s"' % FOREIGN, 3600)
        fake.add_record(ZONE, "_acme-challenge", "A", "192.0.2.10", 3600)
        fake._publish(ZONE)

    def secrets(self):
        return [fake_ovh.APP_SECRET, WRONG_SECRET, fake_ovh.CONSUMER_KEY, LIMITED_CK,
                NODELETE_CK, PENDING_CK]

    # --- helpers ---
    def config_with(self, ck=fake_ovh.CONSUMER_KEY, extra="", mode="skip", good=True):
        path = os.path.join(self.tmp, "config-custom.yaml")
        entry = self.provider_yaml(self.fake, self.tmp, good, ck, extra).strip("\n")
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: 6s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, self.named.addr(), entry))
        return path

    def run_with(self, action, key, ck=fake_ovh.CONSUMER_KEY, extra="", mode="skip",
                 fqdn=FQDN, zone=None):
        path = self.config_with(ck, extra, mode)
        args = [action, "--config", path, "--fqdn", fqdn, "--key", key, "--log-level", "debug"]
        if zone:
            args += ["--zone", zone]
        r = zptest.run_zp(args, timeout=60)
        self.no_secret_in(r)
        return r

    def failed(self, r):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stderr

    def tearDown(self):
        # Every test leaves the account as the conformance sequence expects it.
        with self.fake.lock:
            self.fake.clock_skew = 0
            self.fake.time_lie = 0
            self.fake.quote_targets = True
            for rid, rec in list(self.fake.zones[ZONE].items()):
                if rec["fieldType"] == "TXT" and fake_ovh.fakebase.unquote_txt(
                        rec["target"]) in (KEY1, KEY2):
                    del self.fake.zones[ZONE][rid]
            self.fake._publish(ZONE)

    def test_doctor_proves_the_keys_without_writing(self):
        """doctor lists the TXT records at the name; a bad application secret is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: len(self.fake.calls("POST")) + len(self.fake.calls("DELETE")),
            "the OVH credentials can read zone %s" % ZONE)

    # --- what is particular to OVH ---
    def test_raw_target_sent_then_refresh(self):
        n0 = len(self.fake.bodies)
        self.ok(self.run_with("present", KEY1, mode="wait"))
        sent = self.fake.bodies[n0:]
        posts = [json.loads(b) for m, p, b in sent if m == "POST" and p.endswith("/record")]
        self.assertEqual(posts, [{"fieldType": "TXT", "subDomain": "_acme-challenge",
                                  "target": KEY1, "ttl": 60}])
        order = [(m, p.split("?")[0].rsplit("/", 1)[-1]) for m, p, b in sent]
        self.assertEqual(order[-2:], [("POST", "record"), ("POST", "refresh")])
        self.assertIn(KEY1, self.named.txt(FQDN))
        # OVH hands the value back quoted; the second present must still see it.
        stored = [r["target"] for r in self.fake.zones[ZONE].values()
                  if fake_ovh.fakebase.unquote_txt(r["target"]) == KEY1]
        self.assertEqual(stored, ['"%s"' % KEY1])
        n1 = len(self.fake.bodies)
        self.ok(self.run_with("present", KEY1))
        self.assertFalse([1 for m, p, b in self.fake.bodies[n1:]
                          if m == "POST" and p.endswith("/record")])
        self.assertEqual(self.fake.txt_values(FQDN).count(KEY1), 1)

    def test_unquoted_targets_of_older_api(self):
        self.fake.quote_targets = False
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("present", KEY1))
        self.assertEqual(self.fake.txt_values(FQDN).count(KEY1), 1)
        self.ok(self.run_with("cleanup", KEY1))
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))

    def test_cleanup_publishes_and_keeps_sibling(self):
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("present", KEY2))
        self.assertIn(KEY2, self.fake.served_values(FQDN))
        r0 = self.fake.refreshes()
        self.ok(self.run_with("cleanup", KEY2))
        self.assertGreaterEqual(self.fake.refreshes(), r0 + 1)
        self.assertNotIn(KEY2, self.fake.served_values(FQDN))
        self.assertIn(KEY1, self.fake.served_values(FQDN))
        self.assertNotIn(KEY2, self.named.txt(FQDN))
        self.assertIn(KEY1, self.named.txt(FQDN))

    def test_written_but_not_refreshed_is_published_on_retry(self):
        # A previous call stopped between its write and its refresh.
        self.fake.add_record(ZONE, "_acme-challenge", "TXT", '"%s"' % KEY1, 60)
        self.assertNotIn(KEY1, self.fake.served_values(FQDN))
        self.ok(self.run_with("present", KEY1, mode="wait"))
        self.assertIn(KEY1, self.named.txt(FQDN))
        self.assertEqual(self.fake.txt_values(FQDN).count(KEY1), 1)

    def test_server_clock_ahead_is_followed(self):
        self.fake.clock_skew = 3600
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("cleanup", KEY1))
        self.fake.clock_skew = -3600
        self.ok(self.run_with("present", KEY1))

    def test_timestamp_refused(self):
        self.fake.time_lie = 600  # /auth/time says something the API then refuses
        err = self.failed(self.run_with("present", KEY1))
        self.assertIn("refused the request's timestamp", err)
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))

    def test_bad_secret_sentence(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        err = self.failed(r)
        self.assertIn("rejected the request signature: applicationSecretFile does not hold the "
                      "secret of application key %s" % fake_ovh.APP_KEY, err)
        self.no_secret_in(r)

    def test_unknown_application_key(self):
        path = os.path.join(self.tmp, "cfg-badak.yaml")
        entry = self.provider_yaml(self.fake, self.tmp).replace(
            "applicationKey: %s" % fake_ovh.APP_KEY, "applicationKey: zpNoSuchApp")
        entry = "\n".join("    " + line for line in entry.strip("\n").splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: skip\nproviders:\n  - %s\n" % entry)
        r = zptest.run_zp(["present", "--config", path, "--fqdn", FQDN, "--zone", ZONE,
                           "--key", KEY1])
        self.assertIn("does not know application key zpNoSuchApp", self.failed(r))
        self.no_secret_in(r)

    def test_unknown_and_unvalidated_consumer_keys(self):
        err = self.failed(self.run_with("present", KEY1, ck="zpNoSuchConsumerKey0000000000000"))
        self.assertIn("does not know the consumer key in consumerKeyFile", err)
        err = self.failed(self.run_with("present", KEY1, ck=PENDING_CK))
        self.assertIn("it was never validated or it has expired; open its validationUrl", err)

    def test_documented_rules_are_enough(self):
        self.ok(self.run_with("present", KEY1, ck=LIMITED_CK, mode="wait"))
        self.ok(self.run_with("present", KEY1, ck=LIMITED_CK))
        self.ok(self.run_with("cleanup", KEY1, ck=LIMITED_CK))
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))
        # The same key may not touch another zone: the missing rule is named.
        err = self.failed(self.run_with("present", KEY1, ck=LIMITED_CK,
                                      fqdn="_acme-challenge.other.test.", zone="other.test"))
        self.assertIn("OVH refused GET /domain/zone/other.test/record: the consumer key in "
                      "consumerKeyFile is not granted this call", err)

    def test_missing_delete_rule_named(self):
        self.ok(self.run_with("present", KEY1, ck=NODELETE_CK))
        before = self.fake.snapshot()
        err = self.failed(self.run_with("cleanup", KEY1, ck=NODELETE_CK))
        self.assertIn("OVH refused DELETE /domain/zone/example.test/record/*: the consumer key "
                      "in consumerKeyFile is not granted this call; create a consumer key with "
                      "the access rules GET /domain/zone/example.test/record*", err)
        self.assertEqual(self.fake.snapshot(), before)

    def test_zone_not_found_sentence(self):
        err = self.failed(self.run_with("present", KEY1, fqdn="_acme-challenge.other.test.",
                                      zone="other.test"))
        self.assertIn("has no DNS zone other.test in the account of this consumer key "
                      "(application key %s)" % fake_ovh.APP_KEY, err)

    def test_zone_option_overrides(self):
        # The request names a zone OVH does not have; the zone setting wins.
        name = "_acme-challenge.sub.example.test."
        r = self.run_with("present", KEY1, extra="zone: example.test\n", zone="sub.example.test",
                          fqdn=name)
        self.ok(r)
        self.assertIn(KEY1, self.fake.txt_values(name))
        self.assertFalse(self.fake.calls(contains="/sub.example.test"))
        self.ok(self.run_with("cleanup", KEY1, extra="zone: example.test\n",
                              zone="sub.example.test", fqdn=name))
        self.assertEqual(self.fake.txt_values(name), [])

    def test_deeper_name_and_apex_refused(self):
        deep = "_acme-challenge.www.example.test."
        self.ok(self.run_with("present", KEY1, fqdn=deep, mode="wait"))
        subs = [r["subDomain"] for r in self.fake.zones[ZONE].values()
                if fake_ovh.fakebase.unquote_txt(r["target"]) == KEY1]
        self.assertEqual(subs, ["_acme-challenge.www"])
        self.ok(self.run_with("cleanup", KEY1, fqdn=deep))
        # The apex is never a challenge name: refused before OVH is called (docs/security.md).
        r = self.run_with("present", KEY2, fqdn="example.test.")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("writes only names whose first label is one of _acme-challenge", r.stderr)
        self.assertEqual(self.fake.txt_values("example.test."), [])

    def test_duplicates_of_the_value_all_removed(self):
        self.fake.add_record(ZONE, "_acme-challenge", "TXT", '"%s"' % KEY1, 60)
        self.fake.add_record(ZONE, "_acme-challenge", "TXT", '"%s"' % KEY1, 60)
        self.fake.add_record(ZONE, "_acme-challenge", "TXT", '"%s"' % KEY2, 60)
        self.ok(self.run_with("cleanup", KEY1))
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))
        self.assertIn(KEY2, self.fake.txt_values(FQDN))


if __name__ == "__main__":
    unittest.main()

"""The hetzner provider against fake_hetzner (the Hetzner Cloud API's zones,
RRsets and actions) and a real named, through the CLI.

The shared conformance first, then what this API makes easy to get wrong: the
exact request (quoted value, TTL only for a new RRset), actions followed to
the end, a removal that races with another client, the read-only token, a
secondary zone, the zone option by id and by name, and each error sentence.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import fake_hetzner  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

WRONG_TOKEN = "hzWrongToken0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
WWW = "_acme-challenge.www.example.test."


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = "apiTokenFile"

    @classmethod
    def make_fake(cls, pki_dir, named):
        return fake_hetzner.FakeHetzner(pki_dir, named).start()

    def setUp(self):
        super().setUp()
        self.extra = ""
        self.token = None
        f = self.fake
        f.running_polls, f.fail_next_action, f.locked = 1, None, 0
        f.force_error, f.before_write = None, None

    def provider_yaml(self, fake, creds_dir, good=True):
        token = self.token or (fake_hetzner.TOKEN if good else WRONG_TOKEN)
        path = zptest.write_secret(creds_dir, "hetzner-token-%s" % ("good" if good else "bad"),
                                   token)
        return ("name: hcloud\n"
                "type: hetzner\n"
                "dnsZones: [\"example.test\", \"other.test\", \"secondary.test\"]\n"
                "apiTokenFile: %s\n"
                "endpoint: %s\n"
                "caFile: %s\n%s" % (path, fake.url("/v1"), fake.ca_file, self.extra))

    def seed_foreign(self, fake):
        fake.seed(FQDN, "TXT", 300, ['"%s"' % FOREIGN])
        fake.seed(FQDN, "A", 300, ["192.0.2.1"])

    def secrets(self):
        return [fake_hetzner.TOKEN, fake_hetzner.READONLY_TOKEN, WRONG_TOKEN]

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.no_secret_in(r)

    def writes(self):
        return [b for p, b in self.fake.bodies]

    def test_doctor_proves_the_token_without_writing(self):
        """doctor reads the zone and the TXT RRset at the name; a bad token is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config(mode="skip"),
            lambda: self.config(good=False, mode="skip"),
            lambda: len([c for c in self.fake.calls() if c[0] != "GET"]),
            "the Hetzner Cloud credentials can read zone %s" % ZONE)

    # --- what is sent ---
    def test_8_add_sends_one_quoted_value_and_ttl_only_for_a_new_rrset(self):
        self.fake.bodies.clear()
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.bodies[0][0],
                         "/v1/zones/%d/rrsets/_acme-challenge.www/TXT/actions/add_records"
                         % fake_hetzner.ZONE_ID)
        self.assertEqual(self.writes(), [{"records": [{"value": '"%s"' % KEY1}], "ttl": 60}])
        self.assertEqual(self.fake.rrset(WWW), (60, ['"%s"' % KEY1]))

        self.fake.seed(WWW, "TXT", 900, ['"someone-else"', '"%s"' % KEY1])
        self.fake.bodies.clear()
        self.ok(self.zp("present", KEY2, fqdn=WWW, mode="skip"))
        self.assertEqual(self.writes(), [{"records": [{"value": '"%s"' % KEY2}]}])
        self.assertEqual(self.fake.rrset(WWW)[0], 900)  # their TTL is kept

        self.ok(self.zp("present", KEY2, fqdn=WWW, mode="skip"))  # already there: no write
        self.ok(self.zp("cleanup", KEY2, fqdn=WWW, mode="skip"))
        self.assertEqual(self.writes()[1:], [{"records": [{"value": '"%s"' % KEY2}]}])
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.txt_values(WWW), ["someone-else"])
        self.fake.seed(WWW, "TXT", 0, [])

    def test_8_last_value_removes_the_rrset(self):
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.assertIsNone(self.fake.rrset(WWW))
        self.assertEqual(self.named.txt(WWW), [])

    def test_8_actions_are_followed(self):
        self.fake.running_polls = 3
        before = len(self.fake.calls("GET", "/actions/"))
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(len(self.fake.calls("GET", "/actions/")) - before, 4)
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))

    def test_8_poll_interval_is_a_setting(self):
        self.fake.running_polls = 2
        self.extra = "pollInterval: 100ms\n"
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.extra = "pollInterval: 10ms\n"
        r = zptest.run_zp(["check-config", "--config", self.config(mode="skip")])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("pollInterval must be between 100ms and 1m", r.stderr)

    def test_8_action_error_is_a_sentence(self):
        self.fake.fail_next_action = ("action_failed", "rrset could not be updated")
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "Hetzner Cloud failed adding the TXT value at %s" % WWW,
                     "action_failed: rrset could not be updated")
        self.fake.seed(WWW, "TXT", 0, [])

    def test_8_action_running_past_deadline(self):
        self.fake.running_polls = 1000
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip", timeout="2s")
        self.refused(r, "still running when the deadline ran out")
        self.fake.seed(WWW, "TXT", 0, [])

    # --- races and the zone ---
    def test_9_removed_meanwhile_is_success(self):
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.fake.before_write = lambda fake: fake.seed(WWW, "TXT", 0, [])
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))  # remove_records answers 404
        self.assertIsNone(self.fake.rrset(WWW))

    def test_9_locked_zone_is_retried(self):
        self.fake.locked = 2
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.locked, 0)
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))

    def test_9_zone_option_by_id_and_by_name(self):
        for zone in (str(fake_hetzner.ZONE_ID), "Example.Test."):
            self.extra = "zone: \"%s\"\n" % zone
            before = len(self.fake.calls("GET", "/zones/example.test"))
            self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
            self.assertEqual(self.fake.txt_values(WWW), [KEY1])
            self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
            if zone.isdigit():
                self.assertEqual(len(self.fake.calls("GET", "/zones/example.test")), before)
                self.assertTrue(self.fake.calls("GET", "/zones/%s" % zone))

    def test_9_secondary_zone(self):
        r = self.zp("present", KEY1, fqdn="_acme-challenge.secondary.test.", zone="secondary.test")
        self.refused(r, "zone secondary.test is a secondary zone at Hetzner")
        self.assertFalse(self.fake.zones[fake_hetzner.SECONDARY_ID]["rrsets"])

    # --- refusals and their sentences ---
    def test_a_unauthorized_names_the_file(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        self.refused(r, "rejected the API token in apiTokenFile", "hetzner-token-bad",
                     "(unauthorized)")

    def test_a_read_only_token(self):
        self.token = fake_hetzner.READONLY_TOKEN
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "the token is read-only: create a Read & Write token", "token_readonly")

    def test_a_invalid_input_carries_the_fields(self):
        self.fake.force_error = (400, "invalid_input", "invalid input in field 'records'",
                                 {"fields": [{"name": "records", "messages": ["bad value"]}]})
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "refused adding the TXT value at %s (invalid_input)" % WWW,
                     "records: bad value")

    def test_a_record_limit(self):
        self.fake.force_error = (422, "resource_limit_exceeded", "record limit exceeded",
                                 None)
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "has reached a limit", "resource_limit_exceeded")

    def test_b_fake_refuses_unquoted_values(self):
        # The fake holds to the API's rule, so the quoting test above means something.
        import json
        import ssl
        import urllib.error
        import urllib.request
        req = urllib.request.Request(
            self.fake.url("/v1/zones/example.test/rrsets/x/TXT/actions/add_records"),
            data=json.dumps({"records": [{"value": "unquoted"}]}).encode(), method="POST",
            headers={"Authorization": "Bearer " + fake_hetzner.TOKEN,
                     "Content-Type": "application/json"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, context=ssl.create_default_context(
                cafile=self.fake.ca_file))
        body = json.loads(cm.exception.read())
        self.assertEqual(cm.exception.code, 400)
        self.assertEqual(body["error"]["code"], "invalid_input")
        self.assertIsNone(self.fake.rrset("x.example.test."))


if __name__ == "__main__":
    unittest.main()

"""The httpreq provider against an httpreq service fake (tests/fakes/fake_httpreq.py).

The conformance suite, with basic authentication configured (the fake then
requires it), then what httpreq adds: the Authorization header exactly as
configured and none without credentials, the JSON body's exact bytes at the
two paths below the endpoint, a 401 without credentials and a 404 that name
what to set, the service's own words shown for other 4xx (cut short, control
characters blanked, HTML left out), any 2xx taken as success, a 500 retried, a
repeated Present sent as the same request again, the password kept out of
every sentence and log line even when the service echoes it, and the settings
checked at start.
"""
import base64
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import fake_httpreq  # noqa: E402
import zptest  # noqa: E402
from conformance import FQDN, FOREIGN, KEY1, KEY2  # noqa: E402

USER = "zoneproof-acme"
PASSWORD = "hrPassw0rd-Zx81Qm4Lw9Ty2Ke7"
WRONG_PASSWORD = "hrWrongPassw0rd-Aa11Bb22"
BASIC_TOKEN = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


class T(conformance.ProviderConformance, unittest.TestCase):

    @classmethod
    def make_fake(cls, pki_dir, named):
        return fake_httpreq.FakeHttpReq(pki_dir, named, username=USER, password=PASSWORD).start()

    def setUp(self):
        self.fake.username, self.fake.password = USER, PASSWORD
        self.fake.echo, self.fake.refuse, self.fake.ok_status = False, None, 200
        super().setUp()

    def secrets(self):
        return [PASSWORD, WRONG_PASSWORD, BASIC_TOKEN]

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        pf = zptest.write_secret(creds_dir, "hr-password-%s" % ("good" if good else "bad"),
                                 PASSWORD if good else WRONG_PASSWORD)
        settings = {"name": "hr", "type": "httpreq",
                    "dnsZones": '["example.test", "other.test"]',
                    "endpoint": fake.url(fake_httpreq.PREFIX), "caFile": fake.ca_file,
                    "username": USER, "passwordFile": pf}
        settings.update(extra)
        return "".join("%s: %s\n" % (k, v) for k, v in settings.items() if v is not None)

    def seed_foreign(self, fake):
        fake.seed_foreign(FQDN, "TXT", FOREIGN)
        fake.seed_foreign(FQDN, "A", "192.0.2.1")

    def config_with(self, mode="skip", timeout="6s", **extra):
        path = os.path.join(self.tmp, "config-extra.yaml")
        entry = self.provider_yaml(self.fake, self.tmp, True, **extra).strip("\n")
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: %s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, timeout, self.named.addr(), entry))
        return path

    def run_with(self, action, value, fqdn=FQDN, mode="skip", timeout="6s", log=None, **extra):
        args = [action, "--config", self.config_with(mode, timeout, **extra), "--fqdn", fqdn,
                "--key", value]
        return zptest.run_zp(args + (["--log-level", log] if log else []), timeout=90)

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        said = self.final_sentence(r)
        for n in needles:
            self.assertIn(n, said)
        self.no_secret_in(r)
        return said

    # --- the wire form ---
    def test_9_basic_auth_exactly_as_configured(self):
        self.no_values_of_ours()
        n = len(self.fake.seen)
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("cleanup", KEY1))
        calls = self.fake.protocol_calls(n)
        self.assertEqual(len(calls), 2)
        for path, auth, ctype, body in calls:
            self.assertEqual(auth, "Basic " + BASIC_TOKEN, path)

    def test_10_no_auth_header_without_credentials(self):
        self.no_values_of_ours()
        self.fake.username = None  # a service that asks for none
        n = len(self.fake.seen)
        self.ok(self.run_with("present", KEY1, username=None, passwordFile=None))
        self.assertIn(KEY1, self.fake.txt_values(FQDN))
        self.ok(self.run_with("cleanup", KEY1, username=None, passwordFile=None))
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))
        calls = self.fake.protocol_calls(n)
        self.assertEqual(len(calls), 2)
        self.assertEqual([c[1] for c in calls], [None, None])

    def test_11_body_exact_shape(self):
        self.no_values_of_ours()
        n = len(self.fake.seen)
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("cleanup", KEY1))
        want = ('{"fqdn":"%s","value":"%s"}' % (FQDN, KEY1)).encode()
        self.assertEqual([(p, t, b) for p, _, t, b in self.fake.protocol_calls(n)],
                         [("/acme/present", "application/json", want),
                          ("/acme/cleanup", "application/json", want)])

    def test_12_present_twice_sends_the_same_request(self):
        """zoneproof keeps no state: a repeated Present is the same POST; the service's job is
        to hold the value once."""
        self.no_values_of_ours()
        n = len(self.fake.seen)
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("present", KEY1))
        self.assertEqual(self.fake.txt_values(FQDN), [KEY1])
        self.ok(self.run_with("cleanup", KEY1))
        self.ok(self.run_with("cleanup", KEY1))
        calls = self.fake.protocol_calls(n)
        self.assertEqual([c[0] for c in calls], ["/acme/present"] * 2 + ["/acme/cleanup"] * 2)
        self.assertEqual(len({c[3] for c in calls}), 1)
        self.assertEqual(self.fake.txt_values(FQDN), [])

    def test_13_any_2xx_is_success(self):
        self.no_values_of_ours()
        for status in (201, 202, 204):
            with self.subTest(status=status):
                self.fake.ok_status = status
                self.ok(self.run_with("present", KEY1))
                self.assertEqual(self.fake.txt_values(FQDN), [KEY1])
                self.ok(self.run_with("cleanup", KEY1))
                self.assertEqual(self.fake.txt_values(FQDN), [])

    # --- failures and their sentences ---
    def test_14_401_without_credentials_says_what_to_set(self):
        self.no_values_of_ours()
        r = self.run_with("present", KEY1, username=None, passwordFile=None)
        self.refused(r, "asks for credentials", "HTTP 401", "username and passwordFile")
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))

    def test_15_bad_password_names_user_and_file(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        said = self.refused(r, "rejected the basic-auth credentials", '"%s"' % USER,
                            "passwordFile", "HTTP 401")
        self.assertIn("hr-password-bad", said)

    def test_16_404_names_the_endpoint(self):
        wrong = self.fake.url("/wrong")
        r = self.run_with("present", KEY1, endpoint=wrong)
        self.refused(r, wrong + "/present", "HTTP 404", "set endpoint", "POST /present")

    def test_17_4xx_shows_the_service_message_cleaned(self):
        self.no_values_of_ours()
        self.fake.refuse = (422, {"message": "value\nrefused\x1b[31m by policy " + "x" * 1000},
                            "application/json")
        said = self.refused(self.run_with("present", KEY1), "refused to add the TXT value at "
                            + FQDN, "HTTP 422", "value refused")
        self.assertNotIn("\x1b", said)
        self.assertLess(said.count("x"), 250)  # cut short
        self.fake.refuse = (400, "<html><body><h1>Bad request</h1></body></html>", "text/html")
        said = self.refused(self.run_with("cleanup", KEY1), "refused to remove", "HTTP 400")
        self.assertNotIn("<html>", said)
        self.fake.refuse = (400, "\n<!DOCTYPE html><title>400</title>", "text/plain")  # mislabelled
        said = self.refused(self.run_with("present", KEY1), "(HTTP 400 Bad Request)")
        self.assertNotIn("<", said)
        self.fake.refuse = (409, "busy: another change is running\n", "text/plain")
        self.refused(self.run_with("present", KEY1),
                     "(HTTP 409 Conflict: busy: another change is running)")

    def test_18_server_error_retried(self):
        self.no_values_of_ours()
        self.fake.inject(status=500, count=1)
        r = self.run_with("present", KEY1, log="info")
        self.ok(r)
        self.assertTrue(self.waits(r), r.stderr)
        self.assertEqual(self.fake.txt_values(FQDN), [KEY1])
        self.fake.inject(status=500, count=20)
        self.refused(self.run_with("cleanup", KEY1, timeout="3s"),
                     "failed to remove the TXT value at " + FQDN, "HTTP 500")
        self.fake.clear_faults()
        self.ok(self.run_with("cleanup", KEY1))

    def test_19_password_never_in_output(self):
        """A service that repeats what it was sent: the password and the header it went in are
        redacted from the sentence and from every log line, at every level."""
        self.fake.echo = True
        r = self.run_with("present", KEY1, log="debug")
        said = self.refused(r, "cannot parse request from", "HTTP 400", USER)
        self.assertIn("[REDACTED]", said)
        for s in self.secrets():
            self.assertNotIn(s, r.stdout + r.stderr)

    # --- settings ---
    def check_config(self, **extra):
        return zptest.run_zp(["check-config", "--config", self.config_with(**extra)])

    def test_20_settings_checked_at_start(self):
        bad = [
            ({"endpoint": "http://dns-api.internal/acme"}, "plain http://"),
            ({"endpoint": "ftp://dns-api.internal/acme"}, "must start with https://"),
            ({"endpoint": "https://u:pw@dns-api.internal/acme"}, "must not carry credentials"),
            ({"endpoint": "https://dns-api.internal/acme?zone=x"}, "query or a fragment"),
            ({"endpoint": None}, "endpoint is required"),
            ({"passwordFile": None}, "basic authentication needs both"),
            ({"username": None}, "basic authentication needs both"),
            ({"username": '"a:b"'}, "without ':'"),
            ({"passwordFile": os.path.join(self.tmp, "missing")}, "passwordFile"),
        ]
        for extra, needle in bad:
            with self.subTest(extra=extra):
                r = self.check_config(**extra)
                self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertIn("config-extra.yaml:", r.stderr)
                self.assertNotIn("pw@", r.stderr)
        good = [{"endpoint": "http://127.0.0.1:8080/acme"}, {"endpoint": '"http://[::1]:8080"'},
                {"endpoint": "http://localhost:8080/"},
                {"passwordFile": None, "passwordSecretRef": "{name: dns-api, key: password}"},
                {"username": None, "passwordFile": None, "caFile": None}]
        for extra in good:
            with self.subTest(extra=extra):
                r = self.check_config(**extra)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()

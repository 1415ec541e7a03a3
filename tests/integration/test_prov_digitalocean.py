"""The digitalocean provider against fake_digitalocean, through the CLI.

The shared conformance, then what is particular to DigitalOcean: the raw
data and relative name sent, the server-side filters, a budget of requests
per call (cert-manager #6230 locked accounts out by listing in a loop),
duplicates left by a crash removed together, paging, the zone setting, and
the sentence for each refusal.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_digitalocean  # noqa: E402
import fakebase  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

GOOD = "dop_v1_" + "0" * 57 + "good"
READ_ONLY = "dop_v1_" + "0" * 53 + "readonly"
NO_DOMAIN = "dop_v1_" + "0" * 51 + "nodomainss"
UNKNOWN = "dop_v1_" + "0" * 54 + "unknown"
SECRETS = (GOOD, READ_ONLY, NO_DOMAIN, UNKNOWN)


class T(conformance.ProviderConformance, unittest.TestCase):

    @classmethod
    def make_fake(cls, pki_dir, named):
        fake = fake_digitalocean.FakeDigitalOcean(pki_dir, named).start()
        fake.add_token(GOOD)
        fake.add_token(READ_ONLY, ["domain:read"])
        fake.add_token(NO_DOMAIN, ["droplet:read"])
        return fake

    @property
    def account_hint(self):
        return self.token_file(GOOD)

    def token_file(self, token):
        name = "do-token-%d" % SECRETS.index(token)
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            zptest.write_secret(self.tmp, name, token)
        return path

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        settings = {"name": "do", "type": "digitalocean",
                    "dnsZones": [ZONE, "other.test"],
                    "apiTokenFile": self.token_file(GOOD if good else UNKNOWN),
                    "endpoint": fake.url("/v2"), "caFile": fake.ca_file}
        settings.update(extra)
        return "\n".join("%s: %s" % (k, json.dumps(v)) for k, v in settings.items())

    def seed_foreign(self, fake):
        fake.seed("TXT", FQDN, FOREIGN)
        fake.seed("A", FQDN, "192.0.2.1")

    def secrets(self):
        return list(SECRETS)

    # --- helpers ---
    def run_with(self, action, key, fqdn, mode="skip", cli_zone=None, **settings):
        entry = self.provider_yaml(self.fake, self.tmp, **settings)
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        path = os.path.join(self.tmp, "config-custom.yaml")
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: 6s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, self.named.addr(), entry))
        args = [action, "--config", path, "--fqdn", fqdn, "--key", key]
        r = zptest.run_zp(args + (["--zone", cli_zone] if cli_zone else []), timeout=60)
        self.no_secret_in(r)
        return r

    def failed(self, r, *phrases):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        for p in phrases:
            self.assertIn(p, r.stderr)

    # --- DigitalOcean specifics ---
    def test_a_raw_data_relative_name_minimum_ttl(self):
        fqdn = "_acme-challenge.q.example.test."
        del self.fake.bodies[:]
        n = len(self.fake.calls())
        self.ok(self.run_with("present", KEY1, fqdn, ttl=10))
        posts = [b for m, p, b in self.fake.bodies if m == "POST"]
        self.assertEqual(posts, [{"type": "TXT", "name": "_acme-challenge.q", "data": KEY1,
                                  "ttl": 30}])
        lists = [c for c in self.fake.calls()[n:] if c[0] == "GET" and "/records" in c[1]]
        self.assertTrue(lists)
        for _, _, q in lists:
            self.assertEqual(q.get("type"), ["TXT"])
            self.assertEqual(q.get("name"), ["_acme-challenge.q.example.test"])
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_b_request_budget_per_call(self):
        fqdn = "_acme-challenge.budget.example.test."
        n = len(self.fake.calls())
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(len(self.fake.calls()) - n, 3)  # domain, one list, create
        n = len(self.fake.calls())
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(len(self.fake.calls()) - n, 2)  # domain, one list
        n = len(self.fake.calls())
        self.fake.inject(status=429, retry_after=1)
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(len(self.fake.calls()) - n, 4)  # one 429, waited out once
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_c_duplicates_left_behind_are_all_removed(self):
        fqdn = "_acme-challenge.dup.example.test."
        self.fake.seed("TXT", fqdn, KEY2)
        self.fake.seed("TXT", fqdn, KEY2)
        self.fake.seed("TXT", fqdn, FOREIGN)
        self.ok(self.run_with("cleanup", KEY2, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [FOREIGN])

    def test_d_records_on_later_pages_are_found(self):
        fqdn = "_acme-challenge.paged.example.test."
        others = ["other-value-%d" % i for i in range(5)]
        for v in others:
            self.fake.seed("TXT", fqdn, v)
        self.fake.seed("TXT", fqdn, KEY1)
        before = self.fake.snapshot()
        self.ok(self.run_with("present", KEY1, fqdn))
        self.assertEqual(self.fake.snapshot(), before)
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(sorted(self.fake.txt_values(fqdn)), others)
        self.assertIn(["3"], [q.get("page") for _, _, q in self.fake.calls("GET", "/records")])

    def test_e_quoted_value_is_another_value(self):
        fqdn = "_acme-challenge.quoted.example.test."
        self.fake.seed("TXT", fqdn, '"%s"' % KEY1)  # DNS serves the quotes: not our value
        self.ok(self.run_with("present", KEY1, fqdn))
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), ['"%s"' % KEY1])

    def test_f_unknown_token(self):
        r = self.run_with("present", KEY1, "_acme-challenge.f.example.test.",
                          apiTokenFile=self.token_file(UNKNOWN))
        self.failed(r, "DigitalOcean rejected the token in apiTokenFile",
                    self.token_file(UNKNOWN), "HTTP 401 unauthorized")

    def test_g_missing_scopes(self):
        fqdn = "_acme-challenge.g.example.test."
        r = self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(READ_ONLY))
        self.failed(r, "may not add TXT at _acme-challenge.g.example.test", "HTTP 403 forbidden",
                    "domain:create")
        r = self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(NO_DOMAIN))
        self.failed(r, "may not read domain example.test", "domain:read")
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_h_zone_setting(self):
        fqdn = "_acme-challenge.www.sub.example.test."
        # cert-manager found zone sub.example.test; DigitalOcean holds it inside example.test.
        r = self.run_with("present", KEY1, fqdn, cli_zone="sub.example.test")
        self.failed(r, "has no domain sub.example.test", "or set zone")
        self.ok(self.run_with("present", KEY1, fqdn, cli_zone="sub.example.test",
                              zone="example.test"))
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn, cli_zone="sub.example.test",
                              zone="example.test"))
        self.assertEqual(self.fake.txt_values(fqdn), [])
        r = self.run_with("present", KEY1, fqdn, zone="other.test")
        self.failed(r, "_acme-challenge.www.sub.example.test is not inside zone other.test "
                       "set by zone")

    def test_i_record_gone_before_delete_is_success(self):
        fqdn = "_acme-challenge.gone.example.test."
        real = self.fake._list
        ghost = {"id": 1, "type": "TXT", "name": "_acme-challenge.gone", "data": KEY1,
                 "priority": None, "port": None, "ttl": 30, "weight": None, "flags": None,
                 "tag": None}
        self.fake._list = lambda req, domain: fakebase.Reply(
            200, {"domain_records": [ghost], "links": {}, "meta": {"total": 1}})
        try:
            self.ok(self.run_with("cleanup", KEY1, fqdn))
        finally:
            self.fake._list = real
        self.assertIn("/v2/domains/example.test/records/1",
                      [p for _, p, _ in self.fake.calls("DELETE")])


if __name__ == "__main__":
    unittest.main()

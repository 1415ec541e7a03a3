"""The cloudflare provider against fake_cloudflare, through the CLI.

The shared conformance (foreign records survive, a second value at one name,
double CleanUp, bad credentials, wrong zone, 429, 5xx, a hanging API), then
what is particular to Cloudflare: the quoted content sent, unquoted records
of other clients recognised, the split between a Zone:Read token and a
DNS:Edit token, zoneId skipping the lookup, each refusal's sentence, paging,
and the identical-record answer (81058) taken as success.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_cloudflare  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

# Test tokens: 40 characters, the shape of real ones.
GOOD = "cfTESTgoodtoken0000000000000000000000000"
DNS_ONLY = "cfTESTdnsonly00000000000000000000000000"
ZONE_READ = "cfTESTzoneread0000000000000000000000000"
READ_ONLY = "cfTESTreadonly0000000000000000000000000"
REVOKED = "cfTESTrevoked00000000000000000000000000"
UNKNOWN = "cfTESTunknown00000000000000000000000000"
MALFORMED = "not a token!"
SECRETS = (GOOD, DNS_ONLY, ZONE_READ, READ_ONLY, REVOKED, UNKNOWN)


class T(conformance.ProviderConformance, unittest.TestCase):

    @classmethod
    def make_fake(cls, pki_dir, named):
        fake = fake_cloudflare.FakeCloudflare(pki_dir, named).start()
        fake.add_token(GOOD, "good", zone_read=[ZONE], dns_edit=[ZONE])
        fake.add_token(DNS_ONLY, "dns-only", dns_edit=[ZONE])
        fake.add_token(ZONE_READ, "zone-read", zone_read=[ZONE, "other.example"])
        fake.add_token(READ_ONLY, "read-only", zone_read=[ZONE], dns_read=[ZONE])
        fake.add_token(REVOKED, "revoked", zone_read=[ZONE], dns_edit=[ZONE], revoked=True)
        return fake

    @property
    def account_hint(self):
        return self.token_file(GOOD)

    def token_file(self, token):
        name = "cf-token-%d" % SECRETS.index(token) if token in SECRETS else "cf-token-bad"
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path) or token not in SECRETS:
            zptest.write_secret(self.tmp, name, token)
        return path

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        settings = {"name": "cf", "type": "cloudflare",
                    "dnsZones": [ZONE, "other.test"],
                    "apiTokenFile": self.token_file(GOOD if good else UNKNOWN),
                    "endpoint": fake.url("/client/v4"), "caFile": fake.ca_file}
        settings.update(extra)
        return "\n".join("%s: %s" % (k, json.dumps(v)) for k, v in settings.items())

    def seed_foreign(self, fake):
        fake.seed("TXT", FQDN, '"%s"' % FOREIGN)
        fake.seed("A", FQDN, "192.0.2.1")

    def secrets(self):
        return list(SECRETS)

    # --- helpers for the tests below ---
    def config_with(self, mode="skip", **settings):
        entry = self.provider_yaml(self.fake, self.tmp, **settings)
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        path = os.path.join(self.tmp, "config-custom.yaml")
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: 6s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, self.named.addr(), entry))
        return path

    def run_with(self, action, key, fqdn, mode="skip", **settings):
        path = self.config_with(mode, **settings)
        r = zptest.run_zp([action, "--config", path, "--fqdn", fqdn, "--key", key], timeout=60)
        self.no_secret_in(r)
        return r

    def test_doctor_proves_the_token_without_writing(self):
        """doctor reads the zone and the records at the name; a bad token is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: len(self.fake.calls("POST")) + len(self.fake.calls("DELETE")),
            "the Cloudflare credentials can read zone %s" % ZONE)

    def failed(self, r, *phrases):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        for p in phrases:
            self.assertIn(p, r.stderr)

    # --- Cloudflare specifics ---
    def test_a_content_sent_quoted_with_minimum_ttl(self):
        fqdn = "_acme-challenge.q.example.test."
        del self.fake.bodies[:]
        self.ok(self.run_with("present", KEY1, fqdn, ttl=30))
        posts = [b for m, p, b in self.fake.bodies if m == "POST"]
        self.assertEqual(posts, [{"type": "TXT", "name": "_acme-challenge.q.example.test",
                                  "content": '"%s"' % KEY1, "ttl": 60}])
        self.assertEqual(self.fake.txt_contents(fqdn), ['"%s"' % KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_contents(fqdn), [])

    def test_b_unquoted_record_of_another_client_is_recognised(self):
        fqdn = "_acme-challenge.u.example.test."
        self.fake.seed("TXT", fqdn, KEY2)  # as cert-manager's own solver writes it
        posts = len(self.fake.calls("POST"))
        self.ok(self.run_with("present", KEY2, fqdn))
        self.assertEqual(len(self.fake.calls("POST")), posts, "a duplicate was created")
        self.ok(self.run_with("cleanup", KEY2, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_c_zone_read_token_apart_from_dns_edit_token(self):
        fqdn = "_acme-challenge.split.example.test."
        del self.fake.auth_log[:]
        self.ok(self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(DNS_ONLY),
                              zoneApiTokenFile=self.token_file(ZONE_READ)))
        self.ok(self.run_with("cleanup", KEY1, fqdn, apiTokenFile=self.token_file(DNS_ONLY),
                              zoneApiTokenFile=self.token_file(ZONE_READ)))
        used = self.fake.auth_log
        zones = {label for m, p, label in self.fake.auth_log if p.endswith("/zones")}
        records = {label for m, p, label in self.fake.auth_log if "/dns_records" in p}
        self.assertEqual(zones, {"zone-read"}, used)
        self.assertEqual(records, {"dns-only"}, used)
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_d_zone_id_skips_the_lookup(self):
        fqdn = "_acme-challenge.zid.example.test."
        zid = self.fake.zone_id(ZONE)
        lookups = len([c for c in self.fake.calls("GET") if c[1].endswith("/zones")])
        self.ok(self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(DNS_ONLY),
                              zoneId=zid.upper()))
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn, apiTokenFile=self.token_file(DNS_ONLY),
                              zoneId=zid))
        self.assertEqual(len([c for c in self.fake.calls("GET") if c[1].endswith("/zones")]),
                         lookups, "zoneId set, yet the zone was looked up")
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_e_dns_token_without_zone_read_is_told_about_both_fixes(self):
        r = self.run_with("present", KEY1, "_acme-challenge.e.example.test.",
                          apiTokenFile=self.token_file(DNS_ONLY))
        self.failed(r, "no zone example.test is visible", "Zone > Zone > Read", "zoneId",
                    self.token_file(DNS_ONLY))

    def test_f_permission_denied_names_dns_edit(self):
        fqdn = "_acme-challenge.f.example.test."
        r = self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(READ_ONLY))
        self.failed(r, "may not change DNS records of zone example.test", "error 10000",
                    "Zone > DNS > Edit")
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_g_unknown_and_revoked_tokens(self):
        for tok, code in ((UNKNOWN, "9109"), (REVOKED, "1000")):
            r = self.run_with("present", KEY1, "_acme-challenge.g.example.test.",
                              apiTokenFile=self.token_file(tok))
            self.failed(r, "Cloudflare rejected the API token in apiTokenFile",
                        "error %s" % code, "unknown, expired or revoked")

    def test_h_token_file_that_is_not_a_token(self):
        bad = os.path.join(self.tmp, "cf-bearer")
        zptest.write_secret(self.tmp, "cf-bearer", "Bearer " + GOOD)
        sent = len(self.fake.calls())
        r = self.run_with("present", KEY1, "_acme-challenge.h.example.test.", apiTokenFile=bad)
        self.failed(r, "holds more than one word")
        self.assertEqual(len(self.fake.calls()), sent, "a request went out with that header")
        r = self.run_with("present", KEY1, "_acme-challenge.h.example.test.",
                          apiTokenFile=self.token_file("x" * 8 + "!" * 4))
        self.failed(r, "refused the Authorization header", "error 6003")

    def test_i_records_on_later_pages_are_found(self):
        fqdn = "_acme-challenge.paged.example.test."
        others = ["other-value-%d" % i for i in range(5)]
        for v in others:
            self.fake.seed("TXT", fqdn, '"%s"' % v)
        self.fake.seed("TXT", fqdn, '"%s"' % KEY1)
        before = self.fake.snapshot()
        self.ok(self.run_with("present", KEY1, fqdn))  # found on page 3: nothing created
        self.assertEqual(self.fake.snapshot(), before)
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(sorted(self.fake.txt_values(fqdn)), others)
        pages = {c[2].get("page", ["1"])[0] for c in self.fake.calls("GET", "/dns_records")}
        self.assertIn("3", pages)
        self.assertTrue(all(c[2].get("name.exact") == ["_acme-challenge.paged.example.test"]
                            for c in self.fake.calls("GET", "/dns_records")
                            if "paged" in str(c[2])))

    def test_j_zone_id_that_is_no_zone(self):
        r = self.run_with("present", KEY1, "_acme-challenge.j.example.test.",
                          zoneId="0123456789abcdef0123456789abcdef")
        self.failed(r, "zoneId 0123456789abcdef0123456789abcdef", "is no zone", "error 7003")

    def test_k_zone_id_that_is_not_an_id(self):
        r = self.run_with("present", KEY1, "_acme-challenge.k.example.test.", zoneId="example")
        self.failed(r, "config-custom.yaml:", "zoneId \"example\" is not a Cloudflare zone id")

    def test_l_identical_record_answer_is_success(self):
        fqdn = "_acme-challenge.race.example.test."
        self.fake.seed("TXT", fqdn, '"%s"' % KEY1)
        real = self.fake._list_records
        # Another Present created it between our list and our create.
        self.fake._list_records = lambda req, zid: fake_cloudflare.envelope(
            [], info={"page": 1, "per_page": 2, "count": 0, "total_count": 0, "total_pages": 1})
        try:
            posts = len(self.fake.calls("POST"))
            self.ok(self.run_with("present", KEY1, fqdn))
            self.assertEqual(len(self.fake.calls("POST")), posts + 1)
        finally:
            self.fake._list_records = real
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn))

    def test_m_cname_at_the_name(self):
        fqdn = "_acme-challenge.cn.example.test."
        self.fake.seed("CNAME", fqdn, "elsewhere.example.net")
        r = self.run_with("present", KEY1, fqdn)
        self.failed(r, "a CNAME record sits at _acme-challenge.cn.example.test", "error 81054")


if __name__ == "__main__":
    unittest.main()

"""The linode provider against fake_linode, through the CLI.

The shared conformance, then what is particular to Linode: the X-Filter
lookups sent, the raw target and ttl_sec, a cleanup that removes the value
asked for and not the first record with the name (acme.sh's Linode hook
does the latter), paging, the zone setting, and each refusal's sentence.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_linode  # noqa: E402
import fakebase  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

GOOD = "f" * 56 + "linodeg1"
READ_ONLY = "e" * 56 + "linodero"
NO_DOMAINS = "d" * 56 + "linodenl"
UNKNOWN = "c" * 56 + "linodeun"
SECRETS = (GOOD, READ_ONLY, NO_DOMAINS, UNKNOWN)


class T(conformance.ProviderConformance, unittest.TestCase):

    @classmethod
    def make_fake(cls, pki_dir, named):
        fake = fake_linode.FakeLinode(pki_dir, named).start()
        fake.add_token(GOOD)
        fake.add_token(READ_ONLY, ["domains:read_only"])
        fake.add_token(NO_DOMAINS, ["linodes:read_write"])
        return fake

    @property
    def account_hint(self):
        return self.token_file(GOOD)

    def token_file(self, token):
        name = "li-token-%d" % SECRETS.index(token)
        path = os.path.join(self.tmp, name)
        if not os.path.exists(path):
            zptest.write_secret(self.tmp, name, token)
        return path

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        settings = {"name": "li", "type": "linode",
                    "dnsZones": [ZONE, "other.test"],
                    "apiTokenFile": self.token_file(GOOD if good else UNKNOWN),
                    "endpoint": fake.url("/v4"), "caFile": fake.ca_file}
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

    # --- Linode specifics ---
    def test_a_filters_raw_target_and_ttl_sent(self):
        fqdn = "_acme-challenge.q.example.test."
        del self.fake.bodies[:]
        del self.fake.filters[:]
        self.ok(self.run_with("present", KEY1, fqdn))
        posts = [b for m, p, b in self.fake.bodies if m == "POST"]
        self.assertEqual(posts, [{"type": "TXT", "name": "_acme-challenge.q", "target": KEY1,
                                  "ttl_sec": 300}])
        did = self.fake.domain_id(ZONE)
        self.assertEqual(self.fake.filters, [
            ("GET", "/v4/domains", {"domain": "example.test"}),
            ("GET", "/v4/domains/%d/records" % did, {"type": "TXT", "name": "_acme-challenge.q"}),
        ])
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_b_ttl_rounded_up_to_a_kept_value(self):
        fqdn = "_acme-challenge.ttl.example.test."
        del self.fake.bodies[:]
        self.ok(self.run_with("present", KEY1, fqdn, ttl=3601))
        self.assertEqual([b["ttl_sec"] for m, p, b in self.fake.bodies if m == "POST"], [7200])
        self.ok(self.run_with("cleanup", KEY1, fqdn))

    def test_c_cleanup_removes_the_value_not_the_first_record_of_the_name(self):
        fqdn = "_acme-challenge.first.example.test."
        self.fake.seed("TXT", fqdn, KEY2)   # the other certificate's value, listed first
        self.fake.seed("TXT", fqdn, KEY1)
        self.ok(self.run_with("cleanup", KEY1, fqdn))
        self.assertEqual(self.fake.txt_values(fqdn), [KEY2])
        self.assertEqual(self.named.txt(fqdn), [KEY2])
        self.ok(self.run_with("cleanup", KEY2, fqdn))

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

    def test_e_unknown_token(self):
        r = self.run_with("present", KEY1, "_acme-challenge.e.example.test.",
                          apiTokenFile=self.token_file(UNKNOWN))
        self.failed(r, "Linode rejected the token in apiTokenFile", self.token_file(UNKNOWN),
                    "HTTP 401")

    def test_f_missing_scopes(self):
        fqdn = "_acme-challenge.f.example.test."
        r = self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(READ_ONLY))
        self.failed(r, "may not add TXT at _acme-challenge.f.example.test", "HTTP 403",
                    "Domains Read/Write", "Read Only is not enough")
        r = self.run_with("present", KEY1, fqdn, apiTokenFile=self.token_file(NO_DOMAINS))
        self.failed(r, "may not look up domain example.test", "Domains Read/Write")
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_g_zone_setting(self):
        fqdn = "_acme-challenge.www.sub.example.test."
        r = self.run_with("present", KEY1, fqdn, cli_zone="sub.example.test")
        self.failed(r, "has no domain sub.example.test", "or set zone")
        self.ok(self.run_with("present", KEY1, fqdn, cli_zone="sub.example.test",
                              zone="example.test"))
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn, cli_zone="sub.example.test",
                              zone="example.test"))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_h_record_gone_before_delete_is_success(self):
        fqdn = "_acme-challenge.gone.example.test."
        real = self.fake._collection
        ghost = dict(self.fake._new_record("TXT", "_acme-challenge.gone", KEY1, 300), id=7)

        def collection(req, kind, items):
            if kind == "records":
                return fakebase.Reply(200, {"data": [ghost], "page": 1, "pages": 1,
                                            "results": 1})
            return real(req, kind, items)
        self.fake._collection = collection
        try:
            self.ok(self.run_with("cleanup", KEY1, fqdn))
        finally:
            self.fake._collection = real
        self.assertIn("/v4/domains/%d/records/7" % self.fake.domain_id(ZONE),
                      [p for _, p, _ in self.fake.calls("DELETE")])

    def test_i_cname_at_the_name(self):
        fqdn = "_acme-challenge.cn.example.test."
        self.fake.seed("CNAME", fqdn, "elsewhere.example.net")
        r = self.run_with("present", KEY1, fqdn)
        self.failed(r, "a CNAME record sits at _acme-challenge.cn.example.test")


if __name__ == "__main__":
    unittest.main()

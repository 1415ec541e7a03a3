"""The acmedns provider against the acme-dns fake (tests/fakes/fake_acmedns.py).

acme-dns keeps the two latest values of an account and has no delete, so the
strict conformance sequence is the acme-dns one: the value is watched at the
account's fulldomain (the Issuer uses cnameStrategy: Follow, so cert-manager's
resolvedFQDN is already that name), a second value keeps the first, a retried
Present of the newer value does not evict the older one, CleanUp succeeds and
changes nothing, and neither another account nor the customer's own records
at _acme-challenge are touched.
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import fake_acmedns  # noqa: E402
import zptest  # noqa: E402
from conformance import FQDN, FOREIGN, KEY1, KEY2  # noqa: E402

KEY3 = zptest.acme_key("third")


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = "accountsFile"

    @classmethod
    def make_fake(cls, pki_dir, named):
        fake = fake_acmedns.FakeAcmeDns(pki_dir, named).start()
        cls.acct = fake.register()
        cls.other = fake.register()
        cls.wild = fake.register()
        cls.full = cls.acct["fulldomain"] + "."
        return fake

    def setUp(self):
        super().setUp()
        self.fake.set_values(self.acct, [])

    def secrets(self):
        return [a[k] for a in (self.acct, self.other, self.wild) for k in ("password", "username")]

    def accounts_file(self, creds_dir, good=True):
        acct = dict(self.acct)
        if not good:
            acct["password"] = "x" * 40
        accounts = {"example.test": acct, "www.example.test": self.other,
                    "*.wild.example.test": self.wild}
        path = os.path.join(creds_dir, "acmedns-%s.json" % ("good" if good else "bad"))
        with open(path, "w") as f:
            json.dump(accounts, f)
        os.chmod(path, 0o600)
        return path

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        settings = {"name": "acme", "type": "acmedns",
                    "dnsZones": '["example.test", "other.test"]',
                    "endpoint": fake.url(), "caFile": fake.ca_file,
                    "accountsFile": self.accounts_file(creds_dir, good),
                    "nameserver": '"%s"' % self.named.addr()}
        settings.update(extra)
        return "\n".join("%s: %s" % (k, v) for k, v in settings.items()) + "\n"

    def seed_foreign(self, fake):
        fake.seed_foreign(FQDN, "TXT", FOREIGN)
        fake.seed_foreign(FQDN, "A", "192.0.2.1")
        fake.set_values(self.other, [KEY3, KEY1])

    def run_with(self, action, value, fqdn=None, mode="skip", log=None, **extra):
        path = os.path.join(self.tmp, "config-extra.yaml")
        entry = self.provider_yaml(self.fake, self.tmp, True, **extra)
        entry = "\n".join("    " + line for line in entry.strip("\n").splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: 6s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, self.named.addr(), entry))
        args = [action, "--config", path, "--fqdn", fqdn or self.full, "--key", value]
        return zptest.run_zp(args + (["--log-level", log] if log else []), timeout=90)

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.no_secret_in(r)

    # --- the conformance sequence, as acme-dns allows it ---
    def test_1_strict_conformance(self):
        self.seed_foreign(self.fake)
        before = self.fake.snapshot()
        other_before = self.fake.txt_values(self.other["fulldomain"])
        self.assertEqual(self.fake.txt_values(FQDN), [FOREIGN])

        r = self.zp("present", KEY1, fqdn=self.full)
        self.ok(r)
        self.assertEqual(self.fake.txt_values(self.full), [KEY1])
        self.assertIn(KEY1, self.named.txt(self.full))  # the watcher saw it in real DNS

        self.ok(self.zp("present", KEY1, fqdn=self.full))  # idempotent
        self.assertEqual(self.fake.txt_values(self.full), [KEY1])

        self.ok(self.zp("present", KEY2, fqdn=self.full))  # a second value keeps the first
        self.assertEqual(sorted(self.fake.txt_values(self.full)), sorted([KEY1, KEY2]))
        self.ok(self.zp("present", KEY2, fqdn=self.full))  # a retry does not evict KEY1
        self.assertEqual(sorted(self.fake.txt_values(self.full)), sorted([KEY1, KEY2]))
        self.assertEqual(sorted(self.named.txt(self.full)), sorted([KEY1, KEY2]))

        self.ok(self.zp("cleanup", KEY2, fqdn=self.full))  # no delete in acme-dns: success
        self.ok(self.zp("cleanup", KEY2, fqdn=self.full))
        self.ok(self.zp("cleanup", KEY1, fqdn=self.full))
        self.assertEqual(sorted(self.fake.txt_values(self.full)), sorted([KEY1, KEY2]))

        self.assertEqual(self.fake.updates[-2:], [(self.acct["subdomain"], KEY1),
                                                  (self.acct["subdomain"], KEY2)])
        self.assertEqual(self.fake.txt_values(FQDN), [FOREIGN])
        self.assertEqual(self.fake.txt_values(self.other["fulldomain"]), other_before)
        after = self.fake.snapshot()
        self.assertEqual(after[1], before[1], "a record of the customer's zone changed")
        self.assertEqual([a for a in after[0] if a[0] != self.acct["subdomain"]],
                         [a for a in before[0] if a[0] != self.acct["subdomain"]],
                         "another account changed")
        self.no_secret_in(r)

    # --- acme-dns specifics ---
    def test_8_two_latest_values(self):
        for k in (KEY1, KEY2, KEY3):
            self.ok(self.run_with("present", k))
        self.assertEqual(sorted(self.fake.txt_values(self.full)), sorted([KEY2, KEY3]))
        self.assertEqual(self.named.txt(self.full), sorted([KEY2, KEY3]))

    def test_9_retry_without_the_check_evicts(self):
        """Why Present asks DNS first: resending the newer value replaces the older one."""
        self.ok(self.run_with("present", KEY1, nameserver="none"))
        self.ok(self.run_with("present", KEY2, nameserver="none"))
        self.ok(self.run_with("present", KEY2, nameserver="none"))
        self.assertEqual(set(self.fake.txt_values(self.full)), {KEY2})  # KEY1 is gone

    def test_10_value_length_refused(self):
        n = len(self.fake.updates)
        r = self.run_with("present", KEY1[:42])
        self.refused(r, "43-character", "42 characters")
        self.assertEqual(len(self.fake.updates), n)

    def test_11_cleanup_says_why_nothing_is_removed(self):
        self.ok(self.run_with("present", KEY1))
        r = self.run_with("cleanup", KEY1, log="info")
        self.ok(r)
        self.assertIn("acme-dns has no delete", r.stderr)
        self.assertEqual(self.fake.txt_values(self.full), [KEY1])

    def test_12_by_domain_key_warns_about_follow(self):
        r = self.run_with("present", KEY1, fqdn=FQDN)
        self.ok(r)
        # The CLI's advice; the webhook's (cnameStrategy: Follow) is test_error_text.c's.
        self.assertIn("pass --follow-cname (or set followCNAME: true)", r.stderr)
        self.assertNotIn("cnameStrategy", r.stderr)
        self.assertEqual(self.fake.txt_values(self.full), [KEY1])
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))

    def test_13_wildcard_key(self):
        r = self.run_with("present", KEY1, fqdn="_acme-challenge.wild.example.test.")
        self.ok(r)
        self.assertEqual(self.fake.txt_values(self.wild["fulldomain"]), [KEY1])

    def test_14_accounts_file_checked_at_start(self):
        path = os.path.join(self.tmp, "accounts-broken.json")
        with open(path, "w") as f:
            json.dump({"example.test": {"username": self.acct["username"],
                                        "fulldomain": self.acct["fulldomain"],
                                        "subdomain": self.acct["subdomain"]}}, f)
        r = self.run_with("present", KEY1, accountsFile=path)
        self.refused(r, "accountsFile", 'has no "password"', "config-extra.yaml:")

    def test_15_bad_credentials_sentence(self):
        r = self.zp("present", KEY1, fqdn=self.full, good=False, mode="skip")
        self.refused(r, "rejected the credentials of the account for \"example.test\"",
                     "allowfrom", self.acct["subdomain"])


if __name__ == "__main__":
    unittest.main()

"""The powerdns provider against a real PowerDNS Authoritative server.

pdns_server (gsqlite3) runs on loopback; its records are checked through its
own API and through real DNS queries: the watcher asks pdns_server's DNS port
itself. An HTTPS proxy in front of the API (tests/lib/pdns.py) injects the
conformance suite's 429, 503 and hangs, logs what zoneproof sent, and can
make the server look like PowerDNS 5.1 so the EXTEND/PRUNE path runs too.
"""
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import pdns  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402
from conformance import FQDN, FOREIGN, KEY1, KEY2, ZONE  # noqa: E402

FOREIGN_TTL = 120  # differs from zoneproof's ttl: the set must keep it
FOREIGN_A = "192.0.2.1"
FOREIGN_OFF = "v=foreign-disabled-keep-me"  # a disabled record: not served, kept by the API
COMMENT = {"content": "kept by hand: ask ops before removing", "account": "ops",
           "modified_at": 1700000000}
OURS = ('"%s"' % KEY1, '"%s"' % KEY2)


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = 'server "localhost"'

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="zp-prov-powerdns-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        # The suite's "named" is the server the watcher asks: pdns_server itself.
        cls.named = pdns.Pdns(zones=(conformance.ZONE,)).start()
        cls.fake = cls.make_fake(cls.pki, cls.named)

    @classmethod
    def make_fake(cls, pki_dir, server):
        return pdns.PdnsProxy(pki_dir, server).start()

    def secrets(self):
        return [self.named.api_key]

    def provider_yaml(self, fake, creds_dir, good=True, **extra):
        key = zptest.write_secret(creds_dir, "pdns-key-%s" % ("good" if good else "bad"),
                                  self.named.api_key if good else "pdns-not-the-key")
        settings = {"name": "pdns", "type": "powerdns",
                    "dnsZones": '["example.test", "other.test", "primary.test", "copy.test"]',
                    "endpoint": fake.url(), "caFile": fake.ca_file, "apiKeyFile": key}
        settings.update(extra)
        settings = {k: v for k, v in settings.items() if v is not None}
        return "\n".join("%s: %s" % (k, v) for k, v in settings.items()) + "\n"

    def seed_foreign(self, fake):
        self.named.set_rrset(FQDN, "TXT", FOREIGN_TTL, ['"%s"' % FOREIGN])
        self.named.set_rrset(FQDN, "A", 60, [FOREIGN_A])

    # --- the conformance hooks for what PowerDNS keeps beside the values ---
    def foreign_at(self, name=FQDN):
        """The TXT set at name as the whole-zone read shows it, without our values: the
        foreign records with their disabled flags (and the TTL they set), the comments with
        account and modified_at."""
        rr = self.named.rrset(name)
        if rr is None:
            return None
        recs = sorted((r["content"], r["disabled"]) for r in rr["records"]
                      if r["content"] not in OURS)
        return (rr["ttl"] if recs else None, recs,
                sorted((c["content"], c["account"], c["modified_at"]) for c in rr["comments"]))

    def seed_disabled(self, fake, name=FQDN):
        """One disabled foreign TXT, no comment, nothing enabled."""
        self.named.patch(ZONE, [{"name": name, "type": "TXT", "ttl": FOREIGN_TTL,
                                 "changetype": "REPLACE", "comments": [],
                                 "records": [{"content": '"%s"' % FOREIGN_OFF,
                                              "disabled": True}]}])
        return lambda: self.foreign_at(name)

    def seed_commented(self, fake, name=FQDN):
        """A comment on the TXT set, no record at all."""
        self.named.patch(ZONE, [{"name": name, "type": "TXT", "ttl": FOREIGN_TTL,
                                 "changetype": "REPLACE", "records": [],
                                 "comments": [dict(COMMENT)]}])
        return lambda: self.foreign_at(name)

    # --- helpers for the tests below ---
    def config_with(self, mode="skip", timeout="10s", nameservers=None, **extra):
        path = os.path.join(self.tmp, "config-extra.yaml")
        entry = self.provider_yaml(extra.pop("fake", self.fake), self.tmp, extra.pop("good", True),
                                   **extra)
        entry = "\n".join("    " + line for line in entry.strip("\n").splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: %s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n"
                    % (mode, timeout, nameservers or self.named.addr(), entry))
        return path

    def run_with(self, action, key, fqdn=FQDN, mode="skip", timeout="10s", nameservers=None,
                 **extra):
        path = self.config_with(mode, timeout, nameservers, **extra)
        return zptest.run_zp([action, "--config", path, "--fqdn", fqdn, "--key", key],
                             timeout=90)

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.no_secret_in(r)

    def test_doctor_proves_the_key_without_writing(self):
        """doctor reads the server and the zone at the name; a bad api-key is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: len([c for c in self.fake.calls() if c[0] != "GET"]),
            "the PowerDNS credentials can read zone %s" % ZONE)

    # --- PowerDNS specifics ---
    def test_8_exact_changes_sent(self):
        name = "_acme-challenge.exact.example.test."
        self.named.set_rrset(name, "TXT", FOREIGN_TTL, ['"%s"' % FOREIGN])
        n0 = len(self.fake.patches())
        self.ok(self.run_with("present", KEY1, fqdn=name))
        self.ok(self.run_with("present", KEY1, fqdn=name))  # nothing to write the second time
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))  # nothing to remove
        sent = self.fake.patches()[n0:]
        self.assertEqual(len(sent), 2, sent)
        add, rm = sent[0][0], sent[1][0]
        self.assertEqual(add["changetype"], "REPLACE")
        self.assertEqual(add["name"], name)
        self.assertEqual(add["ttl"], FOREIGN_TTL)  # the set keeps its TTL
        self.assertEqual(sorted(r["content"] for r in add["records"]),
                         sorted(['"%s"' % FOREIGN, '"%s"' % KEY1]))  # quoted, foreign kept
        self.assertEqual(rm["changetype"], "REPLACE")
        self.assertEqual([r["content"] for r in rm["records"]], ['"%s"' % FOREIGN])
        self.assertEqual(self.named.txt_values(name), [FOREIGN])
        self.assertEqual(self.named.rrset(name)["ttl"], FOREIGN_TTL)

    def test_9_last_value_deleted_with_delete(self):
        name = "_acme-challenge.solo.example.test."
        n0 = len(self.fake.patches())
        self.ok(self.run_with("present", KEY1, fqdn=name))
        self.assertEqual(self.named.rrset(name)["ttl"], 60)  # a new set takes the instance's ttl
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        sent = self.fake.patches()[n0:]
        self.assertEqual(sent[-1], [{"name": name, "type": "TXT", "changetype": "DELETE"}])
        self.assertIsNone(self.named.rrset(name))

    def test_10_plain_http_endpoint(self):
        """The usual set-up: the webserver's own http:// URL, no proxy, no caFile."""
        name = "_acme-challenge.direct.example.test."

        class Direct:
            def url(_self):
                return self.named.endpoint + "/"

            ca_file = "/dev/null"
        r = self.run_with("present", KEY2, fqdn=name, mode="wait", fake=Direct(), caFile=None)
        self.ok(r)
        self.assertEqual(self.named.txt(name), [KEY2])  # served on the DNS port
        self.ok(self.run_with("cleanup", KEY2, fqdn=name, fake=Direct(), caFile=None))
        self.assertEqual(self.named.txt(name), [])

    def test_11_wrong_server_id(self):
        r = self.run_with("present", KEY1, serverId="pdns-eu")
        self.refused(r, 'no server "pdns-eu"', "serverId", "localhost")

    def test_12_not_the_api(self):
        class NoApi:
            def url(_self):
                return self.named.endpoint + "/nothing-here"

            ca_file = "/dev/null"
        r = self.run_with("present", KEY1, fake=NoApi(), caFile=None)
        self.refused(r, "api=yes")

    def test_13_cname_at_the_name(self):
        """A CNAME at the name: a delegation not followed. From the CLI the advice names its
        flag; the webhook's (cnameStrategy: Follow) is tests/unit/providers/test_error_text.c's."""
        name = "_acme-challenge.alias.example.test."
        self.named.set_rrset(name, "CNAME", 60, ["elsewhere.example.net."])
        r = self.run_with("present", KEY1, fqdn=name)
        self.refused(r, "alias (CNAME) of elsewhere.example.net.",
                     "pass --follow-cname (or set followCNAME: true) so the value is written at "
                     "elsewhere.example.net.")
        self.assertNotIn("cnameStrategy", r.stderr)
        self.assertEqual(self.named.rrset(name, "CNAME")["records"][0]["content"],
                         "elsewhere.example.net.")

    def test_14_pdns_refusal_is_a_sentence(self):
        """What PowerDNS itself refuses (422) reaches the user as its own reason."""
        name = "_acme-challenge.refused.example.test."
        reason = "RRset %s IN TXT: Record has a bad day" % name
        self.fake.inject_patch(422, {"error": reason})
        r = self.run_with("present", KEY1, fqdn=name)
        self.refused(r, "refused the change of TXT at %s in zone example.test.: %s"
                     % (name, reason))
        self.assertEqual(self.named.txt_values(name), [])

    def test_15_secondary_zone_refused(self):
        self.named.create_zone("copy.test", kind="Slave", masters=["192.0.2.53"])
        r = self.run_with("present", KEY1, fqdn="_acme-challenge.copy.test.")
        self.refused(r, "copy.test.", "Slave", "primary")

    def test_16_primary_zone_notifies(self):
        self.named.create_zone("primary.test", kind="Master")
        name = "_acme-challenge.primary.test."
        self.ok(self.run_with("present", KEY1, fqdn=name))
        self.assertTrue(self.fake.calls("PUT", "/zones/primary.test./notify"))
        self.assertEqual(self.named.txt_values(name, "primary.test."), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        self.assertEqual(self.named.txt_values(name, "primary.test."), [])

    def test_17_zone_option_overrides(self):
        name = "_acme-challenge.deep.sub.example.test."
        r = zptest.run_zp(["present", "--config", self.config(mode="skip"), "--fqdn", name,
                           "--key", KEY1, "--zone", "sub.example.test"], timeout=60)
        self.refused(r, "zone sub.example.test. not found", 'server "localhost"')
        self.ok(self.run_with("present", KEY1, fqdn=name, zone="example.test"))
        self.assertEqual(self.named.txt_values(name), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn=name, zone="example.test"))

    def test_18_powerdns_51_extend_and_prune(self):
        """A 5.1 server: one record added and removed server-side, the set never rewritten."""
        proxy = pdns.PdnsProxy(self.pki, self.named, version="5.1.0").start()
        try:
            name = "_acme-challenge.new.example.test."
            self.named.set_rrset(name, "TXT", FOREIGN_TTL, ['"%s"' % FOREIGN])
            self.ok(self.run_with("present", KEY1, fqdn=name, fake=proxy))
            self.ok(self.run_with("present", KEY2, fqdn=name, fake=proxy))
            self.assertEqual(sorted(self.named.txt_values(name)), sorted([FOREIGN, KEY1, KEY2]))
            self.ok(self.run_with("cleanup", KEY1, fqdn=name, fake=proxy))
            self.ok(self.run_with("cleanup", KEY2, fqdn=name, fake=proxy))
            self.assertEqual(self.named.txt_values(name), [FOREIGN])
            sent = [rr for p in proxy.patches() for rr in p]
            self.assertEqual([rr["changetype"] for rr in sent], ["EXTEND", "EXTEND", "PRUNE",
                                                                   "PRUNE"])
            for rr in sent:
                self.assertEqual(rr["ttl"], FOREIGN_TTL)
                self.assertEqual(len(rr["records"]), 1)
            self.assertEqual(sent[0]["records"][0]["content"], '"%s"' % KEY1)
            # The last value goes by PRUNE too; PowerDNS then drops the empty set.
            solo = "_acme-challenge.new-solo.example.test."
            self.ok(self.run_with("present", KEY1, fqdn=solo, fake=proxy))
            self.ok(self.run_with("cleanup", KEY1, fqdn=solo, fake=proxy))
            self.assertIsNone(self.named.rrset(solo))
        finally:
            proxy.stop()

    def test_19_packet_cache_is_outwaited(self):
        """A front-end with a packet cache answers the old set for a while; the watch keeps asking.

        A second pdns_server on the same database stands for the servers that
        answer queries while the API runs on another: the API cannot purge their
        packet cache, so right after the write they still answer the old set.
        """
        name = "_acme-challenge.cached.example.test."
        self.named.set_rrset(name, "TXT", 60, ['"%s"' % FOREIGN])
        front = self.named.replica(cache_ttl=4)
        self.assertEqual(front.txt(name), [FOREIGN])  # now in its packet cache
        self.ok(self.run_with("present", KEY1, fqdn=name, mode="skip"))
        self.assertEqual(front.txt(name), [FOREIGN], "the front-end should still be stale")
        t0 = time.monotonic()
        r = self.run_with("present", KEY1, fqdn=name, mode="wait", timeout="20s",
                          nameservers=front.addr())
        self.ok(r)
        self.assertGreater(time.monotonic() - t0, 0.5)  # it waited for the cache to expire
        self.assertEqual(front.txt(name), sorted([FOREIGN, KEY1]))
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))

    def test_20_key_file_missing_at_start(self):
        path = os.path.join(self.tmp, "config-nokey.yaml")
        with open(path, "w") as f:
            f.write("providers:\n  - name: pdns\n    type: powerdns\n    dnsZones: [example.test]\n"
                    "    endpoint: %s\n    apiKeyFile: /nonexistent/pdns-key\n"
                    % self.named.endpoint)
        r = zptest.run_zp(["present", "--config", path, "--fqdn", FQDN, "--key", KEY1])
        self.refused(r, "apiKeyFile", "/nonexistent/pdns-key")

    # --- disabled records and comments (issue #9: no foreign record lost) ---
    def seed_all_kinds(self, name):
        """An enabled and a disabled foreign TXT with a comment at name: the probe of them."""
        self.named.patch(ZONE, [{"name": name, "type": "TXT", "ttl": FOREIGN_TTL,
                                 "changetype": "REPLACE", "comments": [dict(COMMENT)],
                                 "records": [{"content": '"%s"' % FOREIGN, "disabled": False},
                                             {"content": '"%s"' % FOREIGN_OFF,
                                              "disabled": True}]}])
        return lambda: self.foreign_at(name)

    def test_21_before_50_the_whole_zone_is_read(self):
        """4.x leaves disabled records out of a read of one name: the whole zone is read, and
        every change carries the disabled record and the comment through."""
        name = "_acme-challenge.kinds.example.test."
        probe = self.seed_all_kinds(name)
        seeded = probe()
        n0, g0 = len(self.fake.patches()), len(self.fake.calls("GET", "/zones/example.test."))
        self.ok(self.run_with("present", KEY1, fqdn=name))
        self.assertEqual(probe(), seeded)
        self.ok(self.run_with("cleanup", KEY1, fqdn=name))
        self.assertEqual(probe(), seeded)
        reads = self.fake.calls("GET", "/zones/example.test.")[g0:]
        self.assertTrue(reads)
        for _, _, query in reads:
            self.assertNotIn("rrset_name", query)
        add, rm = [p[0] for p in self.fake.patches()[n0:]]
        self.assertEqual((add["changetype"], rm["changetype"]), ("REPLACE", "REPLACE"))
        self.assertIn({"content": '"%s"' % FOREIGN_OFF, "disabled": True}, rm["records"])
        self.assertEqual(rm["comments"], [COMMENT])

    def test_22_51_replaces_a_set_with_disabled_records_or_comments(self):
        """5.1's EXTEND and PRUNE rebuild the set from its enabled records: a set holding a
        disabled record or a comment is changed by REPLACE, read with include_disabled."""
        proxy = pdns.PdnsProxy50(self.pki, self.named, version="5.1.0").start()
        try:
            cases = {"_acme-challenge.k51.example.test.": self.seed_all_kinds,
                     "_acme-challenge.d51.example.test.": lambda n: self.seed_disabled(None, n),
                     "_acme-challenge.c51.example.test.": lambda n: self.seed_commented(None, n)}
            for name, seed in cases.items():
                with self.subTest(name=name):
                    probe = seed(name)
                    seeded = probe()
                    n0 = len(proxy.patches())
                    self.ok(self.run_with("present", KEY1, fqdn=name, fake=proxy))
                    self.assertEqual(self.named.rrset(name)["records"].count(
                        {"content": '"%s"' % KEY1, "disabled": False}), 1)
                    self.assertEqual(probe(), seeded)
                    self.ok(self.run_with("cleanup", KEY1, fqdn=name, fake=proxy))
                    self.assertEqual(probe(), seeded)
                    self.assertEqual([p[0]["changetype"] for p in proxy.patches()[n0:]],
                                     ["REPLACE", "REPLACE"])
            reads = [q for _, _, q in proxy.calls("GET", "/zones/example.test.")]
            self.assertTrue(reads)
            for q in reads:
                self.assertEqual(q.get("include_disabled"), ["true"])
                self.assertIn("rrset_name", q)
        finally:
            proxy.stop()

    def test_23_zone_too_large_to_read_whole_is_refused(self):
        """Before 5.0 only the whole zone shows disabled records: one too large is refused."""
        proxy = pdns.PdnsProxy50(self.pki, self.named, version="4.7.3",
                                 pad_zone=9 * 1024 * 1024).start()
        try:
            name = "_acme-challenge.big.example.test."
            probe = self.seed_disabled(None, name)
            seeded = probe()
            r = self.run_with("present", KEY1, fqdn=name, fake=proxy)
            self.refused(r, "zone example.test. on PowerDNS server \"localhost\" at %s is larger "
                         "than zoneproof reads whole (8 MB)" % proxy.url(),
                         "a disabled record at %s could have been lost" % name,
                         "upgrade PowerDNS to 5.0 or later")
            self.assertEqual(proxy.patches(), [])
            self.assertEqual(probe(), seeded)
        finally:
            proxy.stop()


if __name__ == "__main__":
    unittest.main()

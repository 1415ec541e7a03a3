"""doctor and Present against the scenario lab (tests/lib/dnslab.py): a signed
root and TLD, primaries, secondaries, a stale server known only to the parent,
views, Knot and validating unbounds, all real servers on loopback. Each test
is one way DNS-01 really fails, and asserts the verdict, the sentence, and
that Present never answers success where the CA would fail."""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import dnslab  # noqa: E402
import zptest  # noqa: E402


class Scenarios(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = dnslab.Lab().start()
        cls.cfgs = {}

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()

    def cfg(self, zone):
        if zone not in self.cfgs:
            lab = self.lab
            self.cfgs[zone] = lab.config(
                zone, propagation={"resolvers": [lab.resolver],
                                   "verifyResolvers": [lab.ca_resolver], "timeout": "3s"},
                dnssec={"trustAnchorFile": lab.trust_anchor_file},
                caaIssuers=["letsencrypt.org"])
        return self.cfgs[zone]

    def doctor(self, zone, *names):
        r = zptest.run_zp(["doctor", "--json", "--config", self.cfg(zone)] + list(names))
        self.assertIn(r.returncode, (0, 1), r.stderr)
        doc = json.loads(r.stdout)
        return r.returncode, doc["names"]

    def check(self, name, which):
        return [c for c in name["checks"] if c["check"] == which][0]

    def present(self, zone, fqdn, action="present", write_zone=None):
        key = zptest.acme_key(fqdn)
        args = [action, "--config", self.cfg(zone), "--fqdn", fqdn, "--key", key]
        r = zptest.run_zp(args + (["--zone", write_zone] if write_zone else []))
        return r, key

    def assert_refused(self, zone, fqdn, *phrases, write_zone=None):
        r, key = self.present(zone, fqdn, write_zone=write_zone)
        self.assertEqual(r.returncode, 1, "Present succeeded where the CA fails:\n" + r.stdout)
        for p in phrases:
            self.assertIn(p, r.stderr)
        self.assertIn("nothing was written", r.stderr)
        self.assertEqual(r.stderr.count(phrases[0]), 2)  # the log line and the sentence
        self.assertNotIn(key, self.lab.txt(self.lab.primary(zone), fqdn))
        return r.stderr

    def test_healthy_signed_zone(self):
        rc, [n] = self.doctor("ok.test", "ok.test")
        self.assertEqual(rc, 0)
        self.assertEqual(n["verdict"], "ok", n)
        self.assertEqual(self.check(n, "dnssec")["verdict"], "ok")
        self.assertEqual(self.check(n, "zone")["cause"], "_acme-challenge.ok.test. is in zone ok.test.")
        r, key = self.present("ok.test", "_acme-challenge.ok.test.")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_stale_server_only_in_parent(self):
        rc, [n] = self.doctor("stale.test", "stale.test")
        d = self.check(n, "delegation")
        self.assertEqual(d["verdict"], "warn")
        self.assertIn("only the parent test. lists ns3.stale.test.", d["cause"])
        # Present waits for the stale server too, names it, and does not answer success.
        r, _ = self.present("stale.test", "_acme-challenge.stale.test.")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not yet served by 1 of 3 authoritative nameservers: ns3.stale.test "
                      "(%s:53) answers NXDOMAIN (only the parent's delegation lists this "
                      "server, not the zone's own NS records: resolvers and the CA ask it too; "
                      "load the zone there, or remove it from the delegation at the "
                      "registrar)" % self.lab.addr("ns3"), r.stderr)

    def test_ds_mismatch(self):
        rc, [n] = self.doctor("dsbad.test", "dsbad.test")
        self.assertEqual(rc, 1)
        d = self.check(n, "dnssec")
        self.assertEqual(d["verdict"], "fail")
        self.assertIn("matches no DNSKEY of dsbad.test.", d["cause"])
        self.assert_refused("dsbad.test", "_acme-challenge.dsbad.test.",
                            "the DNSSEC chain of dsbad.test. is broken")

    def test_expired_signatures(self):
        rc, [n] = self.doctor("expired.test", "expired.test")
        self.assertEqual(rc, 1)
        d = self.check(n, "dnssec")
        self.assertEqual(d["verdict"], "fail")
        self.assertIn("expired", d["cause"])

    def test_insecure_delegation_is_fine(self):
        rc, [n] = self.doctor("insecure.test", "insecure.test")
        d = self.check(n, "dnssec")
        self.assertEqual(d["verdict"], "ok")
        self.assertIn("is not signed", d["cause"])

    def test_public_suffix(self):
        rc, [n] = self.doctor("co.uk", "co.uk")
        self.assertEqual(rc, 1)
        self.assertEqual(self.check(n, "psl")["cause"], "co.uk. is a public suffix (ICANN "
                         "section of the Public Suffix List): CAs refuse to issue certificates "
                         "for it")
        r, key = self.present("co.uk", "_acme-challenge.co.uk.")
        self.assertEqual(r.returncode, 1)
        self.assertIn("co.uk. is a public suffix", r.stderr)
        self.assertNotIn(key, self.lab.txt(self.lab.primary("co.uk"), "_acme-challenge.co.uk."))

    def test_under_private_suffix(self):
        rc, [n] = self.doctor("github.io", "x.github.io")
        p = self.check(n, "psl")
        self.assertEqual(p["verdict"], "warn")
        self.assertIn("sits directly under the public suffix github.io.", p["cause"])
        self.assert_refused("github.io", "_acme-challenge.x.github.io.",
                            "github.io. is a public suffix (private section")

    def test_cname_at_challenge_name(self):
        rc, [n] = self.doctor("cname.test", "www.cname.test")
        c = self.check(n, "challenge")
        self.assertEqual(c["verdict"], "fail")
        self.assertIn("_acme-challenge.www.cname.test. is an alias (CNAME) of "
                      "www.acme-dns.ok.test.", c["cause"])
        self.assert_refused("cname.test", "_acme-challenge.www.cname.test.",
                            "is an alias (CNAME) of www.acme-dns.ok.test.")

    def test_wildcard_cname(self):
        """*.w.cname.test CNAME: a warning, not a refusal; the write creates the name."""
        rc, [n] = self.doctor("cname.test", "x.w.cname.test")
        c = self.check(n, "challenge")
        self.assertEqual(c["verdict"], "warn", c)
        self.assertEqual(c["cause"], "_acme-challenge.x.w.cname.test. is an alias (CNAME) "
                         "of www.ok.test. synthesized from a wildcard CNAME in cname.test.")
        fqdn = "_acme-challenge.x.w.cname.test."
        r, key = self.present("cname.test", fqdn)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(key, self.lab.txt(self.lab.primary("cname.test"), fqdn))
        self.assertEqual(self.present("cname.test", fqdn, action="cleanup")[0].returncode, 0)

    def test_delegated_child_zone(self):
        rc, [n] = self.doctor("example.test", "x.sub.example.test")
        z = self.check(n, "zone")
        self.assertEqual(z["verdict"], "fail")
        self.assertEqual(z["cause"], "_acme-challenge.x.sub.example.test. is in zone "
                         "sub.example.test., which is delegated from example.test.: a record "
                         "written in example.test. would never be served")
        self.assert_refused("example.test", "_acme-challenge.x.sub.example.test.",
                            "is in zone sub.example.test., which is delegated from example.test.",
                            write_zone="example.test")

    def test_cli_discovers_the_zone(self):
        """Without --zone the CLI writes in the zone DNS says holds the name: the child."""
        fqdn = "_acme-challenge.y.sub.example.test."
        r, key = self.present("example.test", fqdn)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(key, self.lab.txt(self.lab.primary("example.test"), fqdn))
        r, _ = self.present("example.test", fqdn, action="cleanup")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.lab.txt(self.lab.primary("example.test"), fqdn), [])

    def test_split_horizon(self):
        """The CA's resolvers see the external view: Present must not answer success."""
        rc, [n] = self.doctor("views.test", "views.test")
        self.assertEqual(self.check(n, "split-horizon")["fix"],
                         "a view that differs only in its records shows in doctor --write-test")
        fqdn = "_acme-challenge.views.test."
        r, key = self.present("views.test", fqdn)
        self.assertEqual(r.returncode, 1, "Present succeeded while the CA sees another view")
        sentence = ("TXT value for %s is served by every authoritative nameserver zoneproof "
                    "asks, but not through propagation.verifyResolvers, which see what the CA "
                    "sees: %s answers NXDOMAIN" % (fqdn, self.lab.ca_resolver))
        self.assertIn(sentence, r.stderr)
        r2, _ = self.present("views.test", fqdn)  # the same state, the same sentence
        self.assertEqual(r2.stderr.splitlines()[-1], r.stderr.splitlines()[-1])
        self.assertEqual(self.present("views.test", fqdn, action="cleanup")[0].returncode, 0)
        r = zptest.run_zp(["doctor", "--json", "--write-test", "--config",
                           self.cfg("views.test"), "views.test"])
        self.assertEqual(r.returncode, 1, r.stdout)
        w = self.check(json.loads(r.stdout)["names"][0], "write-test")
        self.assertEqual(w["verdict"], "fail")
        self.assertIn("not through propagation.verifyResolvers", w["cause"])

    def test_caa(self):
        rc, names = self.doctor("caa.test", "caa.test", "other.caa.test", "crit.caa.test")
        v = {n["name"]: self.check(n, "caa") for n in names}
        self.assertEqual(v["caa.test"]["cause"], "CAA at caa.test. allows issuance only by "
                         "ca.example.net; letsencrypt.org is not allowed")
        self.assertEqual(v["other.caa.test"]["verdict"], "ok")
        self.assertIn('the property "tbs" with the critical flag', v["crit.caa.test"]["cause"])
        self.assert_refused("caa.test", "_acme-challenge.caa.test.",
                            "letsencrypt.org is not allowed")

    def test_knot_zone_and_credentials(self):
        rc, [n] = self.doctor("knot.test", "knot.test")
        self.assertEqual(self.check(n, "credentials")["verdict"], "ok")
        self.assertEqual(n["verdict"], "ok", n)
        r, _ = self.present("knot.test", "_acme-challenge.knot.test.")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_rejected_key_named_without_writing(self):
        """check-config cannot know the server's keys; doctor proves the key, writing nothing."""
        bad = zptest.write_secret(self.lab.dir, name="wrong-secret",
                                  secret="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        cfg = self.lab.config("single.test", path=os.path.join(self.lab.dir, "badkey.yaml"),
                              provider={"tsigSecretFile": bad},
                              propagation={"resolvers": [self.lab.resolver]})
        self.assertEqual(zptest.run_zp(["check-config", "--config", cfg]).returncode, 0)
        primary = self.lab.primary("single.test").split(":")[0]
        before = self.lab.query(primary, "single.test.", "SOA").answer
        r = zptest.run_zp(["doctor", "--json", "--config", cfg, "single.test"])
        self.assertEqual(r.returncode, 1, r.stdout)
        c = self.check(json.loads(r.stdout)["names"][0], "credentials")
        self.assertEqual(c["verdict"], "fail")
        self.assertIn("signature rejected: tsigSecretFile does not hold the server's secret "
                      "for key acme-key", c["cause"])
        self.assertNotIn("AAAAAAAAAAAA", r.stdout + r.stderr)
        # Nothing changed: the zone's serial is the same.
        self.assertEqual(self.lab.query(primary, "single.test.", "SOA").answer, before)

    def test_dead_resolver(self):
        port = zptest.free_port()
        cfg = self.lab.config("single.test", path=os.path.join(self.lab.dir, "dead.yaml"),
                              propagation={"resolvers": ["127.0.0.1:%d" % port]})
        r = zptest.run_zp(["doctor", "--json", "--config", cfg, "single.test"])
        self.assertEqual(r.returncode, 1, r.stdout)
        z = self.check(json.loads(r.stdout)["names"][0], "zone")
        self.assertEqual(z["verdict"], "fail")
        self.assertEqual(z["cause"], "asked 127.0.0.1:%d for _acme-challenge.single.test. SOA "
                         "(recursion desired): connection refused (nothing listens on that "
                         "port); set propagation.resolvers to resolvers that answer" % port)

    def test_doubled_name(self):
        """The value sits under the zone appended twice: doctor warns, check says where."""
        fqdn, doubled = "_acme-challenge.dbl.single.test.", "_acme-challenge.dbl.single.test.single.test."
        key = zptest.acme_key("doubled")
        self.lab.nsupdate("single.test", ['update add %s 30 TXT "%s"' % (doubled, key)])
        try:
            rc, [n] = self.doctor("single.test", "dbl.single.test")
            c = self.check(n, "challenge")
            self.assertEqual(c["verdict"], "warn")
            self.assertIn("TXT records sit under the doubled name %s" % doubled, c["cause"])
            r = zptest.run_zp(["check", "--config", self.cfg("single.test"), "--fqdn", fqdn,
                               "--key", key])
            self.assertEqual(r.returncode, 1)
            self.assertIn("; the value is at %s on %s: it was written with its zone appended "
                          "twice" % (doubled, self.lab.primary("single.test")), r.stderr)
        finally:
            self.lab.nsupdate("single.test", ["update delete %s TXT" % doubled])

    def test_single_server_hint(self):
        fqdn = "_acme-challenge.single.test."
        r = zptest.run_zp(["check", "--config", self.cfg("single.test"), "--fqdn", fqdn,
                           "--key", zptest.acme_key("never-written")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("the zone's only server does not serve what the provider wrote", r.stderr)
        self.assertNotIn("NOTIFY/IXFR", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

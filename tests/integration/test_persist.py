"""`zoneproof persist set|check|remove` (DNS-PERSIST-01) against real BIND servers.

Two authoritative servers for one zone, A and B, that do not transfer to each
other (as in test_watch.py): the rfc2136 provider writes to A. Most tests list
only A as the zone's nameserver; the lagging tests list both, so B lags until
the test adds the value there with nsupdate. Every name starts with two other
CAs' values, which must survive every step.
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import zptest  # noqa: E402

ZONE = "example.test"
BUDGET = 3  # seconds: propagation.timeout
ISSUER = "ca.example"
ACCOUNT = "https://acme.ca.example/acme/acct/1001"
OTHER1 = "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/42"
OTHER2 = "pki.goog; accounturi=https://dv.acme-v02.api.pki.goog/account/x7; policy=wildcard"
NAMES = ("www", "app", "diff", "soon", "lag", "long", "wild", "rfc")


def sentence(r):
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("zoneproof: ")]
    return lines[-1] if lines else ""


def value(account=ACCOUNT, wildcard=False, until=None):
    v = "%s; accounturi=%s" % (ISSUER, account)
    if wildcard:
        v += "; policy=wildcard"
    if until is not None:
        v += "; persistUntil=%d" % until
    return v


class Persist(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-persist-")
        cls.secret = zptest.write_secret(cls.tmp)
        others = []
        for n in NAMES:
            for v in (OTHER1, OTHER2):
                others.append('_validation-persist.%s 60 IN TXT "%s"' % (n, v))
        cls.a = zptest.Named({ZONE: list(others)}).start()
        cls.b = zptest.Named({ZONE: list(others)}).start()
        cls.one = cls.config("one", [cls.a.addr()])
        cls.two = cls.config("two", [cls.a.addr(), cls.b.addr()])

    @classmethod
    def tearDownClass(cls):
        cls.a.cleanup()
        cls.b.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def config(cls, name, nameservers):
        lines = ["propagation:", "  mode: wait", "  timeout: %ds" % BUDGET,
                 "  nameservers: [%s]" % ", ".join('"%s"' % n for n in nameservers),
                 "providers:", "  - name: lab", "    type: rfc2136",
                 '    dnsZones: ["%s"]' % ZONE,
                 '    nameserver: "%s"' % cls.a.addr(),
                 '    tsigKeyName: "%s"' % zptest.TSIG_NAME,
                 '    tsigAlgorithm: "hmac-sha256"',
                 '    tsigSecretFile: "%s"' % cls.secret]
        path = os.path.join(cls.tmp, "%s.yaml" % name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def persist(self, verb, *names, cfg=None, account=ACCOUNT, extra=()):
        args = ["persist", verb, "--config", cfg or self.one, "--issuer", ISSUER,
                "--account-uri", account] + list(extra) + list(names)
        return zptest.run_zp(args, timeout=BUDGET + 60)

    def ok(self, r):
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def fqdn(self, n):
        return "_validation-persist.%s.%s." % (n, ZONE)

    def assert_others(self, server, n):
        vals = server.txt(self.fqdn(n))
        self.assertIn(OTHER1, vals)
        self.assertIn(OTHER2, vals)
        return vals

    def test_set_check_remove_keeps_other_cas(self):
        fq = self.fqdn("www")
        r = self.persist("check", "www.example.test")
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s: missing at %s: OTHER" % (fq, self.a.addr()), sentence(r))
        self.assert_others(self.a, "www")

        r = self.ok(self.persist("set", "www.example.test"))
        self.assertIn('set %s TXT "%s" via lab (rfc2136)' % (fq, value()), r.stdout)
        self.assertEqual(sorted(self.assert_others(self.a, "www")),
                         sorted([OTHER1, OTHER2, value()]))
        r = self.ok(self.persist("check", "www.example.test"))
        self.assertIn("%s: ok: every authoritative nameserver serves it" % fq, r.stdout)
        # Setting again is a no-op.
        self.ok(self.persist("set", "www.example.test"))
        self.assertEqual(len(self.a.txt(fq)), 3)

        # Another account of the same CA is kept; the older value of our account is replaced.
        other_acct = value("https://acme.ca.example/acme/acct/2002")
        self.a.nsupdate(['update add %s 60 IN TXT "%s"' % (fq, other_acct)])
        until = int(time.time()) + 90 * 86400
        r = self.ok(self.persist("set", "www.example.test", extra=["--persist-until", str(until)]))
        self.assertIn('removed the older %s TXT "%s"' % (fq, value()), r.stdout)
        self.assertIn('kept %s TXT "%s": another account of %s' % (fq, other_acct, ISSUER),
                      r.stdout)
        self.assertEqual(sorted(self.a.txt(fq)),
                         sorted([OTHER1, OTHER2, other_acct, value(until=until)]))

        r = self.ok(self.persist("remove", "www.example.test",
                                 extra=["--persist-until", str(until)]))
        self.assertIn('removed %s TXT "%s"' % (fq, value(until=until)), r.stdout)
        self.assertEqual(sorted(self.a.txt(fq)), sorted([OTHER1, OTHER2, other_acct]))

    def test_several_names_and_wildcard_name(self):
        r = self.ok(self.persist("set", "app.example.test", "*.wild.example.test"))
        self.assertIn(value(), self.assert_others(self.a, "app"))
        self.assertIn(value(wildcard=True), self.assert_others(self.a, "wild"))
        self.ok(self.persist("check", "app.example.test", "*.wild.example.test"))
        r = self.persist("check", "wild.example.test")  # without the policy: another value
        self.assertEqual(r.returncode, 1)
        self.assertIn('different at %s: "%s"' % (self.a.addr(), value(wildcard=True)),
                      sentence(r))
        self.ok(self.persist("remove", "app.example.test", "*.wild.example.test"))
        self.assertNotIn(value(), self.assert_others(self.a, "app"))
        self.assertNotIn(value(wildcard=True), self.assert_others(self.a, "wild"))

    def test_check_different(self):
        fq = self.fqdn("diff")
        self.a.nsupdate(['update add %s 60 IN TXT "%s"' % (fq, value(wildcard=True))])
        r = self.persist("check", "diff.example.test")
        self.assertEqual(r.returncode, 1)
        self.assertIn('%s: different at %s: "%s"' % (fq, self.a.addr(), value(wildcard=True)),
                      sentence(r))
        # Another account of this CA is not ours: the record for our account is missing.
        r = self.persist("check", "diff.example.test",
                         account="https://acme.ca.example/acme/acct/3003")
        self.assertIn("%s: missing at %s" % (fq, self.a.addr()), sentence(r))

    def test_check_expiring(self):
        fq = self.fqdn("soon")
        until = int(time.time()) + 10 * 86400
        self.ok(self.persist("set", "soon.example.test", extra=["--persist-until", str(until)]))
        r = self.persist("check", "soon.example.test", extra=["--persist-until", str(until)])
        self.assertEqual(r.returncode, 1)
        day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
        self.assertIn("%s: expiring: persistUntil %s is within 30 days" % (fq, day), sentence(r))
        self.assert_others(self.a, "soon")

    def test_lagging_secondary(self):
        fq = self.fqdn("lag")
        r = self.persist("set", "lag.example.test", cfg=self.two)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("not yet served by 1 of 2", sentence(r))
        self.assertIn(self.b.addr(), sentence(r))
        self.assertIn(value(), self.a.txt(fq))
        r = self.persist("check", "lag.example.test", cfg=self.two)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s: missing at %s: OTHER" % (fq, self.b.addr()), sentence(r))
        self.assertIn("  %-22s ok" % self.a.addr(), r.stdout)

        self.b.nsupdate(['update add %s 60 IN TXT "%s"' % (fq, value())])
        self.ok(self.persist("set", "lag.example.test", cfg=self.two))
        self.ok(self.persist("check", "lag.example.test", cfg=self.two))
        self.assert_others(self.b, "lag")

    def test_long_value_split_into_strings(self):
        fq = self.fqdn("long")
        account = "https://acme.ca.example/acme/acct/" + "x" * 300
        want = value(account)
        self.assertGreater(len(want), 255)
        r = self.ok(self.persist("set", "long.example.test", account=account))
        self.assertIn('set %s TXT "%s"' % (fq, want), r.stdout)
        # On the wire: two character-strings, 255 octets and the rest; read back whole.
        raw = [ln for ln in self.a.dig(fq, "TXT").splitlines() if ln.startswith('"ca.example')]
        self.assertEqual(raw, ['"%s" "%s"' % (want[:255], want[255:])])
        self.assertIn(want, self.assert_others(self.a, "long"))
        r = self.ok(self.persist("check", "long.example.test", account=account))
        self.assertIn("%s: ok" % fq, r.stdout)
        # A newer value replaces the long one, which the same split removes exactly.
        until = int(time.time()) + 90 * 86400
        r = self.ok(self.persist("set", "long.example.test", account=account,
                                 extra=["--persist-until", str(until)]))
        self.assertIn('removed the older %s TXT "%s"' % (fq, want), r.stdout)
        self.assertEqual(sorted(self.a.txt(fq)), sorted([OTHER1, OTHER2, value(account, until=until)]))
        self.ok(self.persist("remove", "long.example.test", account=account,
                             extra=["--persist-until", str(until)]))
        self.assertEqual(sorted(self.a.txt(fq)), sorted([OTHER1, OTHER2]))
        longer = account + "y" * 160
        r = self.persist("set", "long.example.test", account=longer)
        self.assertEqual(r.returncode, 2)
        self.assertIn("the record's value is %d characters long; at most 512" % len(value(longer)),
                      r.stderr)

    def test_rfc3339_persist_until(self):
        until = int(time.time()) + 400 * 86400
        day = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(until))
        for arg in (day + "Z", day + ".5+02:00"):
            r = self.ok(self.persist("set", "rfc.example.test", extra=["--persist-until", arg]))
            want = until if arg.endswith("Z") else until - 7200
            self.assertIn("persistUntil=%d\"" % want, r.stdout)
            self.ok(self.persist("remove", "rfc.example.test", extra=["--persist-until", arg]))
        self.assertEqual(sorted(self.a.txt(self.fqdn("rfc"))), sorted([OTHER1, OTHER2]))

    def test_bad_input_names_the_flag(self):
        cases = [
            (["--issuer", "not a domain"], "--issuer \"not a domain\" is not a domain name"),
            (["--issuer", "localhost"], "--issuer \"localhost\" is not a CA's issuer domain"),
            (["--account-uri", "http://acme.ca.example/acct/1"], "--account-uri \"http://"),
            (["--account-uri", "https://acme.ca.example/a;b"], "--account-uri has a space, ';'"),
            (["--persist-until", "1000"], "--persist-until \"1000\" is not in the future"),
            (["--persist-until", "tomorrow"], "--persist-until \"tomorrow\" is neither a unix"),
            (["--persist-until", "2020-01-01T00:00:00Z"], "is not in the future"),
        ]
        for flags, want in cases:
            args = ["persist", "set", "--config", self.one, "--issuer", ISSUER,
                    "--account-uri", ACCOUNT] + flags + ["www.example.test"]
            r = zptest.run_zp(args)
            self.assertEqual(r.returncode, 2, flags)
            self.assertIn(want, r.stderr)
        r = self.persist("set", "a*.example.test")
        self.assertEqual(r.returncode, 2)
        self.assertIn("NAME \"a*.example.test\" has a '*' that is not the whole first label",
                      r.stderr)
        r = self.persist("set", "bad name.example.test")
        self.assertEqual(r.returncode, 2)
        self.assertIn("NAME \"bad name.example.test\" is not a domain name", r.stderr)
        r = self.persist("set", "www.example.test", extra=["--zone", "other.test"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("NAME www.example.test: _validation-persist.www.example.test. is not inside "
                      "--zone other.test", sentence(r))
        r = zptest.run_zp(["persist", "frob"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('persist needs set, check or remove, not "frob"', r.stderr)
        r = zptest.run_zp(["persist", "set", "--config", self.one, "www.example.test"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--issuer, --account-uri and at least one NAME are required", r.stderr)
        r = zptest.run_zp(["persist", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: zoneproof persist", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

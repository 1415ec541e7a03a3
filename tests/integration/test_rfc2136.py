"""The rfc2136 provider against a real BIND named, through the CLI.

cert-manager's strict conformance steps (Present, re-Present, a second value at
the same name, CleanUp of one leaves the other, double CleanUp), with a foreign
TXT value and an A record at the same name that must survive every step; then
each failure a user can cause on the server side, with the sentence they get.
"""
import base64
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import zptest  # noqa: E402

ZONE = "example.test"
NAME = "_acme-challenge.example.test."
FOREIGN_TXT = '"kept-by-someone-else"'
FOREIGN_A = "192.0.2.1"
MD5_SECRET = base64.b64encode(b"md5-test-secret-bytes-0123456789").decode()
NARROW_SECRET = base64.b64encode(b"narrow-test-secret-bytes-0123456").decode()
WRONG_SECRET = base64.b64encode(b"not-the-secret-the-server-holds!").decode()
SECRETS = (zptest.TSIG_SECRET, MD5_SECRET, NARROW_SECRET, WRONG_SECRET)

# acme-key and md5-key may change TXT anywhere in the zone; narrow-key only at
# one other name, the least-privilege grant the documentation recommends.
POLICY = ("grant acme-key subdomain example.test. TXT; "
          "grant md5-key subdomain example.test. TXT; "
          "grant narrow-key name _acme-challenge.other.example.test. TXT;")


class LabNamed(zptest.Named):
    """named that also loads the A record at the underscore name.

    BIND refuses address records at names that are not host names when it loads
    a primary zone (check-names); this zone needs one there to prove that
    updates leave it alone.
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        conf = os.path.join(self.dir, "named.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("options {", "options {\n  check-names primary ignore;", 1))


class RFC2136(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.named = LabNamed(
            {ZONE: ["_acme-challenge 60 IN A %s" % FOREIGN_A,
                    "_acme-challenge 60 IN TXT %s" % FOREIGN_TXT]},
            policy={ZONE: POLICY},
            extra_keys={"md5-key": ("hmac-md5", MD5_SECRET),
                        "narrow-key": ("hmac-sha256", NARROW_SECRET)})
        cls.named.start()
        cls.tmp = tempfile.mkdtemp(prefix="zp-rfc2136-")

    @classmethod
    def tearDownClass(cls):
        cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.before = self.named.records(NAME)
        self.assertEqual(self.before, sorted([("A", FOREIGN_A), ("TXT", FOREIGN_TXT)]))

    def config(self, secret=zptest.TSIG_SECRET, zones=(ZONE,), wait=False, **opts):
        """A configuration file with one rfc2136 instance "lab"; opts are its settings.

        Present acknowledges after the write, or with wait once named serves the value.
        """
        settings = {"nameserver": self.named.addr(), "tsigKeyName": "acme-key"}
        settings.update(opts)
        if settings.get("tsigKeyName") and "tsigSecretFile" not in settings:
            settings["tsigSecretFile"] = zptest.write_secret(
                self.tmp, "secret-%s" % self.id().rsplit(".", 1)[1], secret)
        lines = ["propagation:"]
        if wait:
            lines += ["  mode: wait", "  timeout: 20s", '  nameservers: ["%s"]' % self.named.addr()]
        else:
            # Pinned, so no resolver is asked (zone discovery, DNSSEC): loopback only.
            lines += ["  mode: skip", '  nameservers: ["%s"]' % self.named.addr()]
        lines += ["providers:", "  - name: lab",
                 "    type: rfc2136",
                 "    dnsZones: [%s]" % ", ".join('"%s"' % z for z in zones)]
        lines += ['    %s: "%s"' % (k, v) for k, v in settings.items() if v is not None]
        path = os.path.join(self.tmp, "zoneproof-%s.yaml" % self.id().rsplit(".", 1)[1])
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def zp(self, action, cfg, value, fqdn=NAME, extra=()):
        r = zptest.run_zp([action, "--config", cfg, "--fqdn", fqdn, "--key", value] + list(extra))
        for secret in SECRETS:
            self.assertNotIn(secret, r.stdout + r.stderr, "a secret reached the output")
        return r

    def ok(self, action, cfg, value, **kw):
        r = self.zp(action, cfg, value, **kw)
        self.assertEqual(r.returncode, 0, "zoneproof %s failed:\n%s" % (action, r.stderr))

    def fails(self, action, cfg, value, *phrases, **kw):
        """Runs a call that must fail; returns its sentence after checking the phrases."""
        r = self.zp(action, cfg, value, **kw)
        self.assertNotEqual(r.returncode, 0, "zoneproof %s succeeded unexpectedly" % action)
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("zoneproof: ")]
        self.assertTrue(lines, "no 'zoneproof: ' sentence on stderr:\n" + r.stderr)
        for p in phrases:
            self.assertIn(p, lines[-1])
        return lines[-1]

    def assert_txt(self, *values):
        """The name holds exactly the foreign records plus values."""
        want = sorted(self.before + [("TXT", '"%s"' % v) for v in values])
        self.assertEqual(self.named.records(NAME), want)

    # ---- conformance -------------------------------------------------------------------------

    def test_strict_conformance(self):
        cfg = self.config()
        one, two = zptest.acme_key("apex"), zptest.acme_key("wildcard")
        self.ok("present", cfg, one)
        self.assert_txt(one)
        self.ok("present", cfg, one)  # idempotent: no second copy
        self.assert_txt(one)
        self.ok("present", cfg, two)  # apex + wildcard validate at the same name
        self.assert_txt(one, two)
        self.ok("cleanup", cfg, one)  # removes exactly one value
        self.assert_txt(two)
        self.ok("cleanup", cfg, one)  # already gone is success
        self.assert_txt(two)
        self.ok("cleanup", cfg, two)
        self.assert_txt()

    def test_present_waits_until_the_server_serves_it(self):
        cfg = self.config(wait=True)
        value = zptest.acme_key("wait")
        self.ok("present", cfg, value)
        self.assert_txt(value)
        self.ok("cleanup", cfg, value)
        self.assert_txt()

    def test_tcp_and_ttl(self):
        cfg = self.config(protocol="tcp")
        value = zptest.acme_key("tcp")
        self.ok("present", cfg, value)
        self.assert_txt(value)
        full = self.named.dig(NAME, "TXT", full=True)
        self.assertRegex(full, r'%s\s+60\s+IN\s+TXT\s+"%s"' % (NAME.replace(".", r"\."), value))
        self.ok("cleanup", cfg, value)
        self.assert_txt()

    def test_md5_key(self):
        cfg = self.config(secret=MD5_SECRET, tsigKeyName="md5-key", tsigAlgorithm="hmac-md5")
        value = zptest.acme_key("md5")
        self.ok("present", cfg, value)
        self.assert_txt(value)
        self.ok("cleanup", cfg, value)
        self.assert_txt()

    def test_zone_option_overrides_the_routed_zone(self):
        # dnsZones routes to sub.example.test, which named does not serve on its own.
        fqdn = "_acme-challenge.sub.example.test."
        value = zptest.acme_key("zone-option")
        cfg = self.config(zones=("sub.example.test",))
        self.fails("present", cfg, value,
                   "not authoritative (primary) for zone sub.example.test.", fqdn=fqdn)
        cfg = self.config(zones=("sub.example.test",), zone=ZONE)
        self.ok("present", cfg, value, fqdn=fqdn)
        self.assertEqual(self.named.txt(fqdn), [value])
        self.ok("cleanup", cfg, value, fqdn=fqdn)
        self.assertEqual(self.named.txt(fqdn), [])

    # ---- what the server refuses --------------------------------------------------------------

    def test_wrong_secret(self):
        cfg = self.config(secret=WRONG_SECRET)
        s = self.fails("present", cfg, zptest.acme_key("x"),
                       "rejected by %s: signature rejected: tsigSecretFile does not hold the "
                       "server's secret for key acme-key" % self.named.addr())
        self.assertIn(NAME, s)
        self.fails("cleanup", cfg, zptest.acme_key("x"), "signature rejected")
        self.assert_txt()

    def test_unknown_key(self):
        cfg = self.config(tsigKeyName="nobody-key")
        self.fails("present", cfg, zptest.acme_key("x"),
                   "rejected by %s: the server does not know key nobody-key" % self.named.addr(),
                   "check tsigKeyName and tsigAlgorithm")
        # Knot answers a key its acl does not allow the same way (test_rfc2136_servers.py).
        self.fails("present", cfg, zptest.acme_key("x"), "or (Knot answers the same way) no acl "
                   "lets that key update TXT at %s" % NAME)
        self.assert_txt()

    def test_algorithm_differs_from_the_server(self):
        cfg = self.config(tsigAlgorithm="hmac-sha512")
        self.fails("present", cfg, zptest.acme_key("x"),
                   "does not know key acme-key with algorithm hmac-sha512")
        self.assert_txt()

    def test_key_allowed_only_elsewhere(self):
        cfg = self.config(secret=NARROW_SECRET, tsigKeyName="narrow-key")
        self.fails("present", cfg, zptest.acme_key("x"),
                   "update refused by %s: the key narrow-key may not change TXT at %s (the "
                   "server holds the key: it signed its answer); allow it in the zone's update "
                   "policy (BIND: grant narrow-key name %s TXT; in update-policy."
                   % (self.named.addr(), NAME, NAME))
        self.assert_txt()
        # The grant it does have works.
        other = "_acme-challenge.other.example.test."
        self.ok("present", cfg, zptest.acme_key("narrow"), fqdn=other)
        self.ok("cleanup", cfg, zptest.acme_key("narrow"), fqdn=other)
        self.assertEqual(self.named.txt(other), [])

    def test_zone_not_served(self):
        fqdn = "_acme-challenge.elsewhere.test."
        cfg = self.config(zones=("elsewhere.test",))
        self.fails("present", cfg, zptest.acme_key("x"),
                   "rejected by %s: the server is not authoritative (primary) for zone "
                   "elsewhere.test.; point nameserver at the zone's primary" % self.named.addr(),
                   fqdn=fqdn)

    def test_unsigned_update_refused_by_policy(self):
        cfg = self.config(tsigKeyName=None)
        self.fails("present", cfg, zptest.acme_key("x"),
                   "update refused by %s: unsigned updates may not change TXT at %s"
                   % (self.named.addr(), NAME))
        self.assert_txt()

    # ---- what never reaches the server --------------------------------------------------------

    def test_nothing_listening(self):
        port = zptest.free_port()
        for proto in ("udp", "tcp"):
            cfg = self.config(nameserver="127.0.0.1:%d" % port, protocol=proto)
            self.fails("present", cfg, zptest.acme_key("x"),
                       "connection refused by 127.0.0.1:%d" % port, "check nameserver")

    def test_secret_file_problems(self):
        missing = os.path.join(self.tmp, "no-such-secret")
        cfg = self.config(tsigSecretFile=missing)
        self.fails("present", cfg, zptest.acme_key("x"), "tsigSecretFile", missing)
        garbage = zptest.write_secret(self.tmp, "garbage", "this is not base64!")
        cfg = self.config(tsigSecretFile=garbage)
        self.fails("present", cfg, zptest.acme_key("x"), "tsigSecretFile", garbage,
                   "does not hold base64 text")
        self.assert_txt()


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Which name the CLI writes at, and in which zone (issue 14, "Names"), against one real BIND
on loopback: zone discovery picks the child zone over its parent on the same server;
--follow-cname (and followCNAME: true) follows a CNAME at _acme-challenge.<name> to the zone
that really takes the value, cleans up there, and refuses a loop or a chain too long with a
sentence naming the names; without it a CNAME is refused as before; and a name without
_acme-challenge. gets one warning."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import zptest  # noqa: E402

# acme-dns style: the user's zone delegates its challenge name to a zone zoneproof can write.
ALIAS = "_acme-challenge.www.example.test."
TARGET = "www.acme.other.test."
LOOP = "_acme-challenge.loop.example.test."
LONG = "_acme-challenge.long.example.test."
SRC_LABELS = '_acme-challenge", "_validation-persist", "plain'
CHAIN = 10  # CNAMEs in the long chain: more than zoneproof follows


def long_chain():
    """_acme-challenge.long -> c1 -> c2 -> ... -> c10, all CNAMEs, in example.test."""
    names = ["_acme-challenge.long"] + ["c%d" % i for i in range(1, CHAIN + 1)]
    return ["%s IN CNAME %s.example.test." % (a, b) for a, b in zip(names, names[1:])]


class Names(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-names-")
        cls.secret = zptest.write_secret(cls.tmp)
        cls.named = zptest.Named({
            "example.test": ["sub IN NS ns1.sub.example.test.",
                             "ns1.sub IN A 127.0.0.1",
                             "_acme-challenge.www IN CNAME %s" % TARGET,
                             "_acme-challenge.loop IN CNAME loop2.example.test.",
                             "loop2 IN CNAME _acme-challenge.loop.example.test."] + long_chain(),
            "sub.example.test": [],
            "other.test": ['www.acme IN TXT "kept-by-someone-else"'],
        })
        cls.named.start()

    @classmethod
    def tearDownClass(cls):
        cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, name, top=""):
        """Two rfc2136 instances on the one BIND: "src" for example.test, "dst" for other.test,
        which holds only challenge values reached through CNAMEs (firstLabels: ["*"])."""
        path = os.path.join(self.tmp, name)
        lines = [top + "propagation:", "  mode: wait", "  timeout: 10s",
                 '  nameservers: ["%s"]' % self.named.addr(), "providers:"]
        for inst, zone, labels in (("src", "example.test", SRC_LABELS), ("dst", "other.test", "*")):
            lines += ["  - name: %s" % inst, "    type: rfc2136",
                      "    dnsZones: [%s]" % zone, '    firstLabels: ["%s"]' % labels,
                      '    nameserver: "%s"' % self.named.addr(),
                      "    tsigKeyName: acme-key", "    tsigSecretFile: %s" % self.secret]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def zp(self, action, fqdn, key, *extra, cfg=None):
        return zptest.run_zp([action, "--config", cfg or self.config("names.yaml"),
                              "--fqdn", fqdn, "--key", key] + list(extra))

    def serial(self, zone):
        return int(self.named.dig(zone + ".", "SOA").split()[2])

    def sentence(self, r):
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("zoneproof: ")]
        self.assertTrue(lines, "no 'zoneproof: ' sentence on stderr:\n" + r.stderr)
        return lines[-1]

    # ---- zone discovery ----------------------------------------------------------------------

    def test_discovery_picks_the_child_zone(self):
        """Without --zone: sub.example.test, served by the same BIND as its parent."""
        fqdn = "_acme-challenge.x.sub.example.test."
        key = zptest.acme_key("child")
        parent, child = self.serial("example.test"), self.serial("sub.example.test")
        r = self.zp("present", fqdn, key)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.named.txt(fqdn), [key])
        self.assertGreater(self.serial("sub.example.test"), child)
        self.assertEqual(self.serial("example.test"), parent)
        r = self.zp("cleanup", fqdn, key)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.named.txt(fqdn), [])
        self.assertEqual(self.serial("example.test"), parent)
        # --follow-cname on a name without a CNAME: the same name, the same zone, said as before.
        r = self.zp("present", fqdn, key, "--follow-cname")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('presented %s TXT "%s" via src (rfc2136) in ' % (fqdn, key), r.stdout)
        self.assertNotIn("CNAME", r.stdout)
        self.assertEqual(self.zp("cleanup", fqdn, key, "--follow-cname").returncode, 0)
        self.assertEqual(self.named.txt(fqdn), [])
        self.assertEqual(self.serial("example.test"), parent)

    # ---- CNAMEs ------------------------------------------------------------------------------

    def assert_alias_untouched(self):
        self.assertEqual(self.named.dig(ALIAS, "CNAME").split(), [TARGET])
        self.assertEqual(self.named.dig(ALIAS, "TXT").split(), [TARGET])  # the CNAME alone

    def test_follow_cname_writes_and_cleans_up_in_the_target_zone(self):
        key = zptest.acme_key("follow")
        example = self.serial("example.test")
        r = self.zp("present", ALIAS, key, "--follow-cname", "--log-level", "info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('presented %s TXT "%s" via dst (rfc2136)' % (TARGET, key), r.stdout)
        self.assertIn("(followed the CNAME at %s)" % ALIAS, r.stdout)
        self.assertIn('"msg":"CNAME followed"', r.stderr)
        self.assertIn('"target":"%s"' % TARGET, r.stderr)
        self.assertEqual(self.named.txt(TARGET), sorted([key, "kept-by-someone-else"]))
        self.assertEqual(self.serial("example.test"), example)
        r = self.zp("check", ALIAS, key, "--follow-cname")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('%s TXT "%s" in zone other.test.' % (TARGET, key), r.stdout)
        r = self.zp("cleanup", ALIAS, key, "--follow-cname")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('cleaned up %s TXT "%s" via dst (rfc2136)' % (TARGET, key), r.stdout)
        self.assertEqual(self.named.txt(TARGET), ["kept-by-someone-else"])
        self.assertEqual(self.serial("example.test"), example)
        self.assert_alias_untouched()

    def test_follow_cname_from_the_configuration(self):
        cfg = self.config("follow.yaml", top="followCNAME: true\n")
        r = zptest.run_zp(["check-config", "--config", cfg])
        self.assertEqual(r.returncode, 0, r.stderr)
        key = zptest.acme_key("config")
        r = self.zp("present", ALIAS, key, cfg=cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('presented %s TXT "%s" via dst' % (TARGET, key), r.stdout)
        r = self.zp("cleanup", ALIAS, key, cfg=cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.named.txt(TARGET), ["kept-by-someone-else"])
        self.assert_alias_untouched()
        bad = self.config("follow-bad.yaml", top="followCNAME: yes please\n")
        r = zptest.run_zp(["check-config", "--config", bad])
        self.assertEqual(r.returncode, 2)
        self.assertIn("followCNAME", r.stderr)

    def test_without_the_flag_a_cname_is_refused_as_before(self):
        key = zptest.acme_key("noflag")
        r = self.zp("present", ALIAS, key)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("%s is an alias (CNAME) of %s" % (ALIAS, TARGET), self.sentence(r))
        self.assertIn("nothing was written", self.sentence(r))
        # The CLI's advice names its flag, not the Issuer's cnameStrategy.
        self.assertIn("Present the challenge at %s (--follow-cname, with a provider for its "
                      "zone)" % TARGET, self.sentence(r))
        self.assertNotIn("cnameStrategy", r.stderr)
        self.assertEqual(self.named.txt(TARGET), ["kept-by-someone-else"])
        self.assert_alias_untouched()

    def test_cname_loop(self):
        r = self.zp("present", LOOP, zptest.acme_key("loop"), "--follow-cname")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertEqual(self.sentence(r),
                         "zoneproof: the CNAME chain at %s loops: %s -> loop2.example.test. -> "
                         "%s; the CA cannot follow it either, and zoneproof wrote nothing. "
                         "Remove one of these CNAME records" % (LOOP, LOOP, LOOP))
        r2 = self.zp("cleanup", LOOP, zptest.acme_key("loop"), "--follow-cname")
        self.assertEqual(r2.returncode, 1)
        self.assertEqual(self.sentence(r2), self.sentence(r))
        # check: what DNS serves is a failure (1), not a wrong flag (2).
        r3 = self.zp("check", LOOP, zptest.acme_key("loop"), "--follow-cname")
        self.assertEqual(r3.returncode, 1, r3.stdout)
        self.assertEqual(self.sentence(r3), self.sentence(r))

    def test_cname_chain_too_long(self):
        r = self.zp("present", LONG, zptest.acme_key("long"), "--follow-cname")
        self.assertEqual(r.returncode, 1, r.stdout)
        s = self.sentence(r)
        self.assertIn("the CNAME chain at %s is longer than 8 CNAMEs: %s -> c1.example.test. -> "
                      % (LONG, LONG), s)
        self.assertIn("c8.example.test. -> ...", s)
        self.assertIn("zoneproof follows no more, and wrote nothing", s)

    # ---- the name's first label --------------------------------------------------------------

    def test_warning_without_acme_challenge(self):
        key = zptest.acme_key("plain")
        fqdn = "plain.example.test."
        r = self.zp("present", fqdn, key)
        self.assertEqual(r.returncode, 0, r.stderr)
        warning = ("zoneproof: warning: %s does not start with _acme-challenge.: a CA looks for "
                   "the DNS-01 value at _acme-challenge.<name>" % fqdn)
        self.assertIn(warning, r.stderr)
        self.assertEqual(r.stderr.count("does not start with _acme-challenge."), 1)
        r = self.zp("cleanup", fqdn, key)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.count("does not start with _acme-challenge."), 1)
        for name in ("_acme-challenge.plain.example.test.", "_validation-persist.example.test."):
            r = self.zp("present", name, key)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("warning", r.stderr)
            self.assertEqual(self.zp("cleanup", name, key).returncode, 0)


if __name__ == "__main__":
    unittest.main()

"""The propagation watcher against real BIND servers, through the CLI.

Two authoritative servers for one zone, A and B, that do not transfer to each
other: the rfc2136 provider writes to A, so B lags until the test adds the
value there with nsupdate. Present must fail within its budget with a sentence
naming B and what B answers, then succeed once B serves the value; `check`
must say the same per nameserver. Then B silent, B not listening, and the NS
set discovered through a resolver instead of listed.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import zptest  # noqa: E402

ZONE = "example.test"
BUDGET = 3  # seconds: propagation.timeout in every configuration below


def sentence(r):
    """The last 'zoneproof: ' line on stderr: the sentence cert-manager would get."""
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("zoneproof: ")]
    return lines[-1] if lines else ""


class Base(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-watch-")
        cls.secret = zptest.write_secret(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, writer, nameservers=(), resolvers=()):
        lines = ["propagation:", "  mode: wait", "  timeout: %ds" % BUDGET]
        if nameservers:
            lines.append("  nameservers: [%s]" % ", ".join('"%s"' % n for n in nameservers))
        if resolvers:
            lines.append("  resolvers: [%s]" % ", ".join('"%s"' % n for n in resolvers))
        lines += ["providers:", "  - name: lab", "    type: rfc2136",
                  '    dnsZones: ["%s"]' % ZONE,
                  '    nameserver: "%s"' % writer,
                  '    tsigKeyName: "%s"' % zptest.TSIG_NAME,
                  '    tsigAlgorithm: "hmac-sha256"',
                  '    tsigSecretFile: "%s"' % self.secret]
        path = os.path.join(self.tmp, "zoneproof-%s.yaml" % self.id().rsplit(".", 1)[1])
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def present(self, cfg, fqdn, key):
        # A hang past the budget fails at the timeout; how long a run took is never asserted.
        return zptest.run_zp(["present", "--config", cfg, "--fqdn", fqdn, "--key", key],
                             timeout=BUDGET + 60)

    def check(self, cfg, fqdn, key, json_out=False):
        r = zptest.run_zp(["check", "--config", cfg, "--fqdn", fqdn, "--key", key]
                          + (["--json"] if json_out else []), timeout=60)
        if json_out:
            return r, json.loads(r.stdout)
        return r, None

    def assert_fails_in_budget(self, r, *phrases):
        """Present failed, and its sentence (the budget's report) says each phrase."""
        self.assertNotEqual(r.returncode, 0, "present succeeded:\n" + r.stdout + r.stderr)
        s = sentence(r)
        for p in phrases:
            self.assertIn(p, s)
        self.assertNotIn(zptest.TSIG_SECRET, r.stdout + r.stderr)
        return s


class TwoServers(Base):
    """A and B on 127.0.0.1, listed explicitly as propagation.nameservers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = zptest.Named({ZONE: []}).start()
        cls.b = zptest.Named({ZONE: []}).start()

    @classmethod
    def tearDownClass(cls):
        cls.a.cleanup()
        cls.b.cleanup()
        super().tearDownClass()

    def test_lagging_secondary_then_caught_up(self):
        fqdn, key = "_acme-challenge.lag.%s." % ZONE, zptest.acme_key("lag")
        cfg = self.config(self.a.addr(), nameservers=[self.a.addr(), self.b.addr()])

        r = self.present(cfg, fqdn, key)
        s = self.assert_fails_in_budget(
            r, "not yet served by 1 of 2", self.b.addr(), "NXDOMAIN",
            "Check with: dig +norec @127.0.0.1 -p %d %s TXT" % (self.b.port, fqdn))
        self.assertNotIn(self.a.addr() + " ", s)  # A serves it: not a laggard
        self.assertEqual(self.a.txt(fqdn), [key])

        # The same state gives the same sentence (cert-manager re-reconciles on any change).
        r2 = self.present(cfg, fqdn, key)
        self.assertEqual(sentence(r2), s)

        r, rep = self.check(cfg, fqdn, key, json_out=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(rep["complete"])
        states = {n["addr"]: n["state"] for n in rep["nameservers"]}
        self.assertEqual(states, {self.a.addr(): "HAS_VALUE", self.b.addr(): "NXDOMAIN"})

        self.b.nsupdate(["update add %s 60 IN TXT \"%s\"" % (fqdn, key)])
        r = self.present(cfg, fqdn, key)
        self.assertEqual(r.returncode, 0, "present failed once B caught up:\n" + r.stderr)
        r, _ = self.check(cfg, fqdn, key)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("HAS_VALUE", r.stdout)
        r, rep = self.check(cfg, fqdn, key, json_out=True)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(rep["complete"])
        self.assertIsNone(rep["discoveryError"])

    def test_other_value_on_b(self):
        fqdn, key = "_acme-challenge.other.%s." % ZONE, zptest.acme_key("other")
        old = zptest.acme_key("an older challenge")
        self.b.nsupdate(["update add %s 60 IN TXT \"%s\"" % (fqdn, old)])
        cfg = self.config(self.a.addr(), nameservers=[self.a.addr(), self.b.addr()])
        r = self.present(cfg, fqdn, key)
        self.assert_fails_in_budget(r, self.b.addr(), "other TXT values",
                                    '"%s" (TTL 60)' % old)

    def test_b_silent(self):
        """B's address takes packets and never answers: a firewall that drops."""
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        try:
            addr = "127.0.0.1:%d" % silent.getsockname()[1]
            fqdn, key = "_acme-challenge.silent.%s." % ZONE, zptest.acme_key("silent")
            cfg = self.config(self.a.addr(), nameservers=[self.a.addr(), addr])
            r = self.present(cfg, fqdn, key)
            self.assert_fails_in_budget(r, addr, "does not answer (firewall? server down?)")
            r, rep = self.check(cfg, fqdn, key, json_out=True)
            self.assertNotEqual(r.returncode, 0)
            states = {n["addr"]: n["state"] for n in rep["nameservers"]}
            self.assertEqual(states, {self.a.addr(): "HAS_VALUE", addr: "TIMEOUT"})
        finally:
            silent.close()

    def test_b_stopped(self):
        """Nothing listens at B's port (a stopped named): the port-unreachable answer says so."""
        port = zptest.free_port()
        addr = "127.0.0.1:%d" % port
        fqdn, key = "_acme-challenge.stopped.%s." % ZONE, zptest.acme_key("stopped")
        cfg = self.config(self.a.addr(), nameservers=[self.a.addr(), addr])
        r = self.present(cfg, fqdn, key)
        self.assert_fails_in_budget(r, addr, "connection refused")


def can_bind(host, port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def lo_has(addr):
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "lo"],
                         capture_output=True, text=True).stdout
    return (" %s/" % addr) in out


def lo_add(addr):
    """named listens only on interface addresses, not on any 127/8 address as bind(2)
    allows: give lo the address for the test. Returns whether this call added it."""
    if lo_has(addr):
        return False
    r = subprocess.run(["ip", "addr", "add", "%s/32" % addr, "dev", "lo"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise unittest.SkipTest("cannot add %s to lo: %s" % (addr, r.stderr.strip()))
    return True


def lo_del(addr):
    subprocess.run(["ip", "addr", "del", "%s/32" % addr, "dev", "lo"], capture_output=True)


class Discovery(Base):
    """The NS set found through a resolver: ns1 → NET.2:53, ns2 → NET.3:53, NET being a
    loopback /24 this process holds (zptest.loopback_net), so that other tests may do the same
    at once."""

    added = ()

    @classmethod
    def setUpClass(cls):
        net = zptest.loopback_net()
        cls.ip_a, cls.ip_b = net + ".2", net + ".3"
        if not (can_bind(cls.ip_a, 53) and can_bind(cls.ip_b, 53)):
            raise unittest.SkipTest("cannot bind %s:53 and %s:53 (needs root)"
                                    % (cls.ip_a, cls.ip_b))
        cls.added = [a for a in (cls.ip_a, cls.ip_b) if shutil.which("ip") and lo_add(a)]
        super().setUpClass()
        names = ["ns1.%s." % ZONE, "ns2.%s." % ZONE]
        addrs = [cls.ip_a, cls.ip_b]
        cls.a = zptest.Named({ZONE: []}, host=cls.ip_a, port=53, ns_names=names,
                             ns_addrs=addrs).start()
        try:
            cls.b = zptest.Named({ZONE: []}, host=cls.ip_b, port=53, ns_names=names,
                                 ns_addrs=addrs).start()
        except Exception:
            cls.a.cleanup()
            cls.drop_addrs()
            raise

    @classmethod
    def drop_addrs(cls):
        for a in cls.added:
            lo_del(a)

    @classmethod
    def tearDownClass(cls):
        cls.a.cleanup()
        cls.b.cleanup()
        cls.drop_addrs()
        super().tearDownClass()

    def test_discovered_nameservers(self):
        fqdn, key = "_acme-challenge.disc.%s." % ZONE, zptest.acme_key("disc")
        a, b = self.ip_a + ":53", self.ip_b + ":53"
        cfg = self.config(a, resolvers=[a])

        r = self.present(cfg, fqdn, key)
        self.assert_fails_in_budget(r, "not yet served by 1 of 2",
                                    "ns2.%s (%s) answers NXDOMAIN" % (ZONE, b),
                                    "dig +norec @%s %s TXT" % (self.ip_b, fqdn))
        r, rep = self.check(cfg, fqdn, key, json_out=True)
        self.assertEqual([(n["name"], n["addr"], n["state"]) for n in rep["nameservers"]],
                         [("ns1.%s." % ZONE, a, "HAS_VALUE"),
                          ("ns2.%s." % ZONE, b, "NXDOMAIN")])

        self.b.nsupdate(["update add %s 60 IN TXT \"%s\"" % (fqdn, key)])
        r = self.present(cfg, fqdn, key)
        self.assertEqual(r.returncode, 0, r.stderr)
        r, _ = self.check(cfg, fqdn, key)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_resolver_not_answering(self):
        """The resolver is dead: Present refuses before writing, naming the resolver."""
        port = zptest.free_port()
        fqdn, key = "_acme-challenge.nores.%s." % ZONE, zptest.acme_key("nores")
        cfg = self.config(self.ip_a + ":53", resolvers=["127.0.0.1:%d" % port])
        r = self.present(cfg, fqdn, key)
        self.assert_fails_in_budget(r, "cannot check which zone holds %s before writing: "
                                    "asked 127.0.0.1:%d for %s SOA (recursion desired): "
                                    "connection refused" % (fqdn, port, fqdn),
                                    "nothing was written")
        self.assertEqual(self.a.txt(fqdn), [])
        # check runs the same checks, so it says the same sentence.
        r2, _ = self.check(cfg, fqdn, key)
        self.assertEqual(r2.returncode, 1)
        self.assertEqual(r2.stderr.splitlines()[-1], r.stderr.splitlines()[-1])


if __name__ == "__main__":
    unittest.main(verbosity=2)

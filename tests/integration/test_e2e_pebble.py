"""End to end: lego gets a certificate for example.test and *.example.test from
pebble, solving DNS-01 through `zoneproof serve` and a real BIND.

lego's exec DNS provider runs tests/e2e/lego-hook.py, which calls zoneproof
over mutual TLS with a front-proxy client certificate, as the kube-apiserver
does for cert-manager. zoneproof writes the TXT values into named with RFC 2136;
pebble validates them by asking named. The same setup is the demo
(scripts/demo.sh).
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from zptest import zoneproof_bin  # noqa: E402
from demo import (CHALLENGE_NAME, HOOK, KEEP, ZONE, Lab, cert_files,  # noqa: E402
                  challenge_lines, describe_cert, tail)

TOOLS = ("named", "pebble", "lego", "nsupdate", "dig", "curl", "openssl")
MISSING = [t for t in TOOLS if not shutil.which(t) and not os.access("/usr/sbin/" + t, os.X_OK)]


@unittest.skipIf(MISSING, "not installed: %s (scripts/setup.sh installs them)" % " ".join(MISSING))
class PebbleEndToEnd(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zp-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.lab = Lab(zoneproof_bin())
        self.addCleanup(self.lab.cleanup)
        self.lab.start()

    def recording_hook(self):
        """A hook that notes each call lego makes, then runs the real one."""
        calls = os.path.join(self.tmp, "calls.log")
        path = os.path.join(self.tmp, "hook.sh")
        with open(path, "w") as f:
            f.write('#!/bin/sh\nprintf "%%s %%s %%s\\n" "$1" "$2" "$3" >> "%s"\nexec "%s" "$@"\n'
                    % (calls, HOOK))
        os.chmod(path, stat.S_IRWXU)
        return path, calls

    def lego(self, domains, **kw):
        out = os.path.join(self.tmp, "lego")
        status, output = self.lab.lego(domains, out, **kw)
        return out, status, output

    def explain(self, output):
        return "\nlego output (last lines):\n%s\n%s" % (tail(output, 40), self.lab.logs())

    def test_apex_and_wildcard_certificate_through_zoneproof(self):
        hook, calls_log = self.recording_hook()
        out, status, output = self.lego([ZONE, "*." + ZONE], hook=hook)
        self.assertEqual(status, 0, "lego did not get a certificate" + self.explain(output))

        # The certificate covers both names and chains to pebble's root.
        crt, _, issuer = cert_files(out, ZONE)
        info = describe_cert(crt)
        self.assertEqual(sorted(info["san"]), ["DNS:*.example.test", "DNS:example.test"],
                         "unexpected SANs in %s" % crt)
        self.assertIn("Pebble", info.get("issuer", ""))
        root = os.path.join(self.tmp, "pebble-root.pem")
        with open(root, "w") as f:
            f.write(self.lab.pebble.roots())
        v = subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", issuer, crt],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, "certificate does not chain to pebble's root: "
                         + v.stdout + v.stderr)

        # lego presented two different values at the same name (apex and
        # wildcard) and cleaned up each of them.
        with open(calls_log) as f:
            calls = [line.split() for line in f if line.strip()]
        presented = sorted(c[2] for c in calls if c[0] == "present")
        cleaned = sorted(c[2] for c in calls if c[0] == "cleanup")
        self.assertEqual({c[1] for c in calls}, {CHALLENGE_NAME + "."})
        self.assertEqual(len(set(presented)), 2, "lego calls: %r" % calls)
        self.assertEqual(presented, cleaned, "lego calls: %r" % calls)

        # zoneproof's log records each call, and the change of each value.
        events = self.lab.zp.events()
        self.assertTrue(events, "zoneproof wrote no JSON log lines:\n" + tail(self.lab.zp.log()))
        for action in ("Present", "CleanUp"):
            # One call may be logged by several layers; some kind of line
            # (its "msg") must appear once per call.
            kinds = Counter(str(ev.get("msg")) for ev in
                            challenge_lines(events, action, fqdn=CHALLENGE_NAME))
            self.assertGreaterEqual(
                max(kinds.values(), default=0), 2,
                "zoneproof's log does not show two %s calls for %s:\n%s"
                % (action, CHALLENGE_NAME, tail(self.lab.zp.log(), 40)))
            for value in presented:
                self.assertTrue(challenge_lines(events, action, value=value),
                                "no zoneproof log line for %s of %s:\n%s"
                                % (action, value, tail(self.lab.zp.log(), 40)))

        # Both challenge values are gone; the record that was there before stays.
        self.assertEqual(self.lab.named.txt(CHALLENGE_NAME), [KEEP])

    def test_refusal_reaches_the_lego_user(self):
        # zoneproof has no provider for nowhere.test: Present fails with its
        # explanation, lego stops with it, and nothing is written in named.
        out, status, output = self.lego(["nowhere.test"], env_extra={"ZP_ZONE": "nowhere.test"})
        self.assertNotEqual(status, 0, "lego succeeded for a zone zoneproof does not serve"
                            + self.explain(output))
        self.assertIn("zoneproof: Present _acme-challenge.nowhere.test. failed", output,
                      "lego output does not carry zoneproof's answer" + self.explain(output))
        line = [ln for ln in output.splitlines() if "zoneproof: Present" in ln][0]
        message = line.split("failed", 1)[1].split(":", 1)[1].strip()
        self.assertTrue(message, "zoneproof's failure has no message: " + line)
        self.assertFalse(os.path.exists(cert_files(out, "nowhere.test")[0]))
        self.assertEqual(self.lab.named.txt(CHALLENGE_NAME), [KEEP])


if __name__ == "__main__":
    unittest.main(verbosity=2)

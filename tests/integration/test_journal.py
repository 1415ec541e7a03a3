"""The write-ahead journal outside a cluster (--state-dir) and `zoneproof sweep` (issue #10):
present records the value before writing it, cleanup removes the entry; a present killed after
its write leaves an entry, and sweep removes exactly that value from a real BIND, never a foreign
value or one a younger entry still needs; a journal that cannot be written fails the present
before anything reaches DNS."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import zptest  # noqa: E402

ZONE = "example.test"
FOREIGN = "v=foreign-keep-me"


def entry_id(instance, fqdn, value):
    h = hashlib.sha256(instance.encode() + b"\0" + fqdn.encode() + b"\0" + value.encode())
    return "zpj-" + h.hexdigest()[:32]


class Journal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-journal-")
        cls.named = zptest.Named({ZONE: ['_acme-challenge.keep 60 IN TXT "%s"' % FOREIGN]}).start()
        cls.dead = zptest.free_port()  # a nameserver that never answers: Present waits there
        secret = zptest.write_secret(cls.tmp)
        cls.config = os.path.join(cls.tmp, "config.yaml")
        cls.parked = os.path.join(cls.tmp, "parked.yaml")
        base = ("providers:\n  - name: lab\n    type: rfc2136\n    dnsZones: [%s]\n"
                "    nameserver: \"%s\"\n    tsigKeyName: %s\n    tsigSecretFile: %s\n"
                % (ZONE, cls.named.addr(), zptest.TSIG_NAME, secret))
        with open(cls.config, "w") as f:
            f.write("propagation: {mode: wait, timeout: 20s, nameservers: [\"%s\"]}\n"
                    % cls.named.addr() + base)
        with open(cls.parked, "w") as f:
            f.write("propagation: {mode: wait, timeout: 50s, nameservers: [\"127.0.0.1:%d\"]}\n"
                    % cls.dead + base)

    @classmethod
    def tearDownClass(cls):
        cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def state_dir(self):
        d = tempfile.mkdtemp(prefix="state-", dir=self.tmp)
        os.chmod(d, 0o700)
        return d

    def zp(self, action, fqdn, key, state, config=None):
        return zptest.run_zp([action, "--config", config or self.config, "--fqdn", fqdn,
                              "--key", key, "--zone", ZONE + ".", "--state-dir", state])

    def entries(self, state):
        out = {}
        for name in os.listdir(state):
            with open(os.path.join(state, name)) as f:
                out[name] = json.load(f)
        return out

    def test_present_records_and_cleanup_removes(self):
        state, fqdn, key = self.state_dir(), "_acme-challenge.a.example.test.", zptest.acme_key("a")
        r = self.zp("present", fqdn, key, state)
        self.assertEqual(r.returncode, 0, r.stderr)
        e = self.entries(state)
        self.assertEqual(list(e), [entry_id("lab", fqdn, key) + ".json"])
        rec = next(iter(e.values()))
        self.assertEqual((rec["instance"], rec["fqdn"], rec["value"], rec["zone"], rec["state"]),
                         ("lab", fqdn, key, ZONE + ".", "written"))
        r = self.zp("cleanup", fqdn, key, state)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.entries(state), {})
        self.assertEqual(self.named.txt(fqdn), [])

    def test_killed_after_write_then_swept(self):
        state = self.state_dir()
        fqdn = "_acme-challenge.keep.example.test."
        killed, younger = zptest.acme_key("killed"), zptest.acme_key("younger")
        # The hook is killed while it waits for a nameserver that never answers: its write is done.
        p = subprocess.Popen([zptest.zoneproof_bin(), "present", "--config", self.parked,
                              "--fqdn", fqdn, "--key", killed, "--zone", ZONE + ".",
                              "--state-dir", state], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            zptest.wait_for(lambda: killed in self.named.txt(fqdn), timeout=30,
                            what="the present's write")
        finally:
            p.send_signal(signal.SIGKILL)
            p.wait()
        self.assertEqual(sorted(self.named.txt(fqdn)), sorted([FOREIGN, killed]))
        # A dry run lists the orphan and changes nothing.
        r = zptest.run_zp(["sweep", "--config", self.config, "--state-dir", state,
                           "--older-than", "0", "--dry-run"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 journal entries, 1 orphans, 0 removed (dry run)", r.stdout)
        self.assertIn(killed, self.named.txt(fqdn))
        # An entry younger than --older-than is not an orphan yet.
        r = zptest.run_zp(["sweep", "--config", self.config, "--state-dir", state])
        self.assertIn("1 journal entries, 0 orphans", r.stdout)
        self.assertIn(killed, self.named.txt(fqdn))
        r = zptest.run_zp(["sweep", "--config", self.config, "--state-dir", state,
                           "--older-than", "0"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("1 journal entries, 1 orphans, 1 removed, 0 failed", r.stdout)
        self.assertEqual(self.named.txt(fqdn), [FOREIGN])
        self.assertEqual(self.entries(state), {})
        # Another value at the same name, its entry not an orphan, is never touched.
        self.assertEqual(self.zp("present", fqdn, younger, state).returncode, 0)
        r = zptest.run_zp(["sweep", "--config", self.config, "--state-dir", state])
        self.assertIn("0 orphans", r.stdout)
        self.assertEqual(sorted(self.named.txt(fqdn)), sorted([FOREIGN, younger]))
        self.assertEqual(self.zp("cleanup", fqdn, younger, state).returncode, 0)

    def test_journal_write_failure_writes_nothing(self):
        state, fqdn, key = self.state_dir(), "_acme-challenge.b.example.test.", zptest.acme_key("b")
        # The entry's temporary file cannot be created (root ignores permissions: a directory).
        os.mkdir(os.path.join(state, entry_id("lab", fqdn, key) + ".json.tmp"))
        r = self.zp("present", fqdn, key, state)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot record the challenge in the state directory %s" % state, r.stderr)
        self.assertIn("nothing was written to DNS", r.stderr)
        self.assertEqual(self.named.txt(fqdn), [])

    def test_state_dir_others_may_write_is_refused(self):
        state = self.state_dir()
        os.chmod(state, 0o777)
        r = self.zp("present", "_acme-challenge.c.example.test.", zptest.acme_key("c"), state)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--state-dir %s: others may write to it" % state, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

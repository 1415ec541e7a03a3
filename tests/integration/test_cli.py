"""The command line as an operator meets it: --help everywhere, exit codes,
check-config on good and bad files, and the sentences for bad flags."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import zptest  # noqa: E402


class CLI(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-cli-")
        cls.secret = zptest.write_secret(cls.tmp)
        cls.good = os.path.join(cls.tmp, "good.yaml")
        with open(cls.good, "w") as f:
            f.write("providers:\n  - name: lab\n    type: rfc2136\n    dnsZones: [example.test]\n"
                    "    nameserver: 127.0.0.1:5353\n    tsigKeyName: acme-key\n"
                    "    tsigSecretFile: %s\n" % cls.secret)
        cls.bad = os.path.join(cls.tmp, "bad.yaml")
        with open(cls.bad, "w") as f:
            f.write("providers:\n  - name: lab\n    type: rfc2136\n    dnsZones: [example.test]\n"
                    "    nameserver: 127.0.0.1:5353\n    tll: 60\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_help_everywhere(self):
        for cmd in ("serve", "present", "cleanup", "check", "check-config"):
            r = zptest.run_zp([cmd, "--help"])
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage: zoneproof", r.stdout)
        r = zptest.run_zp(["--help"])
        self.assertEqual(r.returncode, 0)
        for cmd in ("serve", "present", "cleanup", "check", "version"):
            self.assertIn(cmd, r.stdout)

    def test_version(self):
        r = zptest.run_zp(["version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^zoneproof \d+\.\d+\.\d+")

    def test_unknown_command_and_flags(self):
        r = zptest.run_zp(["presnet"])
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown command "presnet"', r.stderr)
        r = zptest.run_zp(["present", "--config", self.good, "--fqdn", "x.example.test."])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--fqdn and --key are required", r.stderr)
        r = zptest.run_zp(["serve", "--config", self.good])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tls-cert-file and --tls-private-key-file are required", r.stderr)

    def test_check_config(self):
        r = zptest.run_zp(["check-config", "--config", self.good])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid; 1 provider: lab (rfc2136)", r.stdout)
        r = zptest.run_zp(["check-config", "--config", self.bad])
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.yaml:6: providers[0]: unknown setting \"tll\"", r.stderr)
        r = zptest.run_zp(["check-config", "--config", os.path.join(self.tmp, "missing.yaml")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot open", r.stderr)

    def test_bad_challenge_input_names_the_flag(self):
        r = zptest.run_zp(["present", "--config", self.good, "--fqdn", "_acme-challenge.example.test.",
                           "--key", "not a key"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--key has the character ' '", r.stderr)
        r = zptest.run_zp(["check", "--config", self.good, "--fqdn", "_acme-challenge.example.org.",
                           "--key", "abc"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no provider is configured for _acme-challenge.example.org.", r.stderr)
        self.assertIn("example.test. (lab)", r.stderr)


if __name__ == "__main__":
    unittest.main()

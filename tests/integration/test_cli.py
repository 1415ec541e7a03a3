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
        for cmd in ("serve", "present", "cleanup", "check", "check-config", "certbot-auth",
                    "certbot-cleanup"):
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

    def write_config(self, name, propagation="", nameserver="127.0.0.1:5353", secret=None):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(propagation + "providers:\n  - name: lab\n    type: rfc2136\n"
                    "    dnsZones: [example.test]\n    nameserver: \"%s\"\n"
                    "    tsigKeyName: acme-key\n    tsigSecretFile: %s\n"
                    % (nameserver, secret or self.secret))
        return path

    def test_fifo_config_refused(self):
        fifo = os.path.join(self.tmp, "config.fifo")
        os.mkfifo(fifo)
        try:
            # No writer ever opens the FIFO: the process must still exit on its own.
            r = zptest.run_zp(["check-config", "--config", fifo], timeout=120)
            self.assertEqual(r.returncode, 2)
            self.assertIn("--config: %s is a FIFO (named pipe), not a regular file" % fifo,
                          r.stderr)
            r = zptest.run_zp(["check-config"], env={"ZONEPROOF_CONFIG": fifo}, timeout=120)
            self.assertEqual(r.returncode, 2)
            self.assertIn("ZONEPROOF_CONFIG: %s is a FIFO" % fifo, r.stderr)
        finally:
            os.unlink(fifo)

    def test_bad_hostport_refused_with_field(self):
        cases = [
            ('propagation:\n  resolvers: ["not an addr"]\n', None,
             'propagation: resolvers[0]: "not an addr" is not host:port: it has a space'),
            ('propagation:\n  resolvers: ["127.0.0.1: 53"]\n', None,
             'propagation: resolvers[0]: "127.0.0.1: 53" is not host:port: it has a space'),
            ('propagation:\n  nameservers: ["127.0.0.1:0"]\n', None,
             'propagation: nameservers[0]: "127.0.0.1:0" is not host:port: it has port 0'),
            ('propagation:\n  verifyResolvers: ["::1:53"]\n', None,
             'propagation: verifyResolvers[0]: "::1:53" is not host:port: it has two \':\''),
            ('', "127.0.0.1:65536",
             'providers[0]: nameserver "127.0.0.1:65536" is not host:port: it has port 65536'),
            ('', "[::1]x", 'providers[0]: nameserver "[::1]x" is not host:port'),
        ]
        for i, (prop, ns, want) in enumerate(cases):
            path = self.write_config("hp%d.yaml" % i, prop, ns or "127.0.0.1:5353")
            r = zptest.run_zp(["check-config", "--config", path])
            self.assertEqual(r.returncode, 2, (want, r.stdout))
            self.assertIn(want, r.stderr)
        path = self.write_config("hp-ok.yaml", 'propagation:\n  resolvers: ["[::1]:5353", '
                                 '"127.0.0.1"]\n', "[::1]:5300")
        r = zptest.run_zp(["check-config", "--config", path])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_nameserver_limit(self):
        servers = ", ".join('"127.0.0.%d:53"' % i for i in range(1, 18))
        path = self.write_config("ns17.yaml", "propagation:\n  nameservers: [%s]\n" % servers)
        r = zptest.run_zp(["check-config", "--config", path])
        self.assertEqual(r.returncode, 2)
        self.assertIn("propagation: nameservers lists 17 servers, more than the 16 zoneproof can "
                      "ask; list at most 16", r.stderr)
        # The same refusal at start: serve loads the file through the same parser.
        r = zptest.run_zp(["serve", "--config", path, "--tls-cert-file", path,
                           "--tls-private-key-file", path])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nameservers lists 17 servers", r.stderr)
        servers = ", ".join('"127.0.0.%d:53"' % i for i in range(1, 17))
        path = self.write_config("ns16.yaml", "propagation:\n  nameservers: [%s]\n" % servers)
        r = zptest.run_zp(["check-config", "--config", path])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_kubeconfig_flag_named(self):
        r = zptest.run_zp(["serve", "--config", self.good, "--kubeconfig", "/nonexistent",
                           "--tls-cert-file", self.good, "--tls-private-key-file", self.good],
                          env={"GROUP_NAME": "acme.example.com"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--kubeconfig: cannot open /nonexistent", r.stderr)
        self.assertNotIn("configuration file", r.stderr)
        r = zptest.run_zp(["check-config", "--config", "/nonexistent/c.yaml"])
        self.assertIn("--config: cannot open /nonexistent/c.yaml", r.stderr)

    def test_readable_secret_warns(self):
        secret = zptest.write_secret(self.tmp, "open-secret")
        os.chmod(secret, 0o644)
        path = self.write_config("open.yaml", secret=secret)
        r = zptest.run_zp(["check-config", "--config", path])
        self.assertEqual(r.returncode, 0, r.stderr)  # a warning, not a refusal
        self.assertIn("secret file is readable by group or others", r.stderr)
        self.assertIn('"setting":"tsigSecretFile"', r.stderr)
        self.assertIn("chmod 600 %s" % secret, r.stderr)
        self.assertIn("defaultMode", r.stderr)
        r = zptest.run_zp(["check-config", "--config", self.good])
        self.assertNotIn("readable by group or others", r.stderr)


if __name__ == "__main__":
    unittest.main()

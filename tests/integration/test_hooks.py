"""The zoneproof binary as the ACME clients' own DNS hook, with no wrapper script.

lego's exec provider runs `EXEC_PATH present|cleanup FQDN VALUE` with EXEC_PATH the zoneproof
binary; certbot runs `zoneproof certbot-auth` / `certbot-cleanup` as its manual hooks; acme.sh
sources contrib/acme.sh/dns_zoneproof.sh and calls dns_zoneproof_add/rm. Each gets example.test
and *.example.test from a local pebble through a real BIND, and again on renewal; a hook that
fails stops the client, whose output carries zoneproof's sentence exactly once. The lab is
tests/e2e/demo.py's (its `zoneproof serve` stays unused here).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from zptest import write_secret, zoneproof_bin  # noqa: E402
from demo import CHALLENGE_NAME, KEEP, ZONE, Lab, cert_files, describe_cert, tail  # noqa: E402

ACMESH = os.path.join(ROOT, "contrib", "acme.sh", "dns_zoneproof.sh")
TOOLS = ("named", "pebble", "lego", "certbot", "bash", "dig", "openssl")
MISSING = [t for t in TOOLS if not shutil.which(t) and not os.access("/usr/sbin/" + t, os.X_OK)]
DOMAINS = [ZONE, "*." + ZONE]
# What zoneproof says when the provider cannot write (a TSIG secret named does not know).
REJECTED = re.compile(r"zoneproof: lab \(rfc2136\): update of TXT at "
                      r"_acme-challenge\.example\.test\. rejected by [0-9.:]+: "
                      r"signature rejected: [^\n]*")
WRONG_SECRET = "d3Jvbmd3cm9uZ3dyb25nd3Jvbmd3cm9uZ3dyb25nMTI="

# The acme.sh helpers a dnsapi script calls, as acme.sh defines them in spirit: the account
# configuration is a file of KEY='value' lines.
ACMESH_STUBS = r"""
_info() { printf '[info] %s\n' "$*"; }
_err() { printf '[error] %s\n' "$*" >&2; }
_debug() { :; }
_readaccountconf_mutable() {
  sed -n "s/^SAVED_$1='\(.*\)'\$/\1/p" "$ACCOUNT_CONF_PATH"
}
_saveaccountconf_mutable() {
  grep -v "^SAVED_$1=" "$ACCOUNT_CONF_PATH" > "$ACCOUNT_CONF_PATH.new"
  printf "SAVED_%s='%s'\n" "$1" "$2" >> "$ACCOUNT_CONF_PATH.new"
  mv "$ACCOUNT_CONF_PATH.new" "$ACCOUNT_CONF_PATH"
}
"""


@unittest.skipIf(MISSING, "not installed: %s (scripts/setup.sh installs them)" % " ".join(MISSING))
class Hooks(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.zp = zoneproof_bin()
        cls.lab = Lab(cls.zp)
        cls.lab.start()
        # The lab's configuration (provider "lab", rfc2136 into named, propagation checked at
        # named), and the same with a TSIG secret named rejects.
        cls.config = cls.lab.zp.config
        cls.bad_config = os.path.join(cls.lab.dir, "bad.yaml")
        wrong = write_secret(cls.lab.dir, "wrong-secret", WRONG_SECRET)
        with open(cls.config) as f:
            text = re.sub(r"tsigSecretFile: .*", "tsigSecretFile: " + wrong, f.read())
        with open(cls.bad_config, "w") as f:
            f.write(text)

    @classmethod
    def tearDownClass(cls):
        cls.lab.cleanup()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zp-hooks-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def explain(self, output):
        return "\nclient output (last lines):\n%s\n%s" % (tail(output, 40), self.lab.logs())

    def assert_certificate(self, crt):
        info = describe_cert(crt)
        self.assertEqual(sorted(info["san"]), ["DNS:*.example.test", "DNS:example.test"])
        self.assertIn("Pebble", info.get("issuer", ""))
        return info

    def assert_clean(self):
        self.assertEqual(self.lab.named.txt(CHALLENGE_NAME), [KEEP],
                         "only the record that was there before may stay")

    def assert_sentence_once(self, output, calls):
        """Each of the calls printed zoneproof's sentence once, and nothing else of zoneproof's."""
        self.assertEqual(len(REJECTED.findall(output)), calls,
                         "zoneproof's sentence must appear once per hook call (%d)" % calls
                         + self.explain(output))
        self.assertNotIn('"level"', output, "a JSON log line reached the client's output")

    # lego ---------------------------------------------------------------------------------

    def lego(self, config, command=("run",), domains=DOMAINS):
        return self.lab.lego(domains, os.path.join(self.tmp, "lego"), hook=self.zp,
                             env_extra={"ZONEPROOF_CONFIG": config}, command=command)

    def test_lego_exec_path_is_zoneproof(self):
        status, output = self.lego(self.config)
        self.assertEqual(status, 0, "lego did not get a certificate" + self.explain(output))
        crt = cert_files(os.path.join(self.tmp, "lego"), ZONE)[0]
        first = self.assert_certificate(crt)
        self.assert_clean()
        with open(crt) as f:
            before = f.read()
        status, output = self.lego(self.config, ("renew", "--days", "100000", "--no-random-sleep"))
        self.assertEqual(status, 0, "lego did not renew" + self.explain(output))
        with open(crt) as f:
            self.assertNotEqual(f.read(), before, "lego renew left the certificate as it was")
        self.assertEqual(self.assert_certificate(crt)["san"], first["san"])
        self.assert_clean()

    def test_lego_stops_on_zoneproof_failure(self):
        # One name: lego calls present, which fails, then cleanup, which fails the same way.
        status, output = self.lego(self.bad_config, domains=[ZONE])
        self.assertNotEqual(status, 0, "lego succeeded through a provider that cannot write")
        self.assertIn("acme: error presenting token: exit status 1", output)
        self.assert_sentence_once(output, 2)
        self.assertFalse(os.path.exists(cert_files(os.path.join(self.tmp, "lego"), ZONE)[0]))
        self.assert_clean()

    # certbot ------------------------------------------------------------------------------

    def certbot(self, config, args):
        d = os.path.join(self.tmp, "certbot")
        env = dict(os.environ, ZONEPROOF_CONFIG=config, REQUESTS_CA_BUNDLE=self.lab.pebble.ca_file)
        cmd = ["certbot"] + args + [
            "--config-dir", os.path.join(d, "config"), "--work-dir", os.path.join(d, "work"),
            "--logs-dir", os.path.join(d, "logs"), "--server", self.lab.pebble.directory_url,
            "--non-interactive", "--agree-tos", "--register-unsafely-without-email"]
        r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=300)
        return r.returncode, r.stdout + r.stderr, os.path.join(d, "config", "live", ZONE)

    def certonly(self, config, domains=DOMAINS):
        names = []
        for d in domains:
            names += ["-d", d]
        return self.certbot(config, [
            "certonly", "--manual", "--preferred-challenges", "dns",
            "--manual-auth-hook", "%s certbot-auth" % self.zp,
            "--manual-cleanup-hook", "%s certbot-cleanup" % self.zp,
            "--cert-name", ZONE] + names)

    def test_certbot_manual_hooks_are_zoneproof(self):
        status, output, live = self.certonly(self.config)
        self.assertEqual(status, 0, "certbot did not get a certificate" + self.explain(output))
        crt = os.path.join(live, "cert.pem")
        self.assert_certificate(crt)
        self.assert_clean()
        with open(crt) as f:
            before = f.read()
        # Renewal runs the hooks saved in the renewal configuration.
        # Without a terminal, certbot renew first sleeps a random time unless told not to.
        status, output, _ = self.certbot(self.config, ["renew", "--force-renewal",
                                                       "--no-random-sleep-on-renew"])
        self.assertEqual(status, 0, "certbot did not renew" + self.explain(output))
        with open(crt) as f:
            self.assertNotEqual(f.read(), before, "certbot renew left the certificate as it was")
        self.assert_certificate(crt)
        self.assert_clean()

    def test_certbot_stops_on_zoneproof_failure(self):
        # certbot reports a failed auth hook, still asks the CA, which finds no value, then runs
        # the cleanup hook: two calls, each with the sentence as its whole output.
        status, output, live = self.certonly(self.bad_config, [ZONE])
        self.assertNotEqual(status, 0, "certbot succeeded through a provider that cannot write")
        self.assertIn("Hook '--manual-auth-hook' for example.test ran with error output:\n "
                      "zoneproof: lab (rfc2136): update of TXT", output)
        self.assert_sentence_once(output, 2)
        self.assertFalse(os.path.exists(os.path.join(live, "cert.pem")))
        self.assert_clean()

    def test_certbot_hook_names_a_missing_variable(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTBOT_")}
        env.update(ZONEPROOF_CONFIG=self.config, CERTBOT_DOMAIN=ZONE)
        r = subprocess.run([self.zp, "certbot-auth"], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("zoneproof: CERTBOT_VALIDATION is not set", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_hook_usage_and_flag_sentences(self):
        env = dict(os.environ, ZONEPROOF_CONFIG=self.config)
        r = subprocess.run([self.zp, "present", "--", "example.test", "token", "keyauth"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "zoneproof: present takes NAME VALUE (lego's exec provider, "
                         "EXEC_MODE unset: RAW is not supported) or --fqdn NAME --key VALUE\n")
        # The sentences a hook prints name flags, never the Issuer's config.
        r = subprocess.run([self.zp, "present", "_acme-challenge.example.org.", "v"], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("add its zone to a provider's dnsZones or pass --provider NAME and --zone "
                      "ZONE\n", r.stderr)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        # An ACME value is base64url: one in 64 starts with '-', and lego passes it as is.
        r = subprocess.run([self.zp, "present", "_acme-challenge.example.org.", "-0vMx_Q"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("pass --provider NAME and --zone ZONE\n", r.stderr)
        r = subprocess.run([self.zp, "cleanup", "--provider", "nope", CHALLENGE_NAME, "v"],
                           env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "zoneproof: --provider \"nope\" names no instance of "
                         "zoneproof's configuration (configured: lab)\n")

    # acme.sh ------------------------------------------------------------------------------

    def acmesh(self, env, script, shell="bash"):
        """Runs script in shell after sourcing the hook, as acme.sh does; returns (status, output).

        acme.sh runs under sh (dash on Debian) or bash; the hook must work in both.
        """
        conf = os.path.join(self.tmp, "account-%s.conf" % shell)
        if not os.path.exists(conf):
            open(conf, "w").close()
        e = {k: v for k, v in os.environ.items() if not k.startswith("ZONEPROOF_")}
        e.update(env, ACCOUNT_CONF_PATH=conf)
        r = subprocess.run([shell, "-c", ACMESH_STUBS + '. "%s"\n%s' % (ACMESH, script)],
                           env=e, capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr, conf

    def test_acmesh_dns_zoneproof(self):
        for shell in ("bash", "sh"):
            with self.subTest(shell=shell):
                self.acmesh_add_rm(shell)

    def acmesh_add_rm(self, shell):
        name = CHALLENGE_NAME  # acme.sh passes it without the trailing dot
        status, output, conf = self.acmesh(
            {"ZONEPROOF_BIN": self.zp, "ZONEPROOF_CONFIG": self.config},
            'dns_zoneproof_add %s one && dns_zoneproof_add %s -two' % (name, name), shell)
        self.assertEqual(status, 0, output)
        self.assertIn('[info] presented %s. TXT "one" via lab (rfc2136)' % name, output)
        self.assertEqual(self.lab.named.txt(name), sorted([KEEP, "one", "-two"]))
        with open(conf) as f:
            saved = f.read()
        self.assertIn("SAVED_ZONEPROOF_CONFIG='%s'" % self.config, saved)
        self.assertIn("SAVED_ZONEPROOF_BIN='%s'" % self.zp, saved)
        # Renewals run with the saved settings only.
        status, output, _ = self.acmesh(
            {}, 'dns_zoneproof_rm %s one && dns_zoneproof_rm %s -two' % (name, name), shell)
        self.assertEqual(status, 0, output)
        self.assertIn('[info] cleaned up %s. TXT "-two"' % name, output)
        self.assert_clean()

    def test_acmesh_failure_is_one_error(self):
        status, output, _ = self.acmesh(
            {"ZONEPROOF_BIN": self.zp, "ZONEPROOF_CONFIG": self.bad_config},
            'dns_zoneproof_add %s one' % CHALLENGE_NAME)
        self.assertEqual(status, 1, output)
        self.assertTrue(output.startswith("[error] zoneproof: lab (rfc2136): update of TXT"),
                        output)
        self.assert_sentence_once(output, 1)
        self.assert_clean()


if __name__ == "__main__":
    unittest.main(verbosity=2)

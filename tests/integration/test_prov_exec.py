"""The exec provider running the nsupdate-hook script of docs/providers/exec.md (lego's exec
protocol), which writes into a real named with TSIG, through the CLI.

The shared conformance first. The store is named itself: ExecLab plays the part of the fake,
reading named for the assertions, and a fault makes the configured program one that fails
(the API answered 5xx) or hangs instead. What only an HTTP API has (429 and its Retry-After)
is skipped, with the reason in code. A hang is a real child sleeping past the deadline, which
the fast test clock cannot shorten: those runs keep their budget at 2 s (the conformance
suite's own) and cost that much real time.

Then what only exec has: the very same script run by lego itself against pebble, and called
by hand as lego calls it; the arguments and the clean environment as the program sees them;
the timeout setting; a program killed by a signal; check-config's refusals.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

WRONG_SECRET = "c2VjcmV0LXRoYXQtdGhlLXNlcnZlci1kb2VzLW5vdC1rbm93"
WWW = "_acme-challenge.www.example.test."
DOC = os.path.join(ROOT, "docs", "providers", "exec.md")


def doc_script():
    """The nsupdate-hook script, as docs/providers/exec.md shows it."""
    with open(DOC) as f:
        blocks = re.findall(r"```sh\n(.*?)```", f.read(), re.S)
    hooks = [b for b in blocks if b.startswith("#!/bin/sh\n# nsupdate-hook")]
    if len(hooks) != 1:
        raise AssertionError("docs/providers/exec.md must hold one nsupdate-hook script block")
    return hooks[0]


def write_program(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return path


class ExecLab:
    """What the conformance suite calls its fake. The records live in named; a fault swaps the
    program for one that fails as an API's 5xx would, or hangs."""

    def __init__(self, named, d):
        self.named = named
        self.hook = write_program(d, "nsupdate-hook", doc_script())
        self.failing = write_program(d, "failing-hook", "#!/bin/sh\n"
                                     "echo 'calling the DNS API' >&2\n"
                                     "echo \"the DNS API answered HTTP $FAULT_STATUS "
                                     "(service unavailable)\" >&2\nexit 1\n")
        self.hanging = write_program(d, "hanging-hook", "#!/bin/sh\necho 'waiting' >&2\n"
                                     "sleep 60\n")
        self.fault = None

    def stop(self):
        pass

    def inject(self, status=None, retry_after=None, hang=None, count=1, path=None):
        self.fault = ("hang", None) if hang else ("status", status)

    def clear_faults(self):
        self.fault = None

    def program(self):
        """The command and the extra variables a run uses now."""
        if self.fault is None:
            return self.hook, {}
        if self.fault[0] == "hang":
            return self.hanging, {}
        return self.failing, {"FAULT_STATUS": str(self.fault[1])}

    def txt_values(self, fqdn):
        return self.named.txt(fqdn)

    def snapshot(self):
        hinfo = [("HINFO", ln.strip()) for ln in self.named.dig(FQDN, "HINFO").splitlines()]
        return self.named.records(FQDN) + hinfo + self.named.records(ZONE + ".")


class T(conformance.ProviderConformance, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # The zone holds a foreign record of another type at the challenge name from the start:
        # the TSIG key may only change TXT records, as least privilege asks. (HINFO: BIND's
        # check-names refuses an A record at a name with an underscore.)
        cls.tmp = tempfile.mkdtemp(prefix="zp-prov-exec-")
        cls.named = zptest.Named(
            {ZONE: ['_acme-challenge 300 IN HINFO "foreign" "keep-me"']}).start()
        cls.fake = ExecLab(cls.named, cls.tmp)

    def setUp(self):
        super().setUp()
        self.extra = ""
        self.command = None

    def provider_yaml(self, fake, creds_dir, good=True):
        secret = zptest.write_secret(creds_dir, "tsig-%s" % ("good" if good else "bad"),
                                     zptest.TSIG_SECRET if good else WRONG_SECRET)
        command, env = fake.program()
        env.update({"NAMESERVER": self.named.host, "NAMESERVER_PORT": str(self.named.port),
                    "TSIG_KEY_NAME": zptest.TSIG_NAME})
        return ("name: hook\n"
                "type: exec\n"
                "dnsZones: [\"example.test\", \"other.test\"]\n"
                "command: %s\n"
                "env:\n%s"
                "envFromFiles:\n  TSIG_SECRET: %s\n%s"
                % (self.command or command,
                   "".join("  %s: \"%s\"\n" % kv for kv in sorted(env.items())), secret,
                   self.extra))

    def seed_foreign(self, fake):
        self.named.nsupdate(["update add %s 300 IN TXT \"%s\"" % (FQDN, FOREIGN)])

    def secrets(self):
        return [zptest.TSIG_SECRET, WRONG_SECRET]

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.no_secret_in(r)

    # --- the conformance steps that assume an HTTP API ---
    def test_4_rate_limited_then_success(self):
        self.skipTest("an API's 429 and Retry-After are the program's business: zoneproof runs "
                      "it once and does not retry")

    def test_5_rate_limited_past_deadline(self):
        self.skipTest("an API's 429 and Retry-After are the program's business: zoneproof runs "
                      "it once and does not retry")

    def sentence_faults(self):
        """The conformance list without the rate limit, which exec has no equivalent for:
        each fault an exec program can have, twice."""
        return (
            ("bad credentials", (None, None), {"good": False}),
            ("wrong zone", (None, None),
             {"fqdn": "_acme-challenge.other.test.", "zone": "other.test"}),
            ("the program fails", ({"status": 503},) * 2, {"mode": "skip"}),
            ("hang past the deadline", ({"hang": 60},) * 2, {"mode": "skip", "timeout": "2s"}),
        )

    def test_9_bad_credentials_say_what_nsupdate_said(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        self.refused(r, "hook (exec): nsupdate-hook present %s failed (exit 1): nsupdate could "
                     "not present %s at 127.0.0.1: update failed: NOTAUTH(BADSIG); the server "
                     "rejected the TSIG key (check TSIG_KEY_NAME and TSIG_SECRET)" % (FQDN, FQDN))
        self.assertNotIn(KEY1, self.named.txt(FQDN))

    def test_9_arguments_and_clean_environment(self):
        out = os.path.join(self.tmp, "seen")
        self.command = write_program(self.tmp, "env-hook", "#!/bin/sh\n"
                                     "{ for a in \"$@\"; do printf 'arg %%s\\n' \"$a\"; done\n"
                                     "  tr '\\0' '\\n' < /proc/$$/environ | sort; } > %s\n" % out)
        self.extra = "args: [\"--verbose\", \"two words\"]\n"
        r = zptest.run_zp(["present", "--config", self.config(mode="skip"), "--fqdn", WWW,
                           "--key", KEY2], env={"ZP_LEAK_CHECK": "leaked", "HOME": "/root"})
        self.ok(r)
        with open(out) as f:
            seen = f.read().splitlines()
        self.assertEqual(seen[:5], ["arg --verbose", "arg two words", "arg present", "arg " + WWW,
                                    "arg " + KEY2])
        self.assertEqual(seen[5:], sorted([
            "NAMESERVER=" + self.named.host, "NAMESERVER_PORT=%d" % self.named.port,
            "PATH=/usr/local/bin:/usr/bin:/bin", "TSIG_KEY_NAME=" + zptest.TSIG_NAME,
            "TSIG_SECRET=" + zptest.TSIG_SECRET]))
        self.no_secret_in(r)

    def test_9_timeout_setting(self):
        self.command = self.fake.hanging
        self.extra = "timeout: 1s\n"
        r = self.zp("present", KEY1, mode="skip")
        self.refused(r, "hook (exec): hanging-hook present %s timed out after 1s (its timeout) "
                     "and was stopped" % FQDN)

    def test_9_killed_by_a_signal(self):
        self.command = write_program(self.tmp, "crashing-hook", "#!/bin/sh\n"
                                     "echo 'about to crash' >&2\nkill -USR1 $$\nsleep 5\n")
        r = self.zp("cleanup", KEY1, mode="skip")
        self.refused(r, "crashing-hook cleanup %s was killed by signal" % FQDN,
                     "(SIGUSR1): about to crash")

    def test_9_check_config_refusals(self):
        cases = (
            (write_program(self.tmp, "not-executable", "#!/bin/sh\nexit 0\n"),
             "command %s is not executable" % os.path.join(self.tmp, "not-executable")),
            ("nsupdate-hook", "command \"nsupdate-hook\" must be an absolute path"),
            (os.path.join(self.tmp, "missing"), "cannot be found"),
        )
        os.chmod(cases[0][0], 0o644)
        for command, needle in cases:
            with self.subTest(command=command):
                self.command = command
                r = zptest.run_zp(["check-config", "--config", self.config(mode="skip")])
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertRegex(r.stderr, r"config-good-skip\.yaml:\d+: providers\[0\]: ")
                self.assertIn(needle, r.stderr)
        self.command = None
        self.extra = "timeout: 100ms\n"
        r = zptest.run_zp(["check-config", "--config", self.config(mode="skip")])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("timeout must be between 1s and 1h", r.stderr)
        self.extra = ""
        r = zptest.run_zp(["check-config", "--config", self.config(mode="skip")], check=True)
        self.assertIn("hook (exec)", r.stdout)

    # --- the same script, as lego runs it ---
    def hook_env(self, secret=zptest.TSIG_SECRET):
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NAMESERVER": self.named.host,
                "NAMESERVER_PORT": str(self.named.port), "TSIG_KEY_NAME": zptest.TSIG_NAME,
                "TSIG_SECRET": secret}

    def test_a_called_as_lego_calls_it(self):
        """lego's exec provider runs `EXEC_PATH present FQDN VALUE`: a value presented that way
        is cleaned up through zoneproof, and the other way round."""
        self.no_values_of_ours()
        r = subprocess.run([self.fake.hook, "present", WWW, KEY1], env=self.hook_env(),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.named.txt(WWW), [KEY1])
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(self.named.txt(WWW), [])
        self.ok(self.zp("present", KEY2, fqdn=WWW))
        r = subprocess.run([self.fake.hook, "cleanup", WWW, KEY2], env=self.hook_env(),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.named.txt(WWW), [])

    @unittest.skipUnless(shutil.which("lego") and shutil.which("pebble"),
                         "lego and pebble are not installed (scripts/setup.sh installs them)")
    def test_b_lego_gets_a_certificate_with_the_same_script(self):
        import pebble
        out = tempfile.mkdtemp(prefix="zp-exec-lego-", dir=self.tmp)
        env = self.hook_env()
        with pebble.Pebble(dnsserver=self.named.addr()) as ca:
            env.update({"HOME": out, "EXEC_PATH": self.fake.hook,
                        "LEGO_CA_CERTIFICATES": ca.ca_file, "EXEC_PROPAGATION_TIMEOUT": "60",
                        "EXEC_POLLING_INTERVAL": "1", "EXEC_SEQUENCE_INTERVAL": "1"})
            r = subprocess.run(["lego", "--accept-tos", "--email", "t@example.test",
                                "--server", ca.directory_url, "--dns", "exec", "--dns.disable-cp",
                                "--dns.resolvers", self.named.addr(), "--path", out,
                                "--domains", "exec." + ZONE, "run"],
                               env=env, capture_output=True, text=True, timeout=240,
                               stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, "lego failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
        self.assertTrue(os.path.exists(os.path.join(out, "certificates", "exec.%s.crt" % ZONE)))
        self.assertEqual(self.named.txt("_acme-challenge.exec.%s." % ZONE), [])  # cleaned up
        for secret in self.secrets():
            self.assertNotIn(secret, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()

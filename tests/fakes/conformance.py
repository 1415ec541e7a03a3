"""conformance — the tests every provider must pass, written once.

cert-manager's strict conformance (docs/webhook-protocol.md §4) ported, plus
what platform teams check before trusting a webhook with their zone: foreign
records survive every step (the fake's whole store is compared before and
after), bad credentials and a wrong zone give a sentence a user can act on,
429 is waited out, 5xx and a hanging API end within the deadline.

Each test sets up what it needs (FQDN with no value of ours, faults
cleared), so any one runs alone or in any order.

Importing this module puts the binary on the fast test clock for the whole
process (ZP_TEST_CLOCK=fast, which zptest.run_zp passes on): a backoff, a
Retry-After or a status poll returns at once and moves zoneproof's clock
forward, so deadlines still run out as they would and no test waits for
them. Tests assert what was waited (waits(): the "http retry" log lines),
never how long anything took.

A provider test subclasses ProviderConformance and unittest.TestCase and
provides:
    make_fake(pki_dir, named)  -> a started FakeServer holding zone example.test
                                  (and nothing for zone other.test)
    provider_yaml(fake, creds_dir, good=True) -> the YAML of one providers: entry
                                  (without the leading "- "), with good or bad credentials
    seed_foreign(fake)         -> put a foreign TXT value and a non-TXT record at FQDN
Optionally: account_hint (text the wrong-zone message must contain).
"""
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import pki  # noqa: E402
import zptest  # noqa: E402

ZONE = "example.test"
FQDN = "_acme-challenge.example.test."
KEY1 = zptest.acme_key("first")
KEY2 = zptest.acme_key("second")
FOREIGN = "v=foreign-keep-me"
# The test clock, for every run of the binary in this process (see the top of this file).
TEST_CLOCK = {"ZP_TEST_CLOCK": "fast"}
os.environ.update(TEST_CLOCK)


class ProviderConformance:
    account_hint = None
    deadline = "6s"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-prov-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.named = zptest.Named({ZONE: []}).start()
        cls.fake = cls.make_fake(cls.pki, cls.named)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.fake.clear_faults()

    def no_values_of_ours(self):
        """FQDN holds neither test value, whatever an earlier test (or a failed one) left:
        removed through zoneproof (good credentials), since removing is part of the contract.
        Called by each test, after the provider's setUp has reset its own options."""
        for key in (KEY1, KEY2):
            if key in self.fake.txt_values(FQDN):
                self.ok(self.zp("cleanup", key, mode="skip"))

    def config(self, good=True, mode="wait", timeout=None):
        path = os.path.join(self.tmp, "config-%s-%s.yaml" % ("good" if good else "bad", mode))
        entry = self.provider_yaml(self.fake, self.tmp, good).strip("\n")
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: %s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n"
                    % (mode, timeout or self.deadline, self.named.addr(), entry))
        return path

    def zp(self, action, key, fqdn=FQDN, good=True, mode="wait", timeout=None, zone=None,
           log_level=None):
        args = [action, "--config", self.config(good, mode, timeout), "--fqdn", fqdn, "--key", key]
        if zone:
            args += ["--zone", zone]
        if log_level:
            args += ["--log-level", log_level]
        before = self.stored(fqdn)
        r = zptest.run_zp(args, timeout=90)
        self.check_audit(r, action, key, fqdn, before, self.stored(fqdn))
        return r

    def stored(self, fqdn):
        try:
            return sorted(self.fake.txt_values(fqdn))
        except Exception:  # a name outside the fake's zones holds nothing
            return []

    def check_audit(self, r, action, key, fqdn, before, after):
        """The audit trail of one run (issue #11): at most one line (one challenge), and one
        whenever the values stored at the name changed, about this value; never the value
        itself, a neighbour's value or a credential."""
        lines = [json.loads(ln) for ln in r.stderr.splitlines()
                 if ln.startswith("{") and '"audit":true' in ln]
        changed = before != after
        self.assertLessEqual(len(lines), 1, "more than one audit line for one run:\n" + r.stderr)
        if changed:
            self.assertEqual(len(lines), 1, "a change without its audit line:\n" + r.stderr)
        for a in lines:
            raw = json.dumps(a)
            self.assertEqual((a["action"], a["fqdn"], a["valueHash"]),
                             (action, fqdn, zptest.value_hash(key)), raw)
            self.assertTrue(a["provider"] and a["zone"], raw)
            # A provider may report a failure after a change it made (an action that failed
            # later): the line says what zoneproof was told, and it is there.
            self.assertIn(a["outcome"], ("success", "failure", "refused"), raw)
            if a["outcome"] == "success":
                self.assertEqual((a["reason"], a["message"]), (None, None), raw)
            for secret in self.secrets() + [key, FOREIGN]:
                self.assertNotIn(secret, raw)

    @staticmethod
    def waits(r):
        """The waits (ms) zoneproof's HTTP client took before retrying, from its log
        (--log-level info): what a test asserts instead of how long a run took."""
        return [int(m) for m in re.findall(r'"msg":"http retry"[^\n]*?"wait_ms":(\d+)', r.stderr)]

    def ok(self, r):
        self.assertEqual(r.returncode, 0, "zoneproof failed:\n%s%s" % (r.stdout, r.stderr))

    def no_secret_in(self, r):
        for secret in self.secrets():
            self.assertNotIn(secret, r.stdout + r.stderr)

    def secrets(self):
        return []

    def doctor_credentials(self, name, good_cfg, bad_cfg, writes, proven):
        """doctor proves the credentials by the reads a Present starts with: ok naming what
        was read (proven), a refused credential fails, and the fake saw no write. good_cfg
        and bad_cfg make the configuration files; returns the failing check's cause."""
        before = writes()
        causes = {}
        for make, verdict in ((good_cfg, "ok"), (bad_cfg, "fail")):
            r = zptest.run_zp(["doctor", "--json", "--config", make(), name])
            self.no_secret_in(r)
            self.assertEqual(r.returncode, 0 if verdict == "ok" else 1, r.stdout + r.stderr)
            c = [k for k in json.loads(r.stdout)["names"][0]["checks"]
                 if k["check"] == "credentials"][0]
            self.assertEqual(c["verdict"], verdict, c)
            causes[verdict] = c["cause"]
        self.assertIn(proven, causes["ok"])
        self.assertEqual(writes(), before)
        return causes["fail"]

    # --- the conformance sequence ---
    def test_1_strict_conformance(self):
        self.no_values_of_ours()
        self.seed_foreign(self.fake)
        before = self.fake.snapshot()
        self.assertEqual(self.fake.txt_values(FQDN), [FOREIGN])

        self.ok(self.zp("present", KEY1))
        self.assertEqual(sorted(self.fake.txt_values(FQDN)), sorted([FOREIGN, KEY1]))
        self.assertIn(KEY1, self.named.txt(FQDN))  # the watcher saw it in real DNS

        r = self.zp("present", KEY1)  # idempotent
        self.ok(r)
        self.assertEqual(sorted(self.fake.txt_values(FQDN)), sorted([FOREIGN, KEY1]))

        self.ok(self.zp("present", KEY2))  # apex + wildcard: a second value at one name
        self.assertEqual(sorted(self.fake.txt_values(FQDN)), sorted([FOREIGN, KEY1, KEY2]))

        self.ok(self.zp("cleanup", KEY2))
        self.assertEqual(sorted(self.fake.txt_values(FQDN)), sorted([FOREIGN, KEY1]))
        self.ok(self.zp("cleanup", KEY2))  # double cleanup succeeds
        self.ok(self.zp("cleanup", KEY1))
        self.assertEqual(self.fake.txt_values(FQDN), [FOREIGN])
        self.assertEqual(self.fake.snapshot(), before, "a foreign record changed")
        self.no_secret_in(r)

    def test_2_bad_credentials(self):
        self.no_values_of_ours()
        r = self.zp("present", KEY1, good=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr.lower(), r"credential|token|key|unauthori[sz]ed|rejected")
        self.no_secret_in(r)
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))

    def test_3_wrong_zone(self):
        r = self.zp("present", KEY1, fqdn="_acme-challenge.other.test.", zone="other.test")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("other.test", r.stderr)
        if self.account_hint:
            self.assertIn(self.account_hint, r.stderr)

    # --- foreign state the API keeps beside the values (optional hooks) ---
    # Where the API has disabled records or comments, the provider test defines:
    #   seed_disabled(fake)  -> puts a disabled foreign TXT at FQDN and no enabled value
    #                           besides ours; returns probe(), which reads that state back
    #                           exactly (content, flags, TTL...)
    #   seed_commented(fake) -> puts a comment on the TXT set at FQDN and no enabled value
    #                           besides ours; returns probe() likewise
    # Without them the step is skipped. Our value is the only enabled one, so CleanUp
    # removes the last enabled value: the case that must not delete the set.
    seed_disabled = None
    seed_commented = None

    def foreign_state_kept(self, seed):
        self.no_values_of_ours()
        probe = seed(self.fake)
        seeded = probe()
        self.assertTrue(seeded, "the hook seeded nothing")
        before = self.fake.snapshot()
        self.ok(self.zp("present", KEY1))
        self.assertIn(KEY1, self.fake.txt_values(FQDN))
        self.assertEqual(probe(), seeded, "Present changed the foreign state")
        self.ok(self.zp("present", KEY2, mode="skip"))
        self.ok(self.zp("cleanup", KEY1, mode="skip"))
        self.ok(self.zp("cleanup", KEY2, mode="skip"))  # the last enabled value of ours
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))
        self.assertNotIn(KEY2, self.fake.txt_values(FQDN))
        self.assertEqual(probe(), seeded, "CleanUp changed the foreign state")
        self.assertEqual(self.fake.snapshot(), before, "a foreign record changed")

    def test_3a_disabled_record_kept(self):
        if self.seed_disabled is None:
            self.skipTest("the API has no disabled records")
        self.foreign_state_kept(self.seed_disabled)

    def test_3b_comment_kept(self):
        if self.seed_commented is None:
            self.skipTest("the API has no comments on records")
        self.foreign_state_kept(self.seed_commented)

    def test_4_rate_limited_then_success(self):
        self.no_values_of_ours()
        self.fake.inject(status=429, retry_after=1)
        r = self.zp("present", KEY1, mode="skip", log_level="info")
        self.ok(r)
        self.assertIn(1000, self.waits(r))  # Retry-After: 1 was honoured
        self.ok(self.zp("cleanup", KEY1, mode="skip"))

    def test_5_rate_limited_past_deadline(self):
        self.no_values_of_ours()
        self.fake.inject(status=429, retry_after=300, count=20)
        r = self.zp("present", KEY1, mode="skip", timeout="3s")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("rate limited by", r.stderr)
        self.assertIn("retry after", r.stderr)
        self.fake.clear_faults()

    def test_6_server_errors(self):
        self.no_values_of_ours()
        self.fake.inject(status=503, count=20)
        r = self.zp("present", KEY1, mode="skip", timeout="3s")
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"5\d\d|unavailable|server error|rate limited")
        self.fake.clear_faults()
        self.assertNotIn(KEY1, self.fake.txt_values(FQDN))

    def test_7_hang_past_deadline(self):
        self.no_values_of_ours()
        # The fake holds each request until the test clears the faults: only zoneproof's
        # deadline can end the call, and the sentence says that is what ended it.
        self.fake.inject(hang=60, count=3)
        r = self.zp("present", KEY1, mode="skip", timeout="2s")
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"did not answer in time|no time left|timed? ?out")
        self.fake.clear_faults()

    # --- the same failure twice, the same sentence (issue #9) ---
    @staticmethod
    def final_sentence(r):
        """The CLI's last 'zoneproof: ' line on stderr: the status message cert-manager would
        show (the JSON log lines around it carry the figures)."""
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith("zoneproof: ")]
        return lines[-1] if lines else ""

    def sentence_faults(self):
        """Each fault of the steps above as (name, the fault of each of two attempts, how to
        call): a provider with other faults (one with no HTTP API) gives its own list."""
        rate = {"status": 429, "count": 20}
        return (
            ("bad credentials", (None, None), {"good": False}),
            ("wrong zone", (None, None),
             {"fqdn": "_acme-challenge.other.test.", "zone": "other.test"}),
            ("rate limited past the deadline",
             (dict(rate, retry_after=300), dict(rate, retry_after=240)),
             {"mode": "skip", "timeout": "3s"}),
            ("server errors", ({"status": 503, "count": 20},) * 2,
             {"mode": "skip", "timeout": "3s"}),
            ("hang past the deadline", ({"hang": 60, "count": 3},) * 2,
             {"mode": "skip", "timeout": "2s"}),
        )

    def test_8_each_fault_twice_same_sentence(self):
        """cert-manager reconciles again whenever the status message changes: every fault of
        the steps above (same set-up), run twice, says byte for byte the same thing. Waits,
        retry-after seconds, attempts and elapsed times go to the log, never to the sentence.
        The second attempt comes later, as cert-manager's does: the API's Retry-After has
        counted down meanwhile."""
        for name, attempts, how in self.sentence_faults():
            with self.subTest(fault=name):
                said = []
                for fault in attempts:
                    self.fake.clear_faults()
                    self.no_values_of_ours()
                    if fault:
                        self.fake.inject(**fault)
                    try:
                        r = self.zp("present", KEY1, **how)
                    finally:
                        self.fake.clear_faults()
                    self.assertNotEqual(r.returncode, 0, "%s: present succeeded" % name)
                    self.no_secret_in(r)
                    said.append(self.final_sentence(r))
                    self.assertTrue(said[-1], "%s: no 'zoneproof: ' line:\n%s" % (name, r.stderr))
                self.assertEqual(said[0], said[1], "%s: the sentence changed between attempts"
                                 % name)

"""The rfc2136 provider against real BIND, Knot DNS and PowerDNS, through the CLI.

Each server gets the same steps: cert-manager's strict conformance (Present,
re-Present, a second value at the same name, CleanUp of one leaves the other,
double CleanUp), with a foreign TXT value and an A record at the name that
must survive; then each refusal a user can cause (an unknown key, a wrong
secret, a wrong algorithm, a key the server knows but does not allow, a key
allowed only elsewhere, an unsigned update, a zone the server does not serve).

For each refusal the test pins two things: what the server answered (rcode,
TSIG error, whether the answer carried a TSIG RR and whether it verified with
the key, from zoneproof's "rfc2136 update" log line), and the sentence
zoneproof made of it. The servers answer the same mistake differently, and the
sentence follows the answer, not the brand:

    refusal             BIND               Knot 3            PowerDNS 4
    unknown key         NOTAUTH+BADKEY     NOTAUTH+BADKEY    REFUSED, unsigned
    wrong secret        NOTAUTH+BADSIG     NOTAUTH+BADSIG    REFUSED, unsigned
    key not allowed     REFUSED, signed    NOTAUTH+BADKEY    REFUSED, signed

test_rfc2136.py covers the rest of the provider against BIND (TCP, TTL, md5,
the zone option, what never reaches a server).
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import knot  # noqa: E402
import pdns  # noqa: E402
import zptest  # noqa: E402

ZONE = "example.test"
OTHER_ZONE = "other.test"
NAME = "_acme-challenge.example.test."
ELSEWHERE = "_acme-challenge.other.example.test."  # where narrow-key may write (BIND, Knot)
FOREIGN_TXT = '"kept-by-someone-else"'
FOREIGN_A = "192.0.2.1"
NARROW_KEY_NAME = "narrow-key"      # allowed TXT at one other name (another zone: PowerDNS)
STRANGER_KEY_NAME = "stranger-key"  # known to the server, allowed nothing
NARROW_SECRET = base64.b64encode(b"narrow-test-secret-bytes-0123456").decode()
STRANGER_SECRET = base64.b64encode(b"stranger-test-secret-bytes-01234").decode()
WRONG_SECRET = base64.b64encode(b"not-the-secret-the-server-holds!").decode()
SECRETS = (zptest.TSIG_SECRET, NARROW_SECRET, STRANGER_SECRET, WRONG_SECRET)
RECORDS = ["_acme-challenge 60 IN A %s" % FOREIGN_A, "_acme-challenge 60 IN TXT %s" % FOREIGN_TXT]

# What each server answered to each refusal, printed when the module ends.
OBSERVED = {}

# The sentences' stable parts, filled in with the server's address, the key, its algorithm,
# the record's name and zone.
BADKEY = ("rejected by {addr}: the server does not know key {key} with algorithm {alg}, or (Knot "
          "answers the same way) no acl lets that key update TXT at {name}; check tsigKeyName "
          "and tsigAlgorithm against the server's key statement, then the zone's acl")
BADSIG = ("rejected by {addr}: signature rejected: tsigSecretFile does not hold the server's "
          "secret for key {key}")
REFUSED_UNSIGNED = ("refused by {addr} in an answer not signed with key {key}, so the server did "
                    "not accept the key: most likely tsigSecretFile does not hold the server's "
                    "secret, else tsigKeyName names a key the server does not have or "
                    "tsigAlgorithm ({alg}) differs from the server's (PowerDNS answers all three "
                    "this way); if all three match, the zone's update policy refuses the key")
REFUSED_SIGNED = ("update refused by {addr}: the key {key} may not change TXT at {name} (the "
                  "server holds the key: it signed its answer); allow it in the zone's update "
                  "policy (BIND: grant {key} name {name} TXT; in update-policy. PowerDNS: {key} "
                  "in the zone's TSIG-ALLOW-DNSUPDATE metadata, this host in "
                  "allow-dnsupdate-from), or set tsigKeyName to a key that may")
NOTAUTH_SIGNED = ("rejected by {addr}: the server is not authoritative (primary) for zone {zone}; "
                  "point nameserver at the zone's primary")
NOTAUTH_UNSIGNED = ("rejected by {addr}: the server is not authoritative (primary) for zone "
                    "{zone}, or (Knot answers the same way) no acl lets unsigned updates from "
                    "this host change it")
REFUSED_NOKEY = "update refused by {addr}: unsigned updates may not change TXT at {name}"


class BindServer(zptest.Named):
    """named with the A record at the underscore name (check-names would refuse it)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        conf = os.path.join(self.dir, "named.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("options {", "options {\n  check-names primary ignore;", 1))


class Conformance:
    """The steps every server gets; a subclass starts its server and states what it answers."""

    server = None
    brand = None
    # refusal -> (rcode, TSIG error, the answer carries a TSIG RR, it verifies with the key)
    ANSWERS = {}
    # refusal -> the sentence zoneproof makes of that answer (a template of the constants above)
    SENTENCES = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-rfc2136-%s-" % cls.brand.lower())
        try:
            cls.server = cls.start_server()
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.before = self.server.records(NAME)
        self.assertEqual(self.before, sorted([("A", FOREIGN_A), ("TXT", FOREIGN_TXT)]))

    def config(self, secret=zptest.TSIG_SECRET, zones=(ZONE,), wait=False, **opts):
        """A configuration with one rfc2136 instance "lab" aimed at the server."""
        settings = {"nameserver": self.server.addr(), "tsigKeyName": zptest.TSIG_NAME}
        settings.update(opts)
        if settings.get("tsigKeyName") and "tsigSecretFile" not in settings:
            settings["tsigSecretFile"] = zptest.write_secret(
                self.tmp, "secret-%s" % self.id().rsplit(".", 1)[1], secret)
        lines = ["propagation:"]
        if wait:
            lines += ["  mode: wait", "  timeout: 20s",
                      '  nameservers: ["%s"]' % self.server.addr()]
        else:
            # Pinned, so no resolver is asked (zone discovery, DNSSEC): loopback only.
            lines += ["  mode: skip", '  nameservers: ["%s"]' % self.server.addr()]
        lines += ["providers:", "  - name: lab", "    type: rfc2136",
                  "    dnsZones: [%s]" % ", ".join('"%s"' % z for z in zones)]
        lines += ['    %s: "%s"' % (k, v) for k, v in settings.items() if v is not None]
        path = os.path.join(self.tmp, "zoneproof-%s.yaml" % self.id().rsplit(".", 1)[1])
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def zp(self, action, cfg, value, fqdn=NAME):
        r = zptest.run_zp([action, "--config", cfg, "--fqdn", fqdn, "--key", value,
                           "--log-level", "info"])
        for secret in SECRETS:
            self.assertNotIn(secret, r.stdout + r.stderr, "a secret reached the output")
        return r

    def ok(self, action, cfg, value, fqdn=NAME):
        r = self.zp(action, cfg, value, fqdn)
        self.assertEqual(r.returncode, 0, "zoneproof %s failed:\n%s" % (action, r.stderr))

    @staticmethod
    def answer(stderr):
        """(rcode, TSIG error, has TSIG RR, verified) of the last update, from the log."""
        found = None
        for line in stderr.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("msg") == "rfc2136 update":
                found = (rec["rcode"], rec["tsig_error"], rec["reply_has_tsig"],
                         rec["signed_reply_ok"])
        return found

    def refused(self, refusal, cfg, key=zptest.TSIG_NAME, alg="hmac-sha256", fqdn=NAME,
                zone=ZONE, actions=("present", "cleanup")):
        """Runs the actions, which must fail with the answer ANSWERS[refusal] and the sentence
        SENTENCES[refusal]; nothing at NAME may change."""
        want = self.SENTENCES[refusal].format(addr=self.server.addr(), key=key, alg=alg,
                                              name=fqdn, zone=zone + ".")
        for action in actions:
            r = self.zp(action, cfg, zptest.acme_key(refusal), fqdn)
            self.assertNotEqual(r.returncode, 0, "zoneproof %s succeeded" % action)
            got = self.answer(r.stderr)
            OBSERVED[(self.brand, refusal)] = got
            self.assertEqual(got, self.ANSWERS[refusal],
                             "%s's answer to %s changed:\n%s" % (self.brand, refusal, r.stderr))
            lines = [ln for ln in r.stderr.splitlines() if ln.startswith("zoneproof: ")]
            self.assertTrue(lines, "no 'zoneproof: ' sentence on stderr:\n" + r.stderr)
            self.assertIn(want, lines[-1])
        self.assertEqual(self.server.records(NAME), self.before)

    def assert_txt(self, *values):
        """The name holds exactly the foreign records plus values, as the server serves it."""
        want = sorted(self.before + [("TXT", '"%s"' % v) for v in values])
        self.assertEqual(self.server.records(NAME), want)

    # ---- conformance -------------------------------------------------------------------------

    def test_strict_conformance(self):
        cfg = self.config()
        one, two = zptest.acme_key(self.brand + "apex"), zptest.acme_key(self.brand + "wild")
        self.ok("present", cfg, one)
        self.assert_txt(one)
        self.ok("present", cfg, one)  # idempotent: no second copy
        self.assert_txt(one)
        self.ok("present", cfg, two)  # apex + wildcard validate at the same name
        self.assert_txt(one, two)
        self.ok("cleanup", cfg, one)  # removes exactly one value, never the foreign ones
        self.assert_txt(two)
        self.ok("cleanup", cfg, one)  # already gone is success
        self.assert_txt(two)
        self.ok("cleanup", cfg, two)
        self.assert_txt()

    def test_present_waits_until_the_server_serves_it(self):
        cfg = self.config(wait=True)
        value = zptest.acme_key(self.brand + "wait")
        self.ok("present", cfg, value)
        self.assert_txt(value)
        self.ok("cleanup", cfg, value)
        self.assert_txt()

    # ---- refusals ----------------------------------------------------------------------------

    def test_unknown_key(self):
        self.refused("unknown key", self.config(tsigKeyName="nobody-key"), key="nobody-key")

    def test_wrong_secret(self):
        self.refused("wrong secret", self.config(secret=WRONG_SECRET))

    def test_wrong_algorithm(self):
        self.refused("wrong algorithm", self.config(tsigAlgorithm="hmac-sha512"),
                     alg="hmac-sha512", actions=("present",))

    def test_key_known_but_not_allowed(self):
        self.refused("key not allowed",
                     self.config(secret=STRANGER_SECRET, tsigKeyName=STRANGER_KEY_NAME),
                     key=STRANGER_KEY_NAME)

    def test_key_allowed_only_elsewhere(self):
        cfg = self.config(secret=NARROW_SECRET, tsigKeyName=NARROW_KEY_NAME,
                          zones=(ZONE, OTHER_ZONE))
        self.refused("key allowed elsewhere", cfg, key=NARROW_KEY_NAME, actions=("present",))
        # The grant it does have works.
        value = zptest.acme_key(self.brand + "narrow")
        self.ok("present", cfg, value, fqdn=self.NARROW_NAME)
        self.assertEqual(self.server.txt(self.NARROW_NAME), [value])
        self.ok("cleanup", cfg, value, fqdn=self.NARROW_NAME)
        self.assertEqual(self.server.txt(self.NARROW_NAME), [])

    def test_unsigned_update(self):
        self.refused("unsigned", self.config(tsigKeyName=None), actions=("present",))

    def test_zone_not_served(self):
        self.refused("zone not served", self.config(zones=("elsewhere.test",)),
                     fqdn="_acme-challenge.elsewhere.test.", zone="elsewhere.test",
                     actions=("present",))


class Bind(Conformance, unittest.TestCase):
    brand = "BIND"
    NARROW_NAME = ELSEWHERE
    SENTENCES = {"unknown key": BADKEY, "wrong secret": BADSIG, "wrong algorithm": BADKEY,
                 "key not allowed": REFUSED_SIGNED, "key allowed elsewhere": REFUSED_SIGNED,
                 "unsigned": REFUSED_NOKEY, "zone not served": NOTAUTH_SIGNED}
    ANSWERS = {
        "unknown key": ("NOTAUTH", "BADKEY", True, False),
        "wrong secret": ("NOTAUTH", "BADSIG", True, False),
        "wrong algorithm": ("NOTAUTH", "BADKEY", True, False),
        "key not allowed": ("REFUSED", "none", True, True),
        "key allowed elsewhere": ("REFUSED", "none", True, True),
        "unsigned": ("REFUSED", "none", False, False),
        "zone not served": ("NOTAUTH", "none", True, True),
    }

    @classmethod
    def start_server(cls):
        policy = ("grant %s subdomain %s. TXT; grant %s name %s TXT;"
                  % (zptest.TSIG_NAME, ZONE, NARROW_KEY_NAME, ELSEWHERE))
        return BindServer({ZONE: RECORDS}, policy={ZONE: policy},
                          extra_keys={NARROW_KEY_NAME: ("hmac-sha256", NARROW_SECRET),
                                      STRANGER_KEY_NAME: ("hmac-sha256", STRANGER_SECRET)}
                          ).start()


class Knot(Conformance, unittest.TestCase):
    brand = "Knot"
    NARROW_NAME = ELSEWHERE
    SENTENCES = {"unknown key": BADKEY, "wrong secret": BADSIG, "wrong algorithm": BADKEY,
                 "key not allowed": BADKEY, "key allowed elsewhere": BADKEY,
                 "unsigned": NOTAUTH_UNSIGNED, "zone not served": NOTAUTH_SIGNED}
    ANSWERS = {
        "unknown key": ("NOTAUTH", "BADKEY", True, False),
        "wrong secret": ("NOTAUTH", "BADSIG", True, False),
        "wrong algorithm": ("NOTAUTH", "BADKEY", True, False),
        "key not allowed": ("NOTAUTH", "BADKEY", True, False),
        "key allowed elsewhere": ("NOTAUTH", "BADKEY", True, False),
        "unsigned": ("NOTAUTH", "none", False, False),
        "zone not served": ("NOTAUTH", "none", False, False),
    }

    @classmethod
    def start_server(cls):
        acls = [{"id": "acme-update", "key": zptest.TSIG_NAME, "action": "update",
                 "update-type": ["TXT"]},
                {"id": "narrow-update", "key": NARROW_KEY_NAME, "action": "update",
                 "update-type": ["TXT"], "update-owner": "name", "update-owner-match": "equal",
                 "update-owner-name": [ELSEWHERE]}]
        return knot.Knot({ZONE: RECORDS},
                         keys={NARROW_KEY_NAME: ("hmac-sha256", NARROW_SECRET),
                               STRANGER_KEY_NAME: ("hmac-sha256", STRANGER_SECRET)},
                         acls=acls).start()


class PowerDNS(Conformance, unittest.TestCase):
    brand = "PowerDNS"
    # Without a Lua policy PowerDNS allows a key per zone, not per name: narrow-key may
    # update other.test only.
    NARROW_NAME = "_acme-challenge.other.test."
    SENTENCES = {"unknown key": REFUSED_UNSIGNED, "wrong secret": REFUSED_UNSIGNED,
                 "wrong algorithm": REFUSED_UNSIGNED, "key not allowed": REFUSED_SIGNED,
                 "key allowed elsewhere": REFUSED_SIGNED, "unsigned": REFUSED_NOKEY,
                 "zone not served": NOTAUTH_SIGNED}
    ANSWERS = {
        "unknown key": ("REFUSED", "none", False, False),
        "wrong secret": ("REFUSED", "none", False, False),
        "wrong algorithm": ("REFUSED", "none", False, False),
        "key not allowed": ("REFUSED", "none", True, True),
        "key allowed elsewhere": ("REFUSED", "none", True, True),
        "unsigned": ("REFUSED", "none", False, False),
        "zone not served": ("NOTAUTH", "none", True, True),
    }

    @classmethod
    def start_server(cls):
        p = pdns.Pdns(zones=(ZONE, OTHER_ZONE), cache_ttl=0,
                      extra_conf=["dnsupdate=yes", "allow-dnsupdate-from=127.0.0.0/8"])
        p.start()
        try:
            p.set_rrset(NAME, "A", 60, [FOREIGN_A], zone=ZONE)
            p.set_rrset(NAME, "TXT", 60, [FOREIGN_TXT], zone=ZONE)
            p.add_tsig_key(zptest.TSIG_NAME, zptest.TSIG_SECRET)
            p.add_tsig_key(NARROW_KEY_NAME, NARROW_SECRET)
            p.add_tsig_key(STRANGER_KEY_NAME, STRANGER_SECRET)
            p.set_metadata(ZONE, "TSIG-ALLOW-DNSUPDATE", [zptest.TSIG_NAME])
            p.set_metadata(OTHER_ZONE, "TSIG-ALLOW-DNSUPDATE", [NARROW_KEY_NAME])
        except Exception:
            p.cleanup()
            raise
        return p


def tearDownModule():
    if not OBSERVED:
        return
    sys.stderr.write("\nwhat each server answered (rcode, TSIG error, TSIG RR, verified):\n")
    for (brand, refusal), got in sorted(OBSERVED.items()):
        sys.stderr.write("  %-9s %-22s %s\n" % (brand, refusal, got))


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""The akamai provider against fake_akamai (Edge DNS API v2 record sets behind EdgeGrid
signatures, which the fake recomputes for every request) and a real named, through the CLI.

The shared conformance first, then what this API makes easy to get wrong: the signature itself
(the fake verified every request, and refuses a bad one with Akamai's answer), each credential
named when it is the one refused, the whole record set written back with every foreign value,
POST/PUT/DELETE chosen by what the set becomes, a change met meanwhile (409) done once more from
a fresh read, accountSwitchKey sent and signed, and each error sentence.
"""
import json
import os
import ssl
import sys
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import conformance  # noqa: E402
import fake_akamai as fa  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

WRONG_SECRET = "zpWrongSecret0123456789abcdefghijklmnopqrs="
WRONG_ACCESS = "akab-zpwrongaccess012345-abcdefghijklmnop"
WWW = "_acme-challenge.www.example.test."
SET_PATH = "/config-dns/v2/zones/example.test/names/%s/types/TXT"


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = "account"

    @classmethod
    def make_fake(cls, pki_dir, named):
        return fa.FakeAkamai(pki_dir, named).start()

    def setUp(self):
        super().setUp()
        self.extra = ""
        self.client = None  # (client token, secret, access token) instead of the good ones
        f = self.fake
        f.conflicts, f.before_write, f.after_auth = 0, None, []

    def provider_yaml(self, fake, creds_dir, good=True):
        token, secret, access = self.client or (fa.CLIENT_TOKEN, fa.CLIENT_SECRET,
                                                fa.ACCESS_TOKEN)
        if not good:
            secret = WRONG_SECRET
        tag = "good" if good else "bad"
        spath = zptest.write_secret(creds_dir, "akamai-secret-%s" % tag, secret)
        apath = zptest.write_secret(creds_dir, "akamai-access-%s" % tag, access)
        return ("name: edgedns\n"
                "type: akamai\n"
                "dnsZones: [\"example.test\", \"other.test\"]\n"
                "host: %s\n"
                "clientToken: %s\n"
                "clientSecretFile: %s\n"
                "accessTokenFile: %s\n"
                "caFile: %s\n%s" % (fake.host, token, spath, apath, fake.ca_file, self.extra))

    def seed_foreign(self, fake):
        fake.seed(FQDN, "TXT", 300, ['"%s"' % FOREIGN])
        fake.seed(FQDN, "A", 300, ["192.0.2.1"])

    def secrets(self):
        return [fa.CLIENT_SECRET, fa.ACCESS_TOKEN, fa.READONLY_SECRET, fa.READONLY_ACCESS,
                WRONG_SECRET, WRONG_ACCESS, fa.CLIENT_TOKEN]

    def refused(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.no_secret_in(r)

    # --- the signature ---
    def test_8_every_request_was_signed_and_verified(self):
        self.fake.verified.clear()
        self.fake.rejected.clear()
        n = len(self.fake.calls())
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        calls = self.fake.calls()[n:]
        self.assertEqual(self.fake.rejected, [])
        self.assertEqual([(m, p) for m, p, _, _ in self.fake.verified],
                         [(c[0], c[1]) for c in calls])
        self.assertEqual([m for m, _, _, _ in self.fake.verified], ["GET", "POST", "GET", "DELETE"])
        nonces = [v[3] for v in self.fake.verified]
        self.assertEqual(len(set(nonces)), len(nonces), "a nonce was used twice")

    def test_8_fake_refuses_a_bad_signature_and_a_stale_timestamp(self):
        # The fake holds to the gateway's rules, so the tests above mean something.
        path = SET_PATH % "x.example.test"

        def get(auth):
            req = urllib.request.Request(self.fake.url(path), headers={"Authorization": auth})
            try:
                with urllib.request.urlopen(req, context=ssl.create_default_context(
                        cafile=self.fake.ca_file)) as r:
                    return r.status, None
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        good = fa.authorization(fa.CLIENT_TOKEN, fa.ACCESS_TOKEN, fa.CLIENT_SECRET, "GET",
                                self.fake.host, path, b"")
        self.assertEqual(get(good)[0], 404)  # signed right: the set does not exist
        st, body = get(good.replace("signature=", "signature=A"))
        self.assertEqual((st, body["title"], body["detail"]),
                         (401, "Not authorized", "The signature does not match"))
        self.assertIn("pep-authn/deny", body["type"])
        stale = time.strftime("%Y%m%dT%H:%M:%S+0000", time.gmtime(time.time() - 3600))
        st, body = get(fa.authorization(fa.CLIENT_TOKEN, fa.ACCESS_TOKEN, fa.CLIENT_SECRET,
                                        "GET", self.fake.host, path, b"", timestamp=stale))
        self.assertEqual((st, body["detail"]), (401, "Invalid timestamp"))
        other = fa.authorization(fa.CLIENT_TOKEN, fa.ACCESS_TOKEN, fa.CLIENT_SECRET, "GET",
                                 self.fake.host, path + "?accountSwitchKey=x", b"")
        self.assertEqual(get(other)[1]["detail"], "The signature does not match")

    def test_8_a_retry_is_signed_anew(self):
        # The API fails behind the gateway (503) after the nonce was taken: the client's retry
        # carries a fresh timestamp and nonce (zp_http_req.sign), so the gateway, which keeps
        # every nonce it accepted, refuses nothing.
        self.fake.after_auth = [503]
        self.fake.rejected.clear()
        self.fake.verified.clear()
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.after_auth, [], "the 503 was never answered")
        self.assertEqual(self.fake.rejected, [])
        nonces = [v[3] for v in self.fake.verified]
        self.assertEqual(len(set(nonces)), len(nonces), "a nonce was used twice")
        self.assertEqual(self.fake.txt_values(WWW), [KEY1])
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))

    def test_8_fake_signs_like_akamais_vectors(self):
        # akamai/AkamaiOPEN-edgegrid-python, akamai/edgegrid/test/testcases.json, "POST inside
        # limit": the fake's verifier computes what Akamai's client computes.
        auth = fa.authorization("akab-client-token-xxx-xxxxxxxxxxxxxxxx",
                                "akab-access-token-xxx-xxxxxxxxxxxxxxxx",
                                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=", "POST",
                                "akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net",
                                "/testapi/v1/t3", b"datadatadatadatadatadatadatadata",
                                timestamp="20140321T19:34:21+0000",
                                nonce="nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
        self.assertTrue(auth.endswith("signature=hXm4iCxtpN22m4cbZb4lVLW5rhX8Ca82vCFqXzSTPe4="))

    # --- credentials ---
    def test_a_wrong_secret_names_the_secret_file(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        self.refused(r, "Akamai rejected the EdgeGrid credentials (The signature does not match)",
                     "clientSecretFile", "akamai-secret-bad")
        self.assertEqual(self.fake.rejected[-1], "The signature does not match")

    def test_a_wrong_access_token_names_its_file(self):
        self.client = (fa.CLIENT_TOKEN, fa.CLIENT_SECRET, WRONG_ACCESS)
        r = self.zp("present", KEY1, mode="skip")
        self.refused(r, "Invalid authorization access token", "accessTokenFile",
                     "akamai-access-good")

    def test_a_unknown_client_token(self):
        self.client = ("akab-nosuchclient0123456-abcdefghijklmnop", fa.CLIENT_SECRET,
                       fa.ACCESS_TOKEN)
        r = self.zp("present", KEY1, mode="skip")
        self.refused(r, "Invalid authorization client token", "clientToken")

    def test_a_read_only_client(self):
        self.client = (fa.READONLY_CLIENT, fa.READONLY_SECRET, fa.READONLY_ACCESS)
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "(403 Forbidden): the API client lacks READ-WRITE access to zone "
                     "example.test")
        self.assertIsNone(self.fake.rrset(WWW))

    def test_a_account_switch_key_is_sent_and_signed(self):
        self.extra = "accountSwitchKey: \"%s\"\n" % fa.SWITCH_KEY
        self.fake.verified.clear()
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.assertTrue(self.fake.verified)
        for v in self.fake.verified:
            self.assertTrue(v[1].endswith("?accountSwitchKey=1-ABCDE%3A1-2345"), v)
        self.extra = "accountSwitchKey: \"1-OTHER:1-1\"\n"
        r = self.zp("present", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "403 Forbidden", "accountSwitchKey")

    # --- what is written ---
    def test_9_foreign_values_survive_present_and_cleanup(self):
        self.fake.seed(WWW, "TXT", 900, ['"someone-else"', '"v=spf1 -all"'])
        self.fake.bodies.clear()
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("present", KEY2, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.rrset(WWW), (900, ['"someone-else"', '"v=spf1 -all"',
                                                      '"%s"' % KEY1, '"%s"' % KEY2]))
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("cleanup", KEY2, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.rrset(WWW), (900, ['"someone-else"', '"v=spf1 -all"']))
        self.assertEqual([b[0] for b in self.fake.bodies], ["PUT"] * 4)
        self.assertEqual(self.fake.bodies[0][2],
                         {"name": WWW.rstrip("."), "type": "TXT", "ttl": 900,
                          "rdata": ['"someone-else"', '"v=spf1 -all"', '"%s"' % KEY1]})
        self.assertEqual(sorted(self.named.txt(WWW)), sorted(["someone-else", "v=spf1 -all"]))
        self.fake.seed(WWW, "TXT", 0, [])

    def test_9_new_set_is_posted_and_last_value_deleted(self):
        self.fake.bodies.clear()
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(self.fake.bodies[0],
                         ("POST", SET_PATH % WWW.rstrip("."),
                          {"name": WWW.rstrip("."), "type": "TXT", "ttl": 60,
                           "rdata": ['"%s"' % KEY1]}))
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))  # already there: no write
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))  # already gone: no write
        self.assertEqual([b[0] for b in self.fake.bodies], ["POST", "DELETE"])
        self.assertIsNone(self.fake.rrset(WWW))
        self.assertEqual(self.named.txt(WWW), [])

    def test_9_conflict_is_read_again_once(self):
        # Another client adds a value between our read and our write: the 409 makes zoneproof
        # read again, and its value is kept.
        self.fake.seed(WWW, "TXT", 300, ['"first"'])
        self.fake.before_write = lambda f: f.seed(WWW, "TXT", 300, ['"first"', '"racer"'])
        self.fake.conflicts = 1
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(sorted(self.fake.txt_values(WWW)), sorted(["first", "racer", KEY1]))
        self.fake.conflicts = 2
        r = self.zp("cleanup", KEY1, fqdn=WWW, mode="skip")
        self.refused(r, "changed meanwhile (409 Conflict)")
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))
        self.assertEqual(sorted(self.fake.txt_values(WWW)), ["first", "racer"])
        self.fake.seed(WWW, "TXT", 0, [])

    def test_9_set_removed_under_a_put(self):
        self.fake.seed(WWW, "TXT", 300, ['"other"'])
        self.fake.before_write = lambda f: f.seed(WWW, "TXT", 0, [])
        self.ok(self.zp("present", KEY1, fqdn=WWW, mode="skip"))  # PUT 404: read, then POST
        self.assertEqual(self.fake.txt_values(WWW), [KEY1])
        self.ok(self.zp("cleanup", KEY1, fqdn=WWW, mode="skip"))

    def test_b_zone_not_found_sentence(self):
        r = self.zp("present", KEY1, fqdn="_acme-challenge.other.test.", zone="other.test")
        self.refused(r, "zone other.test is not an Edge DNS zone of the account the API "
                        "client reaches")

    def test_b_host_setting_is_checked(self):
        self.extra = ""
        path = self.config(mode="skip")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("host: %s" % self.fake.host,
                                 "host: \"http://%s/x\"" % self.fake.host))
        r = zptest.run_zp(["check-config", "--config", path])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("must be the API client's host name", r.stderr)

    def test_doctor_proves_the_credentials_without_writing(self):
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config(mode="skip"),
            lambda: self.config(good=False, mode="skip"),
            lambda: len([c for c in self.fake.calls() if c[0] != "GET"]),
            "the Akamai Edge DNS credentials can read the TXT records")


if __name__ == "__main__":
    unittest.main()

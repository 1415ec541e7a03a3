"""`zoneproof serve` keeps the configuration's persist: list in place (issue #14, point 3)
against a real BIND: the record appears at start; deleted with nsupdate, or replaced by another
value of the same account, it is written again on the next check, which the test asks for with
SIGUSR1 rather than waiting for persistInterval; other CAs' values and another account's value at
the name are never touched; nothing of it goes into the journal (the sweeper would remove it);
/metrics shows each entry's state, the time of its last check and the re-writes, and the status
page (/status, /status.json) each entry with its state, last check and last re-write.
"""
import calendar
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import pki  # noqa: E402
import zptest  # noqa: E402
from test_http import Server  # noqa: E402

ZONE = "example.test"
ISSUER = "ca.example"
ACCOUNT = "https://acme.ca.example/acme/acct/1001"
OTHER1 = "letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/42"
OTHER2 = "pki.goog; accounturi=https://dv.acme-v02.api.pki.goog/account/x7; policy=wildcard"
OTHER_ACCT = "%s; accounturi=https://acme.ca.example/acme/acct/2002" % ISSUER
SOON = int(time.time()) + 10 * 86400  # persistUntil within 30 days: "expiring"
OURS = "%s; accounturi=%s" % (ISSUER, ACCOUNT)
OURS_SOON = OURS + "; persistUntil=%d" % SOON


def fqdn(n):
    return "_validation-persist.%s.%s." % (n, ZONE)


class PersistServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-persist-serve-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        secret = zptest.write_secret(cls.tmp)
        others = []
        for n in ("www", "soon"):
            for v in (OTHER1, OTHER2, OTHER_ACCT):
                others.append('_validation-persist.%s 60 IN TXT "%s"' % (n, v))
        cls.named = zptest.Named({ZONE: others}).start()
        cls.config = os.path.join(cls.tmp, "config.yaml")
        with open(cls.config, "w") as f:
            f.write("\n".join([
                "propagation:", "  mode: wait", "  timeout: 5s",
                '  nameservers: ["%s"]' % cls.named.addr(),
                "providers:", "  - name: lab", "    type: rfc2136",
                '    dnsZones: ["%s"]' % ZONE,
                '    nameserver: "%s"' % cls.named.addr(),
                '    tsigKeyName: "%s"' % zptest.TSIG_NAME,
                '    tsigAlgorithm: "hmac-sha256"',
                '    tsigSecretFile: "%s"' % secret,
                "persistInterval: 24h",
                "persist:",
                "  - name: www.%s" % ZONE,
                "    issuer: %s" % ISSUER,
                "    accountURI: %s" % ACCOUNT,
                "  - name: soon.%s" % ZONE,
                "    issuer: %s" % ISSUER,
                "    accountURI: %s" % ACCOUNT,
                "    persistUntil: %d" % SOON,
                "    provider: lab",
                "    zone: %s" % ZONE]) + "\n")
        cls.state = os.path.join(cls.tmp, "state")
        os.makedirs(cls.state)
        cls.metrics = "127.0.0.1:%d" % zptest.free_port(kind=zptest.socket.SOCK_STREAM)
        cls.serve = Server(cls.tmp, cls.pki, cls.config,
                           extra=["--state-dir", cls.state, "--metrics-bind-address", cls.metrics,
                                  "--status-page"])

    @classmethod
    def tearDownClass(cls):
        cls.serve.stop()
        cls.named.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scrape(self):
        with urllib.request.urlopen("http://%s/metrics" % self.metrics, timeout=5) as r:
            return r.read().decode()

    def metric(self, family, **labels):
        """The value of the series family{labels} (exactly those labels), or None."""
        want = ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels))
        for line in self.scrape().splitlines():
            m = re.match(r"^%s\{(.*)\} (\S+)$" % re.escape(family), line)
            if m and ",".join(sorted(m.group(1).split(","))) == want:
                return float(m.group(2))
        return None

    def state_is(self, name, state):
        return self.metric("zoneproof_persist_state", name=name, issuer=ISSUER,
                           state=state) == 1.0

    def rewrites(self, reason):
        return self.metric("zoneproof_persist_rewrites_total", name="www.%s" % ZONE,
                           issuer=ISSUER, reason=reason, outcome="success") or 0.0

    def get(self, path):
        with urllib.request.urlopen("http://%s%s" % (self.metrics, path), timeout=5) as r:
            return r.read().decode()

    def kept(self):
        """The status page's kept records: {name: (data-persist-state, {column: cell HTML})}."""
        rows = {}
        for m in re.finditer(r'<tr class="persist" data-persist-state="([^"]*)">(.*?)</tr>',
                             self.get("/status")):
            cells = dict(re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', m.group(2)))
            rows[cells["Name"]] = (m.group(1), cells)
        return rows

    def kept_json(self):
        doc = json.loads(self.get("/status.json"))["persist"]
        self.assertEqual(doc["total"], 2)
        return {e["name"]: e for e in doc["entries"]}

    def check_page(self, state, reason, since):
        """www's row says state, checked and re-written (for reason) at or after since."""
        www, soon = "www.%s" % ZONE, "soon.%s" % ZONE
        rows = self.kept()
        self.assertEqual(sorted(rows), [soon, www])
        self.assertEqual(rows[www][0], state)
        self.assertEqual(rows[www][1]["Issuer"], ISSUER)
        self.assertIn('class="st st-ok">%s</span>' % state, rows[www][1]["State"])
        self.assertRegex(rows[www][1]["Checked"], r"^<time>\d{4}-\d\d-\d\dT[\d:]{8}Z</time>$")
        self.assertRegex(rows[www][1]["Last re-write"],
                         r'^%s \u2192 <span class="st st-ok">success</span> at <time>' % reason)
        self.assertEqual(rows[soon][0], "expiring")
        self.assertIn('class="st st-run">expiring</span>', rows[soon][1]["State"])
        self.assertRegex(rows[soon][1]["Last re-write"], r"^missing \u2192 .*success")
        e = self.kept_json()[www]
        self.assertEqual((e["issuer"], e["state"]), (ISSUER, state))
        self.assertEqual((e["rewrite"]["reason"], e["rewrite"]["outcome"]), (reason, "success"))
        at = calendar.timegm(time.strptime(e["rewrite"]["at"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertGreaterEqual(at, since - 1)
        self.assertGreaterEqual(e["checked"], e["rewrite"]["at"])
        return e

    def check_others(self, n):
        vals = self.named.txt(fqdn(n))
        for v in (OTHER1, OTHER2, OTHER_ACCT):
            self.assertIn(v, vals)
        return vals

    def test_kept_in_place(self):
        www = "www.%s" % ZONE
        # The pass at start finds both missing and writes them, through the solver.
        zptest.wait_for(lambda: OURS in self.named.txt(fqdn("www")) and
                        OURS_SOON in self.named.txt(fqdn("soon")), what="the first pass")
        zptest.wait_for(lambda: self.state_is(www, "ok") and
                        self.state_is("soon.%s" % ZONE, "expiring"), what="the states")
        self.assertEqual(sorted(self.check_others("www")),
                         sorted([OTHER1, OTHER2, OTHER_ACCT, OURS]))
        self.assertEqual(sorted(self.check_others("soon")),
                         sorted([OTHER1, OTHER2, OTHER_ACCT, OURS_SOON]))
        self.assertEqual(self.metric("zoneproof_persist_state", name=www, issuer=ISSUER,
                                     state="missing"), 0.0)
        self.assertEqual(self.rewrites("missing"), 1.0)
        checked = self.metric("zoneproof_persist_last_check_timestamp_seconds", name=www,
                              issuer=ISSUER)
        self.assertGreater(checked, time.time() - 600)
        self.assertEqual(os.listdir(self.state), [], "a kept record must not be journaled")
        # The status page: each entry, its state after the start-up check, its re-write.
        first = self.check_page("ok", "missing", time.time() - 600)

        # Removed behind zoneproof's back: the next check writes it again.
        self.named.nsupdate(['update delete %s TXT "%s"' % (fqdn("www"), OURS)])
        self.assertNotIn(OURS, self.named.txt(fqdn("www")))
        self.serve.signal(signal.SIGUSR1)
        since = time.time()
        zptest.wait_for(lambda: self.rewrites("missing") == 2.0, what="the re-write")
        zptest.wait_for(lambda: self.kept_json()["www.%s" % ZONE]["rewrite"]["at"] >=
                        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(since))) and
                        self.kept_json()["www.%s" % ZONE]["checked"] >= first["checked"],
                        what="the re-write on the status page")
        self.check_page("ok", "missing", since)
        self.assertEqual(sorted(self.check_others("www")),
                         sorted([OTHER1, OTHER2, OTHER_ACCT, OURS]))
        self.assertTrue(self.state_is(www, "ok"))
        self.assertGreaterEqual(self.metric("zoneproof_persist_last_check_timestamp_seconds",
                                            name=www, issuer=ISSUER), checked)

        # Changed to another value of the same account: ours again, that one gone.
        changed = OURS + "; policy=wildcard"
        self.named.nsupdate(['update delete %s TXT "%s"' % (fqdn("www"), OURS),
                             'update add %s 60 IN TXT "%s"' % (fqdn("www"), changed)])
        self.serve.signal(signal.SIGUSR1)
        zptest.wait_for(lambda: self.rewrites("different") == 1.0, what="the second re-write")
        zptest.wait_for(lambda: self.kept()["www.%s" % ZONE][1]["Last re-write"]
                        .startswith("different"), what="the second re-write on the status page")
        self.check_page("ok", "different", since)
        self.assertEqual(sorted(self.check_others("www")),
                         sorted([OTHER1, OTHER2, OTHER_ACCT, OURS]))
        self.assertTrue(self.state_is(www, "ok"))
        # The expiring entry was served all along: written at start only.
        self.assertEqual(self.metric("zoneproof_persist_rewrites_total",
                                     name="soon.%s" % ZONE, issuer=ISSUER, reason="missing",
                                     outcome="success"), 1.0)
        self.assertTrue(self.state_is("soon.%s" % ZONE, "expiring"))
        self.assertEqual(os.listdir(self.state), [])

        out = self.serve.output()
        self.assertEqual(len(re.findall(r'"msg":"persist: record written again"', out)), 4, out)
        self.assertIn('"reason":"missing"', out)
        self.assertIn('"reason":"different"', out)
        self.assertIn("persist: persistUntil is within 30 days", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""What an operator sees (issue #11): a real Prometheus scrapes `zoneproof serve`'s
--metrics-bind-address while Presents run against two real BIND servers, one of which lags
(the test writes the value there only after the other serves it, and never for one name),
and against a Cloudflare fake that answers 429; the counters and histograms it stored must
say exactly what happened. promtool checks the exposition. Headless Chromium loads the
status page while a Present waits for the laggard and after it: the laggard, its answer and
the dig command are on the page, and the browser reports no console error.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import fake_cloudflare  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402
from test_http import HTTPBase, Server, payload  # noqa: E402

LAG = "lag.test"
CF_ZONE = "example.test"
TOKEN = "cfTESTgoodtoken0000000000000000000000000"
# The screenshots: kept after the run (ctest's working folder, build/tests, unless set).
ARTEFACTS = os.environ.get("ZP_TEST_ARTEFACTS") or os.path.join(os.getcwd(), "test-artefacts")


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


class Prometheus:
    """Debian's prometheus on loopback, scraping one target every second."""

    def __init__(self, tmp, target):
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(self.dir)
        self.port = zptest.free_port(kind=zptest.socket.SOCK_STREAM)
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: zoneproof\n"
                    "    static_configs:\n      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file", conf, "--storage.tsdb.path",
             os.path.join(self.dir, "data"), "--web.listen-address",
             "127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)
        zptest.wait_for(lambda: self.ready(), timeout=60, what="prometheus ready")

    def ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("prometheus exited: " + open(self.log.name).read()[-2000:])
        try:
            return get("http://127.0.0.1:%d/-/ready" % self.port, timeout=2)[0] == 200
        except OSError:
            return False

    def query(self, q):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port, urllib.parse.urlencode(
            {"query": q}))
        doc = json.loads(get(url)[2])
        assert doc["status"] == "success", doc
        return {json.dumps(r["metric"], sort_keys=True): float(r["value"][1])
                for r in doc["data"]["result"]}

    def value(self, q):
        res = self.query(q)
        return list(res.values())[0] if len(res) == 1 else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


class Observability(HTTPBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = zptest.Named({LAG: []}).start()
        cls.b = zptest.Named({LAG: []}).start()  # the laggard: only the test writes here
        cls.cf = fake_cloudflare.FakeCloudflare(cls.pki, cls.named).start()
        cls.cf.add_token(TOKEN, "good", zone_read=[CF_ZONE], dns_edit=[CF_ZONE])
        token = zptest.write_secret(cls.tmp, "cf-token", TOKEN)
        secret = zptest.write_secret(cls.tmp)
        cls.obs_config = os.path.join(cls.tmp, "obs.yaml")
        with open(cls.obs_config, "w") as f:
            f.write("\n".join([
                "providers:",
                "  - name: lag",
                "    type: rfc2136",
                '    dnsZones: ["%s"]' % LAG,
                "    namespaces: [default]",
                '    nameserver: "%s"' % cls.a.addr(),
                "    tsigKeyName: acme-key",
                '    tsigSecretFile: "%s"' % secret,
                "    propagation:",
                "      mode: wait",
                "      timeout: 50s",
                '      nameservers: ["%s", "%s"]' % (cls.a.addr(), cls.b.addr()),
                "  - name: stuck",
                "    type: rfc2136",
                '    dnsZones: ["stuck.%s"]' % LAG,
                "    namespaces: [default]",
                '    nameserver: "%s"' % cls.a.addr(),
                "    tsigKeyName: acme-key",
                '    tsigSecretFile: "%s"' % secret,
                "    propagation:",
                "      mode: wait",
                "      timeout: 2s",
                '      nameservers: ["%s", "%s"]' % (cls.a.addr(), cls.b.addr()),
                "  - name: cf",
                "    type: cloudflare",
                '    dnsZones: ["%s"]' % CF_ZONE,
                "    namespaces: [default]",
                '    apiTokenFile: "%s"' % token,
                '    endpoint: "%s"' % cls.cf.url("/client/v4"),
                '    caFile: "%s"' % cls.cf.ca_file,
                "    propagation:",
                "      mode: skip",
                ""]))
        cls.metrics_port = zptest.free_port(kind=zptest.socket.SOCK_STREAM)
        cls.metrics = "127.0.0.1:%d" % cls.metrics_port
        cls.srv = Server(cls.tmp, cls.pki, cls.obs_config, name="obs",
                         extra=["--metrics-bind-address", cls.metrics, "--status-page",
                                "--log-level", "info"])
        cls.prom = Prometheus(cls.tmp, cls.metrics)

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()
        cls.srv.stop()
        cls.cf.stop()
        cls.a.cleanup()
        cls.b.cleanup()
        super().tearDownClass()

    # ---- helpers ---------------------------------------------------------------------------

    def present(self, fqdn, key, zone, action="Present", uid="u"):
        status, _, data = self.post(self.srv, payload(action, fqdn, key, zone=zone, uid=uid))
        self.assertIn(status, (200, 201), data)
        return json.loads(data)["response"]

    def in_background(self, *args, **kw):
        out = {}
        t = threading.Thread(target=lambda: out.update(r=self.present(*args, **kw)))
        t.start()
        return t, out

    def status_doc(self):
        return json.loads(get("http://%s/status.json" % self.metrics)[2])

    def in_flight(self, fqdn):
        return [c for c in self.status_doc()["inFlight"] if c["fqdn"] == fqdn]

    def lagging_present(self, fqdn, key, uid, look=None):
        """A Present that a serves at once and b only once the test writes it there."""
        t, out = self.in_background(fqdn, key, LAG + ".", uid=uid)
        zptest.wait_for(lambda: key in self.a.txt(fqdn), what="the value on a")
        # The watcher has seen a serve it and b not: what the status page shows now.
        zptest.wait_for(lambda: any(n["state"] == "HAS_VALUE" and n["address"] == self.a.addr()
                                    and any(m["state"] == "NXDOMAIN" for m in c["nameservers"])
                                    for c in self.in_flight(fqdn) for n in c["nameservers"]),
                        what="the watch's answers on the status page")
        if look:
            look()
        self.b.nsupdate(['update add %s 60 IN TXT "%s"' % (fqdn, key)])
        t.join(60)
        self.assertTrue(out["r"]["success"], out)

    # ---- the test ----------------------------------------------------------------------------

    def test_what_prometheus_and_the_status_page_saw(self):
        names = ["_acme-challenge.h%d.%s." % (i, LAG) for i in range(3)]
        keys = [zptest.acme_key("obs%d" % i) for i in range(3)]
        shots = []
        self.lagging_present(names[0], keys[0], "uid-0",
                             look=lambda: shots.append(self.browse("during")))
        for fqdn, key, i in zip(names[1:], keys[1:], (1, 2)):
            self.lagging_present(fqdn, key, "uid-%d" % i)
        for fqdn, key in zip(names, keys):
            self.assertTrue(self.present(fqdn, key, LAG + ".", action="CleanUp")["success"])
        # One nameserver never gets it: answered NotPropagated at the 2 s budget.
        stuck = "_acme-challenge.stuck.%s." % LAG
        r = self.present(stuck, keys[0], LAG + ".")
        self.assertFalse(r["success"])
        self.assertIn("dig +norec @127.0.0.1", r["status"]["message"])
        # Cloudflare: two Presents refused with a Retry-After that cannot be waited out, one
        # that waits one second and succeeds.
        cf_fqdn = "_acme-challenge.%s." % CF_ZONE
        self.cf.inject(status=429, retry_after=3600, count=2)
        for _ in range(2):
            r = self.present(cf_fqdn, keys[1], CF_ZONE + ".")
            self.assertFalse(r["success"])
            self.assertIn("rate limited by", r["status"]["message"])
        self.cf.inject(status=429, retry_after=1)
        self.assertTrue(self.present(cf_fqdn, keys[1], CF_ZONE + ".")["success"])
        self.assertTrue(self.present(cf_fqdn, keys[1], CF_ZONE + ".", action="CleanUp")["success"])
        shots.append(self.browse("after"))

        self.check_exposition()
        self.check_prometheus()
        self.check_pages(shots)

    def check_exposition(self):
        status, hdrs, body = get("http://%s/metrics" % self.metrics)
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["Content-Type"].startswith("text/plain; version=0.0.4"), hdrs)
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        text = body.decode()
        for secret in (TOKEN, zptest.TSIG_SECRET):
            self.assertNotIn(secret, text)
        self.assertNotIn("_acme-challenge", text, "a name in a label: unbounded series")

    def check_prometheus(self):
        p = self.prom
        final = 'zoneproof_challenges_total{provider="cf",action="cleanup",outcome="success"}'
        zptest.wait_for(lambda: p.value(final) == 1, timeout=30, what="the last scrape")
        a, b = self.a.addr(), self.b.addr()
        expect = {
            'zoneproof_challenges_total{provider="lag",action="present",outcome="success"}': 3,
            'zoneproof_challenges_total{provider="lag",action="cleanup",outcome="success"}': 3,
            'zoneproof_challenges_total{provider="stuck",action="present",'
            'outcome="NotPropagated"}': 1,
            'zoneproof_challenges_total{provider="cf",action="present",outcome="RateLimited"}': 2,
            'zoneproof_challenges_total{provider="cf",action="present",outcome="success"}': 1,
            'zoneproof_challenge_duration_seconds_count{provider="lag",action="present",'
            'outcome="success"}': 3,
            'zoneproof_propagation_checks_total{server="%s",outcome="served"}' % a: 4,
            'zoneproof_propagation_checks_total{server="%s",outcome="served"}' % b: 3,
            'zoneproof_propagation_checks_total{server="%s",outcome="lagging"}' % b: 1,
            'zoneproof_propagation_seconds_count{server="%s"}' % b: 3,
            # rfc2136: one UPDATE per Present and CleanUp of lag, one for stuck.
            'zoneproof_provider_requests_total{provider="lag",method="UPDATE",code="NOERROR"}': 6,
            'zoneproof_provider_requests_total{provider="stuck",method="UPDATE",'
            'code="NOERROR"}': 1,
            'sum(zoneproof_provider_requests_total{provider="cf",code="4xx"})': 3,
            'zoneproof_provider_rate_limited_total{provider="cf"}': 3,
            'zoneproof_provider_retries_total{provider="cf"}': 1,
            'zoneproof_provider_rate_limit_wait_seconds_total{provider="cf",source="server"}': 1,
            'zoneproof_watches_waiting': 0,
            'zoneproof_challenges_in_flight': 0,
        }
        got = {q: p.value(q) for q in expect}
        self.assertEqual(got, expect)
        # The laggard served later than a, every time: its histogram sum is the larger.
        sa = p.value('zoneproof_propagation_seconds_sum{server="%s"}' % a)
        sb = p.value('zoneproof_propagation_seconds_sum{server="%s"}' % b)
        self.assertGreater(sb, sa)
        for q in ("zoneproof_serving_certificate_expiry_timestamp_seconds",
                  "zoneproof_client_ca_expiry_timestamp_seconds",
                  "process_resident_memory_bytes", "process_open_fds", "process_threads"):
            self.assertGreater(p.value(q) or 0, 0, q)
        self.assertEqual(len(p.query('zoneproof_build_info{version!=""}')), 1)

    # ---- the status page in a real browser ---------------------------------------------------

    @staticmethod
    def console(log):
        """What the page wrote to the browser's console (errors, CSP refusals), from
        Chromium's log."""
        return [ln for ln in log.splitlines() if ":CONSOLE" in ln or "Refused to" in ln]

    def test_browser_reports_console_messages(self):
        """The console check below can fail: a page that logs an error is seen."""
        page = os.path.join(self.tmp, "noisy.html")
        with open(page, "w") as f:
            f.write('<html><body><script>console.error("noisy page")</script></body></html>')
        s = self.browse("noisy", "file://" + page)
        self.assertTrue(any("noisy page" in ln for ln in self.console(s["log"])), s["log"][-2000:])

    def browse(self, when, url=None):
        """Headless Chromium renders /status: its DOM text, a screenshot kept as an
        artefact, and what the browser logged."""
        os.makedirs(ARTEFACTS, exist_ok=True)
        shot = os.path.join(ARTEFACTS, "status-%s.png" % when)
        profile = tempfile.mkdtemp(prefix="zp-chromium-")
        url = url or "http://%s/status" % self.metrics
        base = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + profile, "--enable-logging=stderr",
                "--v=1", "--window-size=1280,1600"]
        try:
            dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True,
                                 timeout=120)
            subprocess.run(base + ["--screenshot=" + shot, url], capture_output=True,
                           timeout=120)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        self.assertEqual(dom.returncode, 0, dom.stderr[-3000:])
        return {"when": when, "dom": dom.stdout, "log": dom.stderr, "shot": shot}

    def check_pages(self, shots):
        during, after = shots
        for s in shots:
            self.assertTrue(os.path.getsize(s["shot"]) > 1000, s["shot"])
            self.assertEqual(self.console(s["log"]), [], "%s: the browser complained" % s["when"])
            self.assertNotIn(TOKEN, s["dom"])
            self.assertNotIn(zptest.TSIG_SECRET, s["dom"])
        text = re.sub(r"<[^>]+>", " ", during["dom"])
        name0 = "_acme-challenge.h0.%s." % LAG
        b_host, b_port = self.b.addr().split(":")
        # While b lags: the challenge in flight, b's answer, and the command that shows it.
        self.assertIn(name0, text)
        self.assertIn(self.b.addr(), text)
        self.assertIn("NXDOMAIN", text)
        self.assertIn("dig +norec @%s -p %s %s TXT" % (b_host, b_port, name0), text)
        self.assertRegex(during["dom"], r'class="ns laggard"[^>]*data-ns-state="NXDOMAIN"'
                         r'|data-ns-state="NXDOMAIN"[^>]*class="ns laggard"')
        # After: answered, b served it, and the refusals' sentences are there.
        text = re.sub(r"<[^>]+>", " ", after["dom"])
        self.assertIn("rate limited by", text)
        self.assertIn("_acme-challenge.stuck.%s." % LAG, text)
        self.assertNotIn(zptest.acme_key("obs0"), after["dom"], "the value itself on the page")
        self.assertIn(zptest.value_hash(zptest.acme_key("obs0")), after["dom"])
        self.assertEqual(glob.glob(os.path.join(ARTEFACTS, "status-*.png")) != [], True)


if __name__ == "__main__":
    unittest.main()

"""The namecheap provider against the fake Namecheap API (tests/fakes/fake_namecheap.py).

The shared conformance (strict present/cleanup with foreign records, bad
credentials, wrong zone, 429, 5xx, a hanging API), then what matters for an
API whose only write replaces every host of the domain: every host and the
mail setting go back unchanged, values that need escaping survive the round
trip, nothing is written when the read was incomplete or not understood
(also when it is well formed but lists no host, or lost hosts since the
last read of the same process), only the exact (name, TXT, value) record is
removed, the ApiKey never shows and never travels in a URL, and each account
error gets its sentence.
"""
import contextlib
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import conformance  # noqa: E402
import fake_namecheap as fnc  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402
from conformance import FOREIGN, FQDN, KEY1, KEY2, ZONE  # noqa: E402

WRONG_KEY = "zpWrongNamecheapKey000000000000cd"
SETHOSTS = "namecheap.domains.dns.sethosts"


class T(conformance.ProviderConformance, unittest.TestCase):
    account_hint = fnc.API_USER

    @classmethod
    def make_fake(cls, pki_dir, named):
        return fnc.FakeNamecheap(pki_dir, named).start()

    def provider_yaml(self, fake, creds_dir, good=True, extra="", client_ip=fnc.CLIENT_IP):
        key = zptest.write_secret(creds_dir, "nc-key-%s" % ("good" if good else "bad"),
                                  fnc.API_KEY if good else WRONG_KEY)
        return ("name: nc-test\n"
                "type: namecheap\n"
                "dnsZones: [\"example.test\", \"other.test\", \"example.co.test\"]\n"
                "namespaces: [default]\n"
                "endpoint: %s\n"
                "caFile: %s\n"
                "apiUser: %s\n"
                "apiKeyFile: %s\n"
                "clientIp: %s\n%s"
                % (fake.url(fnc.PATH), fake.ca_file, fnc.API_USER, key, client_ip, extra))

    def seed_foreign(self, fake):
        fake.add_host(ZONE, "_acme-challenge", "TXT", FOREIGN, ttl="3600")
        fake.add_host(ZONE, "_acme-challenge", "A", "192.0.2.10")
        fake.mirror_add(FQDN, FOREIGN)

    def secrets(self):
        return [fnc.API_KEY, WRONG_KEY]

    # --- helpers ---
    def config_with(self, extra="", mode="skip", client_ip=fnc.CLIENT_IP, good=True):
        path = os.path.join(self.tmp, "config-custom.yaml")
        entry = self.provider_yaml(self.fake, self.tmp, good, extra, client_ip).strip("\n")
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        with open(path, "w") as f:
            f.write("propagation:\n  mode: %s\n  timeout: 6s\n  nameservers: [\"%s\"]\n"
                    "providers:\n  - %s\n" % (mode, self.named.addr(), entry))
        return path

    def run_with(self, action, key, extra="", mode="skip", fqdn=FQDN, zone=None,
                 client_ip=fnc.CLIENT_IP):
        path = self.config_with(extra, mode, client_ip)
        args = [action, "--config", path, "--fqdn", fqdn, "--key", key, "--log-level", "debug"]
        if zone:
            args += ["--zone", zone]
        r = zptest.run_zp(args, timeout=60)
        self.no_secret_in(r)
        return r

    def failed(self, r):
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stderr

    def without(self, snapshot, *values):
        """A snapshot with the hosts holding values dropped."""
        return [(n, e, o, tuple(h for h in hosts if h[2] not in values))
                for n, e, o, hosts in snapshot]

    def tearDown(self):
        self.fake.gethosts_faults.clear()
        with self.fake.lock:
            for d in self.fake.domains.values():
                d["hosts"] = [h for h in d["hosts"] if h["Address"] not in (KEY1, KEY2)]

    def test_doctor_proves_the_key_without_writing(self):
        """doctor reads the domain's hosts (getHosts) and never sets them; a bad key is named."""
        self.doctor_credentials(
            "d." + ZONE, lambda: self.config_with(),
            lambda: self.config_with(good=False),
            lambda: len(self.fake.set_calls()),
            "the Namecheap credentials can read domain %s" % ZONE)

    # --- the whole-zone write ---
    def test_every_host_resent_unchanged(self):
        before = self.fake.snapshot()
        self.ok(self.run_with("present", KEY1, mode="wait"))
        self.assertIn(KEY1, self.named.txt(FQDN))
        after = self.fake.snapshot()
        self.assertEqual(self.without(after, KEY1), before)
        form = self.fake.set_calls()[-1]
        self.assertEqual(form["emailtype"], "MX")
        sent = {(form["hostname%d" % i], form["recordtype%d" % i], form["address%d" % i],
                 form["mxpref%d" % i], form["ttl%d" % i])
                for i in range(1, 100) if "hostname%d" % i in form}
        for h in fnc.SEED_HOSTS:
            self.assertIn(h, sent)
        self.assertIn(("_acme-challenge", "TXT", KEY1, "10", "60"), sent)
        self.ok(self.run_with("cleanup", KEY1, mode="skip"))
        self.assertEqual(self.fake.snapshot(), before)
        self.assertNotIn(KEY1, self.named.txt(FQDN))

    def test_nothing_written_when_nothing_changes(self):
        self.ok(self.run_with("present", KEY1))
        n = len(self.fake.set_calls())
        self.ok(self.run_with("present", KEY1))
        self.ok(self.run_with("cleanup", KEY2))
        self.assertEqual(len(self.fake.set_calls()), n)
        self.ok(self.run_with("cleanup", KEY1))
        self.assertEqual(len(self.fake.set_calls()), n + 1)

    def test_incomplete_reads_write_nothing(self):
        cases = {
            "truncate": "Namecheap's getHosts reply for example.test cannot be understood (the "
                        "reply is cut short)",
            "unknown-type": "holds host \"sip\" of record type \"SRV\", which zoneproof cannot "
                            "write back",
            "not-ours": "domain example.test does not use Namecheap's DNS servers",
            "error-ok": "domain example.test does not use Namecheap's DNS servers",
            "missing-ttl": "cannot be understood (a host without TTL)",
            "html": "cannot be understood (its root element is <html>",
        }
        self.ok(self.run_with("present", KEY2))
        before = self.fake.snapshot()
        n = len(self.fake.set_calls())
        for fault, sentence in cases.items():
            for action, key in (("present", KEY1), ("cleanup", KEY2)):
                with self.subTest(fault=fault, action=action):
                    self.fake.gethosts_faults[:] = [fault]
                    err = self.failed(self.run_with(action, key))
                    self.assertIn(sentence, err)
                    if fault not in ("not-ours", "error-ok"):
                        self.assertIn("nothing was written", err)
                    self.assertEqual(len(self.fake.set_calls()), n)
                    self.assertEqual(self.fake.snapshot(), before)
        self.ok(self.run_with("cleanup", KEY2))

    def test_cleanup_removes_only_the_exact_record(self):
        # lego's cleanup removes every TXT at the name; here the sibling value, the same
        # value at another name and a non-TXT record with that text all stay.
        self.fake.add_host(ZONE, "_acme-challenge", "TXT", KEY1, ttl="60")
        self.fake.add_host(ZONE, "_acme-challenge", "TXT", KEY2, ttl="60")
        self.fake.add_host(ZONE, "_acme-challenge.www", "TXT", KEY1, ttl="60")
        self.fake.add_host(ZONE, "k1", "CNAME", KEY1 + ".example.test.")
        self.ok(self.run_with("cleanup", KEY1))
        values = self.fake.txt_values(FQDN)
        self.assertNotIn(KEY1, values)
        self.assertIn(KEY2, values)
        self.assertEqual(self.fake.txt_values("_acme-challenge.www.example.test."), [KEY1])
        with self.fake.lock:
            self.fake.domains[ZONE]["hosts"] = [
                h for h in self.fake.domains[ZONE]["hosts"] if h["Name"] != "k1"]

    def test_escaping_round_trip(self):
        self.ok(self.run_with("present", KEY1))
        hosts = {(h["Name"], h["Type"]): h["Address"] for h in self.fake.domains[ZONE]["hosts"]}
        self.assertEqual(hosts[("odd", "TXT")], "a&b<c>\"d'e")
        self.assertEqual(hosts[("@", "CAA")], '0 issue "letsencrypt.org"')
        self.assertEqual(hosts[("go", "URL")], "http://example.test/?a=1&b=2")
        self.assertEqual(hosts[("_dmarc", "TXT")], "v=DMARC1; p=none; rua=mailto:d@example.test")

    # --- credentials and account ---
    def test_key_only_in_post_bodies(self):
        n = len(self.fake.requests)
        r = self.run_with("present", KEY1)
        self.ok(r)
        for method, path, query in self.fake.requests[n:]:
            self.assertEqual((method, query), ("POST", {}))
        self.assertNotIn(fnc.API_KEY, r.stdout + r.stderr)

    def test_bad_key_sentence(self):
        r = self.zp("present", KEY1, good=False, mode="skip")
        self.assertIn("Namecheap rejected the API key of API user %s: it is invalid or API "
                      "access is not enabled" % fnc.API_USER, self.failed(r))
        self.no_secret_in(r)

    def test_ip_not_whitelisted_sentence(self):
        err = self.failed(self.run_with("present", KEY1, client_ip="198.51.100.9"))
        self.assertIn("Namecheap refused the request from clientIp 198.51.100.9: that address is "
                      "not whitelisted for API user %s" % fnc.API_USER, err)

    def test_username_of_another_account(self):
        err = self.failed(self.run_with("present", KEY1, extra="username: someoneelse\n"))
        self.assertIn("rejected the API key", err)

    def test_domain_not_in_account(self):
        err = self.failed(self.run_with("present", KEY1, fqdn="_acme-challenge.other.test.",
                                        zone="other.test"))
        self.assertIn("domain other.test is not in the Namecheap account of user %s"
                      % fnc.API_USER, err)

    def test_setting_errors_at_start(self):
        err = self.failed(self.run_with("present", KEY1, client_ip="2001:db8::7"))
        self.assertIn("clientIp \"2001:db8::7\" is IPv6", err)

    # --- names ---
    def test_multi_label_tld_and_deeper_name(self):
        fqdn = "_acme-challenge.www.example.co.test."
        self.ok(self.run_with("present", KEY1, fqdn=fqdn, zone="example.co.test"))
        params = self.fake.set_calls()[-1]
        self.assertEqual((params["sld"], params["tld"]), ("example", "co.test"))
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.ok(self.run_with("cleanup", KEY1, fqdn=fqdn, zone="example.co.test"))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_domain_option_overrides_zone(self):
        fqdn = "_acme-challenge.sub.example.test."
        r = self.run_with("present", KEY1, fqdn=fqdn, zone="sub.example.test",
                          extra="domain: example.test\n")
        self.ok(r)
        self.assertEqual(self.fake.txt_values(fqdn), [KEY1])
        self.assertIn(("_acme-challenge.sub", "TXT", KEY1),
                      [(h["Name"], h["Type"], h["Address"])
                       for h in self.fake.domains[ZONE]["hosts"]])
        self.ok(self.run_with("cleanup", KEY1, fqdn=fqdn, zone="sub.example.test",
                              extra="domain: example.test\n"))
        self.assertEqual(self.fake.txt_values(fqdn), [])

    def test_empty_read_writes_nothing(self):
        """A well-formed reply that lists no host at all: setHosts would delete every one."""
        self.ok(self.run_with("present", KEY2))
        before = self.fake.snapshot()
        n = len(self.fake.set_calls())
        for action, key in (("present", KEY1), ("cleanup", KEY2)):
            with self.subTest(action=action):
                self.fake.gethosts_faults[:] = ["empty"]
                err = self.failed(self.run_with(action, key))
                self.assertIn("Namecheap's getHosts reply for domain example.test lists no host "
                              "records at all; zoneproof wrote nothing, since setHosts replaces "
                              "every record of the domain", err)
                self.assertIn("add one (any record) so its list is never empty", err)
                self.assertEqual(len(self.fake.set_calls()), n)
                self.assertEqual(self.fake.snapshot(), before)
        self.ok(self.run_with("cleanup", KEY2))

    # --- through zoneproof serve: one process, many calls ---
    @contextlib.contextmanager
    def serving(self, log_name="serve.log"):
        """zoneproof serve with this instance; yields (port, log path)."""
        config = os.path.join(self.tmp, "config-serve.yaml")
        entry = self.provider_yaml(self.fake, self.tmp).strip("\n")
        entry = "\n".join("    " + line for line in entry.splitlines()).lstrip()
        with open(config, "w") as f:
            f.write("groupName: acme.zoneproof.test\npropagation:\n  mode: skip\n"
                    "providers:\n  - %s\n" % entry)
        port = zptest.free_port()
        log_path = os.path.join(self.tmp, log_name)
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [zptest.zoneproof_bin(), "serve", "--config", config, "--secure-port", str(port),
                 "--bind-address", "127.0.0.1",
                 "--tls-cert-file", pki.path(self.pki, "serving.crt"),
                 "--tls-private-key-file", pki.path(self.pki, "serving.key"),
                 "--requestheader-client-ca-file", pki.path(self.pki, "proxy-ca.crt"),
                 "--log-level", "debug"], stdout=log, stderr=subprocess.STDOUT)
        try:
            zptest.wait_for(lambda: proc.poll() is None and zptest.tcp_open("127.0.0.1", port),
                            what="zoneproof serve")
            yield port, log_path
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
        with open(log_path) as f:
            self.assertNotIn(fnc.API_KEY, f.read())

    def serve_call(self, port, action, key, fqdn=FQDN):
        results = {}
        self.serve_present(port, action, fqdn, key, results)
        return results[fqdn]

    def test_lost_hosts_write_nothing(self):
        """A reply that lost hosts since the last read of the same process is refused, again
        and again while the loss is recent (the same shorter list is taken as real only 10
        minutes after it was first refused: tests/unit/providers/test_namecheap.c)."""
        lost = ("Namecheap's getHosts reply for domain example.test lacks hosts that its "
                "previous reply listed, such as ")
        with self.serving("serve-lost.log") as (port, log_path):
            self.assertTrue(self.serve_call(port, "Present", KEY1)["success"])
            before = self.fake.snapshot()
            n = len(self.fake.set_calls())
            for action, key in (("Present", KEY2), ("CleanUp", KEY1)):
                with self.subTest(action=action):
                    self.fake.gethosts_faults[:] = ["lose-hosts"]
                    r = self.serve_call(port, action, key)
                    self.assertFalse(r["success"], r)
                    msg = r["status"]["message"]
                    self.assertIn(lost, msg)
                    self.assertIn("zoneproof wrote nothing, since setHosts replaces every record "
                                  "of the domain and would delete them: check the domain's "
                                  "records in Namecheap's dashboard", msg)
                    self.assertEqual(len(self.fake.set_calls()), n)
                    self.assertEqual(self.fake.snapshot(), before)
            # A complete read again: the write goes ahead.
            self.assertTrue(self.serve_call(port, "CleanUp", KEY1)["success"])
            self.assertEqual(self.without(self.fake.snapshot(), KEY1), self.without(before, KEY1))
            # A host gone from the account itself: refused while recent, the same sentence
            # each time; back again, the write goes ahead.
            with self.fake.lock:
                hosts = self.fake.domains[ZONE]["hosts"]
                gone = next(h for h in hosts if h["Name"] == "go")
                hosts.remove(gone)
            before = self.fake.snapshot()
            msgs = []
            for _ in range(2):
                r = self.serve_call(port, "Present", KEY1)
                self.assertFalse(r["success"], r)
                msgs.append(r["status"]["message"])
            self.assertIn(lost + "\"go\" (URL)", msgs[0])
            self.assertIn("an attempt 10 minutes or more after the first that reads the same "
                          "shorter list goes ahead", msgs[0])
            self.assertEqual(msgs[0], msgs[1])  # stable: cert-manager sees no new text
            self.assertEqual(self.fake.snapshot(), before)
            self.fake.add_host(ZONE, gone["Name"], gone["Type"], gone["Address"],
                               gone["MXPref"], gone["TTL"])
            self.assertTrue(self.serve_call(port, "Present", KEY1)["success"])
            self.assertIn(KEY1, self.fake.txt_values(FQDN))
            self.assertTrue(self.serve_call(port, "CleanUp", KEY1)["success"])
            self.assertNotIn(KEY1, self.fake.txt_values(FQDN))
        with open(log_path) as f:
            log = f.read()
        self.assertIn('"msg":"namecheap: getHosts lost hosts since the last read; nothing '
                      'written"', log)
        self.assertIn('"first_lost":"URL go"', log)

    # --- two names of one domain at once, through zoneproof serve ---
    def serve_present(self, port, action, fqdn, key, results):
        req = {"uid": "u-" + fqdn, "action": action, "type": "dns-01",
               "dnsName": fqdn.split(".", 1)[1], "key": key, "resourceNamespace": "default",
               "resolvedFQDN": fqdn, "resolvedZone": ZONE + ".",
               "allowAmbientCredentials": False, "config": None}
        body = json.dumps({"apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
                           "kind": "ChallengePayload", "request": req})
        ctx = ssl.create_default_context(cafile=pki.path(self.pki, "serving-ca.crt"))
        ctx.load_cert_chain(pki.path(self.pki, "proxy-client.crt"),
                            pki.path(self.pki, "proxy-client.key"))
        conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=60)
        try:
            conn.request("POST", "/apis/acme.zoneproof.test/v1alpha1/zoneproof", body=body,
                         headers={"Content-Type": "application/json",
                                  "X-Remote-User": "system:kube-aggregator",
                                  "X-Remote-Group": "system:masters"})
            results[fqdn] = json.loads(conn.getresponse().read())["response"]
        finally:
            conn.close()

    def test_concurrent_names_of_one_domain(self):
        # Both challenges read the host list before either writes, unless the domain is locked.
        names = ["_acme-challenge.a.example.test.", "_acme-challenge.b.example.test."]
        with self.serving() as (port, _), contextlib.ExitStack() as stack:
            stack.callback(setattr, self.fake, "gethosts_delay", 0.0)
            self.fake.gethosts_delay = 0.4
            for action in ("Present", "CleanUp"):
                results = {}
                threads = [threading.Thread(target=self.serve_present,
                                            args=(port, action, n, KEY1, results))
                           for n in names]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                for n in names:
                    self.assertTrue(results[n]["success"], results[n])
                    self.assertEqual(self.fake.txt_values(n), [KEY1] if action == "Present" else [])


if __name__ == "__main__":
    unittest.main()

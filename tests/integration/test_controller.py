"""The controller in a cluster (issue #10): `zoneproof serve` against a fake kube-apiserver
(tests/fakes/fake_kube.py) journals every value it writes in a ConfigMap of its namespace, and
after a kill -9 between the write and the ack a restarted serve removes exactly that value from a
real BIND once its cert-manager Challenge is gone: never a foreign value, never the value of a
live Challenge at the same name. Two serve processes writing one Namecheap domain at once (a
provider that rewrites the whole domain) lose no value: each write holds the zone's Lease.

Nothing here waits for a timer: the sweep checked is the one every serve makes at its start, and
the tests wait for what it does (a value gone from BIND), not for time to pass."""
import json
import os
import signal
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))
sys.path.insert(0, HERE)

import fake_namecheap as fnc  # noqa: E402
import test_kube  # noqa: E402
import zptest  # noqa: E402
from test_kube import RESOURCE, Server, cert_manager  # noqa: E402

ZONE = "example.test"
NAME = "_acme-challenge.keep.example.test."
FOREIGN = "v=foreign-keep-me"
HOME = "zoneproof"  # the service account's namespace: the journal's


def present(uid, fqdn, key, ns="web"):
    req = {"uid": uid, "action": "Present", "type": "dns-01",
           "dnsName": fqdn.split(".", 1)[1].rstrip("."), "key": key, "resourceNamespace": ns,
           "resolvedFQDN": fqdn, "resolvedZone": ZONE + ".", "allowAmbientCredentials": False,
           "config": None}
    return json.dumps({"apiVersion": "webhook.acme.cert-manager.io/v1alpha1",
                       "kind": "ChallengePayload", "request": req}).encode()


class Controller(test_kube.KubeBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.named = zptest.Named({ZONE: ['_acme-challenge.keep 60 IN TXT "%s"' % FOREIGN]}).start()
        dead = zptest.free_port()  # Presents park here after their write, as if BIND lagged
        secret = zptest.write_secret(cls.tmp)
        with open(cls.config, "w") as f:
            f.write("propagation: {mode: wait, timeout: 50s, nameservers: [\"127.0.0.1:%d\"]}\n"
                    "providers:\n  - name: lab\n    type: rfc2136\n    dnsZones: [%s]\n"
                    "    namespaces: [web]\n    nameserver: \"%s\"\n    tsigKeyName: %s\n"
                    "    tsigSecretFile: %s\n" % (dead, ZONE, cls.named.addr(),
                                                  zptest.TSIG_NAME, secret))

    @classmethod
    def tearDownClass(cls):
        cls.named.cleanup()
        super().tearDownClass()

    def journal(self):
        return [n for n in self.fake.names("configmaps", HOME) if n.startswith("zpj-")]

    def post_async(self, srv, uid, key, name=NAME):
        def go():
            try:
                self.call(srv, "POST", RESOURCE, body=present(uid, name, key),
                          headers=dict(cert_manager("cm-" + uid),
                                       **{"Content-Type": "application/json"}))
            except OSError:
                pass  # the server is killed under it
        t = threading.Thread(target=go, daemon=True)
        t.start()
        return t

    def test_killed_mid_challenge_then_swept_at_restart(self):
        killed, live = zptest.acme_key("ctl-killed"), zptest.acme_key("ctl-live")
        self.fake.add_challenge("web", "www-1-111-0", killed, "keep.example.test")
        self.fake.add_challenge("web", "www-2-222-0", live, "keep.example.test")
        srv = Server(self, "ctl-1", self.in_cluster())
        self.post_async(srv, "k1", killed)
        self.post_async(srv, "l1", live)
        # Both written and journaled, both parked waiting for propagation: kill -9 now.
        zptest.wait_for(lambda: {killed, live} <= set(self.named.txt(NAME)) and
                        len(self.journal()) == 2, timeout=30, what="both writes journaled")
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        entry = json.loads(self.fake.obj("configmaps", HOME, self.journal()[0])["data"]["entry"])
        self.assertEqual(entry["instance"], "lab")
        # cert-manager gives up on one: its Challenge goes. The other is still being solved.
        self.fake.delete_challenge("web", "www-1-111-0")
        srv = Server(self, "ctl-2", self.in_cluster())
        try:
            zptest.wait_for(lambda: killed not in self.named.txt(NAME), timeout=30,
                            what="the orphaned value swept at start")
            self.assertEqual(sorted(self.named.txt(NAME)), sorted([FOREIGN, live]))
            zptest.wait_for(lambda: len(self.journal()) == 1, what="the orphan's entry dropped")
            kept = json.loads(self.fake.obj("configmaps", HOME, self.journal()[0])["data"]["entry"])
            self.assertEqual(kept["value"], live)
        finally:
            srv.stop()
        out = srv.output()
        self.assertIn("sweep: orphaned value removed", out)
        self.assert_clean(out)
        self.fake.delete_challenge("web", "www-2-222-0")

    kubeconfig = test_kube.Startup.kubeconfig

    def test_sweep_by_hand_with_a_kubeconfig(self):
        """`zoneproof sweep --kubeconfig`: the same pass by hand, serve's journal, asking the
        Challenges; --dry-run changes nothing."""
        key = zptest.acme_key("ctl-hand")
        name = "_acme-challenge.hand.example.test."
        kc = self.kubeconfig(True)
        # As cert-manager does, the Challenge exists before its Present: serve's own sweep at
        # start, which may run while the Present is under way, must see it alive.
        self.fake.add_challenge("web", "hand-1-111-0", key, "hand.example.test")
        srv = Server(self, "ctl-hand", {}, extra=["--kubeconfig", kc])

        def journaled():
            return [n for n in self.fake.names("configmaps", "default") if n.startswith("zpj-")]
        self.post_async(srv, "h1", key, name)
        zptest.wait_for(lambda: key in self.named.txt(name) and journaled(), timeout=30,
                        what="the write journaled")
        # A pass while that Present waits for propagation: its Challenge lives, nothing goes.
        r = zptest.run_zp(["sweep", "--config", self.config, "--kubeconfig", kc])
        self.assertIn("1 journal entries, 0 orphans", r.stdout, r.stderr)
        self.assertIn(key, self.named.txt(name))
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait()
        self.assertEqual(len(journaled()), 1)
        self.fake.delete_challenge("web", "hand-1-111-0")  # cert-manager gave up on it
        r = zptest.run_zp(["sweep", "--config", self.config, "--kubeconfig", kc, "--dry-run"])
        self.assertIn("1 journal entries, 1 orphans, 0 removed (dry run)", r.stdout, r.stderr)
        self.assertIn(key, self.named.txt(name))
        r = zptest.run_zp(["sweep", "--config", self.config, "--kubeconfig", kc])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("1 journal entries, 1 orphans, 1 removed, 0 failed", r.stdout)
        self.assertEqual(self.named.txt(name), [])
        self.assertEqual(journaled(), [])


class TwoReplicasOneDomain(test_kube.KubeBase):
    """Namecheap's setHosts replaces every host of the domain: two replicas writing at once
    would each write back what it read and drop the other's value, unless the zone's Lease makes
    one wait. 100 Presents, alternating between two serve processes, 8 at a time."""
    COUNT = 100

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nc = fnc.FakeNamecheap(cls.pki).start()
        cls.nc.gethosts_delay = 0.02  # widen the read-modify-write window
        key = zptest.write_secret(cls.tmp, "nc-key", fnc.API_KEY)
        with open(cls.config, "w") as f:
            f.write("propagation: {mode: skip}\nproviders:\n  - name: nc\n    type: namecheap\n"
                    "    dnsZones: [%s]\n    namespaces: [web]\n    endpoint: %s\n"
                    "    caFile: %s\n    apiUser: %s\n    apiKeyFile: %s\n    clientIp: %s\n"
                    "    requestsPerMinute: 6000\n"
                    % (ZONE, cls.nc.url(fnc.PATH), cls.nc.ca_file, fnc.API_USER, key,
                       fnc.CLIENT_IP))

    @classmethod
    def tearDownClass(cls):
        cls.nc.stop()
        super().tearDownClass()

    def test_no_value_lost(self):
        keys = [zptest.acme_key("nc-%d" % i) for i in range(self.COUNT)]
        for i in range(self.COUNT):  # as cert-manager: each Challenge before its Present
            self.fake.add_challenge("web", "h%d-1-1-0" % i, keys[i], "h%d.example.test" % i)
        servers = [Server(self, "nc-%d" % i, self.in_cluster()) for i in range(2)]
        failures = []
        sem = threading.Semaphore(8)

        def one(i):
            with sem:
                fqdn = "_acme-challenge.h%d.example.test." % i
                try:
                    status, _, data = self.call(
                        servers[i % 2], "POST", RESOURCE, body=present("n%d" % i, fqdn, keys[i]),
                        headers=dict(cert_manager("cm-n%d" % i),
                                     **{"Content-Type": "application/json"}))
                    resp = json.loads(data)["response"]
                    if not resp["success"]:
                        failures.append(resp["status"]["message"])
                except OSError as e:
                    failures.append(str(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(self.COUNT)]
        try:
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        finally:
            for s in servers:
                s.stop()
        self.assertEqual(failures, [])
        have = set()
        for i in range(self.COUNT):
            have.update(self.nc.txt_values("_acme-challenge.h%d.example.test." % i))
        self.assertEqual(have, set(keys), "%d of %d values lost" % (len(set(keys) - have),
                                                                   self.COUNT))
        # The zone's Lease was held by both processes over the run.
        zone_leases = [n for n in self.fake.names("leases", HOME) if n != "zoneproof-sweeper"]
        self.assertEqual(len(zone_leases), 1, zone_leases)
        holders = {h for h in self.fake.holders(HOME, zone_leases[0]) if h}
        self.assertEqual(len(holders), 2, holders)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""The controller's Kubernetes parts against a fake kube-apiserver (tests/fakes/fake_kube.py),
called through the unit-test driver (tests/unit/k8s/test_kcontroller.c, `drive`) with the
in-cluster service account, one process per step.

- The journal in ConfigMaps: put, list, remove; a second put of one entry (AlreadyExists, then
  an update with the resourceVersion read); a stale resourceVersion (409) read again, and a
  sentence once it never settles; ConfigMaps that are not entries skipped; a list longer than a
  page, and one whose continue token expires (started over once); every refusal naming the
  permission.
- The Challenge oracle: live, gone, a wildcard, a value written at a CNAME's target, one list
  per pass; when every namespace may not be listed, the entry's namespace (and "cannot tell"
  for a ClusterIssuer's); forbidden everywhere; cert-manager not installed.
- Leases: A holds, B is busy, B takes over once A's renewal is old (the test moves renewTime
  back: nothing sleeps for a lease to expire), only the holder releases, a race of eight takers
  has one winner, a 403 names the permission. Lease locks: a waiter gets the lock when the
  holder lets go, renewals while held, a holder killed with SIGKILL taken over, a lease lost to
  another holder noticed and left alone, one thread at a time within a process.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fakes"))

import pki  # noqa: E402
import zptest  # noqa: E402
from fake_kube import SA_USER, FakeKube, micro_time  # noqa: E402

NS = "zoneproof"
TOKEN = "sa-token-controller-4b1d9e7f0a2c"
TOKEN_BARE = "sa-token-no-grants-8e3a5c1f7d90"
BARE_USER = "system:serviceaccount:zoneproof:bare"
LABELS = {"app.kubernetes.io/managed-by": "zoneproof", "zoneproof.io/journal": "entry"}
WHO = "the zoneproof service account"


def entry_id(instance, fqdn, value):
    """solver/journal.c's id: zpj- and the first 16 bytes of SHA-256(instance, fqdn, value)."""
    h = hashlib.sha256(instance.encode() + b"\0" + fqdn.encode() + b"\0" + value.encode())
    return "zpj-" + h.hexdigest()[:32]


def entry_json(instance, fqdn, value, ns="web"):
    return json.dumps({"id": entry_id(instance, fqdn, value), "instance": instance,
                       "zone": "example.test.", "fqdn": fqdn, "value": value, "namespace": ns,
                       "uid": "u", "time": "1700000000", "state": "written"},
                      separators=(",", ":"))


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="zp-kctl-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.fake = FakeKube(cls.pki).start()
        cls.fake.set_tokens({TOKEN: SA_USER, TOKEN_BARE: BARE_USER})
        for verb in ("get", "list", "create", "update", "delete"):
            cls.fake.grant(SA_USER, verb, "configmaps", NS)
        for verb in ("get", "create", "update"):
            cls.fake.grant(SA_USER, verb, "leases", NS)
        cls.sa = cls.sa_dir("sa", TOKEN)
        cls.sa_bare = cls.sa_dir("sa-bare", TOKEN_BARE)
        tests_dir = os.path.join(os.path.dirname(os.path.dirname(zptest.zoneproof_bin())),
                                 "tests")
        cls.exe = os.path.join(tests_dir, "unit_k8s_test_kcontroller")
        if not os.access(cls.exe, os.X_OK):
            raise RuntimeError("the driver is missing: %s" % cls.exe)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        if not os.environ.get("ZP_KEEP"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def sa_dir(cls, name, token):
        d = os.path.join(cls.tmp, name)
        os.makedirs(d, exist_ok=True)
        shutil.copy(pki.path(cls.pki, "serving-ca.crt"), os.path.join(d, "ca.crt"))
        for f, text in (("token", token), ("namespace", NS)):
            with open(os.path.join(d, f), "w") as fh:
                fh.write(text + "\n")
        return d

    def env(self, sa=None, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env.update({"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                    "KUBERNETES_SERVICE_PORT": str(self.fake.port),
                    "ZP_SERVICEACCOUNT_DIR": sa or self.sa})
        env.update(extra)
        return env

    def argv(self, *args):
        return [self.exe, "drive", "-"] + [str(a) for a in args]

    def drive(self, *args, sa=None, **extra):
        """The driver's lines of output (its log goes to self.last_log)."""
        r = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=60,
                           env=self.env(sa, **extra))
        self.last_log = r.stderr
        for secret in (TOKEN, TOKEN_BARE):
            self.assertNotIn(secret, r.stdout + r.stderr)
        return r.stdout.strip().splitlines()

    def calls(self, method, contains):
        return len(self.fake.calls(method, contains))


class Journal(Base):
    def put(self, fqdn, value, ns="web", written=False, **kw):
        args = ["jput", "lab", "example.test.", fqdn, value, ns] + (["written"] if written else [])
        return self.drive(*args, **kw)

    def test_round_trip(self):
        fqdn, value = "_acme-challenge.rt.example.test.", "value-rt-1"
        eid = entry_id("lab", fqdn, value)
        self.assertEqual(self.put(fqdn, value), ["ok " + eid])
        cm = self.fake.obj("configmaps", NS, eid)
        self.assertEqual(cm["metadata"]["labels"], LABELS)
        entry = json.loads(cm["data"]["entry"])
        self.assertEqual((entry["id"], entry["fqdn"], entry["value"], entry["namespace"],
                          entry["state"]), (eid, fqdn, value, "web", "writing"))
        out = self.drive("jlist")
        self.assertIn("entry %s lab %s %s web writing" % (eid, fqdn, value), out)

        # The second put of one entry: AlreadyExists, then an update with what it read.
        rv = cm["metadata"]["resourceVersion"]
        puts = self.calls("PUT", eid)
        self.assertEqual(self.put(fqdn, value, written=True), ["ok " + eid])
        cm = self.fake.obj("configmaps", NS, eid)
        self.assertEqual(json.loads(cm["data"]["entry"])["state"], "written")
        self.assertGreater(int(cm["metadata"]["resourceVersion"]), int(rv))
        self.assertEqual(self.calls("PUT", eid), puts + 1)
        self.assertIn("entry %s lab %s %s web written" % (eid, fqdn, value), self.drive("jlist"))

        self.assertEqual(self.drive("jremove", eid), ["ok"])
        self.assertIsNone(self.fake.obj("configmaps", NS, eid))
        self.assertEqual(self.drive("jremove", eid), ["ok"])  # already gone: fine
        self.assertNotIn(eid, "\n".join(self.drive("jlist")))

    def test_stale_resource_version(self):
        fqdn, value = "_acme-challenge.stale.example.test.", "value-stale"
        eid = entry_id("lab", fqdn, value)
        self.assertEqual(self.put(fqdn, value), ["ok " + eid])
        # Another writer changes it between the read and the write, twice: read again, twice.
        self.fake.interfere("configmaps", NS, eid, count=2)
        puts = self.calls("PUT", eid)
        self.assertEqual(self.put(fqdn, value, written=True), ["ok " + eid])
        self.assertEqual(self.calls("PUT", eid), puts + 3)
        self.assertEqual(json.loads(self.fake.obj("configmaps", NS, eid)["data"]["entry"])
                         ["state"], "written")
        # It never settles: the sentence says what conflicted.
        self.fake.interfere("configmaps", NS, eid, count=100)
        out = self.put(fqdn, value, written=True)
        self.fake.interfere("configmaps", NS, eid, count=0)
        self.assertEqual(out, ["error Unavailable: cannot mark journal entry %s written: cannot "
                               "update configmap %s/%s (409 Conflict): it changed since it was "
                               "read; read it again" % (eid, NS, eid)])

    def test_foreign_configmaps_are_skipped(self):
        good = ("_acme-challenge.good.example.test.", "value-good")
        self.assertEqual(self.put(*good), ["ok " + entry_id("lab", *good)])
        meta = {"labels": dict(LABELS)}
        self.fake.put_obj("configmaps", NS, {"metadata": dict(meta, name="zpj-garbage"),
                                             "data": {"entry": "{not json"}})
        other = entry_json("lab", "_acme-challenge.x.example.test.", "vx")
        self.fake.put_obj("configmaps", NS, {"metadata": dict(meta, name="zpj-misnamed"),
                                             "data": {"entry": other}})
        self.fake.put_obj("configmaps", NS, {"metadata": dict(meta, name="zpj-empty")})
        self.fake.put_obj("configmaps", NS, {"metadata": {"name": "unrelated"},
                                             "data": {"entry": other}})
        out = self.drive("jlist")
        ids = [line.split()[1] for line in out if line.startswith("entry ")]
        self.assertIn(entry_id("lab", *good), ids)
        for name in ("zpj-garbage", "zpj-misnamed", "zpj-empty", "unrelated"):
            self.assertNotIn(name, ids)
        self.assertNotIn(entry_id("lab", "_acme-challenge.x.example.test.", "vx"), ids)
        skipped = [json.loads(line) for line in self.last_log.splitlines()
                   if "entry skipped" in line]
        self.assertEqual(sorted(s["configmap"] for s in skipped),
                         ["zpj-empty", "zpj-garbage", "zpj-misnamed"])
        self.assertIn("its name is not the id", [s for s in skipped
                                                 if s["configmap"] == "zpj-misnamed"][0]["error"])

    def test_list_of_many_pages(self):
        ns = "zoneproof-many"
        sa = self.sa_dir("sa-many", TOKEN)
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write(ns + "\n")
        self.fake.grant(SA_USER, "list", "configmaps", ns)
        for i in range(1234):
            fqdn, value = "_acme-challenge.n%d.example.test." % i, "v%d" % i
            self.fake.put_obj("configmaps", ns, {
                "metadata": {"name": entry_id("lab", fqdn, value), "labels": dict(LABELS)},
                "data": {"entry": entry_json("lab", fqdn, value)}})
        lists = self.calls("GET", "/namespaces/%s/configmaps" % ns)
        out = self.drive("jlist", sa=sa)
        self.assertEqual(out[0], "ok 1234")
        self.assertEqual(len(set(out[1:])), 1234)
        self.assertEqual(self.calls("GET", "/namespaces/%s/configmaps" % ns), lists + 3)
        queries = [q for m, p, q in self.fake.calls("GET", "/namespaces/%s/configmaps" % ns)]
        self.assertEqual([q.get("limit") for q in queries[-3:]], [["500"]] * 3)
        self.assertEqual(queries[-1]["labelSelector"],
                         ["app.kubernetes.io/managed-by=zoneproof,zoneproof.io/journal=entry"])
        self.assertNotIn("continue", queries[-3])
        self.assertIn("continue", queries[-1])

    def test_list_starts_over_once_when_its_continue_expires(self):
        ns = "zoneproof-expiry"
        sa = self.sa_dir("sa-expiry", TOKEN)
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write(ns + "\n")
        self.fake.grant(SA_USER, "list", "configmaps", ns)
        for i in range(600):
            fqdn, value = "_acme-challenge.e%d.example.test." % i, "v%d" % i
            self.fake.put_obj("configmaps", ns, {
                "metadata": {"name": entry_id("lab", fqdn, value), "labels": dict(LABELS)},
                "data": {"entry": entry_json("lab", fqdn, value)}})
        lists = self.calls("GET", "/namespaces/%s/configmaps" % ns)
        self.fake.expire_continues = 1
        out = self.drive("jlist", sa=sa)
        self.assertEqual((out[0], len(set(out[1:]))), ("ok 600", 600))
        self.assertEqual(self.calls("GET", "/namespaces/%s/configmaps" % ns), lists + 4)
        self.fake.expire_continues = 2  # once more: the list fails rather than mix snapshots
        out = self.drive("jlist", sa=sa)
        self.fake.expire_continues = 0
        self.assertEqual(out, ["error Unavailable: cannot read the journal: cannot list "
                               "configmaps in namespace %s: the Kubernetes API server answered "
                               "410, reason Expired" % ns])

    def test_refusals_name_the_permission(self):
        fqdn, value = "_acme-challenge.nope.example.test.", "value-nope"
        eid = entry_id("lab", fqdn, value)
        self.assertEqual(self.put(fqdn, value, sa=self.sa_bare), [
            "error Forbidden: cannot record the challenge in the journal (nothing was written "
            "to DNS): cannot create configmaps in namespace zoneproof (403 Forbidden): %s needs "
            "create on configmaps in namespace zoneproof" % WHO])
        self.assertEqual(self.drive("jlist", sa=self.sa_bare), [
            "error Forbidden: cannot read the journal: cannot list configmaps in namespace "
            "zoneproof (403 Forbidden): %s needs list on configmaps in namespace zoneproof" % WHO])
        self.assertEqual(self.drive("jremove", eid, sa=self.sa_bare), [
            "error Forbidden: cannot remove journal entry %s: cannot delete configmap "
            "zoneproof/%s (403 Forbidden): %s needs delete on configmaps in namespace zoneproof"
            % (eid, eid, WHO)])
        # Create allowed, update not: the second put says so.
        user = "system:serviceaccount:zoneproof:half"
        sa = self.sa_dir("sa-half", "sa-token-half-0c9d8e7f6a5b")
        self.fake.set_tokens({TOKEN: SA_USER, TOKEN_BARE: BARE_USER,
                              "sa-token-half-0c9d8e7f6a5b": user})
        for verb in ("create", "get"):
            self.fake.grant(user, verb, "configmaps", NS)
        self.assertEqual(self.put(fqdn, value, sa=sa), ["ok " + eid])
        self.assertEqual(self.put(fqdn, value, written=True, sa=sa), [
            "error Forbidden: cannot mark journal entry %s written: cannot update configmap "
            "zoneproof/%s (403 Forbidden): %s needs update on configmaps in namespace zoneproof"
            % (eid, eid, WHO)])


class Challenges(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake.grant(SA_USER, "list", "challenges")
        cls.fake.add_challenge("web", "www-1-1-1", "key-www", "www.example.test")
        cls.fake.add_challenge("web", "wild-1-1-1", "key-wild", "example.test", wildcard=True)
        cls.fake.add_challenge("shop", "shop-1-1-1", "key-shop", "shop.example.test")

    def alive(self, *entries, cluster_ns="cert-manager", sa=None):
        args = ["alive", cluster_ns]
        for e in entries:
            args += list(e)
        return self.drive(*args, sa=sa)

    def test_live_and_gone(self):
        lists = self.calls("GET", "/challenges")
        out = self.alive(("_acme-challenge.www.example.test.", "key-www", "web"),
                         ("_ACME-challenge.WWW.example.test", "key-www", "cert-manager"),
                         ("_acme-challenge.www.example.test.", "key-other", "web"),
                         ("_acme-challenge.example.test.", "key-wild", "web"),
                         ("_acme-challenge.other.example.test.", "key-wild", "web"),
                         ("d420c923.auth.acme-dns.example.net.", "key-shop", "-"),
                         ("d420c923.auth.acme-dns.example.net.", "key-none", "-"))
        self.assertEqual(out, ["live", "live", "gone", "live", "gone", "live", "gone"])
        self.assertEqual(self.calls("GET", "/challenges"), lists + 1)  # one list per pass
        self.fake.add_challenge("web", "late-1-1-1", "key-late", "late.example.test")
        entry = ("_acme-challenge.late.example.test.", "key-late", "web")
        self.assertEqual(self.alive(entry), ["live"])
        self.fake.delete_challenge("web", "late-1-1-1")
        self.assertEqual(self.alive(entry), ["gone"])

    def test_namespaced_fallback(self):
        user = "system:serviceaccount:zoneproof:ns-only"
        token = "sa-token-ns-only-5e6f7a8b9c0d"
        sa = self.sa_dir("sa-ns-only", token)
        self.fake.set_tokens({TOKEN: SA_USER, TOKEN_BARE: BARE_USER, token: user})
        for ns in ("web", "cert-manager"):
            self.fake.grant(user, "list", "challenges", ns)
        forbidden = ("cannot list challenges.acme.cert-manager.io in all namespaces (403 "
                     "Forbidden): %s needs list on challenges.acme.cert-manager.io in all "
                     "namespaces (without it, an orphaned value is removed only once it is "
                     "older than cleanup.orphanAfter)" % WHO)
        out = self.alive(("_acme-challenge.www.example.test.", "key-www", "web"),
                         ("_acme-challenge.gone.example.test.", "key-gone", "web"),
                         ("_acme-challenge.shop.example.test.", "key-shop", "cert-manager"),
                         ("_acme-challenge.shop.example.test.", "key-shop", "-"), sa=sa)
        self.assertEqual(out[:2], ["live", "gone"])
        # A ClusterIssuer's Challenge may be anywhere: not finding it proves nothing.
        self.assertEqual(out[2], "unknown no Challenge in namespace cert-manager has the value, "
                                 "and one from a ClusterIssuer may be in any namespace: "
                                 + forbidden)
        self.assertEqual(out[3], "unknown " + forbidden)

    def test_forbidden_and_not_installed(self):
        entry = ("_acme-challenge.www.example.test.", "key-www", "web")
        out = self.alive(entry, sa=self.sa_bare)
        self.assertEqual(len(out), 1)
        self.assertTrue(out[0].startswith("unknown cannot list challenges.acme.cert-manager.io "
                                          "in namespace web (403 Forbidden): %s needs list on "
                                          "challenges.acme.cert-manager.io in namespace web"
                                          % WHO), out)
        self.fake.challenges_served = False
        try:
            out = self.alive(entry)
        finally:
            self.fake.challenges_served = True
        self.assertEqual(out, ["unknown cert-manager's Challenges "
                               "(challenges.acme.cert-manager.io/v1) are not served by the "
                               "Kubernetes API server (404 Not Found): is cert-manager "
                               "installed?"])


class Leases(Base):
    def lease(self, name):
        return self.fake.obj("leases", NS, name)

    def age(self, name, seconds=60):
        """Moves the lease's renewTime back: its holder stopped renewing that long ago."""
        self.fake.set_lease_spec(NS, name, renewTime=micro_time(-seconds))

    def test_acquire_busy_takeover_release(self):
        name = "lease-basic"
        self.assertEqual(self.drive("acquire", name, "pod-a", 15), ["held"])
        spec = self.lease(name)["spec"]
        self.assertEqual((spec["holderIdentity"], spec["leaseDurationSeconds"],
                          spec["leaseTransitions"]), ("pod-a", 15, 0))
        self.assertRegex(spec["renewTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertEqual(self.drive("acquire", name, "pod-b", 15),
                         ["busy lease zoneproof/%s is held by pod-a" % name])
        self.assertEqual(self.drive("renew", name, "pod-b", 15), ["lost"])
        before = self.lease(name)["spec"]["renewTime"]
        self.assertEqual(self.drive("acquire", name, "pod-a", 15), ["held"])  # renews
        self.assertGreaterEqual(self.lease(name)["spec"]["renewTime"], before)
        self.assertEqual(self.drive("renew", name, "pod-a", 15), ["renewed"])

        self.age(name, 16)  # pod-a stopped renewing 16 s ago
        self.assertEqual(self.drive("acquire", name, "pod-b", 15), ["held"])
        spec = self.lease(name)["spec"]
        self.assertEqual((spec["holderIdentity"], spec["leaseTransitions"]), ("pod-b", 1))
        # pod-a comes back: its lease is gone, and it never releases pod-b's.
        self.assertEqual(self.drive("renew", name, "pod-a", 15), ["lost"])
        self.assertEqual(self.drive("release", name, "pod-a"), ["ok"])
        self.assertEqual(self.lease(name)["spec"]["holderIdentity"], "pod-b")
        self.assertEqual(self.drive("release", name, "pod-b"), ["ok"])
        self.assertNotIn("holderIdentity", self.lease(name)["spec"])
        self.assertEqual(self.drive("acquire", name, "pod-a", 15), ["held"])  # at once
        self.assertEqual(self.drive("release", "never-made", "pod-a"), ["ok"])

    def test_a_longer_duration_counts(self):
        name = "lease-long"
        self.assertEqual(self.drive("acquire", name, "pod-a", 120), ["held"])
        self.age(name, 60)
        self.assertEqual(self.drive("acquire", name, "pod-b", 15),
                         ["busy lease zoneproof/%s is held by pod-a" % name])

    def test_stale_resource_version_read_again(self):
        name = "lease-stale"
        self.assertEqual(self.drive("acquire", name, "pod-a", 15), ["held"])
        self.fake.interfere("leases", NS, name, count=1)
        self.assertEqual(self.drive("renew", name, "pod-a", 15), ["renewed"])
        self.assertEqual(self.calls("PUT", name), 2)  # the 409, then the write

    def test_race_has_one_winner(self):
        name = "lease-race"
        procs = [subprocess.Popen(self.argv("acquire", name, "racer-%d" % i, 15),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  env=self.env()) for i in range(8)]
        outs = [p.communicate(timeout=60)[0].strip() for p in procs]
        winners = [i for i, o in enumerate(outs) if o == "held"]
        self.assertEqual(len(winners), 1, outs)
        holder = "racer-%d" % winners[0]
        self.assertEqual(self.lease(name)["spec"]["holderIdentity"], holder)
        for i, o in enumerate(outs):
            if i != winners[0]:
                self.assertEqual(o, "busy lease zoneproof/%s is held by %s" % (name, holder))

    def test_refusal_names_the_permission(self):
        self.assertEqual(self.drive("acquire", "lease-nope", "pod-a", 15, sa=self.sa_bare), [
            "error Forbidden: cannot get lease zoneproof/lease-nope (403 Forbidden): %s needs "
            "get on leases.coordination.k8s.io in namespace zoneproof (replicas coordinate "
            "through Leases in zoneproof's namespace: grant get, create and update on "
            "leases.coordination.k8s.io there)" % WHO])


class LeaseLocks(Base):
    def lease(self, name):
        return self.fake.obj("leases", NS, name)

    def start(self, *args, **extra):
        p = subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=self.env(**extra))
        def stop():
            if p.poll() is None:
                p.kill()
            p.communicate()

        self.addCleanup(stop)
        return p

    def test_waiter_gets_it_when_the_holder_lets_go(self):
        name = "lock-wait"
        a = self.start("lock", name, 2500, 20000, ZP_TEST_HOLDER="holder-a")
        self.assertTrue(a.stdout.readline().startswith("locked after"))
        b = subprocess.run(self.argv("lock", name, 0, 20000), capture_output=True, text=True,
                           timeout=60, env=self.env(ZP_TEST_HOLDER="holder-b"))
        self.assertEqual(a.communicate(timeout=30)[0].split(), ["held=1", "unlocked"])
        lines = b.stdout.strip().splitlines()
        self.assertTrue(lines[0].startswith("locked after"), lines)
        self.assertEqual(lines[1:], ["held=1", "unlocked"])
        # holder-b, started while holder-a held it, took it only once holder-a let go.
        self.assertEqual(self.fake.holders(NS, name), ["holder-a", None, "holder-b", None])

    def test_waiter_gives_up_at_its_deadline(self):
        name = "lock-deadline"
        a = self.start("lock", name, 30000, 20000, ZP_TEST_HOLDER="holder-a")
        self.assertTrue(a.stdout.readline().startswith("locked after"))
        out = self.drive("lock", name, 0, 700, ZP_TEST_HOLDER="holder-b")
        self.assertEqual(out, ["error waited for the lock until this attempt's time was up: "
                               "lease zoneproof/%s is held by holder-a" % name])
        self.assertEqual(self.drive("trylock", name, 0, ZP_TEST_HOLDER="holder-b"),
                         ["busy lease zoneproof/%s is held by holder-a" % name])

    def test_renewed_while_held(self):
        name = "lock-renew"
        a = self.start("lock", name, 1200, 20000, ZP_TEST_HOLDER="holder-a",
                       ZP_TEST_RENEW_MS="100")
        self.assertTrue(a.stdout.readline().startswith("locked after"))
        first = self.lease(name)["spec"]["renewTime"]
        self.assertEqual(a.communicate(timeout=30)[0].split(), ["held=1", "unlocked"])
        puts = self.calls("PUT", "/leases/" + name)
        self.assertGreaterEqual(puts, 5)  # renewals every 100 ms, and the release
        self.assertNotIn("holderIdentity", self.lease(name)["spec"])
        self.assertGreater(self.lease(name)["spec"]["renewTime"], first)

    def test_killed_holder_is_taken_over(self):
        name = "lock-killed"
        a = self.start("lock", name, 60000, 20000, ZP_TEST_HOLDER="holder-a")
        self.assertTrue(a.stdout.readline().startswith("locked after"))
        a.kill()
        a.wait()
        self.assertEqual(self.drive("trylock", name, 0, ZP_TEST_HOLDER="holder-b"),
                         ["busy lease zoneproof/%s is held by holder-a" % name])
        self.fake.set_lease_spec(NS, name, renewTime=micro_time(-16))  # 15 s passed, and 1
        out = self.drive("trylock", name, 0, ZP_TEST_HOLDER="holder-b")
        self.assertEqual(out[0][:12], "locked after")
        self.assertEqual(self.lease(name)["spec"]["leaseTransitions"], 1)
        self.assertEqual(self.fake.holders(NS, name), ["holder-a", "holder-b", None])

    def test_lost_lease_is_noticed_and_left_alone(self):
        name = "lock-lost"
        a = self.start("lock", name, 1500, 20000, ZP_TEST_HOLDER="holder-a",
                       ZP_TEST_RENEW_MS="100")
        self.assertTrue(a.stdout.readline().startswith("locked after"))
        self.fake.set_lease_spec(NS, name, holderIdentity="intruder")
        self.assertEqual(a.communicate(timeout=30)[0].split(), ["held=0", "unlocked"])
        self.assertEqual(self.lease(name)["spec"]["holderIdentity"], "intruder")

    def test_one_thread_at_a_time(self):
        name = "lock-threads"
        self.assertEqual(self.drive("threads", name, 6), ["max=1 done=18 failed=0"])
        holders = self.fake.holders(NS, name)
        self.assertEqual(len(holders), 36)  # taken and let go 18 times, one at a time
        self.assertNotIn("holderIdentity", self.lease(name)["spec"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""bench/journal.py — what the write-ahead journal costs a Present. Prints numbers; asserts nothing.

    python3 bench/journal.py [--build build] [--presents 200]

`zoneproof serve` writing into a real BIND on loopback, P Presents (each acked once BIND serves the
value, then cleaned up) one after the other over one keep-alive connection, timed in rounds that
alternate between the configurations so that noise lands on all of them alike:
  none       no journal
  state-dir  --state-dir on local disk (an fsync'd file written before each write, rewritten
             after it, removed after CleanUp)
  kube       the journal in ConfigMaps of a fake kube-apiserver on loopback
             (tests/fakes/fake_kube.py), serve with --kubeconfig
Median and p99 per configuration, and the difference to none. Then, in the cluster configuration
with cleanup.sweepInterval 10s: a value is presented and never cleaned up, its Challenge is
deleted, and the time until the sweeper removed it from BIND is printed (bounded by the interval:
the sweeper runs every sweepInterval and at start).
"""
import argparse
import http.client
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import pki  # noqa: E402
import test_kube  # noqa: E402  (its kubeconfig writer)
from fake_kube import FakeKube, grant_zoneproof  # noqa: E402
import run as benchrun  # noqa: E402
import zptest  # noqa: E402
from hostile import Serve  # noqa: E402


class Cluster:
    """A fake kube-apiserver and a kubeconfig whose user is a client certificate."""

    def __init__(self, d, tmp):
        self.pki, self.tmp = d, tmp
        pki._leaf(d, "kube-admin", "serving-ca", test_kube.ADMIN_CN, "clientAuth")
        self.fake = FakeKube(d, client_ca=pki.path(d, "serving-ca.crt")).start()
        grant_zoneproof(self.fake, user=test_kube.ADMIN_CN, homes=("default",))
        self.kubeconfig = test_kube.Startup.kubeconfig(self, True)


def sweep_time(zp, cfg, d, tmp, named, cluster):
    """Seconds from a Challenge's deletion to its value's removal by serve's periodic sweeper."""
    fast = os.path.join(tmp, "sweep.yaml")
    with open(cfg) as f, open(fast, "w") as g:
        g.write(f.read() + "cleanup: {sweepInterval: 10s}\n")
    srv = Serve(zp, fast, d, tmp, extra=["--kubeconfig", cluster.kubeconfig])
    try:
        fqdn, key = "_acme-challenge.orphan.example.test.", "orphan%038d" % 1
        cluster.fake.add_challenge("bench", "orphan-1-1-0", key, "orphan.example.test")
        c = http.client.HTTPSConnection("127.0.0.1", srv.port, context=benchrun.tls_context(d),
                                        timeout=60)
        c.request("POST", "/apis/%s/v1alpha1/zoneproof" % benchrun.GROUP,
                  body=benchrun.body("Present", fqdn, key), headers=benchrun.HEADERS)
        json.loads(c.getresponse().read())
        c.close()
        t0 = time.monotonic()
        cluster.fake.delete_challenge("bench", "orphan-1-1-0")
        while key in named.txt(fqdn) and time.monotonic() - t0 < 120:
            time.sleep(0.2)  # a benchmark's polling, not a test's wait
        return time.monotonic() - t0
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--presents", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    zp = os.path.join(args.build, "cmd", "zoneproof")
    tmp = tempfile.mkdtemp(prefix="zp-journal-bench-")
    named = zptest.Named({"example.test": []}).start()
    d = pki.make_pki(os.path.join(tmp, "pki"))
    cfg, _ = benchrun.lab_config(tmp, named)
    state = os.path.join(tmp, "state")
    cluster = Cluster(d, tmp)
    servers = {"none": Serve(zp, cfg, d, tmp),
               "state-dir": Serve(zp, cfg, d, tmp, extra=["--state-dir", state]),
               "kube": Serve(zp, cfg, d, tmp, extra=["--kubeconfig", cluster.kubeconfig])}
    try:
        benchrun.https_rounds(servers, d, args.presents, args.rounds)
        for srv in servers.values():
            srv.stop()
        servers = {}
        print("Challenge deleted -> value swept (sweepInterval 10s): %.1f s"
              % sweep_time(zp, cfg, d, tmp, named, cluster), flush=True)
    finally:
        for srv in servers.values():
            srv.stop()
        cluster.fake.stop()
        named.cleanup()


if __name__ == "__main__":
    main()

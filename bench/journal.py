#!/usr/bin/env python3
"""bench/journal.py — what the write-ahead journal costs a Present. Prints numbers; asserts nothing.

    python3 bench/journal.py [--build build] [--presents 200]

`zoneproof serve` writing into a real BIND on loopback, P Presents (each acked once BIND serves the
value, then cleaned up) one after the other over one keep-alive connection, timed in rounds that
alternate between the configurations so that noise lands on all of them alike:
  none       no journal
  state-dir  --state-dir on local disk (an fsync'd file written before each write, rewritten
             after it, removed after CleanUp)
  kube       the journal in ConfigMaps of a fake kube-apiserver on loopback (when
             tests/fakes/fake_kube.py provides configmaps)
Median and p99 per configuration, and the difference to none.
"""
import argparse
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import pki  # noqa: E402
import run as benchrun  # noqa: E402
import zptest  # noqa: E402
from hostile import Serve  # noqa: E402


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
    servers = {"none": Serve(zp, cfg, d, tmp),
               "state-dir": Serve(zp, cfg, d, tmp, extra=["--state-dir", state])}
    lat = {k: [] for k in servers}
    try:
        per = max(1, args.presents // args.rounds)
        for _ in range(args.rounds):
            for name, srv in servers.items():
                lat[name] += benchrun.https_sequential(srv.port, d, per)
        base = statistics.median(lat["none"])
        for name, v in lat.items():
            print("%-10s n=%-4d median=%7.2f ms  p99=%8.2f ms  (median +%.2f ms)"
                  % (name, len(v), statistics.median(v), benchrun.pct(v, 99),
                     statistics.median(v) - base), flush=True)
    finally:
        for srv in servers.values():
            srv.stop()
        named.cleanup()


if __name__ == "__main__":
    main()

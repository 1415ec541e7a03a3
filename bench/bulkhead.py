#!/usr/bin/env python3
"""bench/bulkhead.py — one provider instance never stalls another. Prints numbers; asserts nothing.

    python3 bench/bulkhead.py [--build build] [--presents 200] [--stuck 64]

A `zoneproof serve` with two provider instances: lab (rfc2136 into a real BIND on loopback, the
healthy one) and cf (Cloudflare's API, a fake on loopback that can hang or rate-limit). Phases:
  quiet   P Presents (each acked once BIND serves the value, then cleaned up) to lab, one after
          the other over one keep-alive connection: median and p99, the baseline.
  hang    cf's API never answers; S Presents to cf are in flight (each on its own connection)
          while the same P Presents go to lab.
  429     cf's API answers every call 429 with Retry-After: 30; same as above.
For each phase: lab's median and p99, and the ratio to quiet. Both instances run with the default
concurrency (workers.provider, 8 threads each).
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))
import fake_cloudflare  # noqa: E402
import pki  # noqa: E402
import run as benchrun  # noqa: E402
import zptest  # noqa: E402
from hostile import Serve  # noqa: E402

CF_ZONE = "cf.test"
TOKEN = "bench-cloudflare-token-0123456789"


def write_config(tmp, named, cf):
    secret = zptest.write_secret(tmp)
    token = zptest.write_secret(tmp, "cf-token", TOKEN)
    cfg = os.path.join(tmp, "bulkhead.yaml")
    with open(cfg, "w") as f:
        f.write("groupName: %s\npropagation:\n  mode: wait\n  timeout: 25s\n"
                "  nameservers: [\"%s\"]\nproviders:\n"
                "  - name: lab\n    type: rfc2136\n    dnsZones: [example.test]\n"
                "    namespaces: [bench]\n    nameserver: \"%s\"\n    tsigKeyName: %s\n"
                "    tsigSecretFile: %s\n"
                "  - name: cf\n    type: cloudflare\n    dnsZones: [%s]\n    namespaces: [bench]\n"
                "    apiTokenFile: %s\n    endpoint: \"%s\"\n    caFile: \"%s\"\n"
                "    propagation: {mode: skip}\n"
                % (benchrun.GROUP, named.addr(), named.addr(), zptest.TSIG_NAME, secret, CF_ZONE,
                   token, cf.url("/client/v4"), cf.ca_file))
    return cfg


def cf_presents(port, d, n, stop):
    """n Presents to cf, each on its own connection, running until stop is set."""
    def one(i):
        fqdn = "_acme-challenge.s%d.%s." % (i, CF_ZONE)
        b = json.loads(benchrun.body("Present", fqdn, "stuck%038d" % i))
        b["request"]["resolvedZone"] = CF_ZONE + "."
        while not stop.is_set():
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", port,
                                                   context=benchrun.tls_context(d), timeout=60)
                conn.request("POST", "/apis/%s/v1alpha1/zoneproof" % benchrun.GROUP,
                             body=json.dumps(b).encode(), headers=benchrun.HEADERS)
                conn.getresponse().read()
                conn.close()
            except OSError:
                pass
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def line(name, lat, quiet=None):
    med, p99 = statistics.median(lat), benchrun.pct(lat, 99)
    ratio = ""
    if quiet:
        ratio = "  (%.2fx / %.2fx quiet)" % (med / statistics.median(quiet),
                                            p99 / benchrun.pct(quiet, 99))
    print("%-28s n=%-4d median=%7.2f ms  p99=%8.2f ms%s" % (name, len(lat), med, p99, ratio),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--presents", type=int, default=200)
    ap.add_argument("--stuck", type=int, default=64)
    args = ap.parse_args()
    zp = os.path.join(args.build, "cmd", "zoneproof")
    tmp = tempfile.mkdtemp(prefix="zp-bulkhead-")
    named = zptest.Named({"example.test": []}).start()
    d = pki.make_pki(os.path.join(tmp, "pki"))
    cf = fake_cloudflare.FakeCloudflare(d, zones=(CF_ZONE,)).start()
    cf.add_token(TOKEN, "bench", zone_read=[CF_ZONE], dns_edit=[CF_ZONE])
    srv = Serve(zp, write_config(tmp, named, cf), d, tmp)
    try:
        quiet = benchrun.https_sequential(srv.port, d, args.presents)
        line("lab quiet", quiet)
        for name, fault in (("hang", {"hang": 3600}), ("429", {"status": 429, "retry_after": 30})):
            cf.inject(count=1000000, **fault)
            stop = threading.Event()
            threads = cf_presents(srv.port, d, args.stuck, stop)
            lat = benchrun.https_sequential(srv.port, d, args.presents)
            line("lab while cf %s (%d in flight)" % (name, args.stuck), lat, quiet)
            stop.set()
            cf.clear_faults()
            for t in threads:
                t.join(timeout=70)
    finally:
        srv.stop()
        cf.stop()
        named.cleanup()


if __name__ == "__main__":
    main()

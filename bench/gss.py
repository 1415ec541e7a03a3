#!/usr/bin/env python3
"""bench/gss.py — what GSS-TSIG costs a Present next to HMAC-SHA256 TSIG. Prints numbers; asserts
nothing.

    python3 bench/gss.py [--rounds 200]

One BIND on loopback (tests/lib/krb.py: tkey-gssapi-keytab and the HMAC key acme-key on the same
zone) and a real MIT KDC. Two `zoneproof serve` processes, one per signing, each with
propagation skipped so that the figure is the update alone. Rounds alternate between them over
one kept connection each (noise lands on both alike); each round is a Present and its CleanUp,
and the Present is timed. The first Present of the GSS server includes the whole negotiation
(AS-REQ and TGS-REQ to the KDC, the TKEY exchange over TCP); the later ones reuse the context.
Then the CLI, one process per Present (every call negotiates: the cost a certbot or lego hook
pays), interleaved the same way.
"""
import argparse
import http.client
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import krb  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402
from test_http import CERT_MANAGER, RESOURCE, Server, payload  # noqa: E402

NAME = "_acme-challenge.%s." % krb.ZONE


def config(tmp, name, lab, gss):
    lines = ["propagation:", "  mode: skip", "providers:", "  - name: %s" % name,
             "    type: rfc2136", '    dnsZones: ["%s"]' % krb.ZONE,
             '    nameserver: "%s"' % lab.named.addr()]
    if gss:
        lines += ["    tsigAlgorithm: gss-tsig", "    kerberos:",
                  "      principal: %s" % lab.solver, "      keytabFile: %s" % lab.solver_keytab,
                  '      kdc: ["127.0.0.1:%d"]' % lab.kdc.port]
    else:
        lines += ['    tsigKeyName: "%s"' % zptest.TSIG_NAME, '    tsigAlgorithm: "hmac-sha256"',
                  '    tsigSecretFile: "%s"' % zptest.write_secret(tmp)]
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def connect(d, srv):
    ctx = ssl.create_default_context(cafile=pki.path(d, "serving-ca.crt"))
    ctx.load_cert_chain(pki.path(d, "proxy-client.crt"), pki.path(d, "proxy-client.key"))
    return http.client.HTTPSConnection("localhost", srv.port, context=ctx, timeout=30)


def post(conn, action, value, uid):
    h = dict(CERT_MANAGER, **{"Content-Type": "application/json"})
    body = payload(action, NAME, value, zone=krb.ZONE + ".", uid=uid, namespace="cert-manager")
    t0 = time.perf_counter()
    conn.request("POST", RESOURCE, body=body, headers=h)
    data = conn.getresponse().read()
    took = (time.perf_counter() - t0) * 1000
    if b'"success":true' not in data:
        raise RuntimeError("%s failed: %s" % (action, data))
    return took


def cli(cfg, action, value):
    t0 = time.perf_counter()
    r = subprocess.run([zptest.zoneproof_bin(), action, "--config", cfg, "--fqdn", NAME,
                        "--zone", krb.ZONE, "--key", value], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return (time.perf_counter() - t0) * 1000


def summary(label, xs):
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
    print("  %-28s n=%-4d median %7.2f ms   p99 %7.2f ms" % (label, len(xs),
                                                            statistics.median(xs), p99))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--cli-rounds", type=int, default=40)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="zp-bench-gss-")
    d = pki.make_pki(os.path.join(tmp, "pki"))
    with krb.GssLab() as lab:
        cfgs = {"hmac": config(tmp, "hmac", lab, False), "gss": config(tmp, "gss", lab, True)}
        servers = {k: Server(tmp, d, c, name="serve-" + k) for k, c in cfgs.items()}
        try:
            conns = {k: connect(d, s) for k, s in servers.items()}
            times = {"hmac": [], "gss": []}
            first = {}
            for i in range(args.rounds):
                for k in ("hmac", "gss") if i % 2 == 0 else ("gss", "hmac"):
                    v = zptest.acme_key("%s-%d" % (k, i))
                    t = post(conns[k], "Present", v, "p%d" % i)
                    post(conns[k], "CleanUp", v, "c%d" % i)
                    if i == 0:
                        first[k] = t
                    else:
                        times[k].append(t)
            tkeys = lab.named.tkey_count()
        finally:
            for s in servers.values():
                s.stop()
        cli_times = {"hmac": [], "gss": []}
        for i in range(args.cli_rounds):
            for k in ("hmac", "gss") if i % 2 == 0 else ("gss", "hmac"):
                v = zptest.acme_key("cli-%s-%d" % (k, i))
                cli_times[k].append(cli(cfgs[k], "present", v))
                cli(cfgs[k], "cleanup", v)
    print("Present through serve, BIND on loopback, propagation skipped (%d rounds, interleaved)"
          % args.rounds)
    for k in ("hmac", "gss"):
        print("  %-28s %7.2f ms" % ("%s: first Present" % k, first[k]))
        summary("%s: later Presents" % k, times[k])
    print("  TKEY negotiations BIND saw: %d" % tkeys)
    print("Present through the CLI, one process each (every GSS call negotiates)")
    for k in ("hmac", "gss"):
        summary("%s: zoneproof present" % k, cli_times[k])


if __name__ == "__main__":
    main()

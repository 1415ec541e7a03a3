#!/usr/bin/env python3
"""bench/run.py — runs zoneproof's benchmarks against a real BIND on loopback
and prints the numbers. Asserts nothing: these machines are shared and noisy.

    python3 bench/run.py [--build build] [--count 200] [--concurrent 1000]

Measures:
  - Present->ack latency in-process (zp_bench) and through HTTPS (zoneproof serve,
    one keep-alive mTLS connection), median and p99;
  - N concurrent Presents of distinct names, in-process and through HTTPS: wall
    time, peak RSS, peak thread count;
  - the raw limit: one hand-made UPDATE plus one query per nameserver;
  - the checks Present runs before it writes (precheck), beside the raw limit;
  - idle RSS of `zoneproof serve`;
  - in the scenario lab (tests/lib/dnslab.py, needs root; --no-lab skips it): a
    signed zone with two servers, resolvers, DNSSEC and CAA checks on: Present,
    precheck, and `zoneproof doctor` for one name.
"""
import argparse
import asyncio
import http.client
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import pki  # noqa: E402
import zptest  # noqa: E402

GROUP = "acme.zoneproof.test"


def proc_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def private_kb(pid):
    """Resident memory that is the process's own: anonymous pages, not shared library text."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    return -1


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def body(action, fqdn, key):
    return json.dumps({"request": {
        "uid": "", "action": action, "type": "dns-01", "dnsName": fqdn[len("_acme-challenge."):-1],
        "key": key, "resourceNamespace": "bench", "resolvedFQDN": fqdn,
        "resolvedZone": "example.test.", "allowAmbientCredentials": False}}).encode()


HEADERS = {"Content-Type": "application/json", "X-Remote-User": "system:serviceaccount:cert-manager:cert-manager",
           "X-Remote-Group": "system:masters"}


def tls_context(d):
    ctx = ssl.create_default_context(cafile=os.path.join(d, "serving-ca.crt"))
    ctx.load_cert_chain(os.path.join(d, "proxy-client.crt"), os.path.join(d, "proxy-client.key"))
    return ctx


def https_sequential(port, d, count):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls_context(d), timeout=60)
    path = "/apis/%s/v1alpha1/zoneproof" % GROUP
    lat = []
    for i in range(count):
        fqdn = "_acme-challenge.h%d.example.test." % i
        key = "https%039d" % i
        t0 = time.perf_counter()
        conn.request("POST", path, body=body("Present", fqdn, key), headers=HEADERS)
        r = conn.getresponse()
        data = json.loads(r.read())
        lat.append((time.perf_counter() - t0) * 1000)
        if not data["response"]["success"]:
            raise SystemExit("https present failed: %s" % data["response"]["status"]["message"])
        conn.request("POST", path, body=body("CleanUp", fqdn, key), headers=HEADERS)
        json.loads(conn.getresponse().read())
    conn.close()
    return lat


async def one_async(port, ctx, action, fqdn, key):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
    b = body(action, fqdn, key)
    head = "POST /apis/%s/v1alpha1/zoneproof HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % (GROUP, len(b))
    head += "".join("%s: %s\r\n" % kv for kv in HEADERS.items()) + "Connection: close\r\n\r\n"
    writer.write(head.encode() + b)
    await writer.drain()
    data = await reader.read()
    writer.close()
    text = data.decode(errors="replace")
    return '"success":true' in text


async def https_concurrent(port, d, n, action):
    ctx = tls_context(d)
    sem = asyncio.Semaphore(n)

    async def go(i):
        async with sem:
            return await one_async(port, ctx, action, "_acme-challenge.hc%d.example.test." % i,
                                   "hconc%038d" % i)
    return await asyncio.gather(*(go(i) for i in range(n)))


def https_rounds(servers, d, presents, rounds):
    """Presents through each of servers ({name: Serve}) in rounds that alternate between them, so
    that noise lands on all alike; prints median and p99 per server and the difference of the
    medians to the first one. Returns {name: [ms]}."""
    lat = {k: [] for k in servers}
    per = max(1, presents // rounds)
    for _ in range(rounds):
        for name, srv in servers.items():
            lat[name] += https_sequential(srv.port, d, per)
    base = statistics.median(next(iter(lat.values())))
    for name, v in lat.items():
        print("%-10s n=%-4d median=%7.2f ms  p99=%8.2f ms  (median %+.2f ms)"
              % (name, len(v), statistics.median(v), pct(v, 99), statistics.median(v) - base),
              flush=True)
    return lat


def lab_config(tmp, named):
    """The benchmarks' configuration: one rfc2136 provider writing into named's example.test."""
    secret = zptest.write_secret(tmp)
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write("groupName: %s\npropagation:\n  mode: wait\n  timeout: 25s\n"
                "  nameservers: [\"%s\"]\nproviders:\n  - name: lab\n    type: rfc2136\n"
                "    dnsZones: [example.test]\n    namespaces: [bench]\n    nameserver: \"%s\"\n"
                "    tsigKeyName: %s\n"
                "    tsigSecretFile: %s\n    ttl: 60\n"
                % (GROUP, named.addr(), named.addr(), zptest.TSIG_NAME, secret))
    return cfg, secret


def raise_fd_limit():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    raise_fd_limit()
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--concurrent", type=int, default=1000)
    ap.add_argument("--no-lab", action="store_true", help="skip the scenario lab section")
    args = ap.parse_args()
    zp = os.path.join(args.build, "cmd", "zoneproof")
    bench = os.path.join(args.build, "bench", "zp_bench")
    tmp = tempfile.mkdtemp(prefix="zp-bench-")
    named = zptest.Named({"example.test": []}).start()
    serve = None
    try:
        cfg, secret = lab_config(tmp, named)
        print("== in-process (zp_bench), BIND at %s" % named.addr(), flush=True)
        subprocess.run([bench, "--config", cfg, "--count", str(args.count), "--concurrent",
                        str(args.concurrent), "--server", named.addr(), "--secret-file", secret,
                        "--key-name", zptest.TSIG_NAME], check=True)

        cli = []
        for i in range(min(args.count, 50)):
            fqdn = "_acme-challenge.cli%d.example.test." % i
            key = "cli%040d" % i
            t0 = time.perf_counter()
            subprocess.run([zp, "present", "--config", cfg, "--fqdn", fqdn, "--key", key],
                           check=True, capture_output=True)
            cli.append((time.perf_counter() - t0) * 1000)
            subprocess.run([zp, "cleanup", "--config", cfg, "--fqdn", fqdn, "--key", key],
                           check=True, capture_output=True)
        print("%-34s n=%-5d median=%7.2f ms  p99=%7.2f ms  max=%7.2f ms"
              % ("present->ack, CLI process", len(cli), statistics.median(cli), pct(cli, 99),
                 max(cli)), flush=True)

        d = pki.make_pki(os.path.join(tmp, "pki"))
        port = zptest.free_port()
        log = open(os.path.join(tmp, "serve.log"), "w")
        serve = subprocess.Popen([zp, "serve", "--config", cfg, "--secure-port", str(port),
                                  "--bind-address", "127.0.0.1",
                                  "--tls-cert-file", os.path.join(d, "serving.crt"),
                                  "--tls-private-key-file", os.path.join(d, "serving.key"),
                                  "--requestheader-client-ca-file", os.path.join(d, "proxy-ca.crt"),
                                  "--log-level", "warn"], stdout=log, stderr=log)
        zptest.wait_for(lambda: zptest.tcp_open("127.0.0.1", port), what="zoneproof serve")
        time.sleep(1.0)
        print("== zoneproof serve (pid %d)" % serve.pid)
        print("idle: RSS=%d kB (own anonymous memory %d kB; the rest is shared library text) "
              "threads=%d" % (proc_status(serve.pid, "VmRSS"), private_kb(serve.pid),
                              proc_status(serve.pid, "Threads")))
        lat = https_sequential(port, d, args.count)
        print("%-34s n=%-5d median=%7.2f ms  p99=%7.2f ms  max=%7.2f ms"
              % ("present->ack, through HTTPS", len(lat), statistics.median(lat), pct(lat, 99),
                 max(lat)), flush=True)

        peak_threads = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak_threads[0] = max(peak_threads[0], proc_status(serve.pid, "Threads"))
                time.sleep(0.005)
        th = threading.Thread(target=sample)
        th.start()
        t0 = time.perf_counter()
        ok = asyncio.run(https_concurrent(port, d, args.concurrent, "Present"))
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
        print("%d concurrent presents via HTTPS: wall=%.2f s ok=%d peak_threads=%d peak_rss=%d kB"
              % (args.concurrent, wall, sum(ok), peak_threads[0], proc_status(serve.pid, "VmHWM")))
        asyncio.run(https_concurrent(port, d, args.concurrent, "CleanUp"))
        left = named.dig("_acme-challenge.hc0.example.test.", "TXT")
        print("after cleanup, a sample name holds: %r" % left.strip())
    finally:
        if serve:
            serve.terminate()
            serve.wait(10)
        named.cleanup()
    if not args.no_lab:
        lab_section(zp, bench, args.count)


def lab_section(zp, bench, count):
    """Every check on: a signed zone through a validating resolver, CAA against an issuer."""
    import dnslab
    with dnslab.Lab() as lab:
        cfg = lab.config("ok.test", propagation={"resolvers": [lab.resolver]},
                         caaIssuers=["letsencrypt.org"])
        print("== scenario lab: ok.test (signed, 2 servers), resolver %s, DNSSEC and CAA "
              "checked" % lab.resolver, flush=True)
        # The checks alone first: the Presents below keep BIND's transfers and the
        # resolver busy, and the lab caps every cache at 2 s.
        subprocess.run([bench, "--config", cfg, "--zone", "ok.test", "--count", str(count),
                        "--concurrent", "0", "--precheck-only"], check=True)
        # Present->ack here is paced by BIND's secondary (about 0.5 s between transfers).
        subprocess.run([bench, "--config", cfg, "--zone", "ok.test", "--count", "20",
                        "--concurrent", "0"], check=True)
        took = []
        for _ in range(30):
            t0 = time.perf_counter()
            subprocess.run([zp, "doctor", "--config", cfg, "ok.test"], check=True,
                           capture_output=True)
            took.append((time.perf_counter() - t0) * 1000)
        print("%-34s n=%-5d median=%7.2f ms  p99=%7.2f ms  max=%7.2f ms"
              % ("doctor, one name (process)", len(took), statistics.median(took),
                 pct(took, 99), max(took)), flush=True)


if __name__ == "__main__":
    main()

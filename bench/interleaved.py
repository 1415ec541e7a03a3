#!/usr/bin/env python3
"""bench/interleaved.py — Present->ack four ways, in one interleaved loop. Prints numbers; asserts
nothing.

    python3 bench/interleaved.py [--build build] [--iterations 100] [--servers 1,2,4] [--scale]

For 1, 2 and 4 authoritative servers (a BIND primary, and BIND secondaries that it NOTIFYs at once,
`notify-delay 0`), each iteration presents one fresh name four ways, in an order that rotates from
one iteration to the next so that noise lands on all of them alike:
  raw     the honest limit (zp_bench --stdin): one hand-made UPDATE to the primary, then each
          server asked again and again until it serves the value, and the answer checked
  inproc  zoneproof's solver in the same process (zp_bench --stdin)
  cli     `zoneproof present`, a process per call
  https   `zoneproof serve` over one keep-alive mTLS connection, HTTP/1.1, from C (zp_hclient)
  h2      the same over HTTP/2, as kube-apiserver calls a server that offers h2
Each value is removed after its measurement (not timed). Printed: median and p99 per way, and the
median and p99 of the per-iteration ratios to raw.

--scale adds the series of many challenges at once (1k, 5k, 10k), in-process and through HTTPS,
waiting (their nameserver never answers) and served: KB per waiting challenge, per connection, and
what stays once they are answered. Through HTTPS twice: HTTP/1.1, a connection per waiting call,
and HTTP/2, many calls on a connection, as kube-apiserver sends them to a server offering h2.
"""
import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import h2client  # noqa: E402,F401  (first: it may re-run this under Debian's python3)
import pki  # noqa: E402
import run as benchrun  # noqa: E402
import zptest  # noqa: E402
from hostile import Serve  # noqa: E402

ZONE = "example.test"
WAYS = ("raw", "inproc", "cli", "https", "h2")


class Chain:
    """A BIND primary for ZONE and n-1 secondaries it NOTIFYs at once, each on its own port."""

    def __init__(self, n):
        self.dir = tempfile.mkdtemp(prefix="zp-chain-")
        self.ports = [zptest.free_port() for _ in range(n)]
        self.procs = []
        zone = os.path.join(self.dir, "primary.db")
        with open(zone, "w") as f:
            f.write("$ORIGIN %s.\n$TTL 60\n@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n"
                    "@ IN NS ns1\nns1 IN A 127.0.0.1\n" % ZONE)
        for i, port in enumerate(self.ports):
            d = os.path.join(self.dir, "ns%d" % i)
            os.makedirs(d)
            if i == 0:
                notify = "".join("127.0.0.1 port %d; " % p for p in self.ports[1:])
                stanza = ('type primary; file "%s"; update-policy { grant %s subdomain %s. TXT; };'
                          ' notify %s; %s allow-transfer { any; };'
                          % (zone, zptest.TSIG_NAME, ZONE, "explicit" if n > 1 else "no",
                             "also-notify { %s};" % notify if n > 1 else ""))
            else:
                stanza = ('type secondary; file "%s/sec.db"; primaries { 127.0.0.1 port %d; };'
                          ' notify no;' % (d, self.ports[0]))
            conf = ["options {", ' directory "%s";' % d, ' pid-file "%s/named.pid";' % d,
                    " listen-on port %d { 127.0.0.1; };" % port, " listen-on-v6 { none; };",
                    " recursion no;", " dnssec-validation no;", " notify-delay 0;",
                    " minimal-responses no;", "};", "controls { };",
                    'key "%s" { algorithm hmac-sha256; secret "%s"; };'
                    % (zptest.TSIG_NAME, zptest.TSIG_SECRET),
                    'zone "%s" { %s };' % (ZONE, stanza)]
            with open(os.path.join(d, "named.conf"), "w") as f:
                f.write("\n".join(conf) + "\n")
            log = open(os.path.join(d, "named.log"), "w")
            self.procs.append(subprocess.Popen(["named", "-g", "-c", os.path.join(d, "named.conf")],
                                               stdout=log, stderr=subprocess.STDOUT))
        for port in self.ports:
            zptest.wait_for(lambda: "status: NOERROR" in subprocess.run(
                ["dig", "+norec", "-p", str(port), "@127.0.0.1", ZONE + ".", "SOA"],
                capture_output=True, text=True).stdout, timeout=30, what="named :%d" % port)

    def addrs(self):
        return ["127.0.0.1:%d" % p for p in self.ports]

    def stop(self):
        for p in self.procs:
            p.terminate()
            p.wait(10)


def config(tmp, chain, name="interleaved.yaml", nameservers=None, extra=""):
    secret = zptest.write_secret(tmp)
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("groupName: %s\npropagation:\n  mode: wait\n  timeout: 25s\n"
                "  nameservers: %s\nproviders:\n  - name: lab\n    type: rfc2136\n"
                "    dnsZones: [%s]\n    namespaces: [bench]\n    nameserver: \"%s\"\n"
                "    tsigKeyName: %s\n    tsigSecretFile: %s\n    ttl: 60\n%s"
                % (benchrun.GROUP, json.dumps(nameservers or chain.addrs()), ZONE,
                   chain.addrs()[0], zptest.TSIG_NAME, secret, extra))
    return path, secret


class Bench:
    """zp_bench --stdin: the raw limit and the in-process solver, one command a line."""

    def __init__(self, exe, cfg, secret, primary):
        self.p = subprocess.Popen([exe, "--config", cfg, "--stdin", "--zone", ZONE,
                                   "--server", primary, "--secret-file", secret, "--key-name",
                                   zptest.TSIG_NAME], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        out = self.p.stdout.readline().strip()
        if not out or out.startswith(("fail", "error")):
            raise SystemExit("zp_bench: %s -> %s" % (line, out))
        return out

    def stop(self):
        self.p.stdin.close()
        self.p.wait(30)


class HClient:
    """zp_hclient: `zoneproof serve` called from C over one kept-alive mTLS connection per
    protocol, as kube-apiserver calls it, so that no Python client cost is measured."""

    def __init__(self, exe, port, d):
        args = [exe, "--url", "https://localhost:%d/apis/%s/v1alpha1/zoneproof"
                % (port, benchrun.GROUP), "--cacert", os.path.join(d, "serving-ca.crt"),
                "--cert", os.path.join(d, "proxy-client.crt"),
                "--key", os.path.join(d, "proxy-client.key")]
        for k, v in benchrun.HEADERS.items():
            args += ["-H", "%s: %s" % (k, v)]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, proto, action, fqdn, key):
        self.p.stdin.write("%s %s\n" % (proto, benchrun.body(action, fqdn, key).decode()))
        self.p.stdin.flush()
        out = self.p.stdout.readline().strip()
        if not out.isdigit():
            raise SystemExit("%s %s failed: %s" % (proto, action, out[:300]))

    def stop(self):
        self.p.stdin.close()
        self.p.wait(30)


def act(way, action, fqdn, key, tools):
    """Present (or remove) one value the given way."""
    zp, cfg, bench, hc = tools
    present = action == "Present"
    if way == "raw":
        bench.ask("%s %s %s" % ("raw" if present else "rawdel", fqdn, key))
    elif way == "inproc":
        bench.ask("%s %s %s" % ("present" if present else "cleanup", fqdn, key))
    elif way == "cli":
        subprocess.run([zp, "present" if present else "cleanup", "--config", cfg, "--fqdn", fqdn,
                        "--key", key, "--log-level", "error"], check=True, capture_output=True)
    else:
        hc.call("h1" if way == "https" else "h2", action, fqdn, key)


def one(way, i, tools):
    """One Present the given way; returns ms. Its removal follows, untimed."""
    fqdn = "_acme-challenge.%s%d.%s." % (way, i, ZONE)
    key = "%s%040d" % (way, i)
    t0 = time.perf_counter()
    act(way, "Present", fqdn, key, tools)
    ms = (time.perf_counter() - t0) * 1000
    act(way, "CleanUp", fqdn, key, tools)
    return ms


def interleaved(args, zp, exe, n, d):
    tmp = tempfile.mkdtemp(prefix="zp-il-")
    chain = Chain(n)
    cfg, secret = config(tmp, chain)
    srv = Serve(zp, cfg, d, tmp)
    bench = Bench(exe, cfg, secret, chain.addrs()[0])
    hc = HClient(os.path.join(args.build, "bench", "zp_hclient"), srv.port, d)
    try:
        tools = (zp, cfg, bench, hc)
        lat = {w: [] for w in WAYS}
        for i in range(args.iterations):
            for k in range(len(WAYS)):
                way = WAYS[(i + k) % len(WAYS)]
                lat[way].append(one(way, i, tools))
        print("== %d authoritative server%s (%s), %d iterations"
              % (n, "s" if n > 1 else "", "primary" + (" + %d secondaries with NOTIFY" % (n - 1)
                                                       if n > 1 else ""), args.iterations))
        for w in WAYS:
            v = lat[w]
            line = "  %-7s median=%7.2f ms  p99=%8.2f ms" % (w, statistics.median(v),
                                                            benchrun.pct(v, 99))
            if w != "raw":
                r = [a / b for a, b in zip(v, lat["raw"])]
                line += "   ÷ raw per iteration: median %.2f×  p99 %.2f×" % (
                    statistics.median(r), benchrun.pct(r, 99))
            print(line, flush=True)
    finally:
        hc.stop()
        bench.stop()
        srv.stop()
        chain.stop()


async def park(port, d, n, tag, dead_fqdn_zone):
    """n Presents at once over n connections; returns their tasks (answered later)."""
    ctx = benchrun.tls_context(d)
    return [asyncio.create_task(benchrun.one_async(
        port, ctx, "Present", "_acme-challenge.%s%d.%s." % (tag, i, dead_fqdn_zone),
        "%s%040d" % (tag, i))) for i in range(n)]


def metric(port, name):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def scale_serve(zp, d, n, chain, tmp):
    """A fresh serve whose nameserver never answers, with room for n at once."""
    dead = zptest.free_port()
    cfg, _ = config(tmp, chain, name="scale-https.yaml", nameservers=["127.0.0.1:%d" % dead],
                    extra="workers:\n  maxWatches: %d\n" % (n + 100))
    mport = zptest.free_port(kind=zptest.socket.SOCK_STREAM)
    # n handshakes at once queue for the one loop thread longer than the default 10 s, and idle
    # connections would meet the 10 s header deadline before all are open.
    srv = Serve(zp, cfg, d, tmp, extra=["--max-connections", str(n + 100),
                                        "--tls-handshake-timeout", "300s",
                                        "--request-header-timeout", "300s",
                                        "--metrics-bind-address", "127.0.0.1:%d" % mport])
    time.sleep(1)
    return srv, mport


def cpu_s(pid):
    """User and system CPU seconds of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def handshakes(zp, d, chain, count):
    """Idle RSS of a fresh serve, then after count mTLS handshakes (each connection closed at
    once), once settled: what a burst leaves behind."""
    tmp = tempfile.mkdtemp(prefix="zp-hs-")
    srv, _ = scale_serve(zp, d, 100, chain, tmp)
    try:
        idle = settled_rss(srv)
        ctx = benchrun.tls_context(d)
        t0, c0 = time.perf_counter(), cpu_s(srv.p.pid)
        for _ in range(count):
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port)),
                                server_hostname="localhost")
            s.close()
        took, cpu = time.perf_counter() - t0, cpu_s(srv.p.pid) - c0
        print("  serve idle RSS %d kB; after %d handshakes (%.0f/s, %.1f s of serve's CPU): "
              "%d kB" % (idle, count, count / took, cpu, settled_rss(srv)), flush=True)
    finally:
        srv.stop()


def settled_rss(srv):
    """RSS once serve has given back what a burst freed (it trims every 5 s)."""
    time.sleep(6)
    return srv.rss_kb()


def scale_https(zp, d, n, chain):
    """n idle TLS connections (client certificate, handshake done) in one fresh serve; n
    Presents waiting on a nameserver that never answers, each on its own connection, in
    another."""
    tmp = tempfile.mkdtemp(prefix="zp-scale-")
    srv, _ = scale_serve(zp, d, n, chain, tmp)
    try:
        before = srv.rss_kb()

        async def idle():
            ctx = benchrun.tls_context(d)
            conns = [await asyncio.open_connection("127.0.0.1", srv.port, ssl=ctx)
                     for _ in range(n)]
            rss = settled_rss(srv)
            for _, w in conns:
                w.close()
            return rss
        rss = asyncio.run(idle())
        print("  https   %6d idle connections: RSS %7d kB -> %7d kB: %.1f KB each"
              % (n, before, rss, (rss - before) / n), flush=True)
    finally:
        srv.stop()
    srv, mport = scale_serve(zp, d, n, chain, tmp)
    try:
        before = srv.rss_kb()

        c0 = cpu_s(srv.p.pid)

        async def run():
            tasks = await park(srv.port, d, n, "hw", ZONE)
            t0 = time.time()
            while (metric(mport, "zoneproof_watches_waiting") or 0) < n and time.time() - t0 < 300:
                await asyncio.sleep(0.2)
            waiting = metric(mport, "zoneproof_watches_waiting")
            rss = settled_rss(srv)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return waiting, rss
        waiting, rss = asyncio.run(run())
        print("  https   %6d waiting: %5d of them in the watcher, RSS %7d kB -> %7d kB: "
              "%.1f KB each; serve's CPU %.1f s" % (n, waiting or 0, before, rss,
                                                  (rss - before) / n, cpu_s(srv.p.pid) - c0),
              flush=True)
    finally:
        srv.stop()


def scale_h2(zp, d, n, chain):
    """n Presents waiting on a nameserver that never answers, as kube-apiserver sends them
    when the server offers h2: multiplexed, at most the advertised streams per connection."""
    H2 = h2client.H2
    tmp = tempfile.mkdtemp(prefix="zp-scale-h2-")
    srv, mport = scale_serve(zp, d, n, chain, tmp)
    conns = []
    try:
        before = srv.rss_kb()
        c0 = cpu_s(srv.p.pid)
        per = None
        path = "/apis/%s/v1alpha1/zoneproof" % benchrun.GROUP
        hdrs = benchrun.HEADERS
        for i in range(n):
            if not conns or len(conns[-1].streams) >= per:
                conns.append(H2(srv.port, benchrun.tls_context(d)))
                while not conns[-1].settings:
                    conns[-1].pump()
                per = conns[-1].settings.get(3, 100)  # SETTINGS_MAX_CONCURRENT_STREAMS
            conns[-1].request("POST", path, hdrs, benchrun.body(
                "Present", "_acme-challenge.h2w%d.%s." % (i, ZONE), "h2w%037d" % i))
        t0 = time.time()
        while (metric(mport, "zoneproof_watches_waiting") or 0) < n and time.time() - t0 < 300:
            time.sleep(0.2)
        waiting = metric(mport, "zoneproof_watches_waiting")
        rss = settled_rss(srv)
        print("  h2      %6d waiting on %d connections (%d streams each): %5d of them in the "
              "watcher, RSS %7d kB -> %7d kB: %.1f KB each; serve's CPU %.1f s"
              % (n, len(conns), per, waiting or 0, before, rss, (rss - before) / n,
                 cpu_s(srv.p.pid) - c0), flush=True)
    finally:
        for c in conns:
            c.close()
        srv.stop()


def scale_inproc(exe, n, chain, tmp, served):
    dead = zptest.free_port()
    cfg, secret = config(tmp, chain, name="scale-%d.yaml" % n,
                         nameservers=chain.addrs() if served else ["127.0.0.1:%d" % dead],
                         extra="workers:\n  maxWatches: %d\n" % (n + 100))
    b = Bench(exe, cfg, secret, chain.addrs()[0])
    try:
        got = b.ask("%s %d %s" % ("served" if served else "waiting", n, ZONE)).split()
        print("  inproc  %6d %s: RSS %7s kB -> %7s kB: %s KB each, %s refused"
              % (n, "served " if served else "waiting", got[1], got[2], got[3], got[4]),
              flush=True)
    finally:
        b.stop()


def main():
    benchrun.raise_fd_limit()
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--servers", default="1,2,4")
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--scale-sizes", default="1000,5000,10000")
    ap.add_argument("--handshakes", type=int, default=30000)
    ap.add_argument("--zoneproof", help="the zoneproof binary for cli and https (e.g. a static "
                    "build); default: the build's")
    ap.add_argument("--no-inproc", action="store_true", help="scale series: HTTPS only")
    args = ap.parse_args()
    zp = args.zoneproof or os.path.join(args.build, "cmd", "zoneproof")
    exe = os.path.join(args.build, "bench", "zp_bench")
    tmp = tempfile.mkdtemp(prefix="zp-interleaved-")
    d = pki.make_pki(os.path.join(tmp, "pki"))
    for n in [int(x) for x in args.servers.split(",") if x]:
        if args.iterations > 0:
            interleaved(args, zp, exe, n, d)
    if args.scale:
        chain = Chain(1)
        try:
            print("== scale series (one BIND; waiting: a nameserver that never answers); %s"
                  % zp)
            if args.handshakes > 0:
                handshakes(zp, d, chain, args.handshakes)
            for n in [int(x) for x in args.scale_sizes.split(",")]:
                if not args.no_inproc:
                    scale_inproc(exe, n, chain, tmp, served=False)
                    scale_inproc(exe, n, chain, tmp, served=True)
                scale_https(zp, d, n, chain)
                scale_h2(zp, d, n, chain)
        finally:
            chain.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench/observability.py — what metrics and the status page cost. Prints numbers; asserts nothing.

    python3 bench/observability.py [--build build] [--presents 200] [--behind 10000]

`zoneproof serve` writing into a real BIND on loopback; P Presents (each acked once BIND serves
the value, then cleaned up) one after the other over one keep-alive connection, timed in rounds
that alternate between the configurations so that noise lands on all of them alike:
  off         no --metrics-bind-address
  scraped     --metrics-bind-address --status-page, /metrics fetched every second (Prometheus'
              pace at a 1 s scrape interval)
  scraped-10  the same, fetched ten times a second
Median and p99 per configuration, and the difference to off. Then idle RSS with and without the
listener (fresh processes, before any challenge); then B more challenges through the scraped
server (so that B are behind the numbers) and the size and fetch time of /metrics,
/status.json and /status (medians of 20 fetches).
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import pki  # noqa: E402
import run as benchrun  # noqa: E402
import zptest  # noqa: E402
from hostile import Serve  # noqa: E402


class Scraper:
    """Fetches a URL every interval seconds until stopped."""

    def __init__(self, url, interval):
        self.url, self.interval, self.n = url, interval, 0
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_ev.wait(self.interval):
            with urllib.request.urlopen(self.url, timeout=10) as r:
                r.read()
            self.n += 1

    def stop(self):
        self.stop_ev.set()
        self.t.join()


def fetch(url, times=20):
    ms, size = [], 0
    for _ in range(times):
        t0 = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as r:
            size = len(r.read())
        ms.append((time.perf_counter() - t0) * 1000)
    return size, statistics.median(ms)


def listener_args():
    port = zptest.free_port(kind=zptest.socket.SOCK_STREAM)
    return port, ["--metrics-bind-address", "127.0.0.1:%d" % port, "--status-page"]


def main():
    benchrun.raise_fd_limit()
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--presents", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--behind", type=int, default=10000)
    args = ap.parse_args()
    zp = os.path.join(args.build, "cmd", "zoneproof")
    tmp = tempfile.mkdtemp(prefix="zp-obs-bench-")
    named = zptest.Named({"example.test": []}).start()
    d = pki.make_pki(os.path.join(tmp, "pki"))
    cfg, _ = benchrun.lab_config(tmp, named)
    servers, scrapers = {}, []
    try:
        p1, a1 = listener_args()
        p10, a10 = listener_args()
        servers = {"off": Serve(zp, cfg, d, tmp), "scraped": Serve(zp, cfg, d, tmp, extra=a1),
                   "scraped-10": Serve(zp, cfg, d, tmp, extra=a10)}
        idle = {"off": servers["off"].rss_kb(), "listener": servers["scraped"].rss_kb()}
        scrapers = [Scraper("http://127.0.0.1:%d/metrics" % p1, 1.0),
                    Scraper("http://127.0.0.1:%d/metrics" % p10, 0.1)]
        lat = benchrun.https_rounds(servers, d, args.presents, args.rounds)
        print("scrapes during the run: %d (1/s), %d (10/s)" % (scrapers[0].n, scrapers[1].n))
        print("idle RSS: %d kB without the listener, %d kB with it (%+d kB)"
              % (idle["off"], idle["listener"], idle["listener"] - idle["off"]), flush=True)
        for s in scrapers:
            s.stop()
        scrapers = []
        t0 = time.perf_counter()
        benchrun.https_sequential(servers["scraped"].port, d, args.behind)
        print("%d more challenges in %.1f s; with %d behind:"
              % (args.behind, time.perf_counter() - t0, args.behind + len(lat["scraped"])))
        for path in ("/metrics", "/status.json", "/status"):
            size, ms = fetch("http://127.0.0.1:%d%s" % (p1, path))
            print("  %-13s %8d bytes  %6.2f ms (median of 20)" % (path, size, ms), flush=True)
        print("  RSS after: %d kB" % servers["scraped"].rss_kb())
    finally:
        for s in scrapers:
            s.stop()
        for srv in servers.values():
            srv.stop()
        named.cleanup()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench/hostile.py — what `zoneproof serve` costs and answers while unauthenticated clients
attack it, against a real BIND on loopback. Prints numbers; asserts nothing.

    python3 bench/hostile.py [--build build] [--slowloris 1000] [--holders 300] [--idle 2000]
                             [--presents 20] [--handshakes 5000] [--fd-limit 256]

Phases, each on a fresh `zoneproof serve`:
  quiet    Present->ack through HTTPS (mutual TLS, one keep-alive connection) and /healthz,
           median and max, and RSS: the baseline.
  attack   at once: S slowloris clients (TLS, then a header line a byte at a time), H body
           holders (headers of a 1 MiB POST without a client certificate, then most of the body,
           then nothing) and I idle TLS connections (handshake, then silence); every attacker
           reconnects when the server closes it. While they run: RSS now and peak, /healthz and
           Present latency, the server's CPU, and how many attackers the server holds.
  handshakes  N short TLS connections without a client certificate, one after the other: RSS
           before and after, what the server keeps of clients that are gone.
  fd-limit serve under `prlimit --nofile=N`; clients open more connections than it has
           descriptors. Reports the server's CPU share and log lines per second while the limit is
           hit, and whether /healthz answers once the clients leave.
"""
import argparse
import asyncio
import http.client
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import pki  # noqa: E402
import run as benchrun  # noqa: E402  (body, tls_context, https_sequential, proc_status)
import zptest  # noqa: E402

GROUP = benchrun.GROUP
PATH = "/apis/%s/v1alpha1/zoneproof" % GROUP


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Serve:
    """One `zoneproof serve` on a free port, with its own log file."""

    def __init__(self, zp, cfg, d, tmp, extra=(), prefix=()):
        self.port = zptest.free_port()
        self.log_path = os.path.join(tmp, "serve-%d.log" % self.port)
        self.log = open(self.log_path, "w")
        argv = list(prefix) + [zp, "serve", "--config", cfg, "--secure-port", str(self.port),
                               "--bind-address", "127.0.0.1",
                               "--tls-cert-file", os.path.join(d, "serving.crt"),
                               "--tls-private-key-file", os.path.join(d, "serving.key"),
                               "--requestheader-client-ca-file",
                               os.path.join(d, "proxy-ca.crt"),
                               "--log-level", "warn"] + list(extra)
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=self.log)
        zptest.wait_for(lambda: zptest.tcp_open("127.0.0.1", self.port), what="zoneproof serve")

    def rss_kb(self):
        return benchrun.proc_status(self.p.pid, "VmRSS")

    def log_lines(self):
        with open(self.log_path, errors="replace") as f:
            return sum(1 for _ in f)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()


def healthz_ms(port, timeout=30):
    """One /healthz over a new TLS connection (no client certificate, as kubelet)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t0 = time.perf_counter()
    try:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
    except OSError:
        ok = False
    return (time.perf_counter() - t0) * 1000, ok


def summary(name, values):
    if not values:
        return "%-26s none" % name
    return "%-26s n=%-3d median=%8.2f ms  max=%8.2f ms" % (name, len(values),
                                                           statistics.median(values), max(values))


# ---- attackers ---------------------------------------------------------------------------------

def no_cert_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Attack:
    """Attackers that reconnect whenever the server closes them; counts what they see."""

    def __init__(self, port):
        self.port = port
        self.stop = False
        self.open = 0
        self.closed_by_server = 0
        self.refused = 0

    async def _hold(self, kind):
        ctx = no_cert_ctx()
        while not self.stop:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.port, ssl=ctx), 30)
            except (OSError, asyncio.TimeoutError, ssl.SSLError):
                self.refused += 1
                await asyncio.sleep(0.2)  # a client's reconnect pause, not a test's wait
                continue
            self.open += 1
            try:
                if kind == "holder":
                    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: %d\r\n\r\n" % (PATH, 1 << 20))
                    writer.write(head.encode() + b"x" * ((1 << 20) - 1))
                    await writer.drain()
                elif kind == "slowloris":
                    writer.write(("POST %s HTTP/1.1\r\nHost: x\r\n" % PATH).encode())
                    await writer.drain()
                while not self.stop:
                    if kind == "slowloris":
                        writer.write(b"X")
                        await writer.drain()
                    try:
                        data = await asyncio.wait_for(reader.read(4096), 1.0)
                    except asyncio.TimeoutError:
                        continue
                    if not data:
                        self.closed_by_server += 1
                        break
            except (OSError, ssl.SSLError):
                self.closed_by_server += 1
            finally:
                self.open -= 1
                writer.close()

    def run(self, slowloris, holders, idle):
        async def main():
            tasks = [asyncio.ensure_future(self._hold("slowloris")) for _ in range(slowloris)]
            tasks += [asyncio.ensure_future(self._hold("holder")) for _ in range(holders)]
            tasks += [asyncio.ensure_future(self._hold("idle")) for _ in range(idle)]
            while not self.stop:
                await asyncio.sleep(0.2)
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run(main())


def attack_phase(zp, cfg, d, tmp, args):
    srv = Serve(zp, cfg, d, tmp, extra=args.serve_flag)
    try:
        quiet = benchrun.https_sequential(srv.port, d, args.presents)
        hz = [healthz_ms(srv.port)[0] for _ in range(args.presents)]
        print(summary("quiet present->ack", quiet))
        print(summary("quiet /healthz", hz))
        print("quiet RSS %d kB" % srv.rss_kb(), flush=True)

        atk = Attack(srv.port)
        th = threading.Thread(target=atk.run, args=(args.slowloris, args.holders, args.idle))
        cpu0, t0 = cpu_seconds(srv.p.pid), time.monotonic()
        th.start()
        # Python's TLS handshakes all progress together: wait until most attackers are in.
        total = args.slowloris + args.holders + args.idle
        ramp_end = time.monotonic() + args.ramp
        while time.monotonic() < ramp_end and atk.open + atk.closed_by_server < 0.9 * total:
            time.sleep(1.0)  # a benchmark's ramp-up, not a test's wait
        print("  ramp-up %.0f s: attackers open=%d closed-by-server=%d refused=%d"
              % (time.monotonic() - t0, atk.open, atk.closed_by_server, atk.refused), flush=True)
        cpu0, t0 = cpu_seconds(srv.p.pid), time.monotonic()
        peak = 0
        samples = []
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            peak = max(peak, srv.rss_kb())
            ms, ok = healthz_ms(srv.port)
            samples.append((ms, ok))
            lat = benchrun.https_sequential(srv.port, d, 1)
            samples.append((lat[0], True))
            print("  t=%4.0f s  RSS=%6d kB  fds=%5d  attackers open=%5d closed-by-server=%6d "
                  "refused=%5d  /healthz %s %.1f ms  present %.1f ms"
                  % (time.monotonic() - t0, srv.rss_kb(), open_fds(srv.p.pid), atk.open,
                     atk.closed_by_server, atk.refused, "ok" if ok else "FAILED", ms, lat[0]),
                  flush=True)
            time.sleep(1.0)  # sampling period of a benchmark, not a test's wait
        cpu = (cpu_seconds(srv.p.pid) - cpu0) / (time.monotonic() - t0) * 100
        under = benchrun.https_sequential(srv.port, d, args.presents)
        hz = [healthz_ms(srv.port)[0] for _ in range(args.presents)]
        atk.stop = True
        th.join()
        print(summary("under attack present->ack", under))
        print(summary("under attack /healthz", hz))
        print("under attack: peak RSS %d kB, server CPU %.0f %%, present ratio %.2fx quiet"
              % (peak, cpu, statistics.median(under) / statistics.median(quiet)), flush=True)
    finally:
        srv.stop()


def handshake_phase(zp, cfg, d, tmp, args):
    """RSS after many short TLS connections from clients without a certificate: what the server
    keeps of them (its TLS session cache) once they are gone."""
    import socket
    srv = Serve(zp, cfg, d, tmp, extra=args.serve_flag)
    try:
        ctx = no_cert_ctx()
        before = srv.rss_kb()
        for _ in range(args.handshakes):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while s.recv(65536):
                        pass
        print("%d handshakes without a certificate: RSS %d -> %d kB (%.2f kB each)"
              % (args.handshakes, before, srv.rss_kb(),
                 (srv.rss_kb() - before) / max(args.handshakes, 1)), flush=True)
    finally:
        srv.stop()


def fd_phase(zp, cfg, d, tmp, args):
    srv = Serve(zp, cfg, d, tmp, extra=args.serve_flag,
                prefix=["prlimit", "--nofile=%d:%d" % (args.fd_limit, args.fd_limit), "--"])
    socks = []
    try:
        import socket
        lines0 = srv.log_lines()
        for _ in range(args.fd_limit + 200):
            try:
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=2))
            except OSError:
                break
        cpu0, t0 = cpu_seconds(srv.p.pid), time.monotonic()
        time.sleep(args.fd_seconds)  # measuring CPU over a period
        dt = time.monotonic() - t0
        cpu = (cpu_seconds(srv.p.pid) - cpu0) / dt * 100
        lines = srv.log_lines() - lines0
        print("fd limit %d, %d client connections: server CPU %.1f %%, %.2f log lines/s"
              % (args.fd_limit, len(socks), cpu, lines / dt))
        for s in socks:
            s.close()
        socks = []
        ms, ok = 0.0, False
        for _ in range(30):
            ms, ok = healthz_ms(srv.port, timeout=5)
            if ok:
                break
            time.sleep(0.5)
        print("after the clients left: /healthz %s (%.1f ms)" % ("ok" if ok else "FAILED", ms))
    finally:
        for s in socks:
            s.close()
        srv.stop()


def main():
    benchrun.raise_fd_limit()
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--slowloris", type=int, default=1000)
    ap.add_argument("--holders", type=int, default=300)
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--presents", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=30, help="length of the attack phase")
    ap.add_argument("--ramp", type=int, default=180, help="at most this long for attackers to connect")
    ap.add_argument("--handshakes", type=int, default=5000)
    ap.add_argument("--fd-limit", type=int, default=256)
    ap.add_argument("--fd-seconds", type=int, default=10)
    ap.add_argument("--serve-flag", action="append", default=[],
                    help="extra flag for zoneproof serve (repeat), e.g. --serve-flag=--max-connections=4096")
    args = ap.parse_args()
    zp = os.path.join(args.build, "cmd", "zoneproof")
    tmp = tempfile.mkdtemp(prefix="zp-hostile-")
    named = zptest.Named({"example.test": []}).start()
    try:
        cfg, _ = benchrun.lab_config(tmp, named)
        d = pki.make_pki(os.path.join(tmp, "pki"))
        print("== handshakes", flush=True)
        handshake_phase(zp, cfg, d, tmp, args)
        print("== attack: %d slowloris, %d body holders, %d idle TLS, %d s"
              % (args.slowloris, args.holders, args.idle, args.seconds), flush=True)
        attack_phase(zp, cfg, d, tmp, args)
        print("== fd limit", flush=True)
        fd_phase(zp, cfg, d, tmp, args)
    finally:
        named.cleanup()


if __name__ == "__main__":
    main()

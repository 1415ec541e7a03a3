"""Hostile connections to `zoneproof serve` (issue #8): each phase has its own deadline, the
number of connections is capped, running out of descriptors pauses accept instead of spinning,
and a request under /apis without a verified front-proxy certificate is answered 401 as soon as
its headers are complete, before any body is read. Ambiguous framing gets a 400 Status.

The deadlines are flags, set to 1 s here; the tests wait for the server to close the connection
(recv returning b'' under a generous socket timeout), never for a clock, and assert no upper
bound on time. The descriptor test bounds the server's CPU time: a resource, not a duration.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)

import pki  # noqa: E402
import zptest  # noqa: E402
from test_http import AGGREGATOR, GROUP, RESOURCE, HTTPBase, Server  # noqa: E402

SHORT = ["--tls-handshake-timeout", "1s", "--request-header-timeout", "1s",
         "--request-body-timeout", "1s"]
WAIT = 60  # seconds a recv may block: far above every deadline, only a hang reaches it


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class HostileBase(HTTPBase):
    def tls(self, server, client="proxy-client"):
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
        return self.context(client).wrap_socket(raw, server_hostname="localhost")

    @staticmethod
    def read_until_closed(sock):
        """Everything the server sends until it closes the connection."""
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, ssl.SSLEOFError):
                return data
            if not chunk:
                return data
            data += chunk

    @staticmethod
    def status_of(data):
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), head, body

    def head_block(self, method, path, extra):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: localhost"]
        lines += ["%s: %s" % (k, v) for k, v in AGGREGATOR.items()] + extra
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


class TestDeadlinesAndHeaders(HostileBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = Server(cls.tmp, cls.pki, cls.config, extra=SHORT)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        super().tearDownClass()

    def test_body_held_without_certificate_gets_401_before_the_body(self):
        s = self.tls(self.srv, client=None)
        s.sendall(self.head_block("POST", RESOURCE, ["Content-Type: application/json",
                                                    "Content-Length: 100000"]))
        data = self.read_until_closed(s)  # no byte of the body was sent
        s.close()
        code, _, body = self.status_of(data)
        self.assertEqual(code, 401)
        self.assertEqual(json.loads(body)["reason"], "Unauthorized")
        # Health stays open to kubelet without a certificate.
        status, _, _ = self.call(self.srv, "GET", "/healthz", client=None)
        self.assertEqual(status, 200)

    def test_refused_client_still_sending_its_body_reads_the_401(self):
        """The server reads and discards after a refusal instead of resetting the connection,
        which could destroy the reply before the client reads it."""
        body = b"x" * 200000
        s = self.tls(self.srv, client=None)
        s.sendall(self.head_block("POST", RESOURCE, ["Content-Type: application/json",
                                                    "Content-Length: %d" % len(body)]) + body)
        data = b""
        while True:
            chunk = s.recv(65536)  # a reset here fails the test
            if not chunk or b"}" in chunk:
                data += chunk
                break
            data += chunk
        s.close()
        code, _, reply = self.status_of(data)
        self.assertEqual(code, 401)
        self.assertEqual(json.loads(reply)["reason"], "Unauthorized")

    def test_with_certificate_the_body_is_read(self):
        s = self.tls(self.srv)
        s.sendall(self.head_block("POST", "/apis", ["Content-Length: 2"]) + b"{}")
        data = s.recv(65536)
        s.close()
        self.assertEqual(self.status_of(data)[0], 405)

    def test_slowloris_headers_closed_at_the_header_deadline(self):
        s = self.tls(self.srv)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        sent = 0
        try:
            while True:  # one header line at a time, each well inside any idle timeout
                s.sendall(b"X-Slow-%d: 1\r\n" % sent)
                sent += 1
                s.settimeout(0.2)
                try:
                    if s.recv(1) == b"":
                        break
                except socket.timeout:
                    continue
                except (ConnectionResetError, ssl.SSLEOFError):
                    break
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass
        s.close()
        self.assertLess(sent, 10000)  # closed while headers kept coming, not after 64 KiB

    def test_silent_after_handshake_closed_at_the_header_deadline(self):
        s = self.tls(self.srv)
        self.assertEqual(self.read_until_closed(s), b"")
        s.close()

    def test_handshake_trickle_closed_at_the_handshake_deadline(self):
        # A ClientHello one byte at a time, each byte well inside any idle timeout.
        hello = bytearray()
        inc, outc = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.context(None).wrap_bio(inc, outc, server_hostname="localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            hello = outc.read()
        raw = socket.create_connection(("127.0.0.1", self.srv.port), timeout=WAIT)
        closed = False
        for i in range(len(hello) - 1):  # never the last byte
            try:
                raw.sendall(hello[i:i + 1])
                raw.settimeout(0.2)
                if raw.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
        if not closed:
            raw.settimeout(WAIT)
            try:
                closed = raw.recv(1) == b""
            except ConnectionResetError:
                closed = True
        raw.close()
        self.assertTrue(closed)

    def test_body_trickle_closed_at_the_body_deadline(self):
        s = self.tls(self.srv)
        s.sendall(self.head_block("POST", RESOURCE, ["Content-Type: application/json",
                                                    "Content-Length: 100000"]))
        closed = False
        for _ in range(100000):
            try:
                s.sendall(b" ")
                s.settimeout(0.2)
                if s.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                closed = True
                break
        s.close()
        self.assertTrue(closed)

    def test_conflicting_content_length_gets_400(self):
        for extra in (["Content-Length: 2", "Content-Length: 3"],
                      ["Content-Length: 2", "Transfer-Encoding: chunked"],
                      ["Transfer-Encoding: chunked", "Content-Length: 2"]):
            for client in ("proxy-client", None):
                s = self.tls(self.srv, client=client)
                s.sendall(self.head_block("POST", "/healthz", extra) + b"{}\r\n")
                data = self.read_until_closed(s)
                s.close()
                code, _, body = self.status_of(data)
                self.assertEqual(code, 400, (extra, data))
                doc = json.loads(body)
                self.assertEqual((doc["kind"], doc["reason"], doc["code"]),
                                 ("Status", "BadRequest", 400))

    def test_same_content_length_twice_is_fine(self):
        s = self.tls(self.srv)
        s.sendall(self.head_block("POST", "/apis", ["Content-Length: 2", "Content-Length: 2"]) +
                  b"{}")
        data = s.recv(65536)
        s.close()
        self.assertEqual(self.status_of(data)[0], 405)

    def test_pipelined_request_is_checked_too(self):
        # A health check, then at once a request under /apis without a certificate.
        s = self.tls(self.srv, client=None)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" +
                  self.head_block("POST", RESOURCE, ["Content-Length: 100000"]))
        data = self.read_until_closed(s)
        s.close()
        self.assertIn(b"HTTP/1.1 200", data)
        self.assertIn(b"HTTP/1.1 401", data)

    def test_keepalive_still_works(self):
        conn = self.connect(self.srv)
        for _ in range(3):
            conn.request("GET", "/apis/" + GROUP, headers=AGGREGATOR)
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        conn.close()


class TestConnectionCap(HostileBase):
    """At the cap, the oldest connection without a verified client certificate makes room.

    The handshake deadline is an hour here, so a connection the server closes was closed to make
    room, not at its deadline."""
    CAP = 8

    def setUp(self):
        self.srv = Server(self.tmp, self.pki, self.config,
                          extra=["--max-connections", str(self.CAP),
                                 "--tls-handshake-timeout", "1h"])

    def tearDown(self):
        self.srv.stop()

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=WAIT)
        s.sendall(b"\x16\x03\x01")  # the start of a ClientHello, never finished
        return s

    @staticmethod
    def closed(s):
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True

    def apis_ok(self, s):
        s.sendall(b"GET /apis HTTP/1.1\r\nHost: localhost\r\nX-Remote-User: a\r\n"
                  b"X-Remote-Group: system:masters\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += s.recv(65536)
        return head.startswith(b"HTTP/1.1 200")

    def test_unverified_connections_make_room_for_the_aggregator(self):
        held = [self.raw() for _ in range(self.CAP)]
        legit = self.tls(self.srv)  # gets in although every slot is taken
        self.assertTrue(self.apis_ok(legit))
        self.assertTrue(self.closed(held[0]), "the oldest unverified connection makes room")
        # More unverified clients keep taking each other's slots, never the verified one's.
        more = [self.raw() for _ in range(2 * self.CAP)]
        self.assertTrue(self.closed(more[self.CAP - 1]))
        self.assertTrue(self.apis_ok(legit))
        for s in held + more + [legit]:
            s.close()
        self.assertIn("connection limit reached", self.srv.output())

    def test_when_every_connection_is_verified_a_new_one_is_closed_at_once(self):
        legit = [self.tls(self.srv) for _ in range(self.CAP)]
        extra = self.raw()
        self.assertTrue(self.closed(extra))
        for s in legit:
            self.assertTrue(self.apis_ok(s))
            s.close()
        extra.close()
        self.assertIn("every connection verified", self.srv.output())
        # Room again once they are gone.
        zptest.wait_for(lambda: self.healthy(), what="a connection after the cap")

    def healthy(self):
        try:
            return self.call(self.srv, "GET", "/healthz", client=None)[0] == 200
        except (OSError, ssl.SSLError):
            return False


class TestDescriptorExhaustion(HostileBase):
    def test_accept_pauses_without_spinning(self):
        srv = Server(self.tmp, self.pki, self.config, name="nofile",
                     extra=["--max-connections", "100000"])
        try:
            # The serve process only: a lower limit for it alone.
            subprocess.run(["prlimit", "--pid", str(srv.proc.pid), "--nofile=64:64"],
                           check=True)
            start = cpu_ticks(srv.proc.pid)
            socks = []
            for _ in range(120):  # past 64: accept fails from some point on
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT))
            # Kept there while the server keeps failing to accept them.
            zptest.wait_for(lambda: "cannot accept connections" in srv.output(),
                            what="the accept failure logged")
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:  # a window to measure CPU over, not a timer
                time.sleep(0.5)
            used = cpu_ticks(srv.proc.pid) - start
            ticks = os.sysconf("SC_CLK_TCK")
            self.assertLess(used, ticks, "serve spent %d ticks while out of descriptors" % used)
            for s in socks:
                s.close()
            zptest.wait_for(lambda: self.healthy(srv), timeout=30, what="health after the storm")
            lines = [line for line in srv.output().splitlines() if "accept" in line]
            self.assertLessEqual(len(lines), 3, lines)
            self.assertNotIn("[warn]", srv.output())
        finally:
            srv.stop()

    def healthy(self, srv):
        try:
            return self.call(srv, "GET", "/healthz", client=None)[0] == 200
        except (OSError, ssl.SSLError):
            return False


if __name__ == "__main__":
    unittest.main(verbosity=2)


class TestProcessHardening(HostileBase):
    """zoneproof holds credentials in memory: no core dump may write them to disk, and no other
    process of the same user may read its memory (it is not dumpable, so ptrace and
    /proc/<pid>/mem are closed to them, and its /proc files belong to root)."""

    def test_no_core_dump_and_not_dumpable(self):
        shared = tempfile.mkdtemp(prefix="zp-nobody-")
        self.addCleanup(shutil.rmtree, shared, True)
        os.chmod(shared, 0o755)
        secret = zptest.write_secret(shared)
        for name in ("serving.crt", "serving.key", "proxy-ca.crt"):
            shutil.copy(pki.path(self.pki, name), os.path.join(shared, name))
        config = os.path.join(shared, "config.yaml")
        with open(config, "w") as f:
            f.write("providers:\n  - name: lab\n    type: rfc2136\n    dnsZones: [example.test]\n"
                    "    nameserver: 127.0.0.1\n    tsigKeyName: k\n    tsigSecretFile: %s\n"
                    % secret)
        for f in os.listdir(shared):
            os.chmod(os.path.join(shared, f), 0o644)
        port = zptest.free_port()
        # As an ordinary user: root's /proc files are root's whatever the process does.
        p = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", zptest.zoneproof_bin(),
             "serve", "--config", config, "--secure-port", str(port), "--bind-address",
             "127.0.0.1", "--tls-cert-file", os.path.join(shared, "serving.crt"),
             "--tls-private-key-file", os.path.join(shared, "serving.key"),
             "--requestheader-client-ca-file", os.path.join(shared, "proxy-ca.crt")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={"GROUP_NAME": GROUP})
        try:
            zptest.wait_for(lambda: p.poll() is not None or zptest.tcp_open("127.0.0.1", port),
                            what="zoneproof serve as nobody")
            self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None else "")
            with open("/proc/%d/limits" % p.pid) as f:
                core = next(line for line in f if line.startswith("Max core file size"))
            self.assertEqual(core.split()[4:6], ["0", "0"], core)
            with open("/proc/%d/status" % p.pid) as f:
                uid = next(line for line in f if line.startswith("Uid:")).split()[1]
            self.assertEqual(uid, "65534")
            self.assertEqual(os.stat("/proc/%d/mem" % p.pid).st_uid, 0,
                             "a process of user nobody that is dumpable owns its /proc/<pid>/mem")
        finally:
            p.terminate()
            p.wait(15)

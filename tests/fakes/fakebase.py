"""fakebase — what every fake cloud DNS API shares.

A fake is an HTTPS server on loopback (certificate from tests/lib/pki.py, so
zoneproof's TLS checks stay on) that keeps a zone's records the way the real
API stores them, verifies authentication as the real API does, and answers
with the real error shapes. Tests can make the next requests fail with a
status (and Retry-After) or hang. Each accepted change is mirrored into a
real BIND (zptest.Named) through RFC 2136, so zoneproof's watcher sees real
DNS answers.

A subclass implements route(req) -> Reply and the provider's own storage
format; see fake_cloudflare.py for the pattern.
"""
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import zptest  # noqa: E402


class Request:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path              # without the query
        self.query = query            # dict of lists, as urllib.parse.parse_qs gives
        self.headers = headers        # email.message.Message: case-insensitive get()
        self.body = body              # bytes

    def json(self):
        return json.loads(self.body or b"null")

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default


class Reply:
    def __init__(self, status, body=b"", headers=None, content_type="application/json"):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        self.headers = dict(headers or {})
        if content_type and body:
            self.headers.setdefault("Content-Type", content_type)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without this each reply waits for
    # the client's delayed ACK (40 ms), which slows every test for nothing.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: tests print what matters
        pass

    def _serve(self):
        fake = self.server.fake
        u = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(self.command, urllib.parse.unquote(u.path), urllib.parse.parse_qs(u.query),
                      self.headers, body)
        if not fake.gate.is_set():  # held (hold()): answered normally once released
            with fake.lock:
                fake.held += 1
            fake.gate.wait(30)
        fault = fake._next_fault(req.path)
        if fault and fault[0] == "hang":
            fault[2].wait(fault[1])  # until the seconds pass or the test clears the faults
            self.close_connection = True
            return
        with fake.lock:
            fake.requests.append((req.method, req.path, req.query))
            if fault:
                reply = fake.fault_reply(fault[1], fault[2])
            else:
                try:
                    reply = fake.route(req)
                except Exception as e:  # a bug in the fake must show, not hang the test
                    reply = Reply(500, {"fake_error": repr(e)})
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeServer:
    """Base class: HTTPS on 127.0.0.1, fault injection, request log, DNS mirror."""

    name = "fake"

    def __init__(self, pki_dir, named=None):
        self.pki_dir = pki_dir
        self.named = named
        self.lock = threading.RLock()
        self.requests = []
        self.faults = []
        self.released = threading.Event()  # set: hanging requests end (clear_faults, stop)
        self.gate = threading.Event()  # clear (hold): every request waits, then is answered
        self.gate.set()
        self.held = 0  # requests that have waited at the gate
        self.httpd = None

    # --- lifecycle ---
    def start(self):
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.path.join(self.pki_dir, "serving.crt"),
                            os.path.join(self.pki_dir, "serving.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.release()
        self.clear_faults()
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def port(self):
        return self.httpd.server_address[1]

    def url(self, path=""):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    @property
    def ca_file(self):
        return os.path.join(self.pki_dir, "serving-ca.crt")

    # --- faults ---
    def inject(self, status=None, retry_after=None, hang=None, count=1, path=None):
        """The next count requests answer status (with Retry-After), or hang seconds (or
        until clear_faults, whichever comes first).

        With path, only requests whose path starts with it are affected: for
        APIs that fetch a token first, faults can target the DNS calls.
        """
        path = path if path is not None else self.fault_path
        with self.lock:
            for _ in range(count):
                self.faults.append(("hang", hang, self.released, path) if hang
                                   else ("status", status, retry_after, path))

    def hold(self):
        """From now on each request waits (counted in held) until release(): a client
        caught in the middle of a call, as with a slow API server."""
        self.gate.clear()

    def release(self):
        self.gate.set()

    # Default target of inject(); a fake whose clients fetch tokens sets its API prefix.
    fault_path = None

    def clear_faults(self):
        with self.lock:
            self.faults.clear()
            self.released.set()  # requests hanging now end
            self.released = threading.Event()

    def _next_fault(self, path):
        with self.lock:
            for i, f in enumerate(self.faults):
                if f[3] is None or path.startswith(f[3]):
                    return self.faults.pop(i)[:3]
            return None

    def fault_reply(self, status, retry_after):
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Reply(status, self.error_body(status), headers)

    def error_body(self, status):
        """The provider's own error shape for an injected status."""
        return {"error": "injected %d" % status}

    # --- DNS mirror ---
    def mirror_add(self, fqdn, value, ttl=60):
        if self.named:
            self.named.nsupdate(["update add %s %d IN TXT \"%s\"" % (fqdn, ttl, value)])

    def mirror_delete(self, fqdn, value):
        if self.named:
            self.named.nsupdate(["update delete %s IN TXT \"%s\"" % (fqdn, value)])

    # --- what tests assert on ---
    def snapshot(self):
        """Every record the account holds, in a stable, comparable form."""
        raise NotImplementedError

    def txt_values(self, fqdn):
        """The unquoted TXT values stored at fqdn (trailing dot)."""
        raise NotImplementedError

    def calls(self, method=None, contains=None):
        with self.lock:
            return [r for r in self.requests
                    if (method is None or r[0] == method) and (contains is None or contains in r[1])]


def unquote_txt(content):
    """One level of surrounding quotes removed, character-strings joined."""
    c = content.strip()
    if c.startswith('"') and c.endswith('"') and len(c) >= 2:
        return "".join(part for part in c[1:-1].split('" "'))
    return c

"""tests/lib/h2client.py — a small HTTP/2 client over TLS (python3-h2), for the tests and
the bench: requests on many streams of one connection, answers read as they come.

python3-h2 is a Debian package (scripts/setup.sh); `need_h2()` re-runs the calling script under
Debian's interpreter when the one running it lacks the module.
"""
import os
import socket
import sys


def need_h2():
    try:
        import h2  # noqa: F401
    except ImportError:
        if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        raise


need_h2()
import h2.config  # noqa: E402
import h2.connection  # noqa: E402
import h2.events  # noqa: E402


class H2:
    """One HTTP/2 client connection (hyper-h2 over a TLS socket)."""

    def __init__(self, port, ctx):
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=60)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.alpn = self.sock.selected_alpn_protocol()
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()
        self.streams = {}  # id -> {"status", "headers", "body", "ended", "reset"}
        self.goaway = None
        self.settings = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, headers=None, body=None):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":scheme", "https"),
                (":authority", "localhost")]
        hdrs += [(k.lower(), v) for k, v in (headers or {}).items()]
        if body is not None:
            hdrs.append(("content-length", str(len(body))))
        self.conn.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.send_body(sid, body)
        self.streams[sid] = {"status": None, "headers": {}, "body": b"", "ended": False,
                             "reset": None}
        self.flush()
        return sid

    def send_body(self, sid, body):
        while body:
            n = min(len(body), self.conn.local_flow_control_window(sid),
                    self.conn.max_outbound_frame_size)
            if n == 0:
                self.pump()
                continue
            self.conn.send_data(sid, body[:n], end_stream=len(body) == n)
            body = body[n:]
            self.flush()

    def pump(self):
        """Reads once and handles what arrived; False when the server closed."""
        data = self.sock.recv(65536)
        if not data:
            return False
        for ev in self.conn.receive_data(data):
            self.event(ev)
        self.flush()
        return True

    def event(self, ev):
        st = self.streams.get(getattr(ev, "stream_id", None))
        if isinstance(ev, h2.events.ResponseReceived):
            hdrs = {k.decode(): v.decode() for k, v in ev.headers}
            st["status"] = int(hdrs.pop(":status"))
            st["headers"] = hdrs
        elif isinstance(ev, h2.events.DataReceived):
            st["body"] += ev.data
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            st["ended"] = True
        elif isinstance(ev, h2.events.StreamReset) and st is not None:
            st["reset"] = ev.error_code
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev
        elif isinstance(ev, h2.events.RemoteSettingsChanged):
            self.settings.update({k: v.new_value for k, v in ev.changed_settings.items()})

    def wait(self, *sids):
        """Until each stream has ended or was reset; returns their records."""
        while not all(self.streams[s]["ended"] or self.streams[s]["reset"] is not None
                      for s in sids):
            if not self.pump():
                raise ConnectionError("the server closed the connection")
        return [self.streams[s] for s in sids]

    def call(self, method, path, headers=None, body=None):
        return self.wait(self.request(method, path, headers, body))[0]

    def reset(self, sid):
        self.conn.reset_stream(sid)
        self.flush()

    def close(self):
        self.sock.close()

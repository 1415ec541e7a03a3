"""zptest — what the integration tests share: starting real servers on
loopback (BIND's named), making throw-away PKI with the openssl CLI, finding
the zoneproof binary, and running it.

Every server is started by the test, on a free loopback port, inside a
temporary directory, and stopped when the test ends.
"""
import base64
import ctypes
import fcntl
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# A fixed TSIG secret for tests only (32 random bytes, base64).
TSIG_SECRET = "h8mTBe3nXxuQ9Fgbh9sQKZ8oOOV4mhH0Y3bZZs3dJwA="
TSIG_NAME = "acme-key"


try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def die_with_parent():
    """A preexec_fn: the daemon dies with the test process, even a SIGKILLed one (a CI
    timeout), instead of holding the lab's addresses for the next run. The signal follows the
    thread that started it: start labs in the main thread."""
    if _prctl:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def zoneproof_bin():
    """The binary under test: $ZP_BIN, else build/cmd/zoneproof."""
    path = os.environ.get("ZP_BIN") or os.path.join(ROOT, "build", "cmd", "zoneproof")
    if not os.access(path, os.X_OK):
        raise RuntimeError("zoneproof binary not found at %s (set ZP_BIN)" % path)
    return path


# Ports: test modules run at once (ctest -j), and beside other runs of the suite on the same
# machine. A port is picked outside the kernel's ephemeral range (so no outgoing connection can
# take it between the pick and the server's bind) and claimed for the life of this process with
# a lock on byte <port> of one shared file (so no other test process picks it meanwhile; the
# lock dies with the process, however it ends).
_port_mutex = threading.Lock()
_port_lock_fd = None
_claimed_ports = set()


def _port_window():
    """[lo, hi): the ports below the ephemeral range, which bind(0) and connect() never use."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        eph = 32768
    return max(1024, eph - 12000), eph


def _can_bind(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        t.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()
        t.close()


def free_port(host="127.0.0.1", kind=socket.SOCK_DGRAM):
    """A port free for both UDP and TCP on host, that no other test process will pick."""
    global _port_lock_fd
    lo, hi = _port_window()
    with _port_mutex:
        if _port_lock_fd is None:
            path = os.path.join(tempfile.gettempdir(), "zoneproof-ports.lock")
            _port_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        for _ in range(500 if hi - lo >= 1000 else 0):
            port = random.randrange(lo, hi)
            if port in _claimed_ports:
                continue
            try:
                fcntl.lockf(_port_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port)
            except OSError:
                continue  # another test process holds it
            if _can_bind(host, port):
                _claimed_ports.add(port)
                return port
            fcntl.lockf(_port_lock_fd, fcntl.LOCK_UN, 1, port)
        # No window below the ephemeral range (an unusual ip_local_port_range): the kernel's pick.
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, 0))
            port = s.getsockname()[1]
            s.close()
            if port not in _claimed_ports and _can_bind(host, port):
                _claimed_ports.add(port)
                return port
    raise RuntimeError("no free port on %s" % host)


_slot_fds = {}


def loopback_net(prefix="127.55", slots=range(1, 255)):
    """Claims a /24 of loopback addresses for this process ("127.55.S"): for servers that
    must listen on a well-known port (53), each on an address of its own. The claim is a
    lock file per slot, held until the process ends; the same prefix again returns the
    same net."""
    if prefix in _slot_fds:
        return "%s.%d" % (prefix, _slot_fds[prefix][0])
    for s in slots:
        path = os.path.join(tempfile.gettempdir(), "zoneproof-lo-%s.%d.lock" % (prefix, s))
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _slot_fds[prefix] = (s, fd)
        return "%s.%d" % (prefix, s)
    raise RuntimeError("no free %s.S/24 slot: other test processes hold them all" % prefix)


def wait_for(pred, timeout=15.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for %s" % what)


def tcp_open(host, port):
    with socket.create_connection((host, port), timeout=0.5):
        return True


class LocalProcess:
    """A server process a test starts, in a folder of its own: its end (SIGTERM, then SIGKILL
    after 5 s) and the folder's removal. Subclasses set dir and proc, and define start()."""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class LocalServer(LocalProcess):
    """What every DNS server the tests start on loopback offers (BIND, Knot, PowerDNS): its
    address and plain queries with dig. Subclasses set host, port, dir and proc, and define
    start()."""

    def addr(self):
        return "%s:%d" % (self.host, self.port)

    def dig(self, name, rtype="TXT", full=False):
        return subprocess.run(["dig", "+norec", "+time=2", "+tries=1", "-p", str(self.port),
                               "@" + self.host, name, rtype] + ([] if full else ["+short"]),
                              capture_output=True, text=True).stdout

    def txt(self, name):
        """The TXT values at name, unquoted, sorted."""
        vals = []
        for line in self.dig(name, "TXT").splitlines():
            line = line.strip()
            if line.startswith('"'):
                vals.append("".join(part for part in line.strip('"').split('" "')))
        return sorted(vals)

    def records(self, name):
        """Every record at name of the usual types, as sorted (type, data) pairs."""
        out = []
        for rtype in ("A", "AAAA", "TXT", "CNAME", "MX"):
            for line in self.dig(name, rtype).splitlines():
                out.append((rtype, line.strip()))
        return sorted(out)

class Named(LocalServer):
    """A real BIND named, authoritative for the zones given, on loopback.

    zones: {"example.test": ["name TTL IN TYPE data", ...]} relative records
    added to a zone with SOA and NS records. The TSIG key acme-key may update
    TXT records anywhere in every zone unless policy says otherwise.
    """

    preexec_fn = None  # run in named's process before exec (krb.GssNamed: die with us)

    def __init__(self, zones, host="127.0.0.1", port=None, policy=None, ns_names=None,
                 extra_keys=None, ns_addrs=None, options=(), extra_conf=(), env=None,
                 args=()):
        """options: more lines inside options { } (krb.GssNamed: tkey-gssapi-keytab);
        extra_conf: more top-level statements; env: more environment for named (KRB5_CONFIG);
        args: more arguments for named (-d 3: named -g logs only to stderr, at -d's level)."""
        self.host = host
        self.env = env
        self.args = list(args)
        self.port = port or free_port(host)
        self.dir = tempfile.mkdtemp(prefix="zp-named-")
        self.proc = None
        self.zones = zones
        self.ns_addrs = ns_addrs
        keys = {TSIG_NAME: ("hmac-sha256", TSIG_SECRET)}
        keys.update(extra_keys or {})
        conf = ["options {",
                '  directory "%s";' % self.dir,
                '  pid-file "%s/named.pid";' % self.dir,
                "  listen-on port %d { %s; };" % (self.port, host),
                "  listen-on-v6 { none; };",
                "  recursion no;",
                "  dnssec-validation no;",
                "  notify no;",
                "  minimal-responses no;"] + list(options) + [
                "};",
                "controls { };"] + list(extra_conf)
        for kname, (alg, secret) in keys.items():
            conf.append('key "%s" { algorithm %s; secret "%s"; };' % (kname, alg, secret))
        for zone, records in zones.items():
            self._write_zone(zone, records, ns_names)
            pol = (policy or {}).get(zone) or "grant %s subdomain %s. TXT;" % (TSIG_NAME, zone)
            conf.append('zone "%s" { type primary; file "%s/%s.db"; update-policy { %s }; };'
                        % (zone, self.dir, zone, pol))
        with open(os.path.join(self.dir, "named.conf"), "w") as f:
            f.write("\n".join(conf) + "\n")

    def _write_zone(self, zone, records, ns_names):
        ns_names = ns_names or ["ns1.%s." % zone]
        lines = ["$ORIGIN %s." % zone, "$TTL 60",
                 "@ IN SOA %s hostmaster.%s. 1 3600 600 86400 60" % (ns_names[0], zone)]
        addrs = self.ns_addrs or [self.host] * len(ns_names)
        for ns, addr in zip(ns_names, addrs):
            lines.append("@ IN NS %s" % ns)
            if ns.endswith("." + zone + "."):
                lines.append("%s IN A %s" % (ns, addr))
        lines.extend(records)
        with open(os.path.join(self.dir, "%s.db" % zone), "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        with open(os.path.join(self.dir, "named.log"), "w") as log:
            self.proc = subprocess.Popen(
                ["named", "-g", "-c", os.path.join(self.dir, "named.conf")] + self.args,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=self.preexec_fn,
                env=dict(os.environ, **self.env) if self.env else None)
        try:
            wait_for(lambda: self.proc.poll() is None and tcp_open(self.host, self.port),
                     what="named on %s:%d" % (self.host, self.port))
            # TCP open is not enough: wait until the zones are loaded.
            for zone in self.zones:
                wait_for(lambda: "status: NOERROR" in self.dig(zone + ".", "SOA", full=True),
                         what="zone %s loaded" % zone)
        except Exception:
            self.stop()
            raise RuntimeError("named did not start:\n" + self.log())
        return self

    def log(self):
        try:
            with open(os.path.join(self.dir, "named.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def nsupdate(self, commands, key=(TSIG_NAME, "hmac-sha256", TSIG_SECRET)):
        """Applies an nsupdate script (list of lines) with the given key."""
        script = ["server %s %d" % (self.host, self.port)]
        if key:
            script.append("key %s:%s %s" % (key[1], key[0], key[2]))
        script += commands + ["send", ""]
        # TCP with a generous timeout, and one more try: a loaded CI machine
        # runs many servers at once, and a lost UDP packet is not a test failure.
        for attempt in (1, 2):
            r = subprocess.run(["nsupdate", "-v", "-t", "10"], input="\n".join(script),
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
        raise RuntimeError("nsupdate failed: %s" % r.stderr)


def write_secret(dirpath, name="tsig-secret", secret=TSIG_SECRET):
    path = os.path.join(dirpath, name)
    with open(path, "w") as f:
        f.write(secret + "\n")
    os.chmod(path, 0o600)
    return path


def value_hash(value):
    """How audit lines and the status page name a value (never the value itself)."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def run_zp(args, timeout=60, env=None, check=False):
    """Runs the zoneproof CLI; returns CompletedProcess with text output."""
    # Tests talk to the servers they start, never to a cluster the machine may be in.
    e = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    e.update(env or {})
    r = subprocess.run([zoneproof_bin()] + args, capture_output=True, text=True,
                       timeout=timeout, env=e)
    if check and r.returncode != 0:
        raise AssertionError("zoneproof %s failed (%d):\n%s%s"
                             % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def acme_key(seed):
    """A realistic 43-character base64url TXT value derived from seed."""
    import hashlib
    return base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode().rstrip("=")

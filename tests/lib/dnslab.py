"""dnslab — a small real DNS Internet on loopback, for tests that need DNS
set-ups where ACME DNS-01 validation really fails (zoneproof's `doctor`, and
the checks Present shares with it).

A signed root, a signed TLD server, authoritative BINDs (a primary, a notified
secondary, a lagging secondary, a stale server, a split-horizon BIND), a Knot,
and two validating unbounds, each on its own loopback address, port 53 (we are
root), in one temporary directory. Start one lab per test module:

    lab = dnslab.Lab().start()      # or: with dnslab.Lab() as lab:
    ...
    lab.stop()                      # also at exit, and the daemons die with us

Addresses: slot S (0 unless another running lab holds it; $DNSLAB_SLOT pins it)
gives 127.53.S.0/24. Use the attributes below, never literal addresses.

    role      address       serves
    root      127.53.S.1    .  (signed; NS ns.lab-root.)
    tld       127.53.S.2    test. uk. io.  (signed; NS a.nic.<tld>.)
    p1        127.53.S.11   primary of ok lag stale dsbad expired insecure single
                            cname example sub.example caa (.test), co.uk, github.io
    s1        127.53.S.12   secondary, NOTIFYed by p1 (IXFR): ok.test stale.test
    s2        127.53.S.13   secondary, never notified, refresh 1 day: lag.test
    ns3       127.53.S.14   stale.test: an old copy, never updated
    views     127.53.S.15   views.test, views "internal" and "external"
    knot      127.53.S.16   knot.test (Knot DNS, which signs it)
    resolver  127.53.S.53   validating unbound (lab.resolver)
    ca        127.53.S.54   validating unbound "the CA" (lab.ca_resolver), which
    ca-out    127.53.S.154  queries from here (lab.ca_source)

Zones. NS names are nsN.<zone>. with glue; each zone has `_lab TXT "<copy>"`
naming the copy that answered: "live", "stale", "internal" or "external".

    ok.test        signed, DS in test.; ns1=p1, ns2=s1 (NOTIFY + IXFR)
    lag.test       unsigned; ns1=p1, ns2=s2, which never sees an update
    stale.test     unsigned; own NS set ns1=p1 ns2=s1; the delegation in test.
                   adds ns3.stale.test=ns3: serial 1 (live: 100), "stale"
    dsbad.test     signed; the DS in test. is that of a key the zone never uses
    expired.test   signed, RRSIGs expired 10 days ago; not updatable (BIND would
                   re-sign a dynamic zone)
    insecure.test  unsigned, no DS: an insecure delegation
    views.test     the CA resolver's source sees "external" (never updated);
                   everyone else (zoneproof, lab.resolver) and TSIG acme-key
                   see and update "internal"
    knot.test      on Knot, signed by Knot, DS in test.; acme-key may add TXT
    single.test    unsigned, one nameserver
    cname.test     _acme-challenge.www.cname.test. CNAME www.acme-dns.ok.test.;
                   *.w.cname.test. CNAME www.ok.test. (a wildcard CNAME)
    example.test   delegates sub.example.test (NS + glue); both zones on p1
    caa.test       CAA: apex 0 issue "ca.example.net"; other.caa.test 0 issue
                   "letsencrypt.org"; crit.caa.test 128 tbs "unknown"
    co.uk, github.io  updatable zones right under public suffixes (TLDs uk., io.)
    gone.test      exists nowhere: test. answers NXDOMAIN, with signed denial

Every zone but expired.test takes TXT updates anywhere in it with TSIG acme-key
(hmac-sha256, zptest.TSIG_SECRET); signed zones sign what is added. Record TTLs
are 30 s, negative TTLs 2 s, and the unbounds cap every cache at 2 s.

Source addresses: the kernel picks 127.0.0.1 towards a 127/8 address that is
on no interface (unbound, Knot), but the address itself towards one that is on
lo, and BIND listens only on addresses on an interface: the lab adds the BIND
servers' addresses to lo (removed at stop), so a query to a BIND comes from that
server's own address. Hence views.test's "everyone but the CA".

API
    Lab(slot=None, keep=False)    keep: leave the directory for a post-mortem
    lab.start(timeout=60) -> lab; lab.stop(); lab.startup_seconds
    lab.resolver, lab.ca_resolver "ip:53";  lab.ca_source "ip"
    lab.addr(role) -> ip;  lab.dir;  lab.zones (names without the final dot)
    lab.trust_anchor_file         the root's DS, one RR a line
    lab.trust_anchor_dnskey_file  the root's DNSKEY, the same way
    lab.servers(zone)    -> [("ns1.ok.test.", ip), ...]  the zone's own NS set
    lab.delegation(zone) -> the parent's NS set (stale.test: + ns3)
    lab.primary(zone)    -> "ip:53", where updates go
    lab.nsupdate(zone, ['update add _acme-challenge.ok.test. 30 TXT "x"'], key=...)
    lab.dig(addr, name, rtype="SOA", dnssec=False, norec=True, source=None, args=())
        -> dig's text output
    lab.query(addr, name, rtype="SOA", rd=None, dnssec=False, source=None)
        -> Reply(rcode, aa, ad, tc, answer, authority, ede)
    lab.txt(addr, name, source=None, rd=None) -> sorted TXT values
    lab.config(zone, path=None, provider=None, **top) -> path of a zoneproof config
    lab.pause(role) / lab.resume(role)  SIGSTOP/SIGCONT: a server that times out
    lab.log(role)                       the tail of a daemon's log
    rd=None: recursion desired when addr is one of the two resolvers.
"""
import atexit
import base64
import fcntl
import functools
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import weakref
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zptest  # noqa: E402

TTL = 30        # record TTL: a cached value must not outlive a test step
NEG_TTL = 2     # SOA minimum: nor may a cached "not there yet"
CACHE_TTL = 2   # unbound's cap on every cache
ALG = "ECDSAP256SHA256"  # algorithm 13: small keys, fast signing
SERIAL, STALE_SERIAL = 100, 1

ROLES = {"root": 1, "tld": 2, "p1": 11, "s1": 12, "s2": 13, "ns3": 14, "views": 15,
         "knot": 16, "resolver": 53, "ca": 54, "ca-out": 154}
BIND_ROLES = ("root", "tld", "p1", "s1", "s2", "ns3", "views")
DAEMONS = BIND_ROLES + ("knot", "resolver", "ca")
SECONDARIES = ("s1", "s2")


class Z:
    """A zone: ns is [(host, role)], the first one its primary; a host without
    a final dot is relative to the zone."""

    def __init__(self, name, ns, sign=None, ds_of="keys", update=True, notify=False,
                 refresh=3600, records=(), parent_extra=()):
        self.name = name
        self.ns = [(h if h.endswith(".") else "%s.%s." % (h, name), r) for h, r in ns]
        self.parent = "" if name == "." else name.split(".", 1)[1] if "." in name else "."
        self.sign = sign            # None, "key", "expired", "knot" (Knot signs)
        self.ds_of = ds_of          # "unused": the parent's DS is another key's
        self.update, self.notify, self.refresh = update, notify, refresh
        self.records = list(records)
        self.parent_extra = [("%s.%s." % (h, name), r) for h, r in parent_extra]


ZONES = [
    Z(".", [("ns.lab-root.", "root")], sign="key", update=False),
    Z("test", [("a.nic", "tld")], sign="key", update=False),
    Z("uk", [("a.nic", "tld")], sign="key", update=False),
    Z("io", [("a.nic", "tld")], sign="key", update=False),
    Z("ok.test", [("ns1", "p1"), ("ns2", "s1")], sign="key", notify=True),
    Z("lag.test", [("ns1", "p1"), ("ns2", "s2")], refresh=86400),
    Z("stale.test", [("ns1", "p1"), ("ns2", "s1")], notify=True,
      parent_extra=[("ns3", "ns3")]),
    Z("dsbad.test", [("ns1", "p1")], sign="key", ds_of="unused"),
    Z("expired.test", [("ns1", "p1")], sign="expired", update=False),
    Z("insecure.test", [("ns1", "p1")]),
    Z("views.test", [("ns1", "views")]),
    Z("knot.test", [("ns1", "knot")], sign="knot"),
    Z("single.test", [("ns1", "p1")]),
    Z("cname.test", [("ns1", "p1")],
      records=["_acme-challenge.www CNAME www.acme-dns.ok.test.", "*.w CNAME www.ok.test."]),
    Z("example.test", [("ns1", "p1")]),  # the parent of sub.example.test
    Z("sub.example.test", [("ns1", "p1")]),
    Z("caa.test", [("ns1", "p1")],
      records=['@ CAA 0 issue "ca.example.net"', 'other CAA 0 issue "letsencrypt.org"',
               'crit CAA 128 tbs "unknown"']),
    Z("co.uk", [("ns1", "p1")]),
    Z("github.io", [("ns1", "p1")]),
]

_live = weakref.WeakSet()


@atexit.register
def _stop_all():
    for lab in list(_live):
        lab.stop()


# The daemons die with the test process even when it is SIGKILLed (zptest).
_die_with_parent = zptest.die_with_parent


# ---- a stub DNS client ----------------------------------------------------------
# Start-up polls ~25 (server, zone) pairs: one dig process per poll would cost
# more than the servers take to start.

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "TXT": 16, "AAAA": 28, "DS": 43,
         "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "CAA": 257, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED", 9: "NOTAUTH"}

Reply = namedtuple("Reply", "rcode aa ad tc answer authority ede")
Reply.__doc__ = """rcode: "NOERROR"...; answer, authority: [(owner, type number, ttl,
value)], value being the serial for SOA, the joined text for TXT, text for A, NS
and CNAME, else the rdata bytes; ede: [(info-code, extra text)]."""


def _wire(name):
    labels = [lb for lb in name.strip(".").split(".") if lb]
    return b"".join(bytes([len(lb)]) + lb.encode() for lb in labels) + b"\0"


def _name(msg, off):
    """(name, offset after it), following compression pointers."""
    labels, end = [], None
    for _ in range(128):
        n = msg[off]
        if n >= 0xC0:
            end = off + 2 if end is None else end
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        off += 1
        if n == 0:
            return ".".join(labels) + ".", (off if end is None else end)
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    raise ValueError("compression loop")


def _value(msg, rtype, off, rdlen):
    if rtype == 6:
        off = _name(msg, _name(msg, off)[1])[1]
        return struct.unpack("!I", msg[off:off + 4])[0]
    if rtype == 16:
        out, end = [], off + rdlen
        while off < end:
            out.append(msg[off + 1:off + 1 + msg[off]].decode("utf-8", "replace"))
            off += 1 + msg[off]
        return "".join(out)
    if rtype == 1:
        return socket.inet_ntoa(msg[off:off + 4])
    if rtype in (2, 5):
        return _name(msg, off)[0]
    return bytes(msg[off:off + rdlen])


def _parse(msg, qid):
    hid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if hid != qid:
        raise ValueError("wrong id")
    off = 12
    for _ in range(qd):
        off = _name(msg, off)[1] + 4
    sections, ede, rcode = [[], [], []], [], flags & 0xF
    for i, count in enumerate((an, ns, ar)):
        for _ in range(count):
            owner, off = _name(msg, off)
            rtype, _cls, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            if rtype == 41:  # OPT: extended rcode, and EDE options (RFC 8914)
                rcode |= (ttl >> 24) << 4
                o = off
                while o + 4 <= off + rdlen:
                    code, olen = struct.unpack("!HH", msg[o:o + 4])
                    if code == 15:
                        ede.append((struct.unpack("!H", msg[o + 4:o + 6])[0],
                                    msg[o + 6:o + 4 + olen].decode("utf-8", "replace")))
                    o += 4 + olen
            else:
                sections[i].append((owner, rtype, ttl, _value(msg, rtype, off, rdlen)))
            off += rdlen
    return Reply(RCODES.get(rcode, str(rcode)), bool(flags & 0x400), bool(flags & 0x20),
                 bool(flags & 0x200), sections[0], sections[1], ede)


def _hostport(addr):
    host, _, port = addr.partition(":")
    return host, int(port or 53)


def query(addr, name, rtype="SOA", rd=False, dnssec=False, source=None, timeout=1.0):
    """One query to addr ("ip" or "ip:port") over UDP, again over TCP if truncated."""
    host, port = _hostport(addr)
    qid = random.getrandbits(16)
    msg = (struct.pack("!HHHHHH", qid, (0x100 if rd else 0) | (0x20 if dnssec else 0),
                       1, 0, 0, 1)
           + _wire(name) + struct.pack("!HH", TYPES[rtype.upper()], 1)
           + b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000 if dnssec else 0, 0))
    end = time.monotonic() + timeout
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            s.settimeout(timeout)
            if source:
                s.bind((source, 0))
            # connected, so a port nobody listens on fails at once (ICMP), not at timeout
            s.connect((host, port))
            if kind == socket.SOCK_DGRAM:
                s.send(msg)
                while True:
                    s.settimeout(max(0.01, end - time.monotonic()))
                    try:
                        reply = _parse(s.recv(65535), qid)
                        break
                    except (ValueError, IndexError, struct.error):
                        continue  # a stray datagram; wait for ours
                if not reply.tc:
                    return reply
                continue
            s.sendall(struct.pack("!H", len(msg)) + msg)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    raise ConnectionError("TCP answer cut short")
                buf += chunk
            return _parse(buf[2:], qid)


# ---- DNSSEC: DS records from the .key files (RFC 4034 5.1.4 and appendix B),
# computed here rather than by one dnssec-dsfromkey run per key before start.

def _dnskey(path):
    """(owner, flags, protocol, algorithm, key bytes, RR text) of a BIND .key file."""
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith(";"):
                w = line.split()
                i = w.index("DNSKEY")
                return (w[0], int(w[i + 1]), int(w[i + 2]), int(w[i + 3]),
                        base64.b64decode("".join(w[i + 4:])), line.strip())
    raise ValueError("no DNSKEY in %s" % path)


def _ds(path):
    owner, flags, proto, alg, key, _ = _dnskey(path)
    rdata = struct.pack("!HBB", flags, proto, alg) + key
    acc = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(rdata))
    tag = (acc + (acc >> 16)) & 0xFFFF
    digest = hashlib.sha256(_wire(owner.lower()) + rdata).hexdigest().upper()
    return "%s %d IN DS %d %d 2 %s" % (owner, TTL, tag, alg, digest)


def _run_all(argvs, cwd):
    """Runs short commands at once; their outputs, in order."""
    procs = [(a, subprocess.Popen(a, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)) for a in argvs]
    outs = []
    for argv, p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise LabError("%s failed (%d): %s" % (" ".join(argv), p.returncode, err))
        outs.append(out)
    return outs


def _is_sub(name, zone):
    name, zone = name.rstrip(".").lower(), zone.rstrip(".").lower()
    return zone == "" or name == zone or name.endswith("." + zone)


def _file(zone):
    return "root" if zone == "." else zone


def _fqdn(name):
    return name if name.endswith(".") else name + "."


def _utc(offset):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + offset))


def _passes(check):
    try:
        return bool(check())
    except (OSError, ValueError, IndexError, struct.error):
        return False


class LabError(RuntimeError):
    pass


class Lab:
    def __init__(self, slot=None, keep=False):
        self.keep, self.dir, self.procs = keep, None, {}
        self._lock, self._aliased, self.startup_seconds = None, False, None
        self.zone = {z.name: z for z in ZONES}
        self.zones = [z.name for z in ZONES if z.parent not in ("", ".")]
        self._claim_slot(slot)
        self.resolver = self.addr("resolver") + ":53"
        self.ca_resolver = self.addr("ca") + ":53"
        self.ca_source = self.addr("ca-out")

    def addr(self, role):
        return "127.53.%d.%d" % (self.slot, ROLES[role])

    def _claim_slot(self, slot):
        """Takes a /24 that no other lab holds (a lock file) and checks port 53 on it.

        Test modules may run at once (ctest -j): each lab gets its own slot. A free
        slot whose port 53 is taken is an error, not skipped: it is a daemon that
        outlived its lab, or something else, and someone should look."""
        env = os.environ.get("DNSLAB_SLOT")
        slots = [slot] if slot is not None else [int(env)] if env else range(64)
        for s in slots:
            fd = os.open("/tmp/zoneproof-dnslab-%d.lock" % s, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.slot, self._lock = s, fd
            try:
                self._check_ports()
            except LabError:
                self._release()
                raise
            return
        raise LabError("no free dnslab slot in %s: other labs hold them" % list(slots))

    def _check_ports(self):
        for role in DAEMONS:
            host = self.addr(role)
            for kind, proto in ((socket.SOCK_DGRAM, "udp"), (socket.SOCK_STREAM, "tcp")):
                with socket.socket(socket.AF_INET, kind) as s:
                    if kind == socket.SOCK_STREAM:  # as the daemons do: TIME_WAIT is no owner
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    try:
                        s.bind((host, 53))
                    except OSError as e:
                        who = subprocess.run(["ss", "-Hlnp", "src", host + ":53"],
                                             capture_output=True, text=True).stdout.strip()
                        raise LabError("%s:53/%s is already in use (%s): the lab cannot start "
                                       "its %s there. Owner: %s" % (host, proto, e.strerror, role,
                                                                    who or "unknown")) from None

    def _release(self):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # ---- zone facts ---------------------------------------------------------------

    def _z(self, zone):
        z = self.zone.get(zone.rstrip(".").lower() or ".")
        if z is None:
            raise KeyError("no zone %r in the lab (zones: %s)" % (zone, ", ".join(self.zones)))
        return z

    def servers(self, zone):
        return [(h, self.addr(r)) for h, r in self._z(zone).ns]

    def delegation(self, zone):
        z = self._z(zone)
        return [(h, self.addr(r)) for h, r in z.ns + z.parent_extra]

    def primary(self, zone):
        return self.addr(self._z(zone).ns[0][1]) + ":53"

    # ---- building -------------------------------------------------------------------

    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _build(self):
        self.dir = tempfile.mkdtemp(prefix="zp-dnslab-")
        for d in ("keys", "unused", "ds", "knot"):
            os.mkdir(self._path(d))
        # 1. Every key at once: one per signed zone, and the one dsbad.test's
        # parent points at but the zone never uses (kept out of key-directory).
        wanted = [(z.name, "keys") for z in ZONES if z.sign]
        wanted += [(z.name, z.ds_of) for z in ZONES if z.ds_of != "keys"]
        outs = _run_all([["dnssec-keygen", "-q", "-a", ALG, "-f", "KSK", "-n", "ZONE",
                          "-K", self._path(d), _fqdn(n)] for n, d in wanted], self.dir)
        self.keys = {w: self._path(w[1], o.strip() + ".key") for w, o in zip(wanted, outs)}
        # 2. Zone files (the parents' DS come from the keys, not the signed
        # children), then every signing at once. Static signing: the root and
        # the TLDs never change; a dynamic zone's updates are signed by BIND
        # with the keys it finds in key-directory.
        signs = []
        for z in ZONES:
            text = self._zone_text(z, z.ns, SERIAL, "internal" if z.name == "views.test"
                                   else "live")
            if z.sign in ("key", "expired"):
                key = self.keys[(z.name, "keys")]
                text += _dnskey(key)[5] + "\n"
                argv = ["dnssec-signzone", "-q", "-z", "-N", "keep", "-d", self._path("ds"),
                        "-o", _fqdn(z.name), "-f", self._path(_file(z.name) + ".signed"),
                        self._path(_file(z.name) + ".db"), key[:-4]]
                if z.sign == "expired":  # -P: no self-check, it would refuse the dates
                    argv[1:1] = ["-P", "-s", _utc(-30 * 86400), "-e", _utc(-10 * 86400)]
                signs.append(argv)
            with open(self._path(_file(z.name) + ".db"), "w") as f:
                f.write(text)
        self._write_knot()
        # Knot imports a 257 key as a KSK only; single-type signing needs it ZSK too.
        key = self.keys[("knot.test", "keys")]
        km = "keymgr -c %s knot.test." % self._path("knot", "knot.conf")
        signs.append(["sh", "-ec", "%s import-bind %s; %s set %s zsk=yes"
                      % (km, key, km, int(key.rsplit("+", 1)[1][:-4]))])
        _run_all(signs, self.dir)
        # The stale server's copy, from before ns3 left the zone's NS set, and
        # the views BIND's copy for outsiders.
        for name, ns, serial, copy in (
                ("stale.test", self.zone["stale.test"].ns + [("ns3.stale.test.", "ns3")],
                 STALE_SERIAL, "stale"),
                ("views.test", self.zone["views.test"].ns, SERIAL, "external")):
            with open(self._path("%s.%s.db" % (name, copy)), "w") as f:
                f.write(self._zone_text(self.zone[name], ns, serial, copy))
        self._write_named()
        self._write_unbound()
        root_key = self.keys[(".", "keys")]
        self.trust_anchor_file = self._path("root.ds")
        self.trust_anchor_dnskey_file = self._path("root.dnskey")
        with open(self.trust_anchor_file, "w") as f:
            f.write(_ds(root_key) + "\n")
        with open(self.trust_anchor_dnskey_file, "w") as f:
            f.write(_dnskey(root_key)[5] + "\n")

    def _zone_text(self, z, ns, serial, copy):
        a = {r: self.addr(r) for r in ROLES}
        origin = _fqdn(z.name)
        lines = ["$ORIGIN %s" % origin, "$TTL %d" % TTL,
                 "@ SOA %s hostmaster.%s %d %d 600 86400 %d"
                 % (ns[0][0], origin.lstrip("."), serial, z.refresh, NEG_TTL)]
        lines += ["@ NS %s" % h for h, _ in ns]
        lines += ["%s A %s" % (h, a[r]) for h, r in ns if _is_sub(h, z.name)]
        if z.parent:
            lines.append('_lab TXT "%s"' % copy)
        lines += [r.format(**a) for r in z.records]
        for c in ZONES:  # delegations to this zone's children: NS, glue, DS
            if c.parent != z.name:
                continue
            for h, r in c.ns + c.parent_extra:
                lines.append("%s. NS %s" % (c.name, h))
                if _is_sub(h, c.name):
                    lines.append("%s A %s" % (h, a[r]))
            if c.sign:
                lines.append(_ds(self.keys[(c.name, c.ds_of)]))
        return "\n".join(lines) + "\n"

    def _bind_conf(self, role, body):
        addr, d = self.addr(role), self._path(role)
        os.makedirs(d, exist_ok=True)
        conf = ["options {",
                '  directory "%s"; pid-file "%s/named.pid";' % (d, d),
                '  session-keyfile "%s/session.key"; managed-keys-directory "%s";' % (d, d),
                '  key-directory "%s";' % self._path("keys"),
                "  listen-on port 53 { %s; }; listen-on-v6 { none; };" % addr,
                # From its own address, as a real server: a secondary takes NOTIFY
                # only from the primary it knows; the kernel would pick the peer's.
                "  notify-source %s; transfer-source %s; query-source address %s;"
                % (addr, addr, addr),
                "  recursion no; dnssec-validation no;",
                # NS names are not resolvable by a non-recursive server: notify
                # only the secondaries named per zone, at once (default delay 5 s).
                "  notify no; notify-delay 0;",
                "  allow-transfer { 127.0.0.0/8; };",
                "};",
                "controls { };",
                'key "%s" { algorithm hmac-sha256; secret "%s"; };'
                % (zptest.TSIG_NAME, zptest.TSIG_SECRET)]
        with open(os.path.join(d, "named.conf"), "w") as f:
            f.write("\n".join(conf + body) + "\n")

    def _zone_stanza(self, z, role, file=None, live=True):
        """live=False: a copy of its own, neither updated nor notifying."""
        name, primary = _fqdn(z.name), z.ns[0][1]
        if role != primary and role in SECONDARIES:
            return ('zone "%s" { type secondary; file "%s"; primaries { %s; }; };'
                    % (name, self._path(role, _file(z.name) + ".bk"), self.addr(primary)))
        opts = []
        if z.update and live:
            opts.append("update-policy { grant %s zonesub TXT; };" % zptest.TSIG_NAME)
        if z.notify and live:
            opts.append("notify explicit; also-notify { %s; };"
                        % "; ".join(self.addr(r) for _, r in z.ns if r in SECONDARIES))
        file = file or self._path(_file(z.name) + (".signed" if z.sign in ("key", "expired")
                                                   else ".db"))
        return 'zone "%s" { type primary; file "%s"; %s };' % (name, file, " ".join(opts))

    def _write_named(self):
        self.served = {r: [] for r in BIND_ROLES}
        for z in ZONES:
            for _, r in z.ns:
                if r in self.served and z.name not in self.served[r]:
                    self.served[r].append(z.name)
        for r, names in self.served.items():
            if r not in ("ns3", "views"):
                self._bind_conf(r, [self._zone_stanza(self.zone[n], r) for n in names])
        self.served.update({"ns3": ["stale.test"], "views": ["views.test"],
                            "knot": ["knot.test"]})
        self._bind_conf("ns3", [self._zone_stanza(self.zone["stale.test"], "ns3",
                                                  self._path("stale.test.stale.db"), False)])
        views = self.zone["views.test"]
        self._bind_conf("views", [
            'view "internal" { match-clients { key %s; !%s; any; }; %s };'
            % (zptest.TSIG_NAME, self.ca_source, self._zone_stanza(views, "views")),
            'view "external" { match-clients { any; }; %s };'
            % self._zone_stanza(views, "views", self._path("views.test.external.db"), False)])

    def _write_knot(self):
        d = self._path("knot")
        conf = """server:
    rundir: "{d}"
    listen: {addr}@53
control:
    listen: "{d}/knot.sock"
log:
  - target: stderr
    any: info
database:
    storage: "{d}"
    kasp-db: "{d}/kasp"
key:
  - id: {key}
    algorithm: hmac-sha256
    secret: {secret}
acl:
  - id: acme_update
    key: {key}
    action: update
    update-type: TXT
policy:
  - id: lab
    algorithm: ecdsap256sha256
    manual: on
    single-type-signing: on
    dnskey-ttl: {ttl}
    zone-max-ttl: {ttl}
zone:
  - domain: knot.test.
    file: "{zf}"
    zonefile-sync: -1
    journal-content: all
    acl: acme_update
    dnssec-signing: on
    dnssec-policy: lab
""".format(d=d, addr=self.addr("knot"), key=zptest.TSIG_NAME, secret=zptest.TSIG_SECRET,
           ttl=TTL, zf=self._path("knot.test.db"))
        with open(os.path.join(d, "knot.conf"), "w") as f:
            f.write(conf)

    def _write_unbound(self):
        with open(self._path("root.hints"), "w") as f:
            f.write(". 3600000 NS ns.lab-root.\nns.lab-root. 3600000 A %s\n" % self.addr("root"))
        for role in ("resolver", "ca"):
            d = self._path(role)
            os.makedirs(d, exist_ok=True)
            opts = [
                "interface: %s" % self.addr(role), "port: 53", "do-ip6: no", "verbosity: 1",
                "do-daemonize: no", "use-syslog: no", 'logfile: ""', 'chroot: ""',
                'username: ""', 'directory: "%s"' % d, 'pidfile: "%s/unbound.pid"' % d,
                "num-threads: 1", "so-reuseport: no", "outgoing-range: 64",
                "access-control: 127.0.0.0/8 allow",
                'root-hints: "%s"' % self._path("root.hints"),
                'trust-anchor-file: "%s"' % self._path("root.ds"),
                "trust-anchor-signaling: no",
                "do-not-query-localhost: no",      # the whole lab is on loopback
                'local-zone: "test." nodefault',   # a built-in refused zone (RFC 6761)
                "ede: yes", "val-log-level: 2",     # level 2 puts the reason in the EDE
                "log-servfail: yes", 'module-config: "validator iterator"',
                # Short memories: a test adds a record and asks again at once.
                "cache-max-ttl: %d" % CACHE_TTL, "cache-max-negative-ttl: %d" % CACHE_TTL,
                "val-bogus-ttl: %d" % CACHE_TTL, "infra-host-ttl: %d" % CACHE_TTL,
                "infra-keep-probing: yes", "serve-expired: no", "prefetch: no",
                "aggressive-nsec: no"]
            if role == "ca":  # the CA's resolver: the views BIND's outsider
                opts.append("outgoing-interface: %s" % self.ca_source)
            with open(os.path.join(d, "unbound.conf"), "w") as f:
                f.write("server:\n" + "".join("    %s\n" % o for o in opts)
                        + "remote-control:\n    control-enable: no\n")

    # ---- running ------------------------------------------------------------------

    def _argv(self, role):
        if role in ("resolver", "ca"):
            return ["unbound", "-d", "-c", self._path(role, "unbound.conf")]
        if role == "knot":
            return ["knotd", "-c", self._path("knot", "knot.conf")]
        # -n 1: one worker thread is plenty, and starts faster on 2 cores
        return ["named", "-g", "-4", "-n", "1", "-c", self._path(role, "named.conf")]

    def _aliases(self, op):
        """Adds (or deletes) the BIND servers' addresses on lo: named listens
        only on addresses it finds on an interface (unbound and knotd bind any
        127/8 address, all of it being local on Linux)."""
        lines = "".join("addr %s %s/32 dev lo\n" % (op, self.addr(r)) for r in BIND_ROLES)
        r = subprocess.run(["ip", "-force", "-batch", "-"], input=lines,
                           capture_output=True, text=True)
        # An address left by a lab that was killed is fine ("already assigned").
        errors = [ln for ln in r.stderr.splitlines() if ln.startswith("Error")
                  and "already assigned" not in ln and "File exists" not in ln]
        if op == "add" and errors:
            raise LabError("cannot add the lab's addresses to lo: %s" % r.stderr.strip())

    def _spawn(self, role):
        with open(self._path(role + ".log"), "ab") as log:
            self.procs[role] = subprocess.Popen(
                self._argv(role), cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def start(self, timeout=60.0):
        """Builds and starts everything; returns when every check below passes."""
        t0 = time.monotonic()
        _live.add(self)
        try:
            self._build()
            self._aliased = True
            self._aliases("add")
            # Primaries first: a secondary that finds no primary at start waits
            # minutes before it retries.
            first = ("root", "tld", "p1", "ns3", "views", "knot")
            for role in first:
                self._spawn(role)
            self._wait(self._auth_checks(first), timeout, t0)
            for role in ("s1", "s2", "resolver", "ca"):
                self._spawn(role)
            self._wait(self._auth_checks(SECONDARIES), timeout, t0)
            self._wait(self._resolver_checks(), timeout, t0)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _auth_checks(self, roles):
        """Each zone on each server answers its SOA with AA at its serial or later
        (Knot adds one as it signs): loaded, or transferred. Views: both views."""
        def soa(role, zone, src):
            r = query(self.addr(role), zone, "SOA", source=src, timeout=0.5)
            return (r.rcode == "NOERROR" and r.aa and r.answer
                    and r.answer[0][3] >= (STALE_SERIAL if role == "ns3" else SERIAL))
        return [("%s serves %s%s" % (role, zone, " to " + src if src else ""), role,
                 functools.partial(soa, role, zone, src))
                for role in roles for zone in self.served[role]
                for src in ([None, self.ca_source] if role == "views" else [None])]

    def _resolver_checks(self):
        def validates(role):
            r = query(self.addr(role), "ok.test", "SOA", rd=True, dnssec=True)
            return r.rcode == "NOERROR" and r.ad
        return [("resolver validates ok.test", "resolver", lambda: validates("resolver")),
                ("CA resolver validates ok.test", "ca", lambda: validates("ca")),
                ("resolver sees the internal view", "resolver",
                 lambda: self.txt(self.resolver, "_lab.views.test") == ["internal"]),
                ("CA resolver sees the external view", "ca",
                 lambda: self.txt(self.ca_resolver, "_lab.views.test") == ["external"])]

    def _wait(self, checks, timeout, t0):
        """Polls the checks until all pass; fails at once when a daemon dies."""
        while True:
            for role, p in self.procs.items():
                if p.poll() is not None:
                    raise LabError("dnslab: %s (%s) exited with %s:\n%s"
                                   % (role, self._argv(role)[0], p.returncode, self.log(role)))
            checks = [c for c in checks if not _passes(c[2])]
            if not checks:
                return
            if time.monotonic() - t0 > timeout:
                raise LabError("dnslab: timed out after %.0f s waiting for: %s\n--- %s log:\n%s"
                               % (timeout, "; ".join(c[0] for c in checks), checks[0][1],
                                  self.log(checks[0][1])))
            time.sleep(0.03)

    def log(self, role, size=4000):
        try:
            with open(self._path(role + ".log"), errors="replace") as f:
                return f.read()[-size:]
        except (OSError, TypeError):
            return ""

    def pause(self, role):
        self.procs[role].send_signal(signal.SIGSTOP)

    def resume(self, role):
        self.procs[role].send_signal(signal.SIGCONT)

    def stop(self):
        """Stops every daemon (SIGTERM, SIGKILL after 5 s), removes the addresses
        and the directory (unless keep). Safe to call twice."""
        procs = [p for p in self.procs.values() if p.poll() is None]
        for p in procs:
            try:
                p.send_signal(signal.SIGCONT)  # a paused daemon cannot act on SIGTERM
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 5.0
        for p in procs:
            try:
                p.wait(max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = {}
        if self._aliased:
            self._aliases("del")
            self._aliased = False
        if self.dir and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        self._release()
        _live.discard(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- for tests ------------------------------------------------------------------

    def _rd(self, addr, rd):
        if rd is not None:
            return rd
        return _hostport(addr)[0] in (self.addr("resolver"), self.addr("ca"))

    def query(self, addr, name, rtype="SOA", rd=None, dnssec=False, source=None, timeout=2.0):
        return query(addr, name, rtype, self._rd(addr, rd), dnssec, source, timeout)

    def txt(self, addr, name, source=None, rd=None):
        r = self.query(addr, name, "TXT", rd=rd, source=source)
        return sorted(v for _, t, _, v in r.answer if t == 16)

    def dig(self, addr, name, rtype="SOA", dnssec=False, norec=True, source=None, args=()):
        host, port = _hostport(addr)
        argv = ["dig", "+time=2", "+tries=2", "-p", str(port), "@" + host, name, rtype,
                "+norec" if norec else "+rec"] + (["+dnssec"] if dnssec else [])
        argv += ["-b", source] if source else []
        return subprocess.run(argv + list(args), capture_output=True, text=True).stdout

    def nsupdate(self, zone, commands, key=(zptest.TSIG_NAME, "hmac-sha256", zptest.TSIG_SECRET)):
        """Sends the update lines to the zone's primary, signed with key (over TCP)."""
        host, port = _hostport(self.primary(zone))
        script = ["server %s %d" % (host, port), "zone %s" % _fqdn(zone)]
        if key:
            script.append("key %s:%s %s" % (key[1], key[0], key[2]))
        script += list(commands) + ["send", ""]
        for _ in (1, 2):  # one more try: a loaded CI machine is no test failure
            r = subprocess.run(["nsupdate", "-v", "-t", "10"], input="\n".join(script),
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
        raise LabError("nsupdate to %s for %s failed: %s%s" % (host, zone, r.stdout, r.stderr))

    def config(self, zone, path=None, provider=None, **top):
        """Writes a zoneproof config: rfc2136 on the zone's primary with acme-key,
        the lab's resolver and trust anchor. top and provider are merged in
        (dicts deeply; a None value removes a setting). Returns its path."""
        doc = {"propagation": {"resolvers": [self.resolver]},
               "dnssec": {"trustAnchorFile": self.trust_anchor_file},
               "providers": [{"name": "lab", "type": "rfc2136", "dnsZones": [zone.rstrip(".")],
                              "nameserver": self.primary(zone),
                              "tsigKeyName": zptest.TSIG_NAME, "tsigAlgorithm": "hmac-sha256",
                              "tsigSecretFile": zptest.write_secret(self.dir)}]}
        _merge(doc, top)
        _merge(doc["providers"][0], provider or {})
        path = path or self._path("zoneproof-%s.yaml" % zone.rstrip(".").replace(".", "_"))
        with open(path, "w") as f:
            f.write(_yaml(doc))
        return path


def _merge(into, extra):
    for k, v in extra.items():
        if v is None:
            into.pop(k, None)
        elif isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def _yaml(v, indent=0):
    """Block YAML for dicts and lists; scalars as JSON (a subset of YAML)."""
    pad, out = "  " * indent, ""
    for k, x in (v.items() if isinstance(v, dict) else ((None, x) for x in v)):
        head = pad + ("%s:" % k if k is not None else "-")
        if isinstance(x, (dict, list)) and x:
            body = _yaml(x, indent + 1)
            out += head + ("\n" + body if k is not None else " " + body.lstrip())
        else:
            out += "%s %s\n" % (head, json.dumps(x))
    return out

"""sambadc — a real Samba AD domain controller (its KDC and its internal DNS
server) on a loopback address of its own, for the rfc2136 provider's GSS-TSIG
tests against Active Directory DNS.

    dc = sambadc.SambaDC().start()      # realm CORP.ZP.TEST, domain CORP
    dc.nsupdate_gss(["update add _acme-challenge.corp.zp.test. 60 TXT x"])
    dc.txt("_acme-challenge.corp.zp.test.")
    dc.reset()                          # delete every _acme-challenge* name
    dc.stop()                           # also at exit: samba dies with us

What it does, in a temporary directory (nothing under /etc or /var/lib/samba
is read or written; every Samba and Kerberos program gets -s <dir>/etc/smb.conf
and KRB5_CONFIG=<dir>/krb5.conf):

  1. samba-tool domain provision (SAMBA_INTERNAL DNS, rfc2307, host dc1, the
     DC's address as host IP): about 7-8 s on an idle 2-core machine, plus
     1.5 s for the users (step 3). Both are done once per machine into a
     template, /tmp/zp-samba-template-<hash of Samba's version, realm, domain,
     host name, address>, which each SambaDC copies (0.05 s) and points its
     smb.conf at; so every run has the same SIDs and keys. cache=False or
     $ZP_SAMBA_NO_CACHE=1 provisions afresh. Needs Debian's samba-ad-provision
     package (the AD schema files) besides samba and samba-ad-dc.
  2. smb.conf edited: server services = kdc dns only (no smbd, ldap, rpc,
     dnsupdate), no dns forwarder (provision copies the one in
     /etc/resolv.conf: a query for a name outside the domain gets NXDOMAIN and
     never leaves loopback), pid/lock/state/log/socket dirs inside the temp dir,
     interfaces = ADDR/8 (a bare 127.x.y.z that is on no interface makes
     Samba listen nowhere: "no network interfaces found").
  3. Users acme-solver and other-solver made offline (samba-tool user create
     -H sam.ldb, random passwords), each exported to a keytab
     (samba-tool domain exportkeytab --principal=NAME@REALM: aes256, aes128,
     arcfour; kvno 2).
  4. samba -i -M single (one process, its own process group, ends when its
     stdin closes and by PR_SET_PDEATHSIG when the test process dies);
     start() waits until DNS answers the zone's SOA and the KDC gives
     acme-solver a ticket. Start takes about 0.5 s.

Addresses: zptest.loopback_net("127.88") claims 127.88.S.0/24 for this
process (a lock file per slot, so two test processes under ctest -j never
share one); each SambaDC of the process takes 127.88.S.N (N = 1, 2, ...). DNS
is on port 53, the KDC on 88 (kpasswd on 464), UDP and TCP.

Names (defaults): realm CORP.ZP.TEST, zone corp.zp.test (the AD domain zone,
SOA MNAME dc1.corp.zp.test.), DNS server principal
DNS/dc1.corp.zp.test@CORP.ZP.TEST. No account has that SPN: the machine
account DC1$ has HOST/dc1.corp.zp.test, and Samba's KDC maps DNS/ to HOST/
(AD's sPNMappings), so a ticket for it is encrypted with DC1$'s key, which the
internal DNS server accepts with. (With SAMBA_INTERNAL there is no dns-dc1
account; that one exists only for BIND9_DLZ.)

What Samba 4.17 answers and what nsupdate -g (BIND 9.18) makes of it:
  - TKEY (nsupdate -g always uses TCP): the client's SPNEGO token is about
    1474 bytes (Samba's tickets carry a PAC), the server's answer token 186
    bytes; the TKEY answer's TSIG verifies. Samba also answers the TKEY
    query over UDP (a 1568-byte datagram, no EDNS, on loopback: a 365-byte
    answer, TC clear); off loopback such a datagram is fragmented, so TCP is
    the safe choice.
  - An update that Samba applies is answered NOERROR, but with a TSIG that
    nsupdate cannot verify: it prints "; TSIG error with server: tsig verify
    failure" and exits 2, though the record is there. Samba's answer also
    echoes the update's zone and update sections (ZONE: 1, UPDATE: 1).
  - An update AD's ACLs deny (other-solver adding at a name acme-solver
    created: the dnsNode's owner is acme-solver) is answered SERVFAIL (not
    REFUSED), again with the unverifiable TSIG: nsupdate prints the tsig
    verify failure line, then "update failed: SERVFAIL", and exits 2.
  So nsupdate's exit status never tells; update_rcode() reads its stderr.
  - A name other-solver creates for the first time is allowed (any
    authenticated user may create a dnsNode in the zone) and then belongs to it.
"""
import fcntl
import hashlib
import itertools
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import krb  # noqa: E402
import zptest  # noqa: E402

_die_with_parent = zptest.die_with_parent


SOLVER = "acme-solver"
OTHER = "other-solver"
SYSTEM_PYTHON = "/usr/bin/python3"   # Samba's Python bindings are Debian's, not pyenv's

_hosts = itertools.count(1)
TEMPLATE_FORMAT = "1"               # bump when _build changes what a template holds

# Deletes dnsNode objects (a name with all its records and its ACL, so the next
# writer owns it afresh) straight in sam.ldb, beside the running samba (ldb locks).
_RESET = r"""
import sys, ldb
from samba.samdb import SamDB
from samba.param import LoadParm
from samba.auth import system_session
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=sys.argv[2], lp=lp, session_info=system_session())
base = "DC=%s,CN=MicrosoftDNS,DC=DomainDnsZones,%s" % (sys.argv[3], db.domain_dn())
n = 0
for pat in sys.argv[4:]:
    if pat.endswith("*"):
        expr = "(&(objectClass=dnsNode)(name=%s*))" % ldb.binary_encode(pat[:-1])
    else:
        expr = "(&(objectClass=dnsNode)(name=%s))" % ldb.binary_encode(pat)
    for m in db.search(base=base, scope=ldb.SCOPE_ONELEVEL, expression=expr, attrs=["name"]):
        db.delete(m.dn)
        n += 1
print(n)
"""


class SambaError(RuntimeError):
    pass


def _strong_password():
    """Meets AD's complexity rule (three classes, length >= 7)."""
    return "Zp1!" + secrets.token_urlsafe(18)


class SambaDC(zptest.LocalServer):
    """A Samba AD DC (KDC + internal DNS) for realm, on its own loopback address.

    Attributes: host (the address; DNS on port 53), port (53), kdc_port (88), realm,
    domain, zone (the AD domain zone), fqdn (dc1.<zone>), dns_principal,
    solver / other (full principal names), solver_keytab / other_keytab, krb5_conf (for
    clients), smb_conf, sam_ldb, admin_password (Administrator's), dir, timings (seconds:
    "provision" and "users" when built, "template" and "copy" when cached, "start").
    """

    def __init__(self, realm="CORP.ZP.TEST", domain="CORP", hostname="dc1", host=None,
                 debug=1, cache=None):
        self.realm = realm.upper()
        self.domain = domain
        self.hostname = hostname
        self.zone = self.realm.lower()
        self.fqdn = "%s.%s" % (hostname, self.zone)
        self.host = host or "%s.%d" % (zptest.loopback_net("127.88"), next(_hosts))
        self.port = 53
        self.kdc_port = 88
        self.debug = debug
        # The template cache, unless cache=False or $ZP_SAMBA_NO_CACHE is set.
        self.cache = cache if cache is not None else not os.environ.get("ZP_SAMBA_NO_CACHE")
        self.dir = tempfile.mkdtemp(prefix="zp-samba-")
        self.proc = None
        self.smb_conf = os.path.join(self.dir, "etc", "smb.conf")
        self.sam_ldb = os.path.join(self.dir, "private", "sam.ldb")
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        self.admin_password = _strong_password()
        self.dns_principal = "DNS/%s@%s" % (self.fqdn, self.realm)
        self.solver = "%s@%s" % (SOLVER, self.realm)
        self.other = "%s@%s" % (OTHER, self.realm)
        self.solver_keytab = os.path.join(self.dir, "%s.keytab" % SOLVER)
        self.other_keytab = os.path.join(self.dir, "%s.keytab" % OTHER)
        self.timings = {}
        self._provisioned = False
        with open(self.krb5_conf, "w") as f:
            f.write(self.krb5_conf_text())

    # -- configuration --------------------------------------------------------------

    def krb5_conf_text(self):
        """A krb5.conf for clients of the DC's realm: its KDC by address, never by DNS."""
        return krb.client_krb5_conf(self.realm, "%s:%d" % (self.host, self.kdc_port), self.zone)

    def env(self, ccache=None):
        """The environment for a Kerberos or Samba program of this DC (KRB5_CONFIG, and
        KRB5CCNAME: ccache if given, else one in the temp dir)."""
        e = dict(os.environ)
        e["KRB5_CONFIG"] = self.krb5_conf
        e["KRB5CCNAME"] = "FILE:" + (ccache or os.path.join(self.dir, "cc-default"))
        if ccache and ":" in ccache:
            e["KRB5CCNAME"] = ccache
        return e

    def _run(self, argv, what=None, env=None, timeout=120):
        r = subprocess.run(argv, capture_output=True, text=True, env=env or self.env(),
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise SambaError("%s failed (%d):\n%s%s" % (what or " ".join(argv[:3]),
                                                       r.returncode, r.stdout[-3000:],
                                                       r.stderr[-3000:]))
        return r.stdout

    def _samba_tool(self, *args, what=None):
        return self._run(["samba-tool"] + list(args) + ["-s", self.smb_conf], what=what)

    def provision(self):
        """Provisions the domain and makes the users and keytabs (offline), or copies them
        from the template cache (see _template); start() does this first if not done."""
        if self._provisioned:
            return
        t0 = time.monotonic()
        if self.cache:
            tpl = self._template()
            t1 = time.monotonic()
            self._copy_from(tpl)
            self.timings.update(template=t1 - t0, copy=time.monotonic() - t1)
        else:
            self._build(self.dir)
        self._provisioned = True

    def _build(self, target):
        """samba-tool provision into target, smb.conf edited, the users made and exported;
        the admin password in target/zp-admin-password. Paths in smb.conf name target."""
        t0 = time.monotonic()
        self._run(["samba-tool", "domain", "provision",
                   "--realm=" + self.realm, "--domain=" + self.domain,
                   "--server-role=dc", "--dns-backend=SAMBA_INTERNAL",
                   "--adminpass=" + self.admin_password, "--targetdir=" + target,
                   "--use-rfc2307", "--host-name=" + self.hostname,
                   "--host-ip=" + self.host,
                   "--option=interfaces=%s/8" % self.host,
                   "--option=bind interfaces only=yes",
                   # else provision copies the resolver of /etc/resolv.conf; dropped below
                   "--option=dns forwarder=%s" % self.host],
                  what="samba-tool domain provision")
        smb_conf = os.path.join(target, "etc", "smb.conf")
        self._edit_smb_conf(smb_conf, target)
        t1 = time.monotonic()
        for user in (SOLVER, OTHER):
            self._run(["samba-tool", "user", "create", user, _strong_password(),
                       "-H", os.path.join(target, "private", "sam.ldb"), "-s", smb_conf],
                      what="samba-tool user create " + user)
            self._run(["samba-tool", "domain", "exportkeytab",
                       os.path.join(target, "%s.keytab" % user),
                       "--principal=%s@%s" % (user, self.realm), "-s", smb_conf],
                      what="samba-tool domain exportkeytab " + user)
        with open(os.path.join(target, "zp-admin-password"), "w") as f:
            f.write(self.admin_password)
        with open(os.path.join(target, "zp-built-in"), "w") as f:
            f.write(target)
        self.timings.update(provision=t1 - t0, users=time.monotonic() - t1)

    def _template(self):
        """The provisioned, never started domain for this realm, domain, host name and
        address, built once per machine (and Samba version) under
        /tmp/zp-samba-template-<hash>: a provision takes 7-10 s, a copy 0.05 s. Built in
        a temporary folder and renamed into place, under a lock, so a crash or a
        concurrent build never leaves half a template. Same keys and SIDs every run."""
        version = subprocess.run(["samba", "--version"], capture_output=True,
                                 text=True).stdout.strip()
        key = "|".join([TEMPLATE_FORMAT, version, self.realm, self.domain, self.hostname,
                        self.host])
        tpl = os.path.join(tempfile.gettempdir(), "zp-samba-template-" +
                           hashlib.sha256(key.encode()).hexdigest()[:16])
        if os.path.exists(os.path.join(tpl, "zp-built-in")):
            return tpl
        lock = os.open(tpl + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(os.path.join(tpl, "zp-built-in")):
                return tpl
            shutil.rmtree(tpl, ignore_errors=True)
            tmp = tempfile.mkdtemp(prefix=os.path.basename(tpl) + ".build-",
                                   dir=os.path.dirname(tpl))
            try:
                self._build(tmp)
                os.rename(tmp, tpl)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return tpl
        finally:
            os.close(lock)

    def _copy_from(self, tpl):
        with open(os.path.join(tpl, "zp-built-in")) as f:
            built_in = f.read()
        shutil.copytree(tpl, self.dir, symlinks=True, dirs_exist_ok=True)
        with open(self.smb_conf) as f:
            text = f.read()
        with open(self.smb_conf, "w") as f:
            f.write(text.replace(built_in, self.dir))
        with open(os.path.join(self.dir, "zp-admin-password")) as f:
            self.admin_password = f.read()

    def _edit_smb_conf(self, path, d):
        """Everything in the folder d, only the KDC and DNS, no forwarder."""
        with open(path) as f:
            text = f.read()
        drop = ("dns forwarder", "log file", "logging", "server services", "pid directory",
                "ncalrpc dir", "winbindd socket directory", "ntp signd socket directory",
                "dns port", "max log size", "panic action")
        lines = [l for l in text.splitlines()
                 if l.split("=")[0].strip().lower() not in drop]
        for sub in ("run", "log"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        extra = ["\tserver services = kdc dns",
                 "\tdns port = %d" % self.port,
                 "\tpid directory = %s/run" % d,
                 "\tncalrpc dir = %s/run/ncalrpc" % d,
                 "\twinbindd socket directory = %s/run/winbindd" % d,
                 "\tntp signd socket directory = %s/run/ntp_signd" % d,
                 "\tlog file = %s/log/log.%%m" % d,
                 "\tpanic action = /bin/true"]
        i = lines.index("[global]") + 1
        lines[i:i] = extra
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    # -- running ----------------------------------------------------------------------

    def start(self, timeout=60.0):
        self.provision()
        t0 = time.monotonic()
        self._log = open(os.path.join(self.dir, "samba.out"), "w")
        # stdin a pipe we hold: samba -i ends when it closes (our exit, however it ends).
        self.proc = subprocess.Popen(
            ["samba", "-i", "-M", "single", "-s", self.smb_conf,
             "--debuglevel=%d" % self.debug],
            stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
            env=self.env(), preexec_fn=_die_with_parent)
        end = t0 + timeout
        try:
            self._wait(lambda: "status: NOERROR" in self.dig(self.zone + ".", "SOA", full=True),
                       end, "DNS answering SOA %s at %s" % (self.zone, self.host))
            cc = os.path.join(self.dir, "cc-probe")
            self._wait(lambda: subprocess.run(
                ["kinit", "-k", "-t", self.solver_keytab, self.solver],
                capture_output=True, env=self.env(cc)).returncode == 0,
                end, "the KDC at %s:%d" % (self.host, self.kdc_port))
        except Exception:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def _wait(self, pred, end, what):
        while True:
            if self.proc.poll() is not None:
                raise SambaError("samba exited (%s) before %s:\n%s"
                                 % (self.proc.returncode, what, self.log()))
            try:
                if pred():
                    return
            except Exception:
                pass
            if time.monotonic() > end:
                raise SambaError("timed out waiting for %s:\n%s" % (what, self.log()))
            time.sleep(0.1)

    def stop(self):
        """Ends samba and its process group (SIGTERM, SIGKILL after 5 s)."""
        p, self.proc = self.proc, None
        if p is None:
            return
        if p.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
                except PermissionError:
                    p.send_signal(sig)
                try:
                    p.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            os.killpg(p.pid, signal.SIGKILL)   # anything the group forked
        except (ProcessLookupError, PermissionError):
            pass
        if p.stdin:
            p.stdin.close()
        self._log.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kdc_addr(self):
        """The KDC, "host:88" (UDP and TCP; kpasswd on 464)."""
        return "%s:%d" % (self.host, self.kdc_port)

    def log(self, size=4000):
        try:
            with open(os.path.join(self.dir, "samba.out")) as f:
                return f.read()[-size:]
        except OSError:
            return ""

    # -- what tests use ---------------------------------------------------------------

    def kinit(self, principal=None, keytab=None, ccache=None):
        """A TGT for principal (default acme-solver) from keytab into ccache; returns the
        environment to run clients with (KRB5_CONFIG, KRB5CCNAME)."""
        principal = principal or self.solver
        if "@" not in principal:
            principal += "@" + self.realm
        if keytab is None:
            keytab = self.other_keytab if principal == self.other else self.solver_keytab
        ccache = ccache or os.path.join(self.dir, "cc-" + principal.split("@")[0])
        env = self.env(ccache)
        self._run(["kinit", "-k", "-t", keytab, principal], what="kinit " + principal, env=env)
        return env

    def nsupdate_gss(self, commands, principal=None, keytab=None):
        """nsupdate -g as principal (default acme-solver; "other-solver" for the second
        user) after a fresh kinit; returns the CompletedProcess. Never raises on nsupdate's
        exit status: against Samba it is 2 even for an applied update (see the module
        docstring); use update_rcode(result)."""
        env = self.kinit(principal, keytab)
        script = ["server %s %d" % (self.host, self.port), "realm %s" % self.realm,
                  "zone %s." % self.zone] + list(commands) + ["send", ""]
        return subprocess.run(["nsupdate", "-g", "-t", "10"], input="\n".join(script),
                              capture_output=True, text=True, env=env, timeout=60)

    @staticmethod
    def update_rcode(result):
        """The rcode nsupdate reported ("NOERROR" unless it printed "update failed: X"),
        and whether it could verify the answer's TSIG: ("SERVFAIL", False)."""
        m = re.search(r"update failed: (\w+)", result.stderr)
        return (m.group(1) if m else "NOERROR",
                "tsig verify failure" not in result.stderr)

    def reset(self, names=("_acme-challenge*",)):
        """Deletes names in the zone (relative names; "x*" matches a prefix), each with
        all its records and its owner (AD's ACL): the next writer creates it afresh.
        Returns how many names were deleted. Works while samba runs (ldb locking)."""
        out = self._run([SYSTEM_PYTHON, "-c", _RESET, self.smb_conf, self.sam_ldb,
                         self.zone] + list(names), what="reset")
        return int(out.strip().splitlines()[-1])


if __name__ == "__main__":
    dc = SambaDC()
    t0 = time.monotonic()
    try:
        dc.start()
        print("address %s, zone %s, DNS principal %s" % (dc.host, dc.zone, dc.dns_principal))
        print("timings: " + ", ".join("%s %.2fs" % kv for kv in dc.timings.items())
              + " (total %.2fs)" % (time.monotonic() - t0))
        name = "_acme-challenge.%s." % dc.zone
        t = time.monotonic()
        r = dc.nsupdate_gss(["update add %s 60 TXT \"by-solver\"" % name])
        print("solver add: rc=%d %s %r (%.2fs)" % (r.returncode, dc.update_rcode(r),
                                                    r.stderr.strip(), time.monotonic() - t))
        print("TXT:", dc.txt(name))
        r = dc.nsupdate_gss(["update add %s 60 TXT \"by-other\"" % name], principal=OTHER)
        print("other add at solver's name: rc=%d %s %r" % (r.returncode, dc.update_rcode(r),
                                                          r.stderr.strip()))
        r = dc.nsupdate_gss(["update delete %s TXT" % name], principal=OTHER)
        print("other delete at solver's name: rc=%d %s" % (r.returncode, dc.update_rcode(r)))
        print("TXT:", dc.txt(name))
        t = time.monotonic()
        print("reset deleted %d name(s) in %.2fs; TXT: %s"
              % (dc.reset(), time.monotonic() - t, dc.txt(name)))
        r = dc.nsupdate_gss(["update add %s 60 TXT \"by-other\"" % name], principal=OTHER)
        print("other add after reset: rc=%d %s; TXT: %s" % (r.returncode, dc.update_rcode(r),
                                                            dc.txt(name)))
        dc.reset()
    finally:
        dc.cleanup()

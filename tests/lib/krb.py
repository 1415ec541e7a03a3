"""krb — a private MIT Kerberos realm and a BIND that takes GSS-TSIG (RFC 3645)
updates with it, on loopback, for the rfc2136 provider's GSS-TSIG tests.

Kdc runs MIT krb5kdc in the foreground, in a temporary directory (kdc.conf,
krb5.conf, the database, the stash, the log), listening on 127.0.0.1 only, on
a free port claimed through zptest.free_port (UDP and TCP). Nothing reads the
system's /etc/krb5.conf, which names real KDCs on the Internet: every program
run here gets KRB5_CONFIG (and KRB5_KDC_PROFILE, KRB5CCNAME, KRB5RCACHEDIR)
pointing into the temporary directory; use kdc.env() for the programs you run.

    kdc = krb.Kdc().start()             # realm ZP.TEST
    kdc.add_principal("acme-solver")    # random key
    kdc.keytab(["acme-solver"], path)   # bumps the kvno (kadmin ktadd)
    kdc.keytab("acme-solver", path, randkey=False)   # the current key, same kvno
    kdc.rekey("acme-solver")            # new key: keytabs made before are stale
    kdc.set_maxlife("acme-solver", 600)
    kdc.krb5_conf                       # path of a krb5.conf for clients
    kdc.stop()                          # the KDC is gone: clients get "cannot contact"

GssNamed is zptest.Named (same API: dig, txt, nsupdate with HMAC acme-key)
plus GSS-TSIG: it holds a keytab for DNS/ns1.example.test@ZP.TEST (the SOA
MNAME of its zone), and its update-policy lets acme-solver@ZP.TEST add TXT at
_acme-challenge.example.test and *.example.test, and nothing else; the
principal stranger@ZP.TEST has a keytab but is in no grant. The HMAC key
acme-key may still update TXT anywhere in the zone, so the same server serves
both kinds (for the latency comparison).

    lab = krb.GssLab().start()          # a Kdc + a GssNamed + client keytabs
    lab.nsupdate_gss(["update add _acme-challenge.example.test. 60 TXT x"])
    lab.named.tkey_count()              # GSS contexts BIND accepted so far

Findings (Debian 12: MIT krb5 1.20.1, BIND 9.18.49), which the tests rely on:
  - nsupdate -g names the server principal after the zone's SOA MNAME
    (DNS/ns1.example.test@REALM from "ns1.example.test."), not after the
    address given with `server`, so `server 127.0.0.1 PORT` works with no
    name resolution at all; `realm ZP.TEST` in the script sets the realm.
  - nsupdate -g does the TKEY exchange, and the update, over TCP. Its SPNEGO
    token (an AP-REQ with mutual auth) is 756 bytes with this KDC (AES-256,
    no PAC); BIND's answer token is 186 bytes. nsupdate negotiates a new
    context for every `send`, even within one run. BIND answers the same
    TKEY query over UDP too (850 bytes, no EDNS: a 346-byte answer, TC clear).
  - BIND gives the TKEY key a lifetime of 3600 s, or less: the ticket's
    remaining life plus 300 s (a 60 s ticket gave expiration = inception+360).
  - named does not need KRB5_CONFIG: as an acceptor it only decrypts the
    AP-REQ with its keytab and never contacts the KDC. It gets KRB5_CONFIG
    anyway, so it never reads /etc/krb5.conf. named logs one harmless "failed
    gss_inquire_cred ... No Kerberos credentials available" per TKEY.
  - BIND's identity for a GSS-TSIG signer is the principal, e.g. the update
    log reads "client ... /key acme-solver\\@ZP.TEST: updating zone ...";
    a principal outside every grant gets REFUSED ("update failed: REFUSED"
    from nsupdate, "rejected by secure update (REFUSED)" in named's log),
    in an answer signed with the GSS key.
  - TKEY counting: named -g ignores the config's logging statement and logs to
    stderr at the level of -d; at -d 3 BIND writes, once per GSS-API context
    it completes (= one TKEY negotiation that ended with a key):
        gss-api source name (accept) is acme-solver@ZP.TEST
    (TKEY_RE; GssNamed.tkey_count). -d 4 adds "process_gsstkey():
    dns_tsigerror_noerror" per TKEY answered without error. -d 3 costs about
    35 log lines per update.
  - A client whose ticket BIND's keytab cannot decrypt (Kdc.rekey of the DNS
    principal after BIND got its keytab) gets a TKEY answer with rcode
    NOERROR, TKEY error BADKEY, no token, unsigned; nsupdate prints
    "dns_tkey_gssnegotiate: TKEY is unacceptable" and exits 1; named logs
    "failed gss_accept_sec_context: ... Request ticket server
    DNS/ns1.example.test@ZP.TEST kvno 3 not found in keytab; keytab is likely
    out of date", and tkey_count does not move.
  - Kdc.set_maxlife works down to seconds (a 5 s TGT is issued as asked).
"""
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zptest  # noqa: E402

_die_with_parent = zptest.die_with_parent


REALM = "ZP.TEST"
ZONE = "example.test"
NS_NAME = "ns1.example.test"
DNS_SPN = "DNS/%s" % NS_NAME            # the DNS service's principal, without the realm
SOLVER = "acme-solver"                  # allowed TXT at _acme-challenge + *.example.test
STRANGER = "stranger"                   # has a keytab, allowed nothing


def client_krb5_conf(realm, kdc_addr, zone):
    """A krb5.conf for clients of realm (kdc_addr "host:port", zone's names in the realm):
    the KDC by address over TCP, nothing looked up in DNS, no forwardable tickets."""
    return "\n".join([
        "[libdefaults]",
        "  default_realm = %s" % realm,
        "  dns_lookup_kdc = false",
        "  dns_lookup_realm = false",
        "  dns_canonicalize_hostname = false",
        "  rdns = false",
        "  udp_preference_limit = 1",
        "  forwardable = false",
        "[realms]",
        "  %s = {" % realm,
        "    kdc = %s" % kdc_addr,
        "  }",
        "[domain_realm]",
        "  .%s = %s" % (zone, realm),
        "  %s = %s" % (zone, realm),
        ""])


class KrbError(RuntimeError):
    pass


class Kdc(zptest.LocalProcess):
    """MIT krb5kdc for realm, on host:port (UDP and TCP), in a temporary directory.

    The database is made at construction (kdb5_util create -s, a random master
    password); principals may be added before or after start() (kadmin.local writes
    the database, which the running KDC reads per request). Every principal's key is
    random: use keytab() to get it. start() adds a principal zp-probe, whose kinit
    tells the KDC answers.
    """

    def __init__(self, realm=REALM, host="127.0.0.1", port=None, max_life=36000):
        self.realm = realm
        self.host = host
        self.port = port or zptest.free_port(host)
        self.dir = tempfile.mkdtemp(prefix="zp-kdc-")
        self.proc = None
        self.kdc_conf = os.path.join(self.dir, "kdc.conf")
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        os.makedirs(os.path.join(self.dir, "rcache"))
        with open(self.kdc_conf, "w") as f:
            f.write(self._kdc_conf_text(max_life))
        with open(self.krb5_conf, "w") as f:
            f.write(self.krb5_conf_text())
        with open(os.path.join(self.dir, "kadm5.acl"), "w") as f:
            f.write("")
        self._run(["kdb5_util", "-r", realm, "create", "-s", "-P",
                   secrets.token_urlsafe(24)], what="kdb5_util create")

    def _kdc_conf_text(self, max_life):
        d = self.dir
        return "\n".join([
            "[kdcdefaults]",
            "  kdc_listen = %s:%d" % (self.host, self.port),
            "  kdc_tcp_listen = %s:%d" % (self.host, self.port),
            "[realms]",
            "  %s = {" % self.realm,
            "    database_name = %s/principal" % d,
            "    key_stash_file = %s/stash" % d,
            "    acl_file = %s/kadm5.acl" % d,
            "    admin_keytab = FILE:%s/kadm5.keytab" % d,
            "    kdc_listen = %s:%d" % (self.host, self.port),
            "    kdc_tcp_listen = %s:%d" % (self.host, self.port),
            "    max_life = %ds" % max_life,
            "    max_renewable_life = 0s",
            # AES only: what current clients and BIND use; keeps keytabs small.
            "    supported_enctypes = aes256-cts-hmac-sha1-96:normal "
            "aes128-cts-hmac-sha1-96:normal",
            "  }",
            "[logging]",
            "  kdc = FILE:%s/kdc.log" % d,
            "  default = FILE:%s/kdc.log" % d,
            ""])

    def krb5_conf_text(self, kdc_addr=None):
        """A krb5.conf for clients of this realm: the KDC by address, never by DNS."""
        return client_krb5_conf(self.realm, kdc_addr or "%s:%d" % (self.host, self.port), ZONE)

    def env(self, ccache=None):
        """The environment for a Kerberos program of this realm (a copy of ours, plus
        KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5RCACHEDIR, and KRB5CCNAME if ccache is given)."""
        e = dict(os.environ)
        e.update(KRB5_CONFIG=self.krb5_conf, KRB5_KDC_PROFILE=self.kdc_conf,
                 KRB5RCACHEDIR=os.path.join(self.dir, "rcache"))
        if ccache:
            e["KRB5CCNAME"] = ccache if ":" in ccache else "FILE:" + ccache
        else:
            e["KRB5CCNAME"] = "FILE:" + os.path.join(self.dir, "cc-default")
        return e

    def _run(self, argv, what=None, input=None, env=None):
        r = subprocess.run(argv, capture_output=True, text=True, input=input,
                           env=env or self.env(), timeout=60)
        if r.returncode != 0:
            raise KrbError("%s failed (%d): %s%s" % (what or argv[0], r.returncode,
                                                    r.stdout, r.stderr))
        return r.stdout

    def kadmin(self, query):
        """Runs one kadmin.local query; returns its output. kadmin.local reports some
        errors with exit status 0, so its stderr is checked too."""
        r = subprocess.run(["kadmin.local", "-r", self.realm, "-q", query],
                           capture_output=True, text=True, env=self.env(), timeout=60)
        err = "\n".join(l for l in r.stderr.splitlines()
                        if l.strip() and not l.startswith("Authenticating as"))
        if r.returncode != 0 or re.search(r"(?i)error|while |not found|no such", err):
            raise KrbError("kadmin.local %r failed (%d): %s%s" % (query, r.returncode,
                                                                  r.stdout, r.stderr))
        return r.stdout

    def principal(self, name):
        """name with the realm (name@REALM unless name has one)."""
        return name if "@" in name else "%s@%s" % (name, self.realm)

    def add_principal(self, name, maxlife=None):
        """Adds name (e.g. "acme-solver", "DNS/ns1.example.test") with a random key;
        returns the full principal name."""
        q = "addprinc -randkey"
        if maxlife is not None:
            q += ' -maxlife "%d seconds"' % maxlife
        self.kadmin("%s %s" % (q, self.principal(name)))
        return self.principal(name)

    def keytab(self, principals, path, randkey=True):
        """Writes the keys of principals (a name or a list) to the keytab at path (added
        to it if it exists); returns path. randkey=True is kadmin's plain ktadd: it makes
        a NEW key (kvno + 1), so keytabs exported before no longer work; randkey=False
        (ktadd -norandkey) exports the current key, same kvno."""
        if isinstance(principals, str):
            principals = [principals]
        flag = "" if randkey else "-norandkey "
        for p in principals:
            self.kadmin("ktadd -k %s %s%s" % (path, flag, self.principal(p)))
        os.chmod(path, 0o600)
        return path

    def rekey(self, name):
        """A new random key for name (cpw -randkey, kvno + 1): keytabs made before are
        stale; tickets issued before still decrypt only with the old key."""
        self.kadmin("cpw -randkey %s" % self.principal(name))

    def set_maxlife(self, name, seconds):
        """The longest ticket the KDC issues for (or to) name, in seconds. A ticket's life
        is the least of the client's, the service's and the realm's max life."""
        self.kadmin('modprinc -maxlife "%d seconds" %s' % (seconds, self.principal(name)))

    def kvno(self, name):
        """The principal's current key version number (from getprinc)."""
        out = self.kadmin("getprinc %s" % self.principal(name))
        m = re.search(r"vno (\d+)", out)
        return int(m.group(1)) if m else None

    def kinit(self, principal, keytab, ccache, lifetime=None):
        """Gets a TGT for principal with keytab into ccache (a path or TYPE:residual);
        returns the environment to run clients with that ticket (KRB5CCNAME set)."""
        env = self.env(ccache)
        argv = ["kinit", "-k", "-t", keytab]
        if lifetime:
            argv += ["-l", "%ds" % lifetime]
        self._run(argv + [self.principal(principal)], what="kinit", env=env)
        return env

    def start(self, timeout=15.0):
        log = open(os.path.join(self.dir, "krb5kdc.out"), "w")
        self.proc = subprocess.Popen(["krb5kdc", "-n", "-r", self.realm], stdout=log,
                                     stderr=subprocess.STDOUT, env=self.env(),
                                     preexec_fn=_die_with_parent)
        log.close()
        # Ready when it answers: an AS-REQ for a principal that does not exist gets an
        # answer (client not found) only from a running KDC; no keytab needed.
        probe = os.path.join(self.dir, "probe.keytab")
        if not os.path.exists(probe):
            self.add_principal("zp-probe")
            self.keytab("zp-probe", probe)
        env = self.env(os.path.join(self.dir, "cc-probe"))
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise KrbError("krb5kdc exited (%s):\n%s" % (self.proc.returncode, self.log()))
            r = subprocess.run(["kinit", "-k", "-t", probe, self.principal("zp-probe")],
                               capture_output=True, text=True, env=env)
            if r.returncode == 0:
                return self
            if time.monotonic() > end:
                self.stop()
                raise KrbError("krb5kdc did not answer in %.0f s: %s\n%s"
                               % (timeout, r.stderr, self.log()))
            time.sleep(0.05)

    def stop(self):
        """Ends krb5kdc (it may be started again with start(): same realm, port, keys).
        After stop() clients get "Cannot contact any KDC for realm"."""
        super().stop()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self, size=4000):
        out = ""
        for name in ("krb5kdc.out", "kdc.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out += f.read()[-size:]
            except OSError:
                pass
        return out

    def as_req_count(self):
        """How many AS-REQs (kinit) the KDC answered with a ticket, from its log."""
        return len(re.findall(r"AS_REQ .*ISSUE", self.log(size=10 ** 8)))

    def tgs_req_count(self, service=None):
        """How many service tickets the KDC issued (for service, if given), from its log."""
        n = 0
        for line in self.log(size=10 ** 8).splitlines():
            if "TGS_REQ" in line and "ISSUE" in line and (
                    service is None or self.principal(service) in line):
                n += 1
        return n


# BIND 9.18 writes this line (gssapictx.c, at debug level 3) once for every GSS-API context
# it completes, that is once per TKEY negotiation that ended with a key, naming the client:
#     gss-api source name (accept) is acme-solver@ZP.TEST
# A refused negotiation (bad ticket) does not write it. Debug level 4 adds
# "process_gsstkey(): dns_tsigerror_noerror" per TKEY answered with no error. named -g
# ignores the config's logging statement, so the level comes from named -d.
TKEY_RE = r"gss-api source name \(accept\) is (\S+)"


class GssNamed(zptest.Named):
    """zptest.Named with GSS-TSIG: tkey-gssapi-keytab holds DNS/ns1.example.test@REALM,
    the zone's SOA MNAME is ns1.example.test., and the update-policy is grants (a list of
    BIND grant statements, without "grant" and ";"), by default:

        acme-solver@ZP.TEST wildcard *.example.test. TXT
        acme-solver@ZP.TEST name _acme-challenge.example.test. TXT
        acme-key subdomain example.test. TXT            (HMAC, as zptest.Named)

    BIND's identity for a GSS-TSIG update is the client's Kerberos principal
    (name@REALM); grant ... krb5-self / krb5-subdomain also exist, for host principals.
    """

    preexec_fn = staticmethod(_die_with_parent)

    def __init__(self, kdc, keytab, zone=ZONE, records=(), grants=None, debug=3, **kw):
        self.kdc = kdc
        self.keytab = keytab
        solver = kdc.principal(SOLVER)
        grants = grants if grants is not None else [
            "%s wildcard *.%s. TXT" % (solver, zone),
            "%s name _acme-challenge.%s. TXT" % (solver, zone),
            "%s subdomain %s. TXT" % (zptest.TSIG_NAME, zone)]
        policy = " ".join("grant %s;" % g for g in grants)
        super().__init__(
            {zone: list(records)}, policy={zone: policy}, ns_names=["%s." % NS_NAME],
            options=['  tkey-gssapi-keytab "%s";' % keytab],
            args=["-d", str(debug)],
            env={"KRB5_CONFIG": kdc.krb5_conf,
                 "KRB5RCACHEDIR": os.path.join(kdc.dir, "rcache"),
                 "KRB5CCNAME": "FILE:" + os.path.join(kdc.dir, "cc-named")},
            **kw)

    def full_log(self):
        """All of named's output (Named.log() is only the last 4000 characters)."""
        try:
            with open(os.path.join(self.dir, "named.log")) as f:
                return f.read()
        except OSError:
            return ""

    def tkey_count(self, principal=None):
        """How many GSS-TSIG contexts (TKEY negotiations that ended with a key) BIND has
        completed since it started (for principal only, if given: "acme-solver" or
        "acme-solver@ZP.TEST"), from its log (TKEY_RE)."""
        names = re.findall(TKEY_RE, self.full_log())
        if principal:
            names = [n for n in names if n == self.kdc.principal(principal)]
        return len(names)

    def update_log(self):
        """named's lines about updates (who, what, refused), to show in a failure."""
        return "\n".join(l for l in self.full_log().splitlines()
                         if "updating zone" in l or "update failed" in l)


class GssLab:
    """A Kdc, a GssNamed, and keytabs for the clients, in one object.

    Attributes once started: kdc, named, dir (client files), solver_keytab (acme-solver),
    stranger_keytab (stranger), dns_keytab (the server's), solver / stranger / dns_principal
    (full principal names), zone.
    """

    def __init__(self, realm=REALM, records=(), grants=None):
        self.kdc = Kdc(realm)
        self.dir = tempfile.mkdtemp(prefix="zp-gss-")
        self.zone = ZONE
        self.solver = self.kdc.add_principal(SOLVER)
        self.stranger = self.kdc.add_principal(STRANGER)
        self.dns_principal = self.kdc.add_principal(DNS_SPN)
        self.solver_keytab = self.kdc.keytab(SOLVER, os.path.join(self.dir, "solver.keytab"))
        self.stranger_keytab = self.kdc.keytab(STRANGER,
                                               os.path.join(self.dir, "stranger.keytab"))
        self.dns_keytab = self.kdc.keytab(DNS_SPN, os.path.join(self.dir, "dns.keytab"))
        self.named = GssNamed(self.kdc, self.dns_keytab, records=records, grants=grants)

    def start(self):
        try:
            self.kdc.start()
            self.named.start()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        self.named.cleanup()
        self.kdc.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def nsupdate_gss(self, commands, principal=SOLVER, keytab=None, tcp=False, check=True):
        """Runs nsupdate -g as principal (a fresh kinit into a ccache of its own, with
        keytab, by default the principal's from this lab) with the given update commands;
        returns the CompletedProcess. check: raise unless nsupdate exited 0."""
        keytab = keytab or (self.solver_keytab if principal == SOLVER else
                            self.stranger_keytab if principal == STRANGER else None)
        cc = os.path.join(self.dir, "cc-%s" % principal.replace("/", "_"))
        env = self.kdc.kinit(principal, keytab, cc)
        script = ["server %s %d" % (self.named.host, self.named.port),
                  "realm %s" % self.kdc.realm,
                  "zone %s." % self.zone] + list(commands) + ["send", ""]
        r = subprocess.run(["nsupdate", "-g"] + (["-v"] if tcp else []) + ["-t", "10"],
                           input="\n".join(script), capture_output=True, text=True,
                           env=env, timeout=60)
        if check and r.returncode != 0:
            raise KrbError("nsupdate -g as %s failed (%d): %s%s"
                           % (principal, r.returncode, r.stdout, r.stderr))
        return r


if __name__ == "__main__":
    t0 = time.monotonic()
    lab = GssLab()
    t1 = time.monotonic()
    lab.start()
    t2 = time.monotonic()
    print("setup %.2fs (kdb5_util + principals + keytabs), start %.2fs (krb5kdc + named)"
          % (t1 - t0, t2 - t1))
    try:
        name = "_acme-challenge.%s." % ZONE
        r = lab.nsupdate_gss(["update add %s 60 TXT \"gss-ok\"" % name])
        print("solver: rc=%d out=%r err=%r" % (r.returncode, r.stdout, r.stderr))
        print("TXT now:", lab.named.txt(name))
        r = lab.nsupdate_gss(["update add %s 60 TXT \"stranger\"" % name],
                             principal=STRANGER, check=False)
        print("stranger: rc=%d out=%r err=%r" % (r.returncode, r.stdout, r.stderr))
        print("TXT now:", lab.named.txt(name))
        print("tkey_count:", lab.named.tkey_count())
        print(lab.named.update_log())
    finally:
        lab.stop()

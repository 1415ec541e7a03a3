"""fake_namecheap — Namecheap's XML API for DNS hosts (docs/providers.md §8).

What it reproduces, and checks, like the real API:
  * the global parameters on every call, from the query string or a POSTed
    form: ApiUser and ApiKey (error 1011102 "API Key is invalid or API access
    has not been enabled"), UserName (must be the API user here), ClientIp (must
    be whitelisted: error 1011150 "Invalid request IP: …"), Command, SLD and TLD
    (error 2019166 "Domain not found");
  * namecheap.domains.dns.getHosts: every host with HostId, Name, Type, Address
    (XML-escaped), MXPref, TTL, IsActive…; the domain's EmailType and
    IsUsingOurDNS;
  * namecheap.domains.dns.setHosts with the real semantics: the hosts sent
    REPLACE every host of the domain (new HostIds); EmailType sets the mail
    settings, and leaving it out resets them (an assumption: the vendor page
    calls it optional and says nothing of its absence, so the fake takes the
    strict reading); a domain not on Namecheap's DNS answers 2030288;
  * errors as HTTP 200 with Status="ERROR" and <Errors><Error Number=…>.

Tests can make the next getHosts answers incomplete or odd (gethosts_faults):
"truncate" (the body cut short), "unknown-type", "not-ours"
(IsUsingOurDNS="false"), "error-ok" (an <Error> in a Status="OK" reply),
"missing-ttl", "html" (a proxy's page), and two that are well formed but
incomplete: "empty" (no host at all) and "lose-hosts" (the second half of the
hosts left out). Accepted TXT changes are mirrored into named.
"""
import os
import re
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

API_USER = "zptestuser"
API_KEY = "zpTestNamecheapApiKey0123456789ab"
CLIENT_IP = "203.0.113.7"
PATH = "/xml.response"
TYPES = ("A", "AAAA", "ALIAS", "CAA", "CNAME", "MX", "MXE", "NS", "TXT", "URL", "URL301",
         "FRAME")
HOSTS_MAX = 150

# The example.test domain before any test: records of every kind a real domain has,
# including values that need XML escaping.
SEED_HOSTS = [
    ("@", "A", "192.0.2.1", "10", "1800"),
    ("www", "CNAME", "example.test.", "10", "1800"),
    ("@", "MX", "mail.example.test.", "10", "1800"),
    ("@", "TXT", "v=spf1 include:_spf.example.test ~all", "10", "1799"),
    ("_dmarc", "TXT", "v=DMARC1; p=none; rua=mailto:d@example.test", "10", "3600"),
    ("@", "CAA", '0 issue "letsencrypt.org"', "10", "1800"),
    ("odd", "TXT", "a&b<c>\"d'e", "10", "300"),
    ("go", "URL", "http://example.test/?a=1&b=2", "10", "1800"),
]


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def envelope(command, body="", status="OK", errors=""):
    return ('<?xml version="1.0" encoding="utf-8"?>\r\n'
            '<ApiResponse Status="%s" xmlns="http://api.namecheap.com/xml.response">\r\n'
            "  <Errors>%s</Errors>\r\n  <Warnings />\r\n"
            "  <RequestedCommand>%s</RequestedCommand>\r\n%s"
            "  <Server>PHX01SBAPIEXT05</Server>\r\n"
            "  <GMTTimeDifference>--5:00</GMTTimeDifference>\r\n"
            "  <ExecutionTime>0.021</ExecutionTime>\r\n</ApiResponse>"
            % (status, errors, esc(command.lower()), body))


def error_reply(number, text, command=""):
    return Reply(200, envelope(command, status="ERROR",
                               errors='<Error Number="%d">%s</Error>' % (number, esc(text))),
                 content_type="text/xml")


class FakeNamecheap(fakebase.FakeServer):
    name = "namecheap"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.users = {API_USER: {"key": API_KEY, "ips": {CLIENT_IP}}}
        self.domains = {}
        self.next_id = 217000
        self.add_domain("example.test", SEED_HOSTS)
        self.add_domain("example.co.test", [("@", "A", "192.0.2.3", "10", "1800")])
        self.gethosts_faults = []  # one entry per coming getHosts
        self.gethosts_delay = 0.0  # seconds each getHosts takes: widens a read-modify-write race
        self.commands = []         # (command, params without the ApiKey) of authenticated calls

    def add_domain(self, name, hosts, email_type="MX", ours=True, owner=API_USER):
        self.domains[name] = {"owner": owner, "email_type": email_type, "ours": ours,
                              "hosts": [self._host(*h) for h in hosts]}

    def _host(self, name, rtype, address, mxpref="10", ttl="1800"):
        self.next_id += 1
        return {"HostId": str(self.next_id), "Name": name, "Type": rtype, "Address": address,
                "MXPref": str(mxpref), "TTL": str(ttl)}

    def add_host(self, domain, name, rtype, address, mxpref="10", ttl="1800"):
        with self.lock:
            self.domains[domain]["hosts"].append(self._host(name, rtype, address, mxpref, ttl))

    # --- the API ---
    def route(self, req):
        if req.path != PATH:
            return Reply(404, "<html><body>Not Found</body></html>", content_type="text/html")
        params = {k.lower(): v[-1] for k, v in req.query.items()}
        if req.method == "POST":
            ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype != "application/x-www-form-urlencoded":
                return error_reply(1010900, "Unsupported content type")
            try:
                pairs = urllib.parse.parse_qsl(req.body.decode(), keep_blank_values=True,
                                               strict_parsing=bool(req.body))
            except (UnicodeDecodeError, ValueError):
                return error_reply(1010900, "Malformed request")
            params.update({k.lower(): v for k, v in pairs})
        command = params.get("command", "")
        user = self.users.get(params.get("apiuser"))
        if "apiuser" not in params:
            return error_reply(1010101, "Parameter APIUser is missing", command)
        if user is None or params.get("apikey") != user["key"] or \
                params.get("username") != params.get("apiuser"):
            return error_reply(1011102, "API Key is invalid or API access has not been enabled",
                               command)
        ip = params.get("clientip", "")
        if ip not in user["ips"]:
            return error_reply(1011150, "Invalid request IP: %s" % ip, command)
        self.commands.append((command, {k: v for k, v in params.items() if k != "apikey"}))
        domain = "%s.%s" % (params.get("sld", ""), params.get("tld", ""))
        d = self.domains.get(domain.lower())
        if command.lower() not in ("namecheap.domains.dns.gethosts",
                                   "namecheap.domains.dns.sethosts"):
            return error_reply(1010104, "Command is invalid", command)
        if d is None or d["owner"] != params["apiuser"]:
            return error_reply(2019166, "Domain not found", command)
        if command.lower() == "namecheap.domains.dns.gethosts":
            return self._get_hosts(domain.lower(), d, command)
        return self._set_hosts(domain.lower(), d, params, command)

    def _get_hosts(self, domain, d, command):
        if self.gethosts_delay:
            time.sleep(self.gethosts_delay)
        fault = self.gethosts_faults.pop(0) if self.gethosts_faults else None
        if fault == "html":
            return Reply(200, "<html><body><h1>Service Unavailable</h1></body></html>",
                         content_type="text/html")
        if fault == "error-ok":
            body = envelope(command, errors='<Error Number="2030288">Cannot complete this '
                            'command as this domain is not using proper DNS servers</Error>')
            return Reply(200, body, content_type="text/xml")
        hosts = list(d["hosts"])
        if fault == "empty":
            hosts = []
        elif fault == "lose-hosts":
            hosts = hosts[:(len(hosts) + 1) // 2]
        if fault == "unknown-type":
            hosts.append({"HostId": "1", "Name": "sip", "Type": "SRV",
                          "Address": "10 5 5060 sip.example.test.", "MXPref": "10",
                          "TTL": "1800"})
        lines = []
        for h in hosts:
            attrs = ["HostId", "Name", "Type", "Address", "MXPref", "TTL"]
            if fault == "missing-ttl" and h is hosts[-1]:
                attrs.remove("TTL")
            lines.append('      <host %s AssociatedAppTitle="" FriendlyName="" IsActive="true" '
                         'IsDDNSEnabled="false" />\r\n'
                         % " ".join('%s="%s"' % (a, esc(h[a])) for a in attrs))
        ours = "false" if fault == "not-ours" or not d["ours"] else "true"
        body = ('  <CommandResponse Type="namecheap.domains.dns.getHosts">\r\n'
                '    <DomainDNSGetHostsResult Domain="%s" EmailType="%s" IsUsingOurDNS="%s">\r\n'
                "%s    </DomainDNSGetHostsResult>\r\n  </CommandResponse>\r\n"
                % (esc(domain), esc(d["email_type"]), ours, "".join(lines)))
        text = envelope(command, body)
        if fault == "truncate":
            text = text[:len(text) * 2 // 3]
        return Reply(200, text, content_type="text/xml")

    def _set_hosts(self, domain, d, params, command):
        if not d["ours"]:
            return error_reply(2030288, "Cannot complete this command as this domain is not "
                               "using proper DNS servers", command)
        new, i = [], 1
        while "hostname%d" % i in params:
            name = params["hostname%d" % i]
            rtype = params.get("recordtype%d" % i, "")
            address = params.get("address%d" % i)
            mxpref = params.get("mxpref%d" % i, "10")
            ttl = params.get("ttl%d" % i, "1800")
            if rtype not in TYPES:
                return error_reply(2050900, "Invalid RecordType%d: %s" % (i, rtype), command)
            if not address:
                return error_reply(2050900, "Parameter Address%d is missing" % i, command)
            if not ttl.isdigit() or not 60 <= int(ttl) <= 60000:
                return error_reply(2050900, "Invalid TTL%d" % i, command)
            if not mxpref.isdigit():
                return error_reply(2050900, "Invalid MXPref%d" % i, command)
            new.append((name, rtype, address, mxpref, ttl))
            i += 1
        numbered = {int(m.group(1)) for m in
                    (re.fullmatch(r"(?:hostname|recordtype|address|mxpref|ttl)(\d+)", k)
                     for k in params) if m}
        if numbered - set(range(1, i)):
            return error_reply(2050900, "Host parameters are not numbered from 1 without gaps",
                               command)
        if len(new) > HOSTS_MAX:
            return error_reply(3013288, "Too many records", command)
        email = params.get("emailtype", "NONE")
        if email not in ("MX", "MXE", "FWD", "OX", "GMAIL", "NONE"):
            return error_reply(2050900, "Invalid EmailType", command)
        old_txt = self._txt_set(domain, d["hosts"])
        d["hosts"] = [self._host(*h) for h in new]
        d["email_type"] = email
        new_txt = self._txt_set(domain, d["hosts"])
        if domain == "example.test":
            for fqdn, value in sorted(old_txt - new_txt):
                self.mirror_delete(fqdn, self._zone_quote(value))
            for fqdn, value in sorted(new_txt - old_txt):
                self.mirror_add(fqdn, self._zone_quote(value))
        body = ('  <CommandResponse Type="namecheap.domains.dns.setHosts">\r\n'
                '    <DomainDNSSetHostsResult Domain="%s" IsSuccess="true">\r\n'
                "      <Warnings />\r\n    </DomainDNSSetHostsResult>\r\n  </CommandResponse>\r\n"
                % esc(domain))
        return Reply(200, envelope(command, body), content_type="text/xml")

    @staticmethod
    def _zone_quote(value):
        return value.replace("\\", "\\\\").replace('"', '\\"')

    @staticmethod
    def _fqdn(domain, name):
        return domain + "." if name == "@" else "%s.%s." % (name.lower(), domain)

    def _txt_set(self, domain, hosts):
        return {(self._fqdn(domain, h["Name"]), h["Address"]) for h in hosts if h["Type"] == "TXT"}

    def error_body(self, status):
        text = {429: "Too many requests", 503: "Service unavailable"}.get(status, "Error")
        return envelope("", status="ERROR",
                        errors='<Error Number="5050900">%s</Error>' % esc(text)).encode()

    def fault_reply(self, status, retry_after):
        reply = super().fault_reply(status, retry_after)
        reply.headers["Content-Type"] = "text/xml"
        return reply

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((name, d["email_type"], d["ours"],
                           tuple(sorted((h["Name"], h["Type"], h["Address"], h["MXPref"], h["TTL"])
                                        for h in d["hosts"])))
                          for name, d in self.domains.items())

    def txt_values(self, fqdn):
        with self.lock:
            return [h["Address"] for domain, d in self.domains.items() for h in d["hosts"]
                    if h["Type"] == "TXT" and self._fqdn(domain, h["Name"]) == fqdn.lower()]

    def set_calls(self):
        return [p for c, p in self.commands if c.lower() == "namecheap.domains.dns.sethosts"]

"""fake_route53 — AWS Route 53's REST API (2013-04-01), as docs/providers.md §2
describes it, for the route53 provider's tests.

What it holds to, because the client must cope with the real service:
* SigV4 is recomputed from the request as received (method, path, sorted
  query, the signed headers, the body's hash): an unknown access key is
  InvalidClientTokenId, a wrong secret SignatureDoesNotMatch, a stale
  X-Amz-Date "Signature expired".
* Record sets are whole: CREATE of an existing set fails, DELETE must match
  the existing set exactly (every value and the TTL), a batch is atomic and
  refused as a whole with the InvalidChangeBatch document. TXT values are
  stored in presentation form, and must be quoted.
* ListResourceRecordSets is a start-from cursor, not a filter: without a
  set at (name, type) it returns the next one in DNS order.
* ListHostedZonesByName lists from dnsname on, in reversed-label order: the
  first zone may have another name; a private zone of the same name exists.
* Changes are PENDING for the first `pending_polls` GetChange calls.
* Throttling is HTTP 400 with code Throttling (or PriorRequestNotComplete).
* STS (AssumeRoleWithWebIdentity, unsigned form POST under /sts/): checks
  the web identity token and role ARN, hands out temporary credentials,
  and Route 53 calls made with them must carry X-Amz-Security-Token (signed).
"""
import datetime
import hashlib
import hmac
import itertools
import re
import urllib.parse
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import fakebase
from fakebase import Reply

NS = "https://route53.amazonaws.com/doc/2013-04-01/"
ACCESS_KEY = "AKIAZPTESTEXAMPLE001"
SECRET = "zpTestSecret/K7MDENG+bPxRfiCYEXAMPLEKEY0"
ZONE_ID = "Z0EXAMPLETEST000000001"
PRIVATE_ZONE_ID = "Z0AAPRIVATE0000000001"  # same name, sorts first, must be skipped
OTHER_ZONE_ID = "Z0ZONETEST00000000001"
ACCOUNT = "123456789012"
ROLE_ARN = "arn:aws:iam::%s:role/zoneproof-dns" % ACCOUNT
WEB_IDENTITY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXX0.c2lnbmF0dXJl"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
SIG_MSG = ("The request signature we calculated does not match the signature you provided. "
           "Check your AWS Secret Access Key and signing method. Consult the service "
           "documentation for details.")


def canon_name(name):
    name = name.lower()
    return name if name.endswith(".") else name + "."


def dns_order(name):
    """Route 53's sort key for names: labels reversed."""
    return tuple(reversed(canon_name(name).rstrip(".").split(".")))


def q(s):
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_signature(secret, method, path, query, headers, signed, body, amz_date, scope):
    """The signature of a request, as r53_sigv4.py (botocore) computes it."""
    canonical_query = "&".join("%s=%s" % kv for kv in sorted(
        (q(k), q(v)) for k, vs in query.items() for v in vs))
    canonical_headers = "".join("%s:%s\n" % (h, " ".join((headers.get(h) or "").split()))
                                for h in signed)
    canonical = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), canonical_query,
                           canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    date8, region, service, _ = scope.split("/")

    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    k = h(h(h(h(("AWS4" + secret).encode(), date8), region), service), "aws4_request")
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class FakeRoute53(fakebase.FakeServer):
    name = "route53"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.keys = {ACCESS_KEY: SECRET}
        self.zones = {}
        for zid, name, private in ((ZONE_ID, "example.test.", False),
                                   (PRIVATE_ZONE_ID, "example.test.", True),
                                   (OTHER_ZONE_ID, "zone.test.", False)):
            self.zones[zid] = {"name": name, "private": private, "rrsets": {
                (name, "SOA", None): (900, ["ns-1.awsdns.test. hostmaster.%s 1 7200 900 "
                                            "1209600 86400" % name]),
                (name, "NS", None): (172800, ["ns-1.awsdns.test."]),
            }}
        self.denied = set()        # API actions IAM denies: {"ChangeResourceRecordSets", …}
        self.pending_polls = 2     # GetChange answers PENDING this many times per change
        self.throttle = []         # codes to answer the next requests with (HTTP 400)
        self.before_change = None  # called once before the next batch: a concurrent writer
        self.changes = {}
        self.bodies = []           # every ChangeResourceRecordSets body, as sent
        self._ids = itertools.count(1)
        self.sessions = {}         # temporary access key id -> session token
        self.sts_calls = []        # every AssumeRoleWithWebIdentity form, as received
        self.sts_error = None      # (status, code, message) to answer the next STS call with
        self.web_identity_token = WEB_IDENTITY_TOKEN
        self.role_arn = ROLE_ARN
        self.sts_lifetime = 3600

    # --- replies ---
    @staticmethod
    def xml(status, body):
        return Reply(status, '<?xml version="1.0"?>\n' + body, content_type="text/xml")

    def error(self, status, code, message, etype="Sender"):
        return self.xml(status, '<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code>'
                        '<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
                        % (NS, etype, code, escape(message), self._request_id()))

    def _request_id(self):
        return "fake-%08d-0000-0000-0000-000000000000" % next(self._ids)

    def error_body(self, status):
        code = {429: "Throttling", 503: "ServiceUnavailable"}.get(status, "InternalFailure")
        return ('<?xml version="1.0"?>\n<ErrorResponse xmlns="%s"><Error><Type>%s</Type>'
                '<Code>%s</Code><Message>injected %d</Message></Error><RequestId>%s</RequestId>'
                '</ErrorResponse>' % (NS, "Sender" if status < 500 else "Receiver", code, status,
                                      self._request_id()))

    def fault_reply(self, status, retry_after):
        r = super().fault_reply(status, retry_after)
        r.headers["Content-Type"] = "text/xml"
        return r

    # --- authentication and authorisation ---
    def _authenticate(self, req):
        auth = req.headers.get("Authorization") or ""
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]*)/(\d{8})/([^/]+)/([^/]+)/"
                         r"aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})",
                         auth)
        if not auth:
            return self.error(403, "MissingAuthenticationToken", "Missing Authentication Token")
        if not m:
            return self.error(400, "IncompleteSignature", "Authorization header requires "
                              "'Credential', 'Signature' and 'SignedHeaders'.")
        akid, date8, region, service, signed, sig = m.groups()
        if akid not in self.keys:
            return self.error(403, "InvalidClientTokenId",
                              "The security token included in the request is invalid.")
        signed = signed.split(";")
        if akid in self.sessions and (
                req.headers.get("X-Amz-Security-Token") != self.sessions[akid]
                or "x-amz-security-token" not in signed):
            return self.error(403, "InvalidClientTokenId",
                              "The security token included in the request is invalid.")
        amz_date = req.headers.get("X-Amz-Date") or ""
        if "host" not in signed or "x-amz-date" not in signed or amz_date[:8] != date8:
            return self.error(403, "SignatureDoesNotMatch", SIG_MSG)
        if region != "us-east-1" or service != "route53":
            return self.error(403, "SignatureDoesNotMatch", "Credential should be scoped to a "
                              "valid region and service, not '%s/%s'." % (region, service))
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return self.error(403, "SignatureDoesNotMatch", SIG_MSG)
        now = datetime.datetime.now(datetime.timezone.utc)
        if abs((now - when).total_seconds()) > 300:
            return self.error(403, "SignatureDoesNotMatch", "Signature expired: %s is now earlier "
                              "than %s" % (amz_date, (now - datetime.timedelta(minutes=5))
                                           .strftime("%Y%m%dT%H%M%SZ")))
        want = sigv4_signature(self.keys[akid], req.method, req.path, req.query, req.headers,
                               signed, req.body, amz_date,
                               "%s/%s/%s/aws4_request" % (date8, region, service))
        if not hmac.compare_digest(want, sig):
            return self.error(403, "SignatureDoesNotMatch", SIG_MSG)
        return None

    def _deny(self, action, resource):
        if action in self.denied:
            return self.error(403, "AccessDenied", "User: arn:aws:iam::%s:user/zoneproof is not "
                              "authorized to perform: route53:%s on resource: %s"
                              % (ACCOUNT, action, resource))
        return None

    # --- routing ---
    def sts(self, req):
        form = urllib.parse.parse_qs(req.body.decode(), keep_blank_values=True)

        def f(name):
            return (form.get(name) or [""])[0]
        self.sts_calls.append(form)
        if req.method != "POST" or req.path not in ("/sts", "/sts/"):
            return self.error(404, "UnknownOperationException", "Unknown operation")
        if f("Action") != "AssumeRoleWithWebIdentity" or f("Version") != "2011-06-15":
            return self.error(400, "InvalidAction", "Could not find operation %s for version %s"
                              % (f("Action"), f("Version")))
        if self.sts_error:
            status, code, message = self.sts_error
            self.sts_error = None
            return self.error(status, code, message)
        if not f("RoleSessionName"):
            return self.error(400, "ValidationError", "1 validation error detected: Value null "
                              "at 'roleSessionName' failed to satisfy constraint")
        if f("WebIdentityToken") != self.web_identity_token:
            return self.error(400, "InvalidIdentityToken", "Couldn't retrieve verification key "
                              "from your identity provider")
        if f("RoleArn") != self.role_arn:
            return self.error(403, "AccessDenied", "Not authorized to perform "
                              "sts:AssumeRoleWithWebIdentity")
        n = next(self._ids)
        akid, secret = "ASIAZPTEMP%010d" % n, "tempSecret/%030d" % n
        token = "FwoGZXIvYXdzEFAKE//%d+session/token==" % n
        self.keys[akid] = secret
        self.sessions[akid] = token
        exp = (datetime.datetime.now(datetime.timezone.utc)
               + datetime.timedelta(seconds=self.sts_lifetime)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.xml(200, '<AssumeRoleWithWebIdentityResponse xmlns="%s">'
                        '<AssumeRoleWithWebIdentityResult><Audience>sts.amazonaws.com</Audience>'
                        '<SubjectFromWebIdentityToken>system:serviceaccount:zoneproof:zoneproof'
                        '</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>%s/%s</Arn>'
                        '<AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>'
                        '<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s'
                        '</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s'
                        '</Expiration></Credentials><Provider>oidc.eks.test</Provider>'
                        '</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>%s'
                        '</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>'
                        % (STS_NS, self.role_arn.replace(":role/", ":assumed-role/"),
                           escape(f("RoleSessionName")), escape(f("RoleSessionName")), akid,
                           escape(secret), escape(token), exp, self._request_id()))

    def route(self, req):
        if req.path.startswith("/sts"):
            return self.sts(req)
        bad = self._authenticate(req)
        if bad:
            return bad
        if self.throttle:
            code = self.throttle.pop(0)
            msg = ("Rate exceeded" if code == "Throttling" else "The request was rejected "
                   "because Route 53 was still processing a prior request.")
            return self.error(400, code, msg)
        p = req.path
        if req.method == "GET" and p == "/2013-04-01/hostedzonesbyname":
            return self._deny("ListHostedZonesByName", "*") or self.list_zones(req)
        m = re.fullmatch(r"/2013-04-01/hostedzone/([A-Z0-9]+)/rrset/?", p)
        if m:
            zid = m.group(1)
            if req.method == "GET":
                return (self._deny("ListResourceRecordSets", "arn:aws:route53:::hostedzone/" + zid)
                        or self.list_rrsets(zid, req))
            if req.method == "POST":
                return (self._deny("ChangeResourceRecordSets",
                                   "arn:aws:route53:::hostedzone/" + zid)
                        or self.change(zid, req))
        m = re.fullmatch(r"/2013-04-01/change/([A-Z0-9]+)", p)
        if m and req.method == "GET":
            return (self._deny("GetChange", "arn:aws:route53:::change/" + m.group(1))
                    or self.get_change(m.group(1)))
        return self.error(404, "UnknownOperationException", "Unknown operation")

    def list_zones(self, req):
        dnsname = req.q("dnsname")
        start_id = req.q("hostedzoneid")
        maxitems = int(req.q("maxitems", "100"))
        if start_id and not dnsname:
            return self.error(400, "InvalidInput", "hostedzoneid needs dnsname")
        order = sorted(self.zones.items(), key=lambda z: (dns_order(z[1]["name"]), z[0]))
        if dnsname:
            order = [z for z in order
                     if (dns_order(z[1]["name"]), z[0]) >= (dns_order(dnsname), start_id or "")]
        page, rest = order[:maxitems], order[maxitems:]
        items = "".join(
            "<HostedZone><Id>/hostedzone/%s</Id><Name>%s</Name><CallerReference>ref-%s"
            "</CallerReference><Config><Comment>fake</Comment><PrivateZone>%s</PrivateZone>"
            "</Config><ResourceRecordSetCount>%d</ResourceRecordSetCount></HostedZone>"
            % (zid, z["name"], zid, "true" if z["private"] else "false", len(z["rrsets"]))
            for zid, z in page)
        nxt = ("<NextDNSName>%s</NextDNSName><NextHostedZoneId>%s</NextHostedZoneId>"
               % (rest[0][1]["name"], rest[0][0])) if rest else ""
        return self.xml(200, '<ListHostedZonesByNameResponse xmlns="%s"><HostedZones>%s'
                        '</HostedZones>%s<IsTruncated>%s</IsTruncated>%s<MaxItems>%d</MaxItems>'
                        '</ListHostedZonesByNameResponse>'
                        % (NS, items, "<DNSName>%s</DNSName>" % dnsname if dnsname else "",
                           "true" if rest else "false", nxt, maxitems))

    def _zone(self, zid):
        z = self.zones.get(zid)
        if z is None:
            return None, self.error(404, "NoSuchHostedZone", "No hosted zone found with ID: " + zid)
        return z, None

    @staticmethod
    def _rrset_xml(key, ttl, values):
        name, rtype, setid = key
        return ("<ResourceRecordSet><Name>%s</Name><Type>%s</Type>%s<TTL>%d</TTL>"
                "<ResourceRecords>%s</ResourceRecords></ResourceRecordSet>"
                % (escape(name), rtype,
                   "<SetIdentifier>%s</SetIdentifier><MultiValueAnswer>true</MultiValueAnswer>"
                   % escape(setid) if setid else "", ttl,
                   "".join("<ResourceRecord><Value>%s</Value></ResourceRecord>" % escape(v)
                           for v in values)))

    def list_rrsets(self, zid, req):
        z, bad = self._zone(zid)
        if bad:
            return bad
        name, rtype = req.q("name"), req.q("type")
        maxitems = int(req.q("maxitems", "300"))
        if rtype and not name:
            return self.error(400, "InvalidInput", "The type parameter requires a name.")
        order = sorted(z["rrsets"].items(),
                       key=lambda kv: (dns_order(kv[0][0]), kv[0][1], kv[0][2] or ""))
        if name:
            start = (dns_order(name), rtype or "")
            order = [kv for kv in order if (dns_order(kv[0][0]), kv[0][1]) >= start]
        page, rest = order[:maxitems], order[maxitems:]
        nxt = ("<NextRecordName>%s</NextRecordName><NextRecordType>%s</NextRecordType>"
               % (rest[0][0][0], rest[0][0][1])) if rest else ""
        return self.xml(200, '<ListResourceRecordSetsResponse xmlns="%s"><ResourceRecordSets>%s'
                        '</ResourceRecordSets><IsTruncated>%s</IsTruncated>%s<MaxItems>%d'
                        '</MaxItems></ListResourceRecordSetsResponse>'
                        % (NS, "".join(self._rrset_xml(k, *v) for k, v in page),
                           "true" if rest else "false", nxt, maxitems))

    def change(self, zid, req):
        z, bad = self._zone(zid)
        if bad:
            return bad
        self.bodies.append(req.body.decode())
        if self.before_change:
            hook, self.before_change = self.before_change, None
            hook(self)
        try:
            root = ET.fromstring(req.body)
        except ET.ParseError as e:
            return self.error(400, "MalformedInput", "Invalid XML: %s" % e)
        n = "{%s}" % NS
        if root.tag != n + "ChangeResourceRecordSetsRequest":
            return self.error(400, "InvalidInput", "Invalid XML ; unexpected root element")
        changes = root.findall("%sChangeBatch/%sChanges/%sChange" % (n, n, n))
        if not changes:
            return self.error(400, "InvalidInput", "Invalid XML ; cvc-complex-type.2.4.b: The "
                              "content of element 'Changes' is not complete.")
        rrsets = dict(z["rrsets"])
        messages = []
        for c in changes:
            action = c.findtext(n + "Action")
            rs = c.find(n + "ResourceRecordSet")
            if rs is None or action not in ("CREATE", "DELETE", "UPSERT"):
                return self.error(400, "InvalidInput", "Invalid XML ; bad Change")
            name = canon_name(rs.findtext(n + "Name") or "")
            rtype = rs.findtext(n + "Type")
            setid = rs.findtext(n + "SetIdentifier")
            values = [v.text or "" for v in rs.findall("%sResourceRecords/%sResourceRecord/%sValue"
                                                     % (n, n, n))]
            if rs.find(n + "ResourceRecords") is None or not values:
                return self.error(400, "InvalidInput", "Invalid XML ; cvc-complex-type.2.4.b: The "
                                  "content of element 'ResourceRecords' is not complete.")
            try:
                ttl = int(rs.findtext(n + "TTL"))
            except (TypeError, ValueError):
                return self.error(400, "InvalidInput", "Invalid XML ; TTL")
            key, what = (name, rtype, setid), "[name='%s', type='%s']" % (name, rtype)
            if name != z["name"] and not name.endswith("." + z["name"]):
                messages.append("RRSet with DNS name %s is not permitted in zone %s"
                                % (name, z["name"]))
                continue
            if rtype == "TXT" and any(not re.fullmatch(r'("([^"\\]|\\.)*"\s*)+', v)
                                      for v in values):
                messages.append("Invalid Resource Record: 'FATAL problem: InvalidCharacterString "
                                "(Value should be enclosed in quotation marks) encountered with "
                                "'%s''" % values[0])
                continue
            if len(set(values)) != len(values):
                messages.append("Duplicate Resource Record: '%s'" % values[0])
                continue
            cur = rrsets.get(key)
            if action == "CREATE":
                if cur:
                    messages.append("Tried to create resource record set %s but it already "
                                    "exists" % what)
                    continue
                rrsets[key] = (ttl, values)
            elif action == "DELETE":
                if not cur:
                    messages.append("Tried to delete resource record set %s but it was not found"
                                    % what)
                    continue
                if cur[0] != ttl or sorted(cur[1]) != sorted(values):
                    messages.append("Tried to delete resource record set %s but the values "
                                    "provided do not match the current values" % what)
                    continue
                del rrsets[key]
            else:
                rrsets[key] = (ttl, values)
        if messages:
            return self.xml(400, '<InvalidChangeBatch xmlns="%s"><Messages>%s</Messages>'
                            '<RequestId>%s</RequestId></InvalidChangeBatch>'
                            % (NS, "".join("<Message>%s</Message>" % escape(m) for m in messages),
                               self._request_id()))
        before = z["rrsets"]
        z["rrsets"] = rrsets
        if zid == ZONE_ID:
            self._mirror(before, rrsets)
        cid = "C%012dFAKE" % next(self._ids)
        self.changes[cid] = 0
        return self.xml(200, '<ChangeResourceRecordSetsResponse xmlns="%s"><ChangeInfo><Id>'
                        '/change/%s</Id><Status>PENDING</Status><SubmittedAt>%s</SubmittedAt>'
                        '<Comment>%s</Comment></ChangeInfo></ChangeResourceRecordSetsResponse>'
                        % (NS, cid, self._now(), escape(root.findtext(
                            "%sChangeBatch/%sComment" % (n, n)) or "")))

    def _mirror(self, before, after):
        def txt(sets):
            return {(k[0], fakebase.unquote_txt(v)): ttl for k, (ttl, vals) in sets.items()
                    if k[1] == "TXT" for v in vals}
        old, new = txt(before), txt(after)
        for name, value in old.keys() - new.keys():
            self.mirror_delete(name, value)
        for name, value in new.keys() - old.keys():
            self.mirror_add(name, value, new[(name, value)])

    @staticmethod
    def _now():
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def get_change(self, cid):
        if cid not in self.changes:
            return self.error(404, "NoSuchChange", "A change with the specified change ID does "
                              "not exist.")
        self.changes[cid] += 1
        status = "INSYNC" if self.changes[cid] > self.pending_polls else "PENDING"
        return self.xml(200, '<GetChangeResponse xmlns="%s"><ChangeInfo><Id>/change/%s</Id>'
                        '<Status>%s</Status><SubmittedAt>%s</SubmittedAt></ChangeInfo>'
                        '</GetChangeResponse>' % (NS, cid, status, self._now()))

    # --- what tests use ---
    def seed(self, fqdn, rtype, ttl, values, zid=ZONE_ID, setid=None):
        """Puts a record set in place as another writer would (TXT mirrored to named)."""
        with self.lock:
            rrsets = dict(self.zones[zid]["rrsets"])
            key = (canon_name(fqdn), rtype, setid)
            if values:
                rrsets[key] = (ttl, list(values))
            else:
                rrsets.pop(key, None)
            before = self.zones[zid]["rrsets"]
            self.zones[zid]["rrsets"] = rrsets
            if zid == ZONE_ID:
                self._mirror(before, rrsets)

    def rrset(self, fqdn, rtype="TXT", zid=ZONE_ID):
        with self.lock:
            return self.zones[zid]["rrsets"].get((canon_name(fqdn), rtype, None))

    def snapshot(self):
        with self.lock:
            return sorted((zid, k[0], k[1], k[2] or "", ttl, tuple(sorted(vals)))
                          for zid, z in self.zones.items()
                          for k, (ttl, vals) in z["rrsets"].items())

    def txt_values(self, fqdn):
        s = self.rrset(fqdn)
        return [fakebase.unquote_txt(v) for v in s[1]] if s else []

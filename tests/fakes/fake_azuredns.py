"""fake_azuredns — Azure DNS (Resource Manager, api-version 2018-05-01) and the Entra ID
token endpoint as a test server.

What it reproduces, from docs/providers.md §4:
  * POST /{tenant}/oauth2/v2.0/token, the client-credentials grant: tenant,
    client_id, client_secret and scope are checked; refusals carry the
    AADSTS codes real ones do (90002 unknown tenant, 700016 unknown
    application, 7000215 wrong secret, 1002012 bad scope) with trace ids and
    timestamps in the description, as Entra ID writes them.
  * ARM record sets at /subscriptions/{sub}/resourceGroups/{rg}/providers/
    Microsoft.Network/dnsZones/{zone}/{TYPE}/{name}: GET (404 NotFound when
    absent), PUT (whole set; 201 created, 200 replaced), DELETE (200, or 204
    when absent). Literal path segments are case-insensitive, as in ARM.
  * Etags enforced exactly: If-Match must equal the current etag, If-None-Match: *
    needs an absent set; otherwise 412 PreconditionFailed. Writes without a
    condition are accepted (as Azure does) but logged in unconditional.
  * Bearer tokens checked on every call (401 InvalidAuthenticationToken);
    actions can be denied one by one (403 AuthorizationFailed naming the
    action and scope); a missing subscription, resource group or zone gives
    SubscriptionNotFound, ResourceGroupNotFound or ParentResourceNotFound.
  * Faults can be injected into the ARM calls alone (api_faults), since every
    run of the CLI asks the token endpoint first.
  * TXT values raw, no quotes: each TXTRecords element is one record whose
    value array holds its character-strings (at most 255 bytes each); at
    most 20 records per set. JSON casing as Azure's: TTL, TXTRecords, ARecords.
  * Workload identity: the same grant with client_assertion_type jwt-bearer
    and client_assertion (the projected service-account token) instead of
    client_secret; a token that matches no federated credential is refused
    with AADSTS70021, an expired one with AADSTS700024 (federated_error).
Accepted TXT changes are mirrored into named with the joined value.
"""
import json
import re
import secrets
import time
import urllib.parse
import uuid

import fakebase
from fakebase import Reply

API = "2018-05-01"
MAX_RECORDS = 20
PROPS = {"TXT": "TXTRecords", "A": "ARecords", "AAAA": "AAAARecords", "MX": "MXRecords"}


def arm_error(status, code, message, headers=None):
    return Reply(status, {"error": {"code": code, "message": message}}, headers)


def aad_error(status, error, aadsts, text):
    trace, corr = uuid.uuid4(), uuid.uuid4()
    ts = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    return Reply(status, {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
                             % (aadsts, text, trace, corr, ts),
        "error_codes": [aadsts], "timestamp": ts, "trace_id": str(trace),
        "correlation_id": str(corr),
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % aadsts})


def joined(record):
    return "".join(record.get("value", []))


class FakeAzureDNS(fakebase.FakeServer):
    fault_path = "/subscriptions"  # conformance faults hit the DNS calls, not the token endpoint
    name = "azuredns"
    SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-111122223333"
    TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    CLIENT = "e1b2c3d4-0000-4a5b-9c8d-0123456789ab"
    OBJECT = "9f8e7d6c-5b4a-4321-8765-fedcba987654"
    SECRET = "zp8Q~TEST.secret_value-0123456789abcdefXYZ"
    GROUP = "dns-rg"

    def __init__(self, pki_dir, named=None):
        super().__init__(pki_dir, named)
        self.zones = {}          # (group, zone) lower -> {name: ..., sets: {(TYPE, name): rs}}
        self.tokens = {}         # access token -> expiry
        self.token_requests = 0
        self.writes = []         # (method, TYPE, name, If-Match, If-None-Match, parsed body)
        self.unconditional = []  # writes that carried no If-Match / If-None-Match
        self.denied = set()      # actions refused, e.g. Microsoft.Network/dnsZones/TXT/write
        self.after_get = None    # callable(fake, zone, rtype, name) run after each set read
        self.api_faults = []     # (status, Retry-After) for the next ARM calls, not the token
        self.add_zone(self.GROUP, "example.test")

    @property
    def scope(self):
        return self.url() + "/.default"

    # --- test set-up ---
    def add_zone(self, group, zone):
        with self.lock:
            self.zones[(group.lower(), zone.lower())] = {"name": zone, "group": group, "sets": {}}

    def seed(self, fqdn, rtype, records, ttl=3600, metadata=None, zone="example.test"):
        """A record set put there by someone else (the portal, Terraform)."""
        z = self.zones[(self.GROUP.lower(), zone)]
        name = self._relative(fqdn, zone)
        with self.lock:
            z["sets"][(rtype, name.lower())] = self._set(z, rtype, name, ttl, records,
                                                         metadata or {})
        if rtype == "TXT":
            for r in records:
                self.mirror_add(fqdn, joined(r), ttl)

    def record_set(self, fqdn, rtype="TXT", zone="example.test"):
        z = self.zones[(self.GROUP.lower(), zone)]
        with self.lock:
            s = z["sets"].get((rtype, self._relative(fqdn, zone).lower()))
            return json.loads(json.dumps(s)) if s else None

    def change_etag(self, fqdn, rtype="TXT", zone="example.test", add=None, drop_all=False):
        """What a concurrent writer does: a new value (new etag), or the set removed."""
        z = self.zones[(self.GROUP.lower(), zone)]
        key = (rtype, self._relative(fqdn, zone).lower())
        if drop_all:
            del z["sets"][key]
            return
        s = z["sets"][key]
        if add is not None:
            s["properties"][PROPS[rtype]].append({"value": [add]})
        s["etag"] = str(uuid.uuid4())

    @staticmethod
    def _relative(fqdn, zone):
        name = fqdn.rstrip(".").lower()
        return "@" if name == zone else name[:-(len(zone) + 1)]

    def _set(self, z, rtype, name, ttl, records, metadata):
        zone = z["name"]
        return {"id": "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/dnszones/"
                      "%s/%s/%s" % (self.SUBSCRIPTION, z["group"], zone, rtype, name),
                "name": name, "type": "Microsoft.Network/dnszones/%s" % rtype,
                "etag": str(uuid.uuid4()),
                "properties": {"metadata": metadata, "TTL": ttl,
                               "fqdn": "%s.%s." % (name, zone) if name != "@" else zone + ".",
                               "provisioningState": "Succeeded", "targetResource": {},
                               PROPS[rtype]: records}}

    # --- what tests assert on ---
    def snapshot(self):
        with self.lock:
            return sorted((g, zn, t, n, s["properties"]["TTL"],
                           json.dumps(s["properties"][PROPS[t]], sort_keys=True),
                           json.dumps(s["properties"]["metadata"], sort_keys=True))
                          for (g, zn), z in self.zones.items()
                          for (t, n), s in z["sets"].items())

    def txt_values(self, fqdn):
        s = self.record_set(fqdn)
        return [joined(r) for r in s["properties"]["TXTRecords"]] if s else []

    def error_body(self, status):
        if status == 429:
            return {"error": {"code": "TooManyRequests", "message": "The request is being "
                              "throttled as the limit has been reached for operation type - "
                              "Write_ObservationWindow_00:01:00."}}
        return {"error": {"code": "ServiceUnavailable" if status == 503 else "InternalServerError",
                          "message": "The service is temporarily unavailable."}}

    # --- Entra ID ---
    def _token(self, req, tenant):
        self.token_requests += 1
        form = urllib.parse.parse_qs(req.body.decode(), keep_blank_values=True)
        one = {k: v[0] for k, v in form.items()}
        if tenant != self.TENANT:
            return aad_error(400, "invalid_request", 90002, "Tenant '%s' not found. Check to make "
                             "sure you have the correct tenant ID and are signing into the "
                             "correct cloud." % tenant)
        if one.get("grant_type") != "client_credentials":
            return aad_error(400, "unsupported_grant_type", 70003, "The app requested an "
                             "unsupported grant type '%s'." % one.get("grant_type"))
        if one.get("client_id") != self.CLIENT:
            return aad_error(400, "unauthorized_client", 700016, "Application with identifier "
                             "'%s' was not found in the directory '%s'." % (one.get("client_id"),
                                                                           tenant))
        if "client_assertion_type" in one or "client_assertion" in one:
            return self._federated(one)
        if one.get("client_secret") != self.SECRET:
            return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided. "
                             "Ensure the secret being sent in the request is the client secret "
                             "value, not the client secret ID, for a secret added to app '%s'."
                             % self.CLIENT)
        if one.get("scope") != self.scope:
            return aad_error(400, "invalid_scope", 1002012, "The provided value for scope %s is "
                             "not valid. Client credential flows must have a scope value with "
                             "/.default suffixed to the resource identifier (application ID "
                             "URI)." % one.get("scope"))
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(90)
        self.tokens[token] = time.time() + 3599
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": token})

    FEDERATED_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOlsiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UiXX0.c2ln"
    ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    def _federated(self, one):
        self.assertions = getattr(self, "assertions", [])
        self.assertions.append(one.get("client_assertion"))
        err = getattr(self, "federated_error", None)
        if err:
            self.federated_error = None
            return aad_error(400, "invalid_client", err, "injected federated refusal %d" % err)
        if one.get("client_assertion_type") != self.ASSERTION_TYPE or "client_secret" in one:
            return aad_error(400, "invalid_request", 900144, "The request body must contain the "
                             "following parameter: 'client_assertion_type'.")
        if one.get("client_assertion") != getattr(self, "federated_token", self.FEDERATED_TOKEN):
            return aad_error(400, "invalid_client", 70021, "No matching federated identity record "
                             "found for presented assertion. Assertion Issuer: "
                             "'https://oidc.test'. Assertion Subject: "
                             "'system:serviceaccount:zoneproof:zoneproof'. Assertion Audience: "
                             "'api://AzureADTokenExchange'.")
        if one.get("scope") != self.scope:
            return aad_error(400, "invalid_scope", 1002012, "The provided value for scope %s is "
                             "not valid." % one.get("scope"))
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(90)
        self.tokens[token] = time.time() + 3599
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": token})

    # --- ARM ---
    def route(self, req):
        m = re.fullmatch(r"/([^/]+)/oauth2/v2\.0/token", req.path)
        if m and req.method == "POST":
            return self._token(req, m.group(1))
        if self.api_faults:
            return self.fault_reply(*self.api_faults.pop(0))
        h = req.headers.get("Authorization") or ""
        if not h.startswith("Bearer ") or self.tokens.get(h[7:], 0) < time.time():
            return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.",
                             {"WWW-Authenticate": 'Bearer authorization_uri="https://login.'
                                                  'windows.net/%s", error="invalid_token"'
                                                  % self.TENANT})
        if req.q("api-version") is None:
            return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter "
                             "(?api-version=) is required for all requests.")
        if req.q("api-version") != API:
            return arm_error(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid."
                             % req.q("api-version"))
        m = re.fullmatch(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/"
                         r"Microsoft\.Network/dnsZones/([^/]+)/([A-Za-z]+)/([^/]+)", req.path,
                         re.IGNORECASE)
        if not m:
            return arm_error(404, "InvalidResourceType", "The resource type could not be found.")
        sub, group, zone, rtype, name = m.groups()
        rtype = rtype.upper()
        if sub != self.SUBSCRIPTION:
            return arm_error(404, "SubscriptionNotFound", "The subscription '%s' could not be "
                             "found." % sub)
        action = "Microsoft.Network/dnsZones/%s/%s" % (
            rtype, {"GET": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
            .get(req.method, "read"))
        if action in self.denied:
            return arm_error(403, "AuthorizationFailed", "The client '%s' with object id '%s' "
                             "does not have authorization to perform action '%s' over scope "
                             "'/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
                             "dnsZones/%s/%s/%s' or the scope is invalid. If access was recently "
                             "granted, please refresh your credentials."
                             % (self.CLIENT, self.OBJECT, action, sub, group, zone, rtype, name))
        if group.lower() not in {g for g, _ in self.zones}:
            return arm_error(404, "ResourceGroupNotFound", "Resource group '%s' could not be "
                             "found." % group)
        z = self.zones.get((group.lower(), zone.lower()))
        if z is None:
            return arm_error(404, "ParentResourceNotFound", "Can not perform requested operation "
                             "on nested resource. Parent resource '%s' not found." % zone)
        if rtype not in PROPS:
            return arm_error(400, "BadRequest", "Record type %s is not supported." % rtype)
        key = (rtype, name.lower())
        if req.method == "GET":
            return self._get(z, key, group, sub)
        if req.method == "PUT":
            return self._put(req, z, key, name)
        if req.method == "DELETE":
            return self._delete(req, z, key, name)
        return arm_error(405, "MethodNotAllowed", "The requested method is not allowed.")

    def _reply_set(self, status, s):
        return Reply(status, s, {"ETag": s["etag"]})

    def _get(self, z, key, group, sub):
        s = z["sets"].get(key)
        if s is None:
            return arm_error(404, "NotFound", "The resource record '%s' does not exist in resource "
                             "group '%s' of subscription '%s'." % (key[1], group, sub))
        reply = self._reply_set(200, json.loads(json.dumps(s)))
        if self.after_get:
            self.after_get(self, z["name"], key[0], key[1])
        return reply

    def _precondition(self, req, cur):
        im, inm = req.headers.get("If-Match"), req.headers.get("If-None-Match")
        if im is None and inm is None:
            self.unconditional.append((req.method, req.path))
        if inm is not None:
            if inm.strip() != "*":
                return arm_error(400, "BadRequest", "If-None-Match supports only '*'.")
            if cur is not None:
                return arm_error(412, "PreconditionFailed", "The condition '*' in the "
                                 "If-None-Match header was satisfied. The current was '%s'."
                                 % cur["etag"])
        if im is not None and (cur is None or (im.strip() != "*" and im.strip() != cur["etag"])):
            return arm_error(412, "PreconditionFailed", "The condition '%s' in the If-Match header "
                             "was not satisfied. The current was '%s'."
                             % (im, cur["etag"] if cur else "n/a"))
        return None

    def _put(self, req, z, key, name):
        cur = z["sets"].get(key)
        try:
            body = req.json()
        except ValueError:
            return arm_error(400, "InvalidRequestContent", "The request content was invalid and "
                             "could not be deserialized.")
        self.writes.append((req.method, key[0], name, req.headers.get("If-Match"),
                            req.headers.get("If-None-Match"), body))
        fail = self._precondition(req, cur)
        if fail:
            return fail
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict) or not isinstance(props.get("TTL"), int):
            return arm_error(400, "BadRequest", "The value for the record set TTL is invalid.")
        records = props.get(PROPS[key[0]], [])
        if key[0] == "TXT":
            if not isinstance(records, list) or not records:
                return arm_error(400, "BadRequest", "The record set must contain at least one "
                                 "record.")
            for r in records:
                vals = r.get("value") if isinstance(r, dict) else None
                if (not isinstance(vals, list) or not vals
                        or not all(isinstance(v, str) and len(v.encode()) <= 255 for v in vals)):
                    return arm_error(400, "BadRequest", "The value of a TXT record is invalid: "
                                     "each string must be 1 to 255 characters.")
            if len(records) > MAX_RECORDS:
                return arm_error(400, "BadRequest", "The number of records in the record set "
                                 "exceeds the limit of %d." % MAX_RECORDS)
        s = self._set(z, key[0], name, props["TTL"], records, props.get("metadata") or {})
        z["sets"][key] = s
        if key[0] == "TXT":
            self._mirror(z, name, cur, s)
        return self._reply_set(200 if cur else 201, s)

    def _delete(self, req, z, key, name):
        cur = z["sets"].get(key)
        self.writes.append((req.method, key[0], name, req.headers.get("If-Match"),
                            req.headers.get("If-None-Match"), None))
        if cur is None:
            return Reply(204)
        fail = self._precondition(req, cur)
        if fail:
            return fail
        del z["sets"][key]
        if key[0] == "TXT":
            self._mirror(z, name, cur, None)
        return Reply(200)

    def _mirror(self, z, name, old, new):
        fqdn = (z["name"] if name == "@" else "%s.%s" % (name, z["name"])) + "."
        ov = {joined(r) for r in old["properties"]["TXTRecords"]} if old else set()
        nv = {joined(r) for r in new["properties"]["TXTRecords"]} if new else set()
        for v in ov - nv:
            self.mirror_delete(fqdn, v)
        for v in nv - ov:
            self.mirror_add(fqdn, v, new["properties"]["TTL"])

"""fake_kube — a fake kube-apiserver for the calls zoneproof makes itself.

HTTPS on loopback with the test PKI (serving.crt). Callers authenticate with
`Authorization: Bearer <token>` (a token the test registered; the set can
change, as when a projected token rotates) or with a client certificate from
client_ca (user = CN). Anything else gets a 401 Status.

It serves:
  GET  /api/v1/namespaces/<ns>/configmaps/<name>   (extension-apiserver-authentication)
  GET  /api/v1/namespaces/<ns>/secrets/<name>      (data base64, as the API stores it)
  POST /apis/authorization.k8s.io/v1/subjectaccessreviews
  POST /apis/authentication.k8s.io/v1/tokenreviews
  configmaps (core v1) and leases (coordination.k8s.io/v1), namespaced, in an object store:
       POST create (409 AlreadyExists), GET, PUT (resourceVersion checked: 409 Conflict when
       stale; none: unconditional), DELETE (preconditions.resourceVersion; 404 NotFound),
       LIST with labelSelector, limit and continue (one namespace, or every one)
  challenges (acme.cert-manager.io/v1): GET and LIST, stored by tests (add_challenge,
       delete_challenge) in cert-manager's shape; challenges_served = False is a cluster
       without cert-manager's CRDs (404 for the resource)
with per-user RBAC (grant()), real Status shapes for 401/403/404/409, and
SubjectAccessReview answers from a rule table the test sets, every review
recorded so tests can count them. resourceVersion is one counter, as a string.
"""
import base64
import datetime
import json
import os
import ssl
import sys
import threading
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

SA_USER = "system:serviceaccount:zoneproof:zoneproof"
AUTH_NS = "kube-system"
AUTH_CM = "extension-apiserver-authentication"
SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"

# (group, version, resource) -> Kind, for the object store and the challenges.
STORED = {("", "v1", "configmaps"): "ConfigMap",
          ("coordination.k8s.io", "v1", "leases"): "Lease"}
CHALLENGES = ("acme.cert-manager.io", "v1", "challenges")


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return Reply(code, body)


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(seconds_from_now=0.0):
    """A MicroTime, as client-go writes a lease's renewTime."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds_from_now)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_path(parts):
    """((group, version, resource), namespace or None, name or None) of an API path, or None."""
    if parts[:1] == ["api"] and len(parts) >= 3:
        gv, rest = ("", parts[1]), parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        gv, rest = (parts[1], parts[2]), parts[3:]
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if len(rest) not in (1, 2):
        return None
    return (gv + (rest[0],), ns, rest[1] if len(rest) == 2 else None)


def qualified(gvr):
    return "%s.%s" % (gvr[2], gvr[0]) if gvr[0] else gvr[2]


def details(gvr, name):
    d = {"name": name, "kind": gvr[2]}
    if gvr[0]:
        d["group"] = gvr[0]
    return d


def not_found(gvr, name):
    return status(404, "NotFound", '%s "%s" not found' % (qualified(gvr), name),
                  details(gvr, name))


def conflict(gvr, name, why):
    return status(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s'
                  % (qualified(gvr), name, why), details(gvr, name))


def selector(text):
    """A labelSelector's equality and existence requirements as a predicate on labels."""
    reqs = []
    for term in [t.strip() for t in text.split(",") if t.strip()]:
        if "!=" in term:
            k, v = term.split("!=", 1)
            reqs.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) != v)
        elif "=" in term:
            k, v = term.split("==", 1) if "==" in term else term.split("=", 1)
            reqs.append(lambda l, k=k.strip(), v=v.strip(): l.get(k) == v)
        elif term.startswith("!"):
            reqs.append(lambda l, k=term[1:].strip(): k not in l)
        elif " " in term or "(" in term:
            raise ValueError(term)
        else:
            reqs.append(lambda l, k=term: k in l)
    return lambda labels: all(r(labels) for r in reqs)


class _KubeHandler(fakebase._Handler):
    """fakebase's handler, plus the peer certificate for client-certificate users."""

    def _serve(self):
        try:
            self.server.fake.peer.cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            self.server.fake.peer.cert = None
        super()._serve()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class FakeKube(fakebase.FakeServer):
    name = "kube"

    def __init__(self, pki_dir, client_ca=None):
        super().__init__(pki_dir)
        self.client_ca = client_ca
        self.peer = threading.local()
        self.tokens = {}          # bearer token -> user name
        self.grants = set()       # (user, verb, resource, namespace or None, name or None)
        self.configmaps = {}      # (ns, name) -> data (str -> str)
        self.secrets = {}         # (ns, name) -> data (str -> bytes)
        self.sar_rules = []       # (predicate(spec), allowed, reason); first match wins
        self.sar_default = (False, "")
        self.sar_hold = None      # an Event: each review waits until it is set (a slow API)
        self.sar_calls = []       # the spec of every review, in order
        self.users_seen = []      # the user of every authenticated request
        self.unauthorized = 0     # 401s answered
        self.resource_version = 1
        self.objects = {}         # (resource, ns, name) -> the stored object (configmaps, leases)
        self.challenges = {}      # (ns, name) -> Challenge
        self.challenges_served = True
        self.interfere_puts = {}  # (resource, ns, name) -> PUTs that first meet another writer
        self.history = []         # (resource, ns, name, object or None) of every API write
        self.expire_continues = 0  # the next lists given a continue token answer 410 Expired

    # ---- lifecycle: client certificates are requested, not required ----

    def start(self):
        self.httpd = fakebase._Server(("127.0.0.1", 0), _KubeHandler)
        self.httpd.fake = self
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.path.join(self.pki_dir, "serving.crt"),
                            os.path.join(self.pki_dir, "serving.key"))
        if self.client_ca:
            ctx.load_verify_locations(self.client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    # ---- what tests set ----

    def grant(self, user, verb, resource, namespace=None, name=None):
        with self.lock:
            self.grants.add((user, verb, resource, namespace, name))

    def revoke_all(self, user):
        with self.lock:
            self.grants = {g for g in self.grants if g[0] != user}

    def set_tokens(self, tokens):
        """tokens: {token: user}; every other token gets 401 from now on."""
        with self.lock:
            self.tokens = dict(tokens)

    def set_auth_configmap(self, ca_pem, allowed_names=("front-proxy-client",),
                           username_headers=("X-Remote-User",),
                           group_headers=("X-Remote-Group",),
                           extra_prefixes=("X-Remote-Extra-",), client_ca_pem=None):
        """The ConfigMap kube-apiserver writes: list values are JSON arrays in strings."""
        data = {"requestheader-client-ca-file": ca_pem,
                "requestheader-allowed-names": json.dumps(list(allowed_names)),
                "requestheader-username-headers": json.dumps(list(username_headers)),
                "requestheader-group-headers": json.dumps(list(group_headers)),
                "requestheader-extra-headers-prefix": json.dumps(list(extra_prefixes))}
        if client_ca_pem:
            data["client-ca-file"] = client_ca_pem
        with self.lock:
            self.configmaps[(AUTH_NS, AUTH_CM)] = data
            self.resource_version += 1

    def set_secret(self, ns, name, data):
        with self.lock:
            self.secrets[(ns, name)] = {k: (v.encode() if isinstance(v, str) else v)
                                        for k, v in data.items()}

    def sar_count(self, pred=None):
        with self.lock:
            return len([s for s in self.sar_calls if pred is None or pred(s)])

    # ---- the object store, as tests see it ----

    def _next_rv(self):
        self.resource_version += 1
        return str(self.resource_version)

    def obj(self, resource, ns, name):
        """A copy of a stored configmap or lease, or None."""
        with self.lock:
            o = self.objects.get((resource, ns, name))
            return json.loads(json.dumps(o)) if o is not None else None

    def names(self, resource, ns=None):
        with self.lock:
            return sorted(k[2] for k in self.objects if k[0] == resource and
                          (ns is None or k[1] == ns))

    def put_obj(self, resource, ns, obj):
        """Stores obj as if someone else wrote it (a new resourceVersion)."""
        with self.lock:
            obj = json.loads(json.dumps(obj))
            meta = obj.setdefault("metadata", {})
            meta["namespace"] = ns
            meta["resourceVersion"] = self._next_rv()
            meta.setdefault("uid", str(uuid.uuid4()))
            self.objects[(resource, ns, meta["name"])] = obj

    def holders(self, ns, name):
        """The lease's holderIdentity after each write through the API (None: nobody),
        consecutive repeats (renewals) folded."""
        with self.lock:
            seq = [(o or {}).get("spec", {}).get("holderIdentity") for r, n_, m, o in self.history
                   if r == "leases" and n_ == ns and m == name]
        return [h for i, h in enumerate(seq) if i == 0 or seq[i - 1] != h]

    def set_lease_spec(self, ns, name, **spec):
        """Changes a lease's spec fields (renewTime="..." to age it), as another writer would."""
        with self.lock:
            o = self.objects[("leases", ns, name)]
            for k, v in spec.items():
                if v is None:
                    o["spec"].pop(k, None)
                else:
                    o["spec"][k] = v
            o["metadata"]["resourceVersion"] = self._next_rv()

    def interfere(self, resource, ns, name, count=1):
        """The next count PUTs of the object meet a concurrent writer: its resourceVersion
        moves on just before each, so a PUT carrying what its writer read gets 409."""
        with self.lock:
            self.interfere_puts[(resource, ns, name)] = count

    def add_challenge(self, ns, name, key, dns_name, wildcard=False, state="pending"):
        """A cert-manager Challenge as the ACME controller writes it."""
        with self.lock:
            self.challenges[(ns, name)] = {
                "apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
                "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()),
                             "resourceVersion": self._next_rv(),
                             "creationTimestamp": now_rfc3339(),
                             "finalizers": ["finalizer.acme.cert-manager.io"],
                             "ownerReferences": [{"apiVersion": "acme.cert-manager.io/v1",
                                                  "kind": "Order", "name": name.rsplit("-", 1)[0],
                                                  "uid": str(uuid.uuid4()), "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "spec": {"authorizationURL": "https://acme.test/authz/" + name,
                         "dnsName": dns_name, "key": key, "token": "tok-" + name,
                         "type": "DNS-01", "url": "https://acme.test/chall/" + name,
                         "wildcard": wildcard,
                         "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer",
                                       "name": "letsencrypt"},
                         "solver": {"dns01": {"webhook": {"groupName": "acme.zoneproof.test",
                                                          "solverName": "zoneproof",
                                                          "config": {}}}}},
                "status": {"presented": True, "processing": True, "state": state,
                           "reason": ""}}

    def delete_challenge(self, ns, name):
        with self.lock:
            self.challenges.pop((ns, name), None)

    # ---- authentication and RBAC ----

    def _user(self, req):
        auth = req.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            return self.tokens.get(auth[len("Bearer "):])
        cert = getattr(self.peer, "cert", None)
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        return v
        return None

    def _allowed(self, user, verb, resource, ns, name):
        for g_user, g_verb, g_res, g_ns, g_name in self.grants:
            if (g_user == user and g_verb == verb and g_res == resource and
                    (g_ns is None or g_ns == ns) and (g_name is None or g_name == name)):
                return True
        return False

    @staticmethod
    def _forbidden(user, verb, resource, group, ns, name):
        what = resource if not group else "%s.%s" % (resource, group)
        subject = '%s "%s"' % (what, name) if name else what
        where = 'in the namespace "%s"' % ns if ns else "at the cluster scope"
        msg = ('%s is forbidden: User "%s" cannot %s resource "%s" in API group "%s" %s'
               % (subject, user, verb, resource, group, where))
        details = {"kind": resource}
        if name:
            details["name"] = name
        if group:
            details["group"] = group
        return status(403, "Forbidden", msg, details)

    # ---- routes ----

    def route(self, req):
        user = self._user(req)
        if user is None:
            self.unauthorized += 1
            return status(401, "Unauthorized", "Unauthorized")
        self.users_seen.append(user)
        parts = req.path.strip("/").split("/")
        if req.method == "POST" and req.path == SAR_PATH:
            return self._sar(user, req)
        if req.method == "POST" and req.path == TOKENREVIEW_PATH:
            return self._tokenreview(user, req)
        where = parse_path(parts)
        if where is not None and where[0] in STORED:
            return self._store(user, req, *where)
        if where is not None and where[0] == CHALLENGES:
            return self._challenges(user, req, *where)
        if req.method == "GET" and len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"]:
            return self._get(user, parts[3], parts[4], parts[5])
        return status(404, "NotFound", "the server could not find the requested resource")

    def _get(self, user, ns, resource, name):
        if not self._allowed(user, "get", resource, ns, name):
            return self._forbidden(user, "get", resource, "", ns, name)
        meta = {"name": name, "namespace": ns, "resourceVersion": str(self.resource_version),
                "uid": "00000000-0000-0000-0000-%012d" % (abs(hash((ns, name))) % 10**12)}
        if resource == "configmaps" and (ns, name) in self.configmaps:
            return Reply(200, {"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta,
                               "data": dict(self.configmaps[(ns, name)])})
        if resource == "secrets" and (ns, name) in self.secrets:
            data = {k: base64.b64encode(v).decode() for k, v in self.secrets[(ns, name)].items()}
            return Reply(200, {"kind": "Secret", "apiVersion": "v1", "metadata": meta,
                               "type": "Opaque", "data": data})
        return status(404, "NotFound", '%s "%s" not found' % (resource, name),
                      {"name": name, "kind": resource})

    def _sar(self, user, req):
        if not self._allowed(user, "create", "subjectaccessreviews", None, None):
            return self._forbidden(user, "create", "subjectaccessreviews",
                                   "authorization.k8s.io", None, None)
        body = req.json()
        spec = body.get("spec") or {}
        self.sar_calls.append(spec)
        allowed, reason = self.sar_default
        for pred, ok, why in self.sar_rules:
            if pred(spec):
                allowed, reason = ok, why
                break
        hold = self.sar_hold
        if hold is not None:
            # The wait is what is under test: others may use the fake meanwhile.
            self.lock.release()
            try:
                hold.wait(60)  # until the test lets it answer
            finally:
                self.lock.acquire()
        st = {"allowed": allowed}
        if not allowed:
            st["denied"] = True
        if reason:
            st["reason"] = reason
        return Reply(201, {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                           "metadata": {"creationTimestamp": None}, "spec": spec, "status": st})

    def _tokenreview(self, user, req):
        if not self._allowed(user, "create", "tokenreviews", None, None):
            return self._forbidden(user, "create", "tokenreviews", "authentication.k8s.io",
                                   None, None)
        spec = req.json().get("spec") or {}
        who = self.tokens.get(spec.get("token", ""))
        st = {"authenticated": who is not None}
        if who:
            st["user"] = {"username": who, "groups": ["system:authenticated"]}
        return Reply(201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                           "metadata": {"creationTimestamp": None},
                           "spec": {}, "status": st})

    # ---- the object store: configmaps and leases ----

    def _store(self, user, req, gvr, ns, name):
        group, _, resource = gvr
        verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update",
                "DELETE": "delete"}.get(req.method)
        if verb is None or (verb == "create" and name) or (verb in ("update", "delete") and
                                                           not name) or (ns is None and
                                                                         verb != "list"):
            return status(405, "MethodNotAllowed", "the server does not allow this method on "
                          "the requested resource")
        if not self._allowed(user, verb, resource, ns, name):
            return self._forbidden(user, verb, resource, group, ns, name)
        if verb == "list":
            items = [o for (r, o_ns, _), o in sorted(self.objects.items())
                     if r == resource and (ns is None or o_ns == ns)]
            if resource == "configmaps":
                items += [self._legacy_cm(k[0], k[1]) for k in sorted(self.configmaps)
                          if ns is None or k[0] == ns]
            return self._list(req, gvr, items)
        if verb == "get":
            o = self.objects.get((resource, ns, name))
            if o is None and resource == "configmaps" and (ns, name) in self.configmaps:
                o = self._legacy_cm(ns, name)
            return Reply(200, o) if o is not None else not_found(gvr, name)
        if verb == "delete":
            return self._delete(req, gvr, ns, name)
        return self._write(req, gvr, ns, name)

    def _legacy_cm(self, ns, name):
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns,
                             "resourceVersion": str(self.resource_version),
                             "uid": "00000000-0000-0000-0000-%012d"
                             % (abs(hash((ns, name))) % 10**12)},
                "data": dict(self.configmaps[(ns, name)])}

    def _write(self, req, gvr, ns, name):
        """POST (create) or PUT (update)."""
        try:
            body = req.json()
        except ValueError:
            return status(400, "BadRequest", "the body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            return status(400, "BadRequest", "the object has no metadata")
        meta = body["metadata"]
        resource = gvr[2]
        if req.method == "POST":
            name = meta.get("name")
            if not name:
                return status(422, "Invalid", "metadata.name: Required value")
            if (resource, ns, name) in self.objects:
                return status(409, "AlreadyExists", '%s "%s" already exists'
                              % (qualified(gvr), name), details(gvr, name))
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
        else:
            if meta.get("name") != name:
                return status(400, "BadRequest", "the name of the object (%s) does not match "
                              "the name on the URL (%s)" % (meta.get("name"), name))
            cur = self.objects.get((resource, ns, name))
            if cur is None:
                return not_found(gvr, name)
            if self.interfere_puts.get((resource, ns, name), 0) > 0:
                self.interfere_puts[(resource, ns, name)] -= 1
                cur["metadata"]["resourceVersion"] = self._next_rv()
            rv = meta.get("resourceVersion")
            if rv and rv != cur["metadata"]["resourceVersion"]:
                return conflict(gvr, name, "the object has been modified; please apply your "
                                "changes to the latest version and try again")
            meta["uid"] = cur["metadata"].get("uid")
            meta["creationTimestamp"] = cur["metadata"].get("creationTimestamp")
        meta["namespace"] = ns
        meta["resourceVersion"] = self._next_rv()
        body["apiVersion"] = ("%s/%s" % (gvr[0], gvr[1])) if gvr[0] else gvr[1]
        body["kind"] = STORED[gvr]
        self.objects[(resource, ns, name)] = body
        self.history.append((resource, ns, name, json.loads(json.dumps(body))))
        return Reply(201 if req.method == "POST" else 200, body)

    def _delete(self, req, gvr, ns, name):
        cur = self.objects.get((gvr[2], ns, name))
        if cur is None:
            return not_found(gvr, name)
        try:
            opts = req.json() if req.body else {}
        except ValueError:
            return status(400, "BadRequest", "the body is not JSON")
        pre = (opts or {}).get("preconditions") or {}
        rv = pre.get("resourceVersion")
        if rv and rv != cur["metadata"]["resourceVersion"]:
            return conflict(gvr, name, "Precondition failed: ResourceVersion in precondition: "
                            "%s, ResourceVersion in object meta: %s"
                            % (rv, cur["metadata"]["resourceVersion"]))
        del self.objects[(gvr[2], ns, name)]
        self.history.append((gvr[2], ns, name, None))
        self._next_rv()
        return Reply(200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                           "status": "Success",
                           "details": dict(details(gvr, name), uid=cur["metadata"].get("uid"))})

    def _list(self, req, gvr, items):
        """items (sorted) filtered by labelSelector, paged by limit and continue."""
        try:
            match = selector(req.q("labelSelector", ""))
        except ValueError as e:
            return status(400, "BadRequest", "unable to parse requirement: %s" % e)
        items = [o for o in items if match((o.get("metadata") or {}).get("labels") or {})]
        start, rv = 0, str(self.resource_version)
        if req.q("continue") and self.expire_continues > 0:
            self.expire_continues -= 1
            return status(410, "Expired", "The provided continue parameter is too old to display "
                          "a consistent list result. You can start a new list without the "
                          "continue parameter.")
        if req.q("continue"):
            try:
                tok = json.loads(base64.b64decode(req.q("continue")).decode())
                start, rv = int(tok["start"]), tok["rv"]
            except (ValueError, KeyError, TypeError):
                return status(400, "BadRequest", "continue key is not valid")
        limit = int(req.q("limit", "0") or 0)
        page = items[start:start + limit] if limit > 0 else items[start:]
        meta = {"resourceVersion": rv}
        if limit > 0 and start + limit < len(items):
            meta["continue"] = base64.b64encode(json.dumps(
                {"start": start + limit, "rv": rv}).encode()).decode()
            meta["remainingItemCount"] = len(items) - start - limit
        out = []
        for o in page:  # items of a list carry no kind or apiVersion
            o = dict(o)
            o.pop("kind", None)
            o.pop("apiVersion", None)
            out.append(o)
        group, version, _ = gvr
        kind = STORED.get(gvr) or "Challenge"
        return Reply(200, {"kind": kind + "List",
                           "apiVersion": "%s/%s" % (group, version) if group else version,
                           "metadata": meta, "items": out})

    # ---- challenges (cert-manager's CRD) ----

    def _challenges(self, user, req, gvr, ns, name):
        if not self.challenges_served:
            return status(404, "NotFound", "the server could not find the requested resource")
        if req.method != "GET":
            return status(405, "MethodNotAllowed", "read only in this fake")
        verb = "get" if name else "list"
        if not self._allowed(user, verb, "challenges", ns, name):
            return self._forbidden(user, verb, "challenges", gvr[0], ns, name)
        if name:
            c = self.challenges.get((ns, name))
            return Reply(200, c) if c else not_found(gvr, name)
        items = [c for (c_ns, _), c in sorted(self.challenges.items())
                 if ns is None or c_ns == ns]
        return self._list(req, gvr, items)


def grant_zoneproof(fake, user=SA_USER, secret_namespaces=(), homes=("zoneproof", "default")):
    """The chart's RBAC: the auth ConfigMap, auth-delegator, Secrets where asked, and the
    controller's: ConfigMaps (the journal) and Leases in zoneproof's own namespace (homes: the
    service account's, and a kubeconfig's "default"), Challenges read cluster-wide."""
    fake.grant(user, "get", "configmaps", AUTH_NS, AUTH_CM)
    fake.grant(user, "create", "subjectaccessreviews")
    fake.grant(user, "create", "tokenreviews")
    for ns in secret_namespaces:
        fake.grant(user, "get", "secrets", ns)
    for ns in homes:
        for verb in ("get", "list", "create", "update", "delete"):
            fake.grant(user, verb, "configmaps", ns)
            fake.grant(user, verb, "leases", ns)
    fake.grant(user, "list", "challenges")
    fake.grant(user, "get", "challenges")

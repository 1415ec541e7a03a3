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
with per-user RBAC (grant()), real Status shapes for 401/403/404, and
SubjectAccessReview answers from a rule table the test sets, every review
recorded so tests can count them.
"""
import base64
import json
import os
import ssl
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fakebase  # noqa: E402
from fakebase import Reply  # noqa: E402

SA_USER = "system:serviceaccount:zoneproof:zoneproof"
AUTH_NS = "kube-system"
AUTH_CM = "extension-apiserver-authentication"
SAR_PATH = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
TOKENREVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return Reply(code, body)


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
        if req.method == "GET" and len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"]:
            return self._get(user, parts[3], parts[4], parts[5])
        if req.method == "POST" and req.path == SAR_PATH:
            return self._sar(user, req)
        if req.method == "POST" and req.path == TOKENREVIEW_PATH:
            return self._tokenreview(user, req)
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


def grant_zoneproof(fake, user=SA_USER, secret_namespaces=()):
    """The chart's RBAC: the auth ConfigMap, auth-delegator, and Secrets where asked."""
    fake.grant(user, "get", "configmaps", AUTH_NS, AUTH_CM)
    fake.grant(user, "create", "subjectaccessreviews")
    fake.grant(user, "create", "tokenreviews")
    for ns in secret_namespaces:
        fake.grant(user, "get", "secrets", ns)

"""fakekube — just enough of kube-apiserver, over HTTPS on loopback, for the chart's tests.

- For Helm (`helm install --dry-run=server`): /version, discovery of every kind the chart
  renders, an empty release history, GET of namespaces and ConfigMaps it was given (the tests
  give it kube-system/extension-apiserver-authentication and check that the chart does not read
  it), 404 for anything else.
- For the `helm test` script: the aggregator. GET /apis/<group>/<version> with the right bearer
  token is forwarded to the backend (zoneproof serve) with the front-proxy client certificate and
  X-Remote-User/X-Remote-Group, as kube-apiserver does, and the answer relayed.

Every request is recorded in `requests` as (method, path).
"""
import http.client
import json
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "zp-chart-test-token"

# group/version -> [(resource, kind, namespaced)]
RESOURCES = {
    "v1": [("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
           ("secrets", "Secret", True), ("services", "Service", True),
           ("serviceaccounts", "ServiceAccount", True), ("pods", "Pod", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "rbac.authorization.k8s.io/v1": [("roles", "Role", True), ("rolebindings", "RoleBinding", True),
                                     ("clusterroles", "ClusterRole", False),
                                     ("clusterrolebindings", "ClusterRoleBinding", False)],
    "apiregistration.k8s.io/v1": [("apiservices", "APIService", False)],
    "cert-manager.io/v1": [("issuers", "Issuer", True), ("certificates", "Certificate", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
    "monitoring.coreos.com/v1": [("servicemonitors", "ServiceMonitor", True)],
}


def resource_list(gv):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": r, "singularName": k.lower(), "namespaced": ns, "kind": k,
                           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                          for r, k, ns in RESOURCES[gv]]}


def group_list():
    groups = []
    for gv in RESOURCES:
        if "/" in gv:
            g, v = gv.split("/")
            ver = {"groupVersion": gv, "version": v}
            groups.append({"name": g, "versions": [ver], "preferredVersion": ver})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


class FakeKube:
    def __init__(self, cert, key, namespaces=("default", "kube-system"), configmaps=None,
                 backend=None, backend_ca=None, proxy_cert=None, proxy_key=None,
                 remote_user="system:serviceaccount:zoneproof:default"):
        self.namespaces = set(namespaces)
        self.configmaps = dict(configmaps or {})  # (namespace, name) -> data
        self.backend = backend                     # (host, port) of zoneproof serve
        self.backend_ca = backend_ca
        self.proxy_cert, self.proxy_key = proxy_cert, proxy_key
        self.remote_user = remote_user
        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send(self, code, obj, ctype="application/json"):
                body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def status(self, code, reason, message):
                self.send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                 "status": "Failure", "message": message, "reason": reason,
                                 "code": code})

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                fake.requests.append(("GET", path))
                if self.headers.get("Authorization") != "Bearer " + TOKEN:
                    return self.status(401, "Unauthorized", "Unauthorized")
                parts = [p for p in path.split("/") if p]
                if path == "/version":
                    return self.send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0",
                                           "platform": "linux/amd64"})
                if path == "/api":
                    return self.send(200, {"kind": "APIVersions", "versions": ["v1"]})
                if path == "/apis":
                    return self.send(200, group_list())
                if path == "/api/v1":
                    return self.send(200, resource_list("v1"))
                if len(parts) == 3 and parts[0] == "apis" and "/".join(parts[1:]) in RESOURCES:
                    return self.send(200, resource_list("/".join(parts[1:])))
                if len(parts) == 3 and parts[0] == "apis" and fake.backend:
                    return self.aggregate()
                if parts[:2] == ["api", "v1"]:
                    return self.core(parts[2:])
                self.status(404, "NotFound", "the server could not find the requested resource")

            def core(self, rest):
                if rest == ["namespaces", rest[-1]] and len(rest) == 2:
                    if rest[1] in fake.namespaces:
                        return self.send(200, {"kind": "Namespace", "apiVersion": "v1",
                                               "metadata": {"name": rest[1]}})
                elif len(rest) == 3 and rest[0] == "namespaces" and rest[2] == "secrets":
                    return self.send(200, {"kind": "SecretList", "apiVersion": "v1",
                                           "metadata": {"resourceVersion": "1"}, "items": []})
                elif len(rest) == 4 and rest[0] == "namespaces" and rest[2] == "configmaps":
                    data = fake.configmaps.get((rest[1], rest[3]))
                    if data is not None:
                        return self.send(200, {"kind": "ConfigMap", "apiVersion": "v1",
                                               "metadata": {"name": rest[3], "namespace": rest[1]},
                                               "data": data})
                self.status(404, "NotFound", "not found")

            def aggregate(self):
                ctx = ssl.create_default_context(cafile=fake.backend_ca)
                ctx.load_cert_chain(fake.proxy_cert, fake.proxy_key)
                conn = http.client.HTTPSConnection("localhost", fake.backend[1], context=ctx,
                                                   timeout=10)
                try:
                    conn.request("GET", self.path, headers={
                        "X-Remote-User": fake.remote_user,
                        "X-Remote-Group": "system:authenticated",
                        "Accept": "application/json"})
                    resp = conn.getresponse()
                    self.send(resp.status, resp.read(),
                              resp.getheader("Content-Type", "application/json"))
                finally:
                    conn.close()

            def do_POST(self):
                fake.requests.append(("POST", self.path))
                self.status(405, "MethodNotAllowed", "this fake only reads")

            do_PUT = do_PATCH = do_DELETE = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "https://localhost:%d" % self.port

    def kubeconfig(self, path, ca):
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                       "clusters": [{"name": "fake", "cluster": {
                           "server": self.url, "certificate-authority": ca}}],
                       "users": [{"name": "fake", "user": {"token": TOKEN}}],
                       "contexts": [{"name": "fake", "context": {
                           "cluster": "fake", "user": "fake", "namespace": "default"}}]}, f)
        return path

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

"""The Helm chart (charts/zoneproof), rendered by the real Helm.

1. `helm lint --strict` and `helm template` over every values file in tests/chart/ (minimal, every
   option on, one per provider type) and the example values in deploy/examples/, each rendering
   checked by tests/chart/chartcheck.py: names that must agree (APIService, Service, Certificate,
   inject-ca-from), RBAC subjects, the API group everywhere, Pod Security "restricted", Secret
   access only as asked, no flowcontrol rules. The checker itself is shown to catch each fault.
   Values that cannot work are refused with a sentence naming the value
   (tests/chart/invalid/*.yaml, the expected words on their first line).
2. The rendered config.yaml is checked by `zoneproof check-config`, with stand-in credential
   files where the chart mounts the Secrets: the configuration serve would load.
3. The rendered container runs: `zoneproof serve` with the Deployment's own arguments and
   environment, its files laid out where the chart mounts them (only the port is changed, and the
   address pinned to loopback). With the default values there is no --requestheader-* flag: the
   server reads the front-proxy CA from a fake kube-apiserver (tests/fakes/fake_kube.py) through
   its service account, and follows a rotation of it on SIGHUP. With a pinned CA (full.yaml) it
   runs from the mounted file. kubelet's probes get 200, a caller without kube-apiserver's
   front-proxy certificate gets 401, and the front proxy gets the discovery document that lists
   the solver cert-manager will post to.
4. The `helm test` pod's script runs (sh and curl) against that container and a stand-in
   kube-apiserver that forwards discovery as the aggregator does; and fails when the APIService
   is not served.
5. `helm install --dry-run=server` against the stand-in kube-apiserver: the chart reads nothing
   from the cluster (an install needs no front-proxy CA, nor rights to read it), pinned values
   are rendered as given, and the notes print the solver stanza to paste.
6. Observability: the metrics listener on a port of its own (flag, container port, Service port,
   NetworkPolicy), none of it with metrics.enabled false; the ServiceMonitor scrapes it over
   plain HTTP; the PrometheusRule holds files/alerts.yaml as it is. `promtool check rules` on
   that file, `promtool test rules tests/chart/alerts_test.yaml` (every alert fires in one case
   and stays quiet in a near miss), and those tests shown to catch each planted fault. The
   rendered container serves /metrics (and /status with metrics.statusPage) on that port, and
   not on the webhook's.

Helm comes from scripts/helm.sh (installed on first use, from the npm registry); promtool from
Debian's prometheus package (scripts/setup.sh): without it the tests fail, they do not skip.
"""
import copy
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "chart"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakes"))

import chartcheck  # noqa: E402
import fake_kube  # noqa: E402
import fakekube  # noqa: E402
import pki  # noqa: E402
import zptest  # noqa: E402

CHART = os.path.join(ROOT, "charts", "zoneproof")
VALUES_DIR = os.path.join(ROOT, "tests", "chart")
INVALID_DIR = os.path.join(VALUES_DIR, "invalid")
EXAMPLES = os.path.join(ROOT, "deploy", "examples")
ALERTS = os.path.join(CHART, "files", "alerts.yaml")
ALERT_TESTS = os.path.join(VALUES_DIR, "alerts_test.yaml")
OBSERVABILITY_DOC = os.path.join(ROOT, "docs", "observability.md")
RELEASE = "zp"
NAMESPACE = "zoneproof"
GENERIC = {"name", "type", "dnsZones", "ttl", "propagation", "namespaces", "firstLabels",
           "concurrency"}
REQUESTHEADER_FLAGS = ("--requestheader-client-ca-file", "--requestheader-allowed-names",
                       "--requestheader-username-headers", "--requestheader-group-headers",
                       "--requestheader-extra-headers-prefix")


def helm(*args):
    return subprocess.run(["bash", os.path.join(ROOT, "scripts", "helm.sh")] + list(args),
                          capture_output=True, text=True, timeout=300)


def values_files():
    # alerts_test.yaml beside them is promtool's unit tests of the alerts, not values.
    files = sorted(os.path.join(VALUES_DIR, f) for f in os.listdir(VALUES_DIR)
                   if f.endswith(".yaml") and not f.endswith("_test.yaml"))
    files += sorted(os.path.join(EXAMPLES, f) for f in os.listdir(EXAMPLES)
                    if f.startswith("values-") and f.endswith(".yaml"))
    return files


def read_values(path):
    with open(path) as f:
        return chartcheck.load_yaml(f.read())


def render(*args, release=RELEASE, namespace=NAMESPACE):
    r = helm("template", release, CHART, "--namespace", namespace, *args)
    if r.returncode != 0:
        raise AssertionError("helm template %s failed:\n%s" % (" ".join(args), r.stderr))
    return chartcheck.load_yaml_all(r.stdout)


def load_schema():
    with open(os.path.join(CHART, "values.schema.json")) as f:
        return json.load(f)


class HelmCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = helm("version", "--short")
        if r.returncode != 0:
            raise RuntimeError("scripts/helm.sh cannot provide helm:\n" + r.stderr)


class TestRender(HelmCase):
    def test_values_files_cover_every_provider_type(self):
        schema = load_schema()
        types = schema["properties"]["providers"]["items"]["properties"]["type"]["enum"]
        for t in types:
            self.assertTrue(os.path.exists(os.path.join(VALUES_DIR, "provider-%s.yaml" % t)),
                            "no tests/chart/provider-%s.yaml" % t)

    def test_lint_every_values_file(self):
        for path in values_files():
            with self.subTest(values=os.path.relpath(path, ROOT)):
                r = helm("lint", "--strict", CHART, "-f", path)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_rendered_objects_fit_together(self):
        for path in values_files():
            with self.subTest(values=os.path.relpath(path, ROOT)):
                docs = render("-f", path)
                problems = chartcheck.check(docs, chartcheck.chart_values(CHART, path), NAMESPACE,
                                            chart_dir=CHART)
                self.assertEqual(problems, [])

    def test_release_names(self):
        """The fullname follows the release (and overrides); every reference follows it."""
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        cases = [("zoneproof", "cert-manager", []),          # release named like the chart
                 ("dns", "kube-system", ["--set", "nameOverride=solver"]),
                 ("x", "infra", ["--set", "fullnameOverride=acme-webhook"])]
        for release, ns, extra in cases:
            with self.subTest(release=release, namespace=ns, extra=extra):
                docs = render("-f", minimal, *extra, release=release, namespace=ns)
                values = chartcheck.chart_values(CHART, minimal)
                self.assertEqual(chartcheck.check(docs, values, ns), [])
                svc = chartcheck.Rendered(docs).one("Service")["metadata"]["name"]
                want = {"zoneproof": "zoneproof", "dns": "dns-solver", "x": "acme-webhook"}
                self.assertEqual(svc, want[release])

    def test_secret_access_only_when_asked(self):
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        r = chartcheck.Rendered(render("-f", minimal))
        for role in r.all("Role") + r.all("ClusterRole"):
            for rule in role.get("rules") or []:
                self.assertNotIn("secrets", rule.get("resources", []), role["metadata"]["name"])
        r = chartcheck.Rendered(render("-f", os.path.join(VALUES_DIR, "full.yaml")))
        roles = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["rules"]
                 for o in r.all("Role")}
        # The controller's Role: ConfigMaps (the journal) and Leases in its own namespace only.
        ctl = roles.pop(("zoneproof", "dns-solver:controller"))
        self.assertEqual(sorted(r_["resources"][0] for r_ in ctl), ["configmaps", "leases"])
        self.assertEqual(roles, {
            ("security", "dns-solver:secret-reader"): [
                {"apiGroups": [""], "resources": ["secrets"],
                 "resourceNames": ["cloudflare-token", "tsig"], "verbs": ["get"]}],
            ("web", "dns-solver:secret-reader"): [
                {"apiGroups": [""], "resources": ["secrets"],
                 "resourceNames": ["web-dns-token"], "verbs": ["get"]}],
        })

    def test_front_proxy_ca_from_the_cluster_by_default(self):
        """Default values: no --requestheader-* flag, no CA ConfigMap, no mount; zoneproof reads
        kube-system/extension-apiserver-authentication itself (RoleBinding rendered, token
        mounted). Rendered by `helm template`, with no cluster at all."""
        unpinned = [p for p in values_files() if "requestHeader" not in (read_values(p) or {})]
        self.assertIn(os.path.join(VALUES_DIR, "minimal.yaml"), unpinned)
        for path in unpinned:
            with self.subTest(values=os.path.relpath(path, ROOT)):
                r = chartcheck.Rendered(render("-f", path))
                dep = r.one("Deployment")
                args = chartcheck.main_container(dep)["args"]
                self.assertEqual([a for a in args if a.startswith(REQUESTHEADER_FLAGS)], [], args)
                self.assertEqual([c["metadata"]["name"] for c in r.all("ConfigMap")
                                  if c["metadata"]["name"].endswith("-requestheader")], [])
                spec = dep["spec"]["template"]["spec"]
                self.assertNotIn("requestheader", [v["name"] for v in spec["volumes"]])
                self.assertNotIn("/etc/front-proxy", [m["mountPath"] for m in
                                 chartcheck.main_container(dep)["volumeMounts"]])
                self.assertTrue(spec["automountServiceAccountToken"])
                reader = [b for b in r.all("RoleBinding")
                          if b["roleRef"]["name"] == "extension-apiserver-authentication-reader"]
                self.assertEqual(len(reader), 1)
                self.assertEqual(reader[0]["metadata"]["namespace"], "kube-system")

    def test_front_proxy_ca_overrides(self):
        """clientCA is rendered into the chart's ConfigMap; existingConfigMap is mounted as is;
        either passes --requestheader-client-ca-file. allowedNames alone narrows the cluster's
        list and leaves the CA to the cluster."""
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        full = chartcheck.Rendered(render("-f", os.path.join(VALUES_DIR, "full.yaml")))
        ca = full.one("ConfigMap", "dns-solver-requestheader")["data"]["ca.crt"]
        self.assertIn("BEGIN CERTIFICATE", ca)
        args = chartcheck.main_container(full.one("Deployment"))["args"]
        self.assertIn("--requestheader-client-ca-file=/etc/front-proxy/ca.crt", args)
        self.assertIn("--requestheader-allowed-names=front-proxy-client,aggregator", args)

        own = chartcheck.Rendered(render("-f", minimal, "--set",
                                         "requestHeader.existingConfigMap=front-proxy"))
        self.assertIsNone(own.get("ConfigMap", RELEASE + "-zoneproof-requestheader"))
        vols = own.one("Deployment")["spec"]["template"]["spec"]["volumes"]
        self.assertIn({"name": "requestheader", "configMap": {
            "name": "front-proxy", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}, vols)
        self.assertIn("--requestheader-client-ca-file=/etc/front-proxy/ca.crt",
                      chartcheck.main_container(own.one("Deployment"))["args"])
        values = chartcheck.chart_values(CHART, minimal)
        values["requestHeader"]["existingConfigMap"] = "front-proxy"
        self.assertEqual(chartcheck.check(own.objs, values, NAMESPACE), [])

        names = chartcheck.Rendered(render("-f", minimal, "--set",
                                           "requestHeader.allowedNames={front-proxy-client}"))
        args = chartcheck.main_container(names.one("Deployment"))["args"]
        self.assertEqual([a for a in args if a.startswith(REQUESTHEADER_FLAGS)],
                         ["--requestheader-allowed-names=front-proxy-client"])
        self.assertNotIn("requestheader", [v["name"] for v in names.one("Deployment")[
            "spec"]["template"]["spec"]["volumes"]])

        # Without the token zoneproof has no cluster: a pinned CA makes that work.
        pinned = chartcheck.Rendered(render("-f", minimal, "--set",
                                            "serviceAccount.automountToken=false", "--set",
                                            "requestHeader.existingConfigMap=front-proxy"))
        self.assertFalse(pinned.one("Deployment")["spec"]["template"]["spec"][
            "automountServiceAccountToken"])

    def test_invalid_values_are_refused(self):
        files = sorted(f for f in os.listdir(INVALID_DIR) if f.endswith(".yaml"))
        self.assertTrue(files)
        for name in files:
            path = os.path.join(INVALID_DIR, name)
            with open(path) as f:
                first = f.readline()
            self.assertTrue(first.startswith("# expect: "), name)
            expect = first[len("# expect: "):].strip()
            with self.subTest(values=name):
                r = helm("template", RELEASE, CHART, "-f", path)
                self.assertNotEqual(r.returncode, 0, "accepted:\n" + r.stdout[:2000])
                self.assertIn(expect, r.stderr)

    def test_checker_catches_each_fault(self):
        """Each fault the chart must never have, planted in a good rendering, is reported."""
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        values = chartcheck.chart_values(CHART, minimal)
        good = render("-f", minimal)
        self.assertEqual(chartcheck.check(good, values, NAMESPACE), [])
        fullname = RELEASE + "-zoneproof"

        def container(r):
            return chartcheck.main_container(r.one("Deployment"))

        def pod(r):
            return r.one("Deployment")["spec"]["template"]["spec"]

        faults = {
            "inject-ca-from names another Certificate": lambda r: r.one("APIService")[
                "metadata"]["annotations"].update(
                {"cert-manager.io/inject-ca-from": NAMESPACE + "/elsewhere"}),
            "APIService points at another Service": lambda r: r.one("APIService")["spec"][
                "service"].update(name="other"),
            "Certificate lacks the .svc name": lambda r: r.get(
                "Certificate", fullname + "-webhook-tls")["spec"]["dnsNames"].pop(),
            "GROUP_NAME differs": lambda r: container(r)["env"][0].update(value="acme.other.io"),
            "ClusterRole on another group": lambda r: r.get(
                "ClusterRole", fullname + ":domain-solver")["rules"][0].update(
                apiGroups=["acme.other.io"]),
            "cert-manager subject in another namespace": lambda r: r.get(
                "ClusterRoleBinding", fullname + ":domain-solver")["subjects"][0].update(
                namespace="kube-system"),
            "auth-delegator bound to another account": lambda r: r.get(
                "ClusterRoleBinding", fullname + ":auth-delegator")["subjects"][0].update(
                name="default"),
            "flowcontrol rules": lambda r: r.get("ClusterRole", fullname + ":domain-solver")[
                "rules"].append({"apiGroups": ["flowcontrol.apiserver.k8s.io"],
                                 "resources": ["flowschemas"], "verbs": ["list", "watch"]}),
            "cluster-wide Secret reads": lambda r: r.objs.append({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": fullname + ":secrets", "labels": r.one("Service")[
                    "metadata"]["labels"]},
                "rules": [{"apiGroups": [""], "resources": ["secrets"],
                           "verbs": ["get", "list", "watch"]}]}),
            "writable root filesystem": lambda r: container(r)["securityContext"].update(
                readOnlyRootFilesystem=False),
            "capabilities kept": lambda r: container(r)["securityContext"].pop("capabilities"),
            "runs as root": lambda r: container(r)["securityContext"].update(runAsUser=0),
            "no seccomp profile": lambda r: pod(r)["securityContext"].pop("seccompProfile"),
            "probe over HTTP": lambda r: container(r)["livenessProbe"]["httpGet"].update(
                scheme="HTTP"),
            "standard flag missing": lambda r: container(r)["args"].remove(
                "--tls-cert-file=/tls/tls.crt"),
            "front-proxy CA pinned without values asking": lambda r: container(r)["args"].insert(
                1, "--requestheader-client-ca-file=/etc/front-proxy/ca.crt"),
            "front-proxy header list overridden": lambda r: container(r)["args"].insert(
                1, "--requestheader-username-headers=X-User"),
            "allowed names nobody asked for": lambda r: container(r)["args"].insert(
                1, "--requestheader-allowed-names=front-proxy-client"),
            "token not mounted": lambda r: pod(r).update(automountServiceAccountToken=False),
            "no authentication-reader binding": lambda r: r.objs.remove(next(
                b for b in r.all("RoleBinding")
                if b["roleRef"]["name"] == "extension-apiserver-authentication-reader")),
            "credential Secret not mounted": lambda r: container(r)["volumeMounts"].__setitem__(
                slice(None), [m for m in container(r)["volumeMounts"]
                              if not m["mountPath"].startswith("/run/secrets")]),
            "config groupName differs": lambda r: r.get("ConfigMap", fullname + "-config")[
                "data"].update({"config.yaml": r.get("ConfigMap", fullname + "-config")[
                    "data"]["config.yaml"].replace("acme.example.com", "acme.other.io")}),
            "metrics flag dropped": lambda r: container(r)["args"].remove(
                "--metrics-bind-address=:8080"),
            "metrics on the webhook's port": lambda r: container(r)["args"].__setitem__(
                container(r)["args"].index("--metrics-bind-address=:8080"),
                "--metrics-bind-address=:8443"),
            "no metrics port on the Service": lambda r: r.one("Service")["spec"]["ports"].pop(),
            "status page nobody asked for": lambda r: container(r)["args"].append(
                "--status-page"),
        }
        for what, plant in faults.items():
            with self.subTest(fault=what):
                docs = copy.deepcopy(good)
                r = chartcheck.Rendered(docs)
                plant(r)
                self.assertNotEqual(chartcheck.check(r.objs, values, NAMESPACE), [], what)

    def test_schema_knows_what_zoneproof_knows(self):
        """Provider types and each type's settings in values.schema.json are the binary's own,
        as its configuration errors list them."""
        schema = load_schema()
        item = schema["properties"]["providers"]["items"]
        tmp = tempfile.mkdtemp(prefix="zp-chart-schema-")
        self.addCleanup(shutil.rmtree, tmp, True)

        def known(text):
            path = os.path.join(tmp, "config.yaml")
            with open(path, "w") as f:
                f.write(text)
            r = zptest.run_zp(["check-config", "--config", path])
            self.assertEqual(r.returncode, 2, r.stderr)
            m = re.search(r"\(known: ([^)]*)\)", r.stderr)
            self.assertIsNotNone(m, r.stderr)
            return [k.strip() for k in m.group(1).split(",")]

        types = known("providers:\n  - {name: a, type: zz-none, dnsZones: [example.com]}\n")
        self.assertEqual(sorted(item["properties"]["type"]["enum"]), sorted(types))
        by_type = {b["if"]["properties"]["type"]["const"]: b["then"]["properties"]
                   for b in item["allOf"]}
        for t in types:
            with self.subTest(type=t):
                keys = set(known("providers:\n  - {name: a, type: %s, dnsZones: [example.com], "
                                 "zzNoSuchSetting: 1}\n" % t)) - GENERIC
                self.assertEqual(set(by_type[t]["settings"]["propertyNames"]["enum"]), keys)
                self.assertEqual(
                    set(by_type[t]["credentials"]["properties"]["files"]["propertyNames"]["enum"]),
                    {k for k in keys if k.endswith("File")})


def standin_credentials(tmp, cfg_text, pkidir):
    """config.yaml with every *File setting moved under tmp, where a stand-in file of the right
    shape is written; returns the new text."""
    import fake_clouddns  # noqa: PLC0415

    cfg = chartcheck.load_yaml(cfg_text)
    for p in cfg["providers"]:
        if p.get("type") == "exec":  # the program a custom image would carry
            local = os.path.join(tmp, p["command"].lstrip("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(local, 0o755)
            cfg_text = cfg_text.replace(json.dumps(p["command"]), json.dumps(local))
        for k, path in sorted(p.items()):
            if not k.endswith("File"):
                continue
            local = os.path.join(tmp, path.lstrip("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            if k == "tsigSecretFile":
                zptest.write_secret(os.path.dirname(local), os.path.basename(local))
            elif k == "serviceAccountFile":
                made = fake_clouddns.make_service_account(
                    os.path.dirname(local), "sa", p.get("project", "zp-project"),
                    "zoneproof@zp-project.iam.gserviceaccount.com")[0]
                os.replace(made, local)
            elif k == "accountsFile":
                sub = "d420c923-bbd7-4056-ab64-c3ca54c9b3cf"
                accounts = {z: {"username": "c36f50e8-4632-44f0-83fe-e070fef28a10",
                                "password": "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z",
                                "fulldomain": sub + ".auth.example.org", "subdomain": sub,
                                "allowfrom": []} for z in p["dnsZones"]}
                with open(local, "w") as f:
                    json.dump(accounts, f)
            elif k == "caFile":
                shutil.copy(pki.path(pkidir, "serving-ca.crt"), local)
            else:
                with open(local, "w") as f:
                    f.write("zp-chart-standin-credential\n")
            cfg_text = cfg_text.replace(json.dumps(path), json.dumps(local))
    return cfg_text


def config_text(docs):
    r = chartcheck.Rendered(docs)
    dep = r.one("Deployment")
    name = next(v["configMap"]["name"] for v in dep["spec"]["template"]["spec"]["volumes"]
                if v["name"] == "config")
    return r.one("ConfigMap", name)["data"]["config.yaml"]


class TestTrustModel(HelmCase):
    def test_who_may_use_each_instance_reaches_the_config(self):
        """namespaces and firstLabels pass through; ClusterIssuers' namespace follows certManager."""
        cfg = chartcheck.load_yaml(config_text(render("-f", os.path.join(ROOT, "tests/chart/full.yaml"))))
        self.assertEqual(cfg["clusterResourceNamespace"], "security")
        corp = next(p for p in cfg["providers"] if p["name"] == "corp")
        self.assertEqual(corp["namespaces"], ["web", "security"])
        self.assertEqual(corp["firstLabels"], ["_acme-challenge"])
        public = next(p for p in cfg["providers"] if p["name"] == "public.cloudflare")
        self.assertNotIn("namespaces", public)  # ClusterIssuers only: the safe default
        cfg = chartcheck.load_yaml(config_text(render(
            "-f", os.path.join(ROOT, "tests/chart/full.yaml"),
            "--set", "certManager.clusterResourceNamespace=issuers")))
        self.assertEqual(cfg["clusterResourceNamespace"], "issuers")


class TestConfigLoads(HelmCase):
    """`zoneproof check-config` accepts the configuration the chart renders, from every values
    file."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="zp-chart-config-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_zoneproof_loads_each_rendered_config(self):
        for path in values_files():
            name = os.path.basename(path)
            with self.subTest(values=os.path.relpath(path, ROOT)):
                root = os.path.join(self.tmp, name)
                os.makedirs(root)
                text = standin_credentials(root, config_text(render("-f", path)), self.pki)
                cfg = os.path.join(root, "config.yaml")
                with open(cfg, "w") as f:
                    f.write(text)
                r = zptest.run_zp(["check-config", "--config", cfg])
                self.assertEqual(r.returncode, 0,
                                 "zoneproof refused the configuration rendered from %s:\n%s\n%s"
                                 % (name, r.stderr, text))


class RenderedPod:
    """The Deployment's container run on loopback: its args and env as rendered, its volumes as
    files under a temporary root."""

    def __init__(self, tmp, docs, pkidir, env=None):
        """env: the in-cluster variables (KUBERNETES_SERVICE_HOST/PORT, ZP_SERVICEACCOUNT_DIR)
        when the pod is to talk to a fake kube-apiserver; without them it runs with no cluster."""
        self.root = os.path.join(tmp, "root")
        env_extra = dict(env or {})
        r = chartcheck.Rendered(docs)
        dep = r.one("Deployment")
        spec = dep["spec"]["template"]["spec"]
        c = chartcheck.main_container(dep)
        vols = {v["name"]: v for v in spec["volumes"]}
        for m in c["volumeMounts"]:
            vol = vols[m["name"]]
            d = self.local(m["mountPath"])
            os.makedirs(d, exist_ok=True)
            cm = r.get("ConfigMap", vol["configMap"]["name"]) if "configMap" in vol else None
            if cm is not None:  # the chart's own; others (extraVolumes) get stand-ins below
                data = cm["data"]
                for item in vol["configMap"]["items"]:
                    with open(os.path.join(d, item["path"]), "w") as f:
                        f.write(data[item["key"]])
            elif vol.get("secret", {}).get("secretName", "").endswith("-webhook-tls"):
                shutil.copy(pki.path(pkidir, "serving.crt"), os.path.join(d, "tls.crt"))
                shutil.copy(pki.path(pkidir, "serving.key"), os.path.join(d, "tls.key"))
        # The credential Secrets: stand-ins where config.yaml points, config rewritten to them.
        cfg_path = self.local(chartcheck.arg_value(c["args"], "--config"))
        with open(cfg_path) as f:
            text = standin_credentials(self.root, f.read(), pkidir)
        with open(cfg_path, "w") as f:
            f.write(text)

        self.port = zptest.free_port()
        self.metrics_port = None
        args = []
        for a in c["args"]:
            flag, eq, val = a.partition("=")
            if flag == "--secure-port":
                val = str(self.port)
            elif flag == "--metrics-bind-address":
                self.metrics_port = zptest.free_port()
                val = "127.0.0.1:%d" % self.metrics_port
            elif val.startswith("/"):
                val = self.local(val)
            args.append(flag + eq + val)
        args.append("--bind-address=127.0.0.1")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env.pop("ZONEPROOF_CONFIG", None)
        env.pop("ZP_SERVICEACCOUNT_DIR", None)
        env.update({e["name"]: e["value"] for e in c.get("env", []) if "value" in e})
        env.update({e["name"]: "zoneproof-test-pod" for e in c.get("env", [])
                    if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") ==
                    "metadata.name"})
        env.update(env_extra)
        self.args = args
        self.log_path = os.path.join(tmp, "serve.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([zptest.zoneproof_bin()] + args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        try:
            zptest.wait_for(lambda: self.proc.poll() is None and
                            zptest.tcp_open("127.0.0.1", self.port), what="zoneproof serve")
        except Exception:
            self.stop()
            raise RuntimeError("zoneproof serve %s did not start:\n%s" % (args, self.output()))

    def local(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class RenderedPodServes:
    """The rendered container serving; subclasses say which values and which cluster."""
    GROUP = SOLVER = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="zp-chart-serve-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        try:
            cls.docs = cls.render_docs()
            cls.pod = RenderedPod(cls.tmp, cls.docs, cls.pki, env=cls.cluster_env())
        except Exception:
            cls.stop_cluster()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def cluster_env(cls):
        return {}

    @classmethod
    def stop_cluster(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        cls.pod.stop()
        cls.stop_cluster()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, path, client=None, headers=None):
        ctx = ssl.create_default_context(cafile=pki.path(self.pki, "serving-ca.crt"))
        if client:
            ctx.load_cert_chain(pki.path(self.pki, client + ".crt"),
                                pki.path(self.pki, client + ".key"))
        conn = http.client.HTTPSConnection("localhost", self.pod.port, context=ctx, timeout=10)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    def get_http(self, path):
        """GET on the metrics listener (plain HTTP): (status, content type, body)."""
        url = "http://127.0.0.1:%d%s" % (self.pod.metrics_port, path)
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read().decode()

    def test_metrics_on_their_own_listener(self):
        """/metrics answers over plain HTTP on the metrics port, with every configured provider
        instance's Present series at 0 from the start; the webhook's HTTPS port serves none."""
        self.assertIsNotNone(self.pod.metrics_port, "no --metrics-bind-address: %s" % self.pod.args)
        status, ctype, body = self.get_http("/metrics")
        self.assertEqual(status, 200, body)
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        self.assertIn("# TYPE zoneproof_challenges_total counter", body)
        self.assertRegex(body, r"(?m)^zoneproof_build_info\{.*\} 1$")
        cfg = chartcheck.load_yaml(config_text(self.docs))
        for p in cfg["providers"]:
            with self.subTest(provider=p["name"]):
                self.assertTrue(any(
                    line.startswith("zoneproof_challenges_total{") and
                    'provider="%s"' % p["name"] in line and 'action="present"' in line and
                    'outcome="success"' in line and line.split()[-1] == "0"
                    for line in body.splitlines()), body)
        status, body = self.get("/metrics")
        self.assertNotEqual(status, 200, body)
        self.assertNotIn("zoneproof_", body)

    def test_status_page_only_when_asked(self):
        """--status-page (metrics.statusPage): /status is a server-rendered page without
        scripts, /status.json its data; without it, neither exists."""
        if "--status-page" not in self.pod.args:
            self.assertEqual(self.get_http("/status")[0], 404)
            self.assertEqual(self.get_http("/status.json")[0], 404)
            return
        status, ctype, body = self.get_http("/status")
        self.assertEqual(status, 200, body)
        self.assertTrue(ctype.startswith("text/html"), ctype)
        self.assertNotIn("<script", body.lower())
        status, ctype, body = self.get_http("/status.json")
        self.assertEqual(status, 200, body)
        json.loads(body)

    def discovery(self, client="proxy-client"):
        return self.get("/apis/%s/v1alpha1" % self.GROUP, client=client,
                        headers={"X-Remote-User": "system:kube-aggregator",
                                 "X-Remote-Group": "system:masters"})

    def test_probes_answer_without_a_client_certificate(self):
        self.assertEqual(self.get("/healthz"), (200, "ok"))
        self.assertEqual(self.get("/readyz")[0], 200)

    def test_api_is_closed_without_the_front_proxy_certificate(self):
        """What `helm test` checks from inside the cluster: TLS works, and a direct caller
        gets a 401 Status."""
        path = "/apis/%s/v1alpha1" % self.GROUP
        status, body = self.get(path, headers={"X-Remote-User": "system:kube-aggregator",
                                               "X-Remote-Group": "system:masters"})
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["kind"], "Status")
        status, body = self.discovery(client="wrongcn-client")
        self.assertEqual(status, 401, "a CN outside the allowed names: " + body)
        status, body = self.discovery(client="other-client")
        self.assertEqual(status, 401, "a certificate from another CA: " + body)

    def test_front_proxy_gets_the_solver_discovery(self):
        """What kube-apiserver's availability check and cert-manager's client rely on: the
        group from GROUP_NAME and the solver name from the rendered config.yaml."""
        status, body = self.discovery()
        self.assertEqual(status, 200, body)
        doc = json.loads(body)
        self.assertEqual(doc["groupVersion"], self.GROUP + "/v1alpha1")
        self.assertEqual([res["name"] for res in doc["resources"]], [self.SOLVER])
        self.assertEqual(doc["resources"][0]["verbs"], ["create"])


class TestRenderedPodServesClusterCA(RenderedPodServes, HelmCase):
    """Default values: the Deployment passes no --requestheader-* flag and mounts no CA; the
    server finds the front-proxy CA in kube-system/extension-apiserver-authentication of a fake
    kube-apiserver, reached through the pod's service account as in a cluster, with the RBAC the
    chart grants."""
    GROUP = "acme.example.com"
    SOLVER = "zoneproof"
    TOKEN = "chart-sa-token-5d1e7c0a9b3f"

    @classmethod
    def render_docs(cls):
        docs = render("-f", os.path.join(VALUES_DIR, "minimal.yaml"))
        args = chartcheck.main_container(chartcheck.Rendered(docs).one("Deployment"))["args"]
        assert not [a for a in args if a.startswith(REQUESTHEADER_FLAGS)], args
        return docs

    @classmethod
    def cluster_env(cls):
        sa = chartcheck.Rendered(cls.docs).one("Deployment")["spec"]["template"]["spec"][
            "serviceAccountName"]
        cls.sa_user = "system:serviceaccount:%s:%s" % (NAMESPACE, sa)
        cls.kube = fake_kube.FakeKube(cls.pki).start()
        cls.kube.set_tokens({cls.TOKEN: cls.sa_user})
        fake_kube.grant_zoneproof(cls.kube, user=cls.sa_user)
        cls.kube.set_auth_configmap(cls.read_pki("proxy-ca.crt"))
        sa_dir = os.path.join(cls.tmp, "serviceaccount")
        os.makedirs(sa_dir)
        shutil.copy(pki.path(cls.pki, "serving-ca.crt"), os.path.join(sa_dir, "ca.crt"))
        with open(os.path.join(sa_dir, "token"), "w") as f:
            f.write(cls.TOKEN + "\n")
        with open(os.path.join(sa_dir, "namespace"), "w") as f:
            f.write(NAMESPACE + "\n")
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(cls.kube.port),
                "ZP_SERVICEACCOUNT_DIR": sa_dir}

    @classmethod
    def stop_cluster(cls):
        if getattr(cls, "kube", None):
            cls.kube.stop()

    @classmethod
    def read_pki(cls, name):
        with open(pki.path(cls.pki, name)) as f:
            return f.read()

    def test_settings_come_from_the_cluster(self):
        self.assertIn(self.sa_user, self.kube.users_seen)
        self.assertIsNone(chartcheck.arg_value(self.pod.args, "--requestheader-client-ca-file"))

    def test_rotated_front_proxy_ca_needs_no_restart(self):
        """A new front-proxy CA in the cluster's ConfigMap is used after SIGHUP (and within a
        minute without it): the pinned-CA setup could not follow it."""
        def rotate(ca, allowed, refused):
            self.kube.set_auth_configmap(self.read_pki(ca))
            self.pod.proc.send_signal(signal.SIGHUP)
            zptest.wait_for(lambda: self.discovery(client=allowed)[0] == 200,
                            what="the front-proxy CA %s in use" % ca)
            self.assertEqual(self.discovery(client=refused)[0], 401)

        self.addCleanup(rotate, "proxy-ca.crt", "proxy-client", "other-client")
        rotate("other-ca.crt", "other-client", "proxy-client")
        self.assertIsNone(self.pod.proc.poll(), self.pod.output())


class TestRenderedPodServesPinnedCA(RenderedPodServes, HelmCase):
    """requestHeader.clientCA and .allowedNames (full.yaml): the CA mounted from the chart's
    ConfigMap and passed as --requestheader-client-ca-file, no cluster needed; and the status
    page on (metrics.statusPage)."""
    GROUP = "acme.corp.example"
    SOLVER = "corp-dns"

    @classmethod
    def render_docs(cls):
        return render("-f", os.path.join(VALUES_DIR, "full.yaml"), "--set-file",
                      "requestHeader.clientCA=" + pki.path(cls.pki, "proxy-ca.crt"),
                      "--set", "metrics.statusPage=true")

    def test_pinned_ca_is_passed(self):
        self.assertEqual(chartcheck.arg_value(self.pod.args, "--requestheader-client-ca-file"),
                         self.pod.local("/etc/front-proxy/ca.crt"))


class TestHelmTestPod(HelmCase):
    """The `helm test` pod's script, run by /bin/sh with curl against the rendered container and
    a stand-in kube-apiserver that forwards discovery as the aggregator does. Only the addresses
    and file locations are changed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="zp-chart-helmtest-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        cls.docs = render("-f", os.path.join(VALUES_DIR, "full.yaml"), "--set-file",
                          "requestHeader.clientCA=" + pki.path(cls.pki, "proxy-ca.crt"))
        try:
            cls.pod = RenderedPod(cls.tmp, cls.docs, cls.pki)
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.sa = os.path.join(cls.tmp, "serviceaccount")
        os.makedirs(cls.sa)
        shutil.copy(pki.path(cls.pki, "serving-ca.crt"), os.path.join(cls.sa, "ca.crt"))
        with open(os.path.join(cls.sa, "token"), "w") as f:
            f.write(fakekube.TOKEN)

    @classmethod
    def tearDownClass(cls):
        cls.pod.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def api_cert(self):
        return pki.path(self.pki, "serving.crt"), pki.path(self.pki, "serving.key")

    def run_script(self, api):
        test_pod = next(p for p in chartcheck.Rendered(self.docs).all("Pod")
                        if (p["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test")
        c = test_pod["spec"]["containers"][0]
        self.assertEqual(c["command"], ["/bin/sh", "-c"])
        script = c["args"][0]
        work = tempfile.mkdtemp(dir=self.tmp)
        script = script.replace("/tmp/", work + "/")  # first: the paths below are under /tmp
        script = re.sub(r"https://[a-z0-9.-]+\.svc:[0-9]+", "https://localhost:%d" % self.pod.port,
                        script)
        script = script.replace("https://kubernetes.default.svc", api.url)
        script = script.replace("/var/run/secrets/kubernetes.io/serviceaccount", self.sa)
        script = script.replace("/tls/ca.crt", pki.path(self.pki, "serving-ca.crt"))
        return subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True,
                              timeout=120)

    def test_passes_against_a_working_install(self):
        api = fakekube.FakeKube(*self.api_cert(), backend=("127.0.0.1", self.pod.port),
                                backend_ca=pki.path(self.pki, "serving-ca.crt"),
                                proxy_cert=pki.path(self.pki, "proxy-client.crt"),
                                proxy_key=pki.path(self.pki, "proxy-client.key"))
        self.addCleanup(api.stop)
        r = self.run_script(api)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("ok: "), 3, r.stdout)
        self.assertIn(("GET", "/apis/acme.corp.example/v1alpha1"), api.requests)

    def test_fails_when_the_apiservice_is_not_served(self):
        api = fakekube.FakeKube(*self.api_cert())
        self.addCleanup(api.stop)
        r = self.run_script(api)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("FAIL: kube-apiserver /apis/acme.corp.example/v1alpha1 answered 404",
                      r.stdout)


class TestInstallWithCluster(HelmCase):
    """`helm install --dry-run=server` against a stand-in kube-apiserver: the chart reads nothing
    from the cluster (no lookup: the front-proxy settings are zoneproof's to read), so a cluster
    whose extension-apiserver-authentication is missing or unreadable to the installer installs
    all the same; pinned values are rendered as given; the notes print the solver stanza."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="zp-chart-install-")
        cls.pki = pki.make_pki(os.path.join(cls.tmp, "pki"))
        with open(pki.path(cls.pki, "proxy-ca.crt")) as f:
            cls.cluster_ca = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def install(self, configmaps, *args):
        api = fakekube.FakeKube(pki.path(self.pki, "serving.crt"),
                                pki.path(self.pki, "serving.key"), configmaps=configmaps)
        self.addCleanup(api.stop)
        kubeconfig = api.kubeconfig(os.path.join(self.tmp, "kubeconfig-%d" % api.port),
                                    pki.path(self.pki, "serving-ca.crt"))
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "helm.sh"), "install", RELEASE,
                            CHART, "--namespace", NAMESPACE, "--dry-run=server",
                            "--disable-openapi-validation", "-o", "json"] + list(args),
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, KUBECONFIG=kubeconfig))
        self.assertEqual([m for m, _ in api.requests if m != "GET"], [])
        return r, api

    def cluster(self, names='["front-proxy-client"]'):
        return {("kube-system", "extension-apiserver-authentication"): {
            "client-ca-file": "unused", "requestheader-client-ca-file": self.cluster_ca,
            "requestheader-allowed-names": names,
            "requestheader-username-headers": '["X-Remote-User"]'}}

    def test_default_reads_nothing_from_the_cluster(self):
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        for configmaps in (self.cluster('["front-proxy-client","aggregator"]'), {}):
            with self.subTest(cluster_has_front_proxy_ca=bool(configmaps)):
                r, api = self.install(configmaps, "-f", minimal)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual([p for _, p in api.requests
                                  if "extension-apiserver-authentication" in p], [])
                rel = json.loads(r.stdout)
                docs = chartcheck.load_yaml_all(rel["manifest"])
                self.assertEqual(chartcheck.check(
                    docs, chartcheck.chart_values(CHART, minimal), NAMESPACE), [])
                rendered = chartcheck.Rendered(docs)
                self.assertIsNone(rendered.get("ConfigMap", RELEASE + "-zoneproof-requestheader"))
                args = chartcheck.main_container(rendered.one("Deployment"))["args"]
                self.assertEqual([a for a in args if a.startswith(REQUESTHEADER_FLAGS)], [])
                notes = rel["info"]["notes"]
                self.assertIn("groupName: acme.example.com", notes)
                self.assertIn("solverName: zoneproof", notes)
                self.assertIn("- example.com", notes)
                self.assertNotIn("NOTE:", notes)

    def test_pinned_values_are_rendered_as_given(self):
        r, _ = self.install(self.cluster(), "-f", os.path.join(VALUES_DIR, "full.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr)
        rel = json.loads(r.stdout)
        rendered = chartcheck.Rendered(chartcheck.load_yaml_all(rel["manifest"]))
        ca = rendered.one("ConfigMap", "dns-solver-requestheader")["data"]["ca.crt"]
        self.assertEqual(ca.strip(), read_values(os.path.join(VALUES_DIR, "full.yaml"))[
            "requestHeader"]["clientCA"].strip())
        self.assertNotEqual(ca.strip(), self.cluster_ca.strip())
        args = chartcheck.main_container(rendered.one("Deployment"))["args"]
        self.assertIn("--requestheader-client-ca-file=/etc/front-proxy/ca.crt", args)
        self.assertIn("--requestheader-allowed-names=front-proxy-client,aggregator", args)
        notes = rel["info"]["notes"]
        self.assertIn("groupName: acme.corp.example", notes)
        self.assertIn("solverName: corp-dns", notes)
        self.assertIn("zoneproof may read these Secrets and no others", notes)
        self.assertIn("web: web-dns-token", notes)
        self.assertIn("NOTE: the front-proxy CA is pinned by requestHeader.clientCA", notes)


class TestExamples(HelmCase):
    """deploy/examples: valid YAML, and Issuers that match the example values."""

    def load(self, name):
        with open(os.path.join(EXAMPLES, name)) as f:
            return [d for d in chartcheck.load_yaml_all(f.read()) if d]

    def test_examples_are_yaml_objects(self):
        for name in sorted(os.listdir(EXAMPLES)):
            if not name.endswith(".yaml"):
                continue
            with self.subTest(file=name):
                docs = self.load(name)
                self.assertTrue(docs)
                if not name.startswith("values-"):
                    for d in docs:
                        self.assertIn("apiVersion", d)
                        self.assertIn("kind", d)
                        self.assertIn("name", d["metadata"])

    def test_issuers_match_the_chart(self):
        values_path = os.path.join(EXAMPLES, "values-example.yaml")
        values = chartcheck.chart_values(CHART, values_path)
        rendered = chartcheck.Rendered(render("-f", values_path))
        group = rendered.one("APIService")["spec"]["group"]
        cfg = chartcheck.load_yaml(config_text(rendered.objs))
        zones = {z: p["name"] for p in cfg["providers"] for z in p["dnsZones"]}
        issuers = {}
        for name in ("clusterissuer.yaml", "issuer.yaml"):
            for d in self.load(name):
                issuers[(d["kind"], d["metadata"]["name"])] = d
                solvers = d["spec"]["acme"]["solvers"]
                selected = set()
                for s in solvers:
                    hook = s["dns01"]["webhook"]
                    self.assertEqual(hook["groupName"], group)
                    self.assertEqual(hook["solverName"], values["solverName"])
                    for z in s["selector"]["dnsZones"]:
                        self.assertIn(z, zones,
                                      "%s selects %s, which no provider holds" % (name, z))
                        provider = (hook.get("config") or {}).get("provider")
                        if provider:
                            self.assertEqual(provider, zones[z])
                        # The instance must let this issuer's challenges in (docs/security.md).
                        ns = (d["metadata"]["namespace"] if d["kind"] == "Issuer"
                              else cfg["clusterResourceNamespace"])
                        inst = next(p for p in cfg["providers"] if p["name"] == zones[z])
                        allowed = inst.get("namespaces", [cfg["clusterResourceNamespace"]])
                        self.assertTrue("*" in allowed or ns in allowed,
                                        "%s: namespace %s may not use %s" % (name, ns, zones[z]))
                        selected.add(z)
                self.assertEqual(len(selected), 2, "%s: selectors for two providers" % name)
        cert = self.load("certificate.yaml")[0]
        ref = cert["spec"]["issuerRef"]
        self.assertIn((ref["kind"], ref["name"]), issuers)
        self.assertEqual(sorted(cert["spec"]["dnsNames"]), ["*.example.com", "example.com"])


def promtool(*args):
    """Runs promtool (Debian's prometheus package, which scripts/setup.sh installs)."""
    exe = shutil.which("promtool") or ("/usr/bin/promtool"
                                      if os.access("/usr/bin/promtool", os.X_OK) else None)
    if exe is None:
        raise AssertionError("promtool is missing: the alert tests need it. Install Debian's "
                             "prometheus package (bash scripts/setup.sh, or apt-get install "
                             "prometheus)")
    return subprocess.run([exe] + list(args), capture_output=True, text=True, timeout=300)


class TestObservability(HelmCase):
    """The metrics listener, the ServiceMonitor and the PrometheusRule as rendered, and the alerts
    of files/alerts.yaml under promtool."""

    OBS_VALUES = ["--set", "metrics.port=9090", "--set", "metrics.statusPage=true",
                  "--set", "serviceMonitor.enabled=true",
                  "--set", "serviceMonitor.labels.release=prometheus",
                  "--set", "prometheusRule.enabled=true",
                  "--set", "prometheusRule.labels.release=prometheus",
                  "--set", "networkPolicy.enabled=true",
                  "--set", "networkPolicy.ingress.metricsFrom[0].namespaceSelector.matchLabels"
                           ".kubernetes\\.io/metadata\\.name=monitoring"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = promtool("--version")
        if r.returncode != 0:
            raise RuntimeError("promtool does not run:\n" + r.stdout + r.stderr)

    def alerts(self):
        with open(ALERTS) as f:
            return [rule for g in chartcheck.load_yaml(f.read())["groups"] for rule in g["rules"]
                    if "alert" in rule]

    # --- promtool ---

    def test_promtool_checks_the_rules(self):
        r = promtool("check", "rules", ALERTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_promtool_unit_tests_pass(self):
        r = promtool("test", "rules", ALERT_TESTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout + r.stderr)

    def test_every_alert_is_tested_firing(self):
        with open(ALERT_TESTS) as f:
            tests = chartcheck.load_yaml(f.read())
        fired = {t["alertname"] for group in tests["tests"]
                 for t in group.get("alert_rule_test", []) if t.get("exp_alerts")}
        self.assertEqual(fired, {a["alert"] for a in self.alerts()})

    def run_unit_tests(self, alerts_text):
        """promtool test rules with tests/chart/alerts_test.yaml against another rules file."""
        tmp = tempfile.mkdtemp(prefix="zp-chart-alerts-")
        self.addCleanup(shutil.rmtree, tmp, True)
        rules = os.path.join(tmp, "alerts.yaml")
        with open(rules, "w") as f:
            f.write(alerts_text)
        with open(ALERT_TESTS) as f:
            tests = chartcheck.load_yaml(f.read())
        tests["rule_files"] = [rules]
        path = os.path.join(tmp, "alerts_test.yaml")
        with open(path, "w") as f:
            json.dump(tests, f)  # JSON is YAML
        return promtool("test", "rules", path)

    def test_unit_tests_catch_each_fault(self):
        """Each near miss of alerts_test.yaml matters: a threshold, a floor, a `for` or a window
        moved, planted in a copy of files/alerts.yaml, makes promtool's tests fail."""
        with open(ALERTS) as f:
            text = f.read()
        self.assertEqual(self.run_unit_tests(text).returncode, 0)
        faults = [
            ("ZoneproofChallengesFailing", "expr", ") > 0.5", ") > 0.3"),    # 40% would fire
            ("ZoneproofChallengesFailing", "expr", ">= 5", ">= 1"),          # no volume floor
            ("ZoneproofChallengesFailing", "for", "15m", "5m"),
            ("ZoneproofNameserverLagging", "expr", ") > 0.5", ") > 0.3"),
            ("ZoneproofProviderRateLimited", "for", "30m", "10m"),           # a burst that stopped
            ("ZoneproofServingCertificateExpiring", "expr", "14 *", "16 *"),  # 15 days would fire
            ("ZoneproofFrontProxyCAExpiring", "expr", "14 *", "16 *"),
            # The success series at 0 taken for a success: nothing would fire.
            ("ZoneproofNoSuccessfulPresent", "expr",
             'outcome="success"}[6h])) > 0', 'outcome="success"}[6h]))'),
            ("ZoneproofNoSuccessfulPresent", "expr",
             'outcome="success"}[6h]', 'outcome="success"}[4h]'),           # success 5h ago
        ]
        for alert, key, old, new in faults:
            with self.subTest(alert=alert, fault="%s: %s -> %s" % (key, old, new)):
                doc = chartcheck.load_yaml(text)
                rule = next(r for g in doc["groups"] for r in g["rules"]
                            if r.get("alert") == alert)
                self.assertIn(old, rule[key])
                rule[key] = rule[key].replace(old, new)
                r = self.run_unit_tests(json.dumps(doc))
                self.assertNotEqual(r.returncode, 0, "the tests missed it:\n" + r.stdout)

    def test_alerts_are_documented(self):
        """Every alert has `for`, a severity, a summary, a description and a runbook_url whose
        anchor is a section of docs/observability.md; every metric an alert reads is described
        there."""
        with open(OBSERVABILITY_DOC) as f:
            doc = f.read()
        anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
                   for h in re.findall(r"(?m)^#+ (.*)$", doc)}
        for a in self.alerts():
            with self.subTest(alert=a["alert"]):
                self.assertTrue(a.get("for"))
                self.assertIn(a["labels"]["severity"], ("warning", "critical"))
                ann = a["annotations"]
                self.assertTrue(ann["summary"] and ann["description"])
                page, _, anchor = ann["runbook_url"].partition("#")
                self.assertEqual(page, "docs/observability.md")
                self.assertEqual(anchor, a["alert"].lower())
                self.assertIn(anchor, anchors)
                for metric in re.findall(r"\bzoneproof_[a-z_]+", a["expr"]):
                    self.assertIn("`%s`" % metric, doc)

    # --- helm template ---

    def test_monitoring_objects_render(self):
        """serviceMonitor and prometheusRule on: a ServiceMonitor on port metrics over http, a
        PrometheusRule whose groups are files/alerts.yaml's own, both with their labels."""
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        docs = render("-f", minimal, *self.OBS_VALUES)
        r = chartcheck.Rendered(docs)
        values = chartcheck.chart_values(CHART, minimal)
        values["metrics"].update(port=9090, statusPage=True)
        values["serviceMonitor"].update(enabled=True, labels={"release": "prometheus"})
        values["prometheusRule"].update(enabled=True, labels={"release": "prometheus"})
        values["networkPolicy"]["enabled"] = True
        self.assertEqual(chartcheck.check(docs, values, NAMESPACE, chart_dir=CHART), [])

        sm = r.one("ServiceMonitor")
        self.assertEqual(sm["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(sm["metadata"]["labels"]["release"], "prometheus")
        self.assertEqual(sm["spec"]["endpoints"], [{
            "port": "metrics", "scheme": "http", "path": "/metrics", "interval": "60s",
            "scrapeTimeout": "10s"}])
        self.assertIn({"name": "metrics", "port": 9090, "targetPort": "metrics",
                       "protocol": "TCP"}, r.one("Service")["spec"]["ports"])

        pr = r.one("PrometheusRule")
        self.assertEqual(pr["apiVersion"], "monitoring.coreos.com/v1")
        self.assertEqual(pr["metadata"]["labels"]["release"], "prometheus")
        self.assertEqual(pr["metadata"]["namespace"], NAMESPACE)
        with open(ALERTS) as f:
            self.assertEqual(pr["spec"], {"groups": chartcheck.load_yaml(f.read())["groups"]})
        # Prometheus' own templates reach the object untouched by Helm's.
        self.assertIn("{{ $labels.provider }}", json.dumps(pr))

        args = chartcheck.main_container(r.one("Deployment"))["args"]
        self.assertIn("--metrics-bind-address=:9090", args)
        self.assertIn("--status-page", args)
        ingress = r.one("NetworkPolicy")["spec"]["ingress"]
        self.assertIn({"ports": [{"port": 9090, "protocol": "TCP"}], "from": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]},
            ingress)

    def test_runbook_base_url(self):
        """prometheusRule.runbookBaseURL changes the runbook links and nothing else."""
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        base = "https://docs.example.com/zoneproof/observability.html"
        pr = chartcheck.Rendered(render("-f", minimal, "--set", "prometheusRule.enabled=true",
                                        "--set", "prometheusRule.runbookBaseURL=" + base)
                                 ).one("PrometheusRule")
        self.assertEqual(pr["spec"]["groups"], chartcheck.alert_groups(CHART, base))
        urls = [rule["annotations"]["runbook_url"] for g in pr["spec"]["groups"]
                for rule in g["rules"]]
        self.assertEqual(urls, [base + "#" + a["alert"].lower() for a in self.alerts()])

    def test_metrics_off(self):
        """metrics.enabled=false: no metrics flag, port or NetworkPolicy rule at all."""
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        docs = render("-f", minimal, "--set", "metrics.enabled=false",
                      "--set", "networkPolicy.enabled=true")
        r = chartcheck.Rendered(docs)
        values = chartcheck.chart_values(CHART, minimal)
        values["metrics"]["enabled"] = False
        values["networkPolicy"]["enabled"] = True
        self.assertEqual(chartcheck.check(docs, values, NAMESPACE, chart_dir=CHART), [])
        c = chartcheck.main_container(r.one("Deployment"))
        self.assertEqual([a for a in c["args"] if "metrics" in a or "status" in a], [])
        self.assertEqual([p["name"] for p in c["ports"]], ["https"])
        self.assertEqual([p["name"] for p in r.one("Service")["spec"]["ports"]], ["https"])
        self.assertEqual([p["port"] for rule in r.one("NetworkPolicy")["spec"]["ingress"]
                          for p in rule["ports"]], [8443])
        self.assertEqual(r.all("ServiceMonitor") + r.all("PrometheusRule"), [])

    def test_metrics_on_by_default(self):
        r = chartcheck.Rendered(render("-f", os.path.join(VALUES_DIR, "minimal.yaml")))
        c = chartcheck.main_container(r.one("Deployment"))
        self.assertIn("--metrics-bind-address=:8080", c["args"])
        self.assertNotIn("--status-page", c["args"])
        self.assertIn({"name": "metrics", "containerPort": 8080, "protocol": "TCP"}, c["ports"])
        self.assertEqual(r.all("ServiceMonitor") + r.all("PrometheusRule"), [])

    def test_lint_with_everything_on(self):
        r = helm("lint", "--strict", CHART, "-f", os.path.join(VALUES_DIR, "full.yaml"),
                 *self.OBS_VALUES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_values_that_cannot_work_are_refused(self):
        minimal = os.path.join(VALUES_DIR, "minimal.yaml")
        cases = [
            (["metrics.port=8443"], "metrics.port is 8443, the webhook's HTTPS port"),
            (["metrics.port=443"], "metrics.port and service.port are both 443"),
            (["metrics.enabled=false", "serviceMonitor.enabled=true"],
             "serviceMonitor.enabled needs metrics.enabled"),
            (["metrics.enabled=false", "prometheusRule.enabled=true"],
             "prometheusRule.enabled needs metrics.enabled"),
            (["metrics.enabled=false", "metrics.statusPage=true"],
             "metrics.statusPage needs metrics.enabled"),
            (["metrics.path=/m"], "Additional property path is not allowed"),
            (["metrics.port=0"], "metrics.port"),
            (["prometheusRule.runbookBaseURL=docs/observability.md"], "runbookBaseURL"),
        ]
        for sets, expect in cases:
            with self.subTest(values=sets):
                args = ["template", RELEASE, CHART, "-f", minimal]
                for x in sets:
                    args += ["--set", x]
                r = helm(*args)
                self.assertNotEqual(r.returncode, 0, "accepted:\n" + r.stdout[:2000])
                self.assertIn(expect, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)

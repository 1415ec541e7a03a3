"""chartcheck — checks on the objects the zoneproof chart renders.

    python3 tests/chart/chartcheck.py CHART_DIR VALUES.yaml RENDERED.yaml [NAMESPACE]

prints every problem found and exits 1 when there is one. `check(docs, values, namespace)`
returns the same list for tests. What is checked is what breaks an install, or widens what
zoneproof may do, without any error at `helm install` time:

- the APIService, Service, serving Certificate and cert-manager.io/inject-ca-from name one
  another, the Certificate covers the Service's names, and the PKI chain is whole;
- the API group is the same in the APIService, the ClusterRole, GROUP_NAME and config.yaml, and
  the solver name in the ClusterRole and config.yaml;
- RBAC subjects are the ServiceAccount the pods run as and cert-manager's, as in the values;
- no Secret access unless secretRef.enabled, and then only `get` on the listed names, one Role
  per namespace; no flowcontrol rules, no wildcards;
- the pods meet Pod Security "restricted", have resources, run the standard flags, probe over
  HTTPS, and mount each credential Secret read-only where config.yaml's *File settings point;
- the front-proxy CA: with requestHeader.clientCA or .existingConfigMap, mounted from that
  ConfigMap and passed as --requestheader-client-ca-file; otherwise no such flag, no CA ConfigMap
  and the service account token mounted, so zoneproof reads (and follows) the cluster's own;
  --requestheader-allowed-names only as the values ask;
- a NetworkPolicy lets zoneproof reach DNS, the providers and kube-apiserver, and lets in only
  port 8443 and, with metrics on, the metrics port;
- metrics: with metrics.enabled, --metrics-bind-address=:<metrics.port>, a container port and a
  Service port named metrics (never 8443), --status-page only with metrics.statusPage; with it
  off, none of them; a ServiceMonitor scrapes port metrics over plain HTTP; a PrometheusRule
  holds files/alerts.yaml's groups as they are (with CHART_DIR), every alert with `for`, a
  severity, a summary, a description and a runbook_url.
"""
import json
import os
import re
import shutil
import subprocess
import sys

SECRETS_DIR = "/run/secrets/zoneproof"
STANDARD_ARGS = ["--secure-port=8443", "--tls-cert-file=/tls/tls.crt",
                 "--tls-private-key-file=/tls/tls.key", "--config=/etc/zoneproof/config.yaml"]
CONVERT = ("import json, sys, yaml\n"
           "json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)\n")


def load_yaml_all(text):
    """Every document of a YAML stream, as Python objects (None for empty documents).

    Uses PyYAML when this Python has it, else Debian's python3-yaml through /usr/bin/python3
    (scripts/setup.sh installs it).
    """
    try:
        import yaml  # noqa: PLC0415
        return list(yaml.safe_load_all(text))
    except ImportError:
        pass
    for py in ("/usr/bin/python3", shutil.which("python3")):
        if not py or not os.access(py, os.X_OK):
            continue
        r = subprocess.run([py, "-c", CONVERT], input=text, capture_output=True, text=True)
        if r.returncode == 0:
            return json.loads(r.stdout)
    raise RuntimeError("no YAML parser: install Debian's python3-yaml (bash scripts/setup.sh)")


def load_yaml(text):
    docs = load_yaml_all(text)
    return docs[0] if docs else None


def merge(base, over):
    """Values merged the way Helm merges a values file over the chart's defaults."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(base.get(k), v)
    return out


def chart_values(chart_dir, *files):
    """The chart's values.yaml with each values file merged over it, in order."""
    with open(os.path.join(chart_dir, "values.yaml")) as f:
        values = load_yaml(f.read()) or {}
    for path in files:
        with open(path) as f:
            values = merge(values, load_yaml(f.read()) or {})
    return values


def objects(docs):
    return [d for d in docs if isinstance(d, dict) and d.get("kind")]


class Rendered:
    """The rendered objects, found by kind and name."""

    def __init__(self, docs):
        self.objs = objects(docs)

    def all(self, kind):
        return [o for o in self.objs if o["kind"] == kind]

    def one(self, kind, name=None, namespace=None):
        found = [o for o in self.all(kind)
                 if (name is None or o["metadata"]["name"] == name)
                 and (namespace is None or o["metadata"].get("namespace") == namespace)]
        if len(found) != 1:
            raise AssertionError("expected one %s%s, found %d" % (
                kind, " " + name if name else "", len(found)))
        return found[0]

    def get(self, kind, name, namespace=None):
        for o in self.all(kind):
            if o["metadata"]["name"] == name and \
                    (namespace is None or o["metadata"].get("namespace") == namespace):
                return o
        return None


def main_container(dep):
    cs = dep["spec"]["template"]["spec"]["containers"]
    return next(c for c in cs if c["name"] == "zoneproof")


def arg_value(args, flag):
    for a in args:
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def mount_for(container, pod_spec, path):
    """(volumeMount, volume) whose mountPath holds path, the deepest one."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                best = m
    if best is None:
        return None, None
    vol = next((v for v in pod_spec.get("volumes", []) if v["name"] == best["name"]), None)
    return best, vol


def config_of(r, dep):
    """zoneproof's configuration as the pods read it."""
    c = main_container(dep)
    path = arg_value(c["args"], "--config")
    m, vol = mount_for(c, dep["spec"]["template"]["spec"], path)
    assert vol and "configMap" in vol, "--config %s is not in a ConfigMap volume" % path
    cm = r.get("ConfigMap", vol["configMap"]["name"])
    assert cm, "ConfigMap %s (mounted for --config) is not rendered" % vol["configMap"]["name"]
    key = os.path.relpath(path, m["mountPath"])
    items = {i["path"]: i["key"] for i in vol["configMap"].get("items", [])}
    return load_yaml(cm["data"][items.get(key, key)])


def check_restricted(pod_spec, what, problems):
    psc = pod_spec.get("securityContext") or {}
    if pod_spec.get("hostNetwork") or pod_spec.get("hostPID") or pod_spec.get("hostIPC"):
        problems.append("%s: uses host namespaces" % what)
    for v in pod_spec.get("volumes", []):
        if "hostPath" in v:
            problems.append("%s: hostPath volume %s" % (what, v["name"]))
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("%s: pod seccompProfile is not RuntimeDefault" % what)
    for c in pod_spec.get("initContainers", []) + pod_spec["containers"]:
        sc = c.get("securityContext") or {}
        where = "%s container %s" % (what, c["name"])
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append("%s: allowPrivilegeEscalation is not false" % where)
        if sc.get("privileged"):
            problems.append("%s: privileged" % where)
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append("%s: readOnlyRootFilesystem is not true" % where)
        if sc.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append("%s: capabilities.drop is not [ALL]" % where)
        if sc.get("capabilities", {}).get("add"):
            problems.append("%s: adds capabilities" % where)
        if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
            problems.append("%s: runAsNonRoot is not true" % where)
        uid = sc.get("runAsUser", psc.get("runAsUser"))
        if uid != 65532:
            problems.append("%s: runAsUser is %s, not 65532" % (where, uid))
        prof = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if prof != "RuntimeDefault":
            problems.append("%s: seccompProfile is %s" % (where, prof))
        req = c.get("resources", {}).get("requests", {})
        if not req.get("cpu") or not req.get("memory"):
            problems.append("%s: no cpu and memory requests" % where)


def rules_of(obj):
    return obj.get("rules") or []


def alert_groups(chart_dir, runbook_base=None):
    """The groups of the chart's files/alerts.yaml, as the PrometheusRule should hold them: with
    each runbook_url's page replaced by runbook_base when it is given."""
    with open(os.path.join(chart_dir, "files", "alerts.yaml")) as f:
        groups = (load_yaml(f.read()) or {}).get("groups") or []
    if runbook_base:
        for g in groups:
            for rule in g.get("rules") or []:
                ann = rule.get("annotations") or {}
                if "runbook_url" in ann:
                    ann["runbook_url"] = re.sub(r"^[^#]*", runbook_base.rstrip("/"),
                                                ann["runbook_url"])
    return groups


def check(docs, values, namespace, chart_dir=None):
    """Every problem with the rendered objects, as sentences. With chart_dir, a PrometheusRule is
    also compared with the chart's files/alerts.yaml."""
    problems = []
    r = Rendered(docs)
    group = values["groupName"]
    solver = values.get("solverName", "zoneproof")
    cm_values = values.get("certManager", {})
    cm_ns = cm_values.get("namespace", "cert-manager")
    cm_sa = cm_values.get("serviceAccountName", "cert-manager")

    try:
        api = r.one("APIService")
        svc = r.one("Service")
        dep = r.one("Deployment")
    except AssertionError as e:
        return [str(e)]
    fullname = svc["metadata"]["name"]
    pod = dep["spec"]["template"]["spec"]
    c = main_container(dep)

    # --- every object: labels, namespace, a name derived from the fullname ---
    for o in r.objs:
        md = o["metadata"]
        labels = md.get("labels") or {}
        what = "%s %s" % (o["kind"], md["name"])
        for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                    "app.kubernetes.io/managed-by"):
            if key not in labels:
                problems.append("%s: no label %s" % (what, key))
        sa_values = values.get("serviceAccount") or {}
        named_sa = o["kind"] == "ServiceAccount" and sa_values.get("name")
        if o["kind"] == "APIService" or named_sa:
            continue
        if not md["name"].startswith(fullname):
            problems.append("%s: name is not derived from the fullname %s" % (what, fullname))
        cluster_scoped = o["kind"] in ("ClusterRole", "ClusterRoleBinding")
        if cluster_scoped and md.get("namespace"):
            problems.append("%s: cluster-scoped object with a namespace" % what)
        if not cluster_scoped and not md.get("namespace"):
            problems.append("%s: no namespace" % what)
        if o["kind"] not in ("Role", "RoleBinding") and not cluster_scoped and \
                md.get("namespace") != namespace:
            problems.append("%s: in namespace %s, not the release's %s"
                            % (what, md.get("namespace"), namespace))

    # --- APIService -> Service -> pods; inject-ca-from -> Certificate -> Secret mounted ---
    if api["metadata"]["name"] != "v1alpha1." + group:
        problems.append("APIService is named %s, not v1alpha1.%s"
                        % (api["metadata"]["name"], group))
    spec = api["spec"]
    if spec.get("group") != group or spec.get("version") != "v1alpha1":
        problems.append("APIService serves %s/%s, not %s/v1alpha1"
                        % (spec.get("group"), spec.get("version"), group))
    if spec.get("insecureSkipTLSVerify"):
        problems.append("APIService skips TLS verification")
    if spec.get("service", {}).get("name") != fullname or \
            spec.get("service", {}).get("namespace") != namespace:
        problems.append("APIService points at Service %s/%s, not %s/%s" % (
            spec.get("service", {}).get("namespace"), spec.get("service", {}).get("name"),
            namespace, fullname))
    svc_ports = {p["port"]: p for p in svc["spec"]["ports"]}
    api_port = spec.get("service", {}).get("port", 443)
    if api_port not in svc_ports:
        problems.append("APIService port %s is not a port of Service %s" % (api_port, fullname))
    else:
        target = svc_ports[api_port].get("targetPort")
        cports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if cports.get(target, target) != 8443:
            problems.append("Service port %s goes to %s, not the container's 8443"
                            % (api_port, target))
    sel = svc["spec"].get("selector") or {}
    tpl_labels = dep["spec"]["template"]["metadata"]["labels"]
    if not sel or any(tpl_labels.get(k) != v for k, v in sel.items()):
        problems.append("Service selector %s does not select the pods %s" % (sel, tpl_labels))
    if any(tpl_labels.get(k) != v for k, v in dep["spec"]["selector"]["matchLabels"].items()):
        problems.append("Deployment selector does not match its pod template")
    for other in r.all("Pod"):
        ol = other["metadata"].get("labels") or {}
        if all(ol.get(k) == v for k, v in sel.items()):
            problems.append("Service %s also selects pod %s"
                            % (fullname, other["metadata"]["name"]))

    inject = (api["metadata"].get("annotations") or {}).get("cert-manager.io/inject-ca-from", "")
    ns_name = inject.split("/", 1)
    cert = r.get("Certificate", ns_name[-1], ns_name[0]) if len(ns_name) == 2 else None
    if cert is None:
        problems.append("inject-ca-from %r names no rendered Certificate" % inject)
    else:
        want = {fullname, "%s.%s" % (fullname, namespace), "%s.%s.svc" % (fullname, namespace)}
        missing = want - set(cert["spec"].get("dnsNames", []))
        if missing:
            problems.append("Certificate %s lacks the Service's names %s"
                            % (cert["metadata"]["name"], sorted(missing)))
        tls_args = (arg_value(c["args"], "--tls-cert-file"),
                    arg_value(c["args"], "--tls-private-key-file"))
        for path in tls_args:
            m, vol = mount_for(c, pod, path or "")
            if not vol or vol.get("secret", {}).get("secretName") != cert["spec"]["secretName"]:
                problems.append("%s is not from Secret %s of Certificate %s"
                                % (path, cert["spec"]["secretName"], cert["metadata"]["name"]))
        # serving Certificate <- CA Issuer <- CA Certificate <- self-signed Issuer
        ca_issuer = r.get("Issuer", cert["spec"]["issuerRef"]["name"], namespace)
        if cert["spec"]["issuerRef"].get("kind", "Issuer") != "Issuer" or not ca_issuer or \
                "ca" not in ca_issuer["spec"]:
            problems.append("serving Certificate is not issued by the chart's CA Issuer")
        else:
            ca_secret = ca_issuer["spec"]["ca"]["secretName"]
            ca_cert = next((x for x in r.all("Certificate")
                            if x["spec"]["secretName"] == ca_secret), None)
            if not ca_cert or not ca_cert["spec"].get("isCA"):
                problems.append("CA Issuer %s has no isCA Certificate behind its Secret"
                                % ca_issuer["metadata"]["name"])
            else:
                root = r.get("Issuer", ca_cert["spec"]["issuerRef"]["name"], namespace)
                if not root or "selfSigned" not in root["spec"]:
                    problems.append("CA Certificate is not issued by a self-signed Issuer")

    # --- the group and solver names agree everywhere ---
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    if env.get("GROUP_NAME") != group:
        problems.append("GROUP_NAME is %r, not %r" % (env.get("GROUP_NAME"), group))
    try:
        cfg = config_of(r, dep)
    except AssertionError as e:
        problems.append(str(e))
        cfg = {}
    if cfg.get("groupName") != group:
        problems.append("config.yaml groupName is %r, not %r" % (cfg.get("groupName"), group))
    if cfg.get("solverName", "zoneproof") != solver:
        problems.append("config.yaml solverName is %r, not %r" % (cfg.get("solverName"), solver))

    # --- flags and probes ---
    args = c.get("args", [])
    if not args or args[0] != "serve":
        problems.append("container does not run `serve`: %s" % args)
    for a in STANDARD_ARGS:
        if a not in args:
            problems.append("flag %s missing: %s" % (a, args))
    # The front-proxy CA: pinned by the values (mounted, passed as a flag), or else read by
    # zoneproof from kube-system/extension-apiserver-authentication, which needs no flag at all
    # (any --requestheader-client-ca-file would stop it following the cluster) and the token.
    rh = values.get("requestHeader") or {}
    ca_file = arg_value(args, "--requestheader-client-ca-file")
    if rh.get("clientCA") or rh.get("existingConfigMap"):
        if not ca_file:
            problems.append("requestHeader pins the front-proxy CA but there is no "
                            "--requestheader-client-ca-file: the pinned CA is ignored")
        else:
            m, vol = mount_for(c, pod, ca_file)
            want_cm = rh.get("existingConfigMap") or fullname + "-requestheader"
            if not vol or vol.get("configMap", {}).get("name") != want_cm:
                problems.append("%s is not mounted from ConfigMap %s" % (ca_file, want_cm))
            if rh.get("clientCA") and not rh.get("existingConfigMap"):
                cm = r.get("ConfigMap", want_cm, namespace)
                if not cm or (cm.get("data") or {}).get("ca.crt", "").strip() != \
                        rh["clientCA"].strip():
                    problems.append("ConfigMap %s does not hold requestHeader.clientCA" % want_cm)
    else:
        if ca_file:
            problems.append("--requestheader-client-ca-file without requestHeader.clientCA or "
                            ".existingConfigMap: zoneproof would not read the cluster's CA")
        if r.get("ConfigMap", fullname + "-requestheader", namespace):
            problems.append("ConfigMap %s-requestheader rendered without a pinned CA" % fullname)
        if pod.get("automountServiceAccountToken") is False:
            problems.append("the service account token is not mounted: zoneproof cannot read the "
                            "front-proxy CA from the cluster and would refuse every call")
    want_names = ",".join(rh.get("allowedNames") or [])
    got_names = arg_value(args, "--requestheader-allowed-names") or ""
    if got_names != want_names:
        problems.append("--requestheader-allowed-names is %r, values ask for %r"
                        % (got_names, want_names))
    for a in args:
        flag = a.partition("=")[0]
        if flag.startswith("--requestheader-") and flag not in (
                "--requestheader-client-ca-file", "--requestheader-allowed-names"):
            problems.append("unexpected %s: the cluster's setting would be overridden" % flag)
    # --- metrics: a plain-HTTP listener of their own, only when asked for ---
    m_values = values.get("metrics") or {}
    m_on = bool(m_values.get("enabled"))
    m_port = m_values.get("port", 8080)
    binds = [a for a in args if a.partition("=")[0] == "--metrics-bind-address"]
    c_metrics = [p for p in c.get("ports", []) if p.get("name") == "metrics"]
    s_metrics = [p for p in svc["spec"]["ports"] if p.get("name") == "metrics"]
    if m_on:
        if binds != ["--metrics-bind-address=:%s" % m_port]:
            problems.append("metrics.enabled, but the flags hold %s, not --metrics-bind-address=:%s"
                            % (binds, m_port))
        if m_port == 8443:
            problems.append("the metrics port is 8443, the webhook's HTTPS port")
        if len(c_metrics) != 1 or c_metrics[0].get("containerPort") != m_port:
            problems.append("no container port metrics %s: %s" % (m_port, c.get("ports")))
        if len(s_metrics) != 1 or s_metrics[0].get("targetPort") not in ("metrics", m_port):
            problems.append("Service %s has no port metrics to the container's metrics port: %s"
                            % (fullname, svc["spec"]["ports"]))
    elif binds or c_metrics or s_metrics:
        problems.append("metrics.enabled is false, yet %s" % "; ".join(
            x for x in ("flag %s" % binds if binds else "",
                        "container port metrics" if c_metrics else "",
                        "Service port metrics" if s_metrics else "") if x))
    want_status = m_on and bool(m_values.get("statusPage"))
    if ("--status-page" in args) != want_status:
        problems.append("--status-page %s, but metrics.enabled and metrics.statusPage say %s"
                        % ("passed" if "--status-page" in args else "missing", want_status))

    for probe, paths in (("livenessProbe", ("/healthz", "/livez")),
                         ("readinessProbe", ("/readyz", "/healthz"))):
        hg = (c.get(probe) or {}).get("httpGet") or {}
        if hg.get("scheme") != "HTTPS" or hg.get("path") not in paths or \
                hg.get("port") not in ("https", 8443):
            problems.append("%s is not an HTTPS GET of %s on 8443: %s" % (probe, paths, hg))

    # --- Pod Security restricted, for the solver and the test pod ---
    check_restricted(pod, "Deployment %s" % fullname, problems)
    for p in r.all("Pod"):
        check_restricted(p["spec"], "Pod %s" % p["metadata"]["name"], problems)

    # --- credentials: each Secret mounted read-only where its *File settings point ---
    by_name = {p["name"]: p for p in cfg.get("providers", []) or []}
    for p in values.get("providers", []):
        entry = by_name.get(p["name"])
        if entry is None:
            problems.append("provider %s is not in config.yaml" % p["name"])
            continue
        for k in ("type", "dnsZones"):
            if entry.get(k) != p.get(k):
                problems.append("provider %s: config.yaml %s is %r, not %r"
                                % (p["name"], k, entry.get(k), p.get(k)))
        for k, v in (p.get("settings") or {}).items():
            if entry.get(k) != v:
                problems.append("provider %s: config.yaml %s is %r, not %r"
                                % (p["name"], k, entry.get(k), v))
        cred = p.get("credentials")
        if not cred:
            continue
        for setting, key in cred["files"].items():
            path = entry.get(setting)
            want = "%s/%s/%s" % (SECRETS_DIR, p["name"], key)
            if path != want:
                problems.append("provider %s: %s is %r, not %r" % (p["name"], setting, path, want))
                continue
            m, vol = mount_for(c, pod, path)
            if not vol or vol.get("secret", {}).get("secretName") != cred["secretName"]:
                problems.append("provider %s: %s is not in a volume of Secret %s"
                                % (p["name"], path, cred["secretName"]))
                continue
            if not m.get("readOnly"):
                problems.append("provider %s: Secret %s is mounted writable"
                                % (p["name"], cred["secretName"]))
            items = {i["path"]: i["key"] for i in vol["secret"].get("items", [])}
            rel = os.path.relpath(path, m["mountPath"])
            if items and items.get(rel) != key:
                problems.append("provider %s: key %s of Secret %s is not projected at %s"
                                % (p["name"], key, cred["secretName"], path))

    # --- RBAC ---
    sa_name = pod.get("serviceAccountName")
    me = {"kind": "ServiceAccount", "name": sa_name, "namespace": namespace}
    cm_subject = {"kind": "ServiceAccount", "name": cm_sa, "namespace": cm_ns}
    if (values.get("serviceAccount") or {}).get("create", True) and \
            not r.get("ServiceAccount", sa_name, namespace):
        problems.append("ServiceAccount %s that the pods use is not rendered" % sa_name)

    def binding_to(kind, role_name, ns=None):
        return [b for b in r.all(kind) if b["roleRef"]["name"] == role_name
                and (ns is None or b["metadata"].get("namespace") == ns)]

    b = binding_to("ClusterRoleBinding", "system:auth-delegator")
    if len(b) != 1 or b[0]["subjects"] != [me]:
        problems.append("system:auth-delegator is not bound to exactly %s" % me)
    b = binding_to("RoleBinding", "extension-apiserver-authentication-reader", "kube-system")
    if len(b) != 1 or b[0]["roleRef"]["kind"] != "Role" or b[0]["subjects"] != [me]:
        problems.append("extension-apiserver-authentication-reader in kube-system is not bound to "
                        "exactly %s" % me)
    solver_roles = [cr for cr in r.all("ClusterRole")
                    if any(group in (rule.get("apiGroups") or []) for rule in rules_of(cr))]
    if len(solver_roles) != 1:
        problems.append("expected one ClusterRole on group %s, found %d"
                        % (group, len(solver_roles)))
    else:
        cr = solver_roles[0]
        if rules_of(cr) != [{"apiGroups": [group], "resources": [solver], "verbs": ["create"]}]:
            problems.append("ClusterRole %s grants %s, not create on %s in %s"
                            % (cr["metadata"]["name"], rules_of(cr), solver, group))
        b = binding_to("ClusterRoleBinding", cr["metadata"]["name"])
        if len(b) != 1 or b[0]["subjects"] != [cm_subject]:
            problems.append("ClusterRole %s is not bound to exactly cert-manager's %s"
                            % (cr["metadata"]["name"], cm_subject))
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for bd in r.all(kind):
            ref = bd["roleRef"]
            if ref["name"].startswith(fullname) and not r.get(ref["kind"], ref["name"]):
                problems.append("%s %s refers to %s %s, which is not rendered"
                                % (kind, bd["metadata"]["name"], ref["kind"], ref["name"]))
            for s in bd.get("subjects", []):
                if s.get("kind") == "ServiceAccount" and s not in (me, cm_subject):
                    problems.append("%s %s binds an unexpected subject %s"
                                    % (kind, bd["metadata"]["name"], s))

    secret_ref = values.get("secretRef") or {}
    want_secrets = {s["namespace"]: sorted(s["names"]) for s in secret_ref.get("secrets", [])} \
        if secret_ref.get("enabled") else {}
    got_secrets = {}
    for role in r.all("Role") + r.all("ClusterRole"):
        what = "%s %s" % (role["kind"], role["metadata"]["name"])
        for rule in rules_of(role):
            groups = rule.get("apiGroups", [])
            res, verbs = rule.get("resources", []), rule.get("verbs", [])
            if "*" in groups or "*" in res or "*" in verbs:
                problems.append("%s: wildcard rule %s" % (what, rule))
            if any("flowcontrol" in g for g in groups):
                problems.append("%s: flowcontrol rule %s (not needed: zoneproof runs no APF)"
                                % (what, rule))
            if "secrets" in res and "" in groups:
                if role["kind"] == "ClusterRole":
                    problems.append("%s: cluster-wide Secret access %s" % (what, rule))
                elif verbs != ["get"] or not rule.get("resourceNames"):
                    problems.append("%s: Secret rule is not get on named Secrets: %s"
                                    % (what, rule))
                else:
                    ns = role["metadata"]["namespace"]
                    got_secrets.setdefault(ns, []).extend(rule["resourceNames"])
                    bindings = binding_to("RoleBinding", role["metadata"]["name"], ns)
                    if not bindings or any(bd["subjects"] != [me] for bd in bindings):
                        problems.append("%s: not bound to exactly %s" % (what, me))
    got_secrets = {k: sorted(v) for k, v in got_secrets.items()}
    if got_secrets != want_secrets:
        problems.append("Secret access is %s, values ask for %s" % (got_secrets, want_secrets))

    # --- optional objects ---
    for kind, key in (("PodDisruptionBudget", "podDisruptionBudget"),
                      ("NetworkPolicy", "networkPolicy"), ("ServiceMonitor", "serviceMonitor"),
                      ("PrometheusRule", "prometheusRule")):
        on = bool((values.get(key) or {}).get("enabled"))
        if on != bool(r.all(kind)):
            problems.append("%s rendered: %s, enabled in values: %s"
                            % (kind, bool(r.all(kind)), on))
    for pdb in r.all("PodDisruptionBudget"):
        if pdb["spec"]["selector"]["matchLabels"] != dep["spec"]["selector"]["matchLabels"]:
            problems.append("PodDisruptionBudget does not select the solver's pods")
    for np in r.all("NetworkPolicy"):
        if np["spec"]["podSelector"].get("matchLabels") != dep["spec"]["selector"]["matchLabels"]:
            problems.append("NetworkPolicy does not select the solver's pods")
        ports = [p for rule in np["spec"].get("ingress", []) for p in rule.get("ports", [])]
        allowed = (8443, "https") + ((m_port, "metrics") if m_on else ())
        if not ports or any(p.get("port") not in allowed for p in ports) or \
                any(not rule.get("ports") for rule in np["spec"].get("ingress", [])):
            problems.append("NetworkPolicy ingress is not port 8443%s only: %s"
                            % (" and the metrics port %s" % m_port if m_on else "",
                               np["spec"].get("ingress")))
        if m_on and not any(p.get("port") in (m_port, "metrics") for p in ports):
            problems.append("NetworkPolicy ingress lacks the metrics port %s: Prometheus cannot "
                            "scrape zoneproof" % m_port)
        egress = [(p.get("protocol", "TCP"), p.get("port"))
                  for rule in np["spec"].get("egress", []) for p in rule.get("ports", [])]
        for want in (("UDP", 53), ("TCP", 53), ("TCP", 443)):
            if want not in egress:
                problems.append("NetworkPolicy egress lacks %s/%s" % (want[1], want[0]))
        api_ports = ((values.get("networkPolicy") or {}).get("egress") or {}).get(
            "apiServerPorts", [443, 6443])
        for port in api_ports:
            if ("TCP", port) not in egress:
                problems.append("NetworkPolicy egress lacks kube-apiserver's %s/TCP: zoneproof "
                                "reads its front-proxy settings and makes SubjectAccessReviews"
                                % port)
    sm_path = (values.get("serviceMonitor") or {}).get("path", "/metrics")
    for sm in r.all("ServiceMonitor"):
        eps = sm["spec"].get("endpoints") or []
        got = [(e.get("port"), e.get("scheme", "http"), e.get("path", "/metrics")) for e in eps]
        if got != [("metrics", "http", sm_path)] or any("tlsConfig" in e for e in eps):
            problems.append("ServiceMonitor does not scrape port metrics over http at %s: %s"
                            % (sm_path, eps))
        if not s_metrics:
            problems.append("ServiceMonitor scrapes port metrics, which Service %s lacks"
                            % fullname)
        sm_sel = sm["spec"].get("selector", {}).get("matchLabels") or {}
        svc_labels = svc["metadata"].get("labels") or {}
        if not sm_sel or any(svc_labels.get(k) != v for k, v in sm_sel.items()):
            problems.append("ServiceMonitor selector %s does not select Service %s"
                            % (sm_sel, fullname))
        if namespace not in (sm["spec"].get("namespaceSelector") or {}).get("matchNames", []):
            problems.append("ServiceMonitor does not look in namespace %s" % namespace)
    pr_values = values.get("prometheusRule") or {}
    for pr in r.all("PrometheusRule"):
        groups = (pr.get("spec") or {}).get("groups") or []
        alerts = [rule for g in groups for rule in g.get("rules") or [] if "alert" in rule]
        if not alerts:
            problems.append("PrometheusRule holds no alert")
        for rule in alerts:
            ann = rule.get("annotations") or {}
            missing = [k for k in ("summary", "description", "runbook_url") if not ann.get(k)]
            if missing or not rule.get("for") or \
                    (rule.get("labels") or {}).get("severity") not in ("warning", "critical"):
                problems.append("alert %s lacks `for`, a severity or annotations %s"
                                % (rule["alert"], missing))
        if chart_dir and groups != alert_groups(chart_dir, pr_values.get("runbookBaseURL")):
            problems.append("PrometheusRule's groups are not those of files/alerts.yaml")
    return problems


def main(argv):
    if len(argv) < 4:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    values = chart_values(argv[1], argv[2])
    with open(argv[3]) as f:
        docs = load_yaml_all(f.read())
    ns = argv[4] if len(argv) > 4 else "default"
    problems = check(docs, values, ns, chart_dir=argv[1])
    for p in problems:
        print("chartcheck: " + p)
    print("chartcheck: %d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

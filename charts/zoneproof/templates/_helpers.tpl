{{/*
Names. Every object's name is derived from the fullname.
*/}}
{{- define "zoneproof.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "zoneproof.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zoneproof.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "zoneproof.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zoneproof.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The serving PKI. */}}
{{- define "zoneproof.selfSignedIssuer" -}}
{{ include "zoneproof.fullname" . }}-selfsign
{{- end }}
{{- define "zoneproof.caIssuer" -}}
{{ include "zoneproof.fullname" . }}-ca
{{- end }}
{{- define "zoneproof.caCertificate" -}}
{{ include "zoneproof.fullname" . }}-ca
{{- end }}
{{- define "zoneproof.servingCertificate" -}}
{{ include "zoneproof.fullname" . }}-webhook-tls
{{- end }}

{{- define "zoneproof.configMapName" -}}
{{ include "zoneproof.fullname" . }}-config
{{- end }}

{{/* The ConfigMap mounted as the front-proxy CA: the user's own, or the chart's. */}}
{{- define "zoneproof.requestHeaderConfigMap" -}}
{{- if .Values.requestHeader.existingConfigMap }}
{{- .Values.requestHeader.existingConfigMap }}
{{- else }}
{{- include "zoneproof.fullname" . }}-requestheader
{{- end }}
{{- end }}

{{/* Where each provider's credential Secret is mounted. */}}
{{- define "zoneproof.secretsDir" -}}
/run/secrets/zoneproof
{{- end }}

{{/* Where each provider's keytab Secret (kerberos.keytabSecret) is mounted: <dir>/<name>/keytab. */}}
{{- define "zoneproof.keytabDir" -}}
/run/secrets/zoneproof-kerberos
{{- end }}

{{/* Where the krb5.conf of krb5Config is mounted (a key of the config ConfigMap). */}}
{{- define "zoneproof.krb5ConfigPath" -}}
/etc/zoneproof/krb5.conf
{{- end }}

{{/* "true" when a provider signs with Kerberos (a kerberos block, or settings.kerberos). */}}
{{- define "zoneproof.usesKerberos" -}}
{{- range .Values.providers }}{{ if or .kerberos (.settings | default dict).kerberos }}true{{ end }}{{ end }}
{{- end }}

{{/*
krb5Config's krb5.conf. What zoneproof does with kerberos.kdc, as a file: no DNS lookups of KDCs
or realms, TCP to the KDCs (an Active Directory ticket outgrows UDP), and no silent
synchronisation with the KDC's clock (a skew is reported, not hidden: the DNS server checks it).
*/}}
{{- define "zoneproof.krb5Config" -}}
{{- $k := .Values.krb5Config -}}
[libdefaults]
    default_realm = {{ $k.defaultRealm | default (first $k.realms).realm }}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    kdc_timesync = 0
    udp_preference_limit = 1

[realms]
{{- range $k.realms }}
    {{ .realm }} = {
{{- range .kdcs }}
        kdc = {{ . }}
{{- end }}
    }
{{- end }}
{{- with $k.extra }}

{{ . | trim }}
{{- end }}
{{- end }}

{{/*
Labels.
*/}}
{{- define "zoneproof.labels" -}}
helm.sh/chart: {{ include "zoneproof.chart" . }}
{{ include "zoneproof.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: zoneproof
{{- end }}

{{- define "zoneproof.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zoneproof.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "zoneproof.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The settings each provider type requires, besides name, type and dnsZones. A *File setting may
come from settings or from credentials.files. (The settings each type knows are in
values.schema.json; zoneproof checks everything again at start.)
*/}}
{{- define "zoneproof.requiredSettings" -}}
rfc2136: [nameserver]
cloudflare: [apiTokenFile]
route53: [accessKeyId, secretAccessKeyFile]
clouddns: [project, serviceAccountFile]
azuredns: [subscriptionId, resourceGroup, tenantId, clientId, clientSecretFile]
digitalocean: [apiTokenFile]
ovh: [applicationKey, applicationSecretFile, consumerKeyFile]
godaddy: [apiKeyFile, apiSecretFile]
namecheap: [apiUser, apiKeyFile, clientIp]
powerdns: [endpoint, apiKeyFile]
hetzner: [apiTokenFile]
linode: [apiTokenFile]
acmedns: [endpoint, accountsFile]
httpreq: [endpoint]
exec: [command]
akamai: [host, clientToken, clientSecretFile, accessTokenFile]
{{- end }}

{{/*
Checks the values that a schema cannot: fails with a sentence naming the value to fix.
*/}}
{{- define "zoneproof.validate" -}}
{{- if and (not .Values.serviceAccount.automountToken) (not (include "zoneproof.explicitCA" .)) }}
{{- fail "serviceAccount.automountToken is false, so zoneproof cannot read kube-apiserver's front-proxy CA from kube-system/extension-apiserver-authentication and would refuse every call: set requestHeader.clientCA or requestHeader.existingConfigMap, or leave automountToken on" }}
{{- end }}
{{- if not .Values.groupName }}
{{- fail "groupName is required: the API group zoneproof serves, a DNS name you control such as acme.example.com (the Issuers' webhook.groupName)" }}
{{- end }}
{{- if not .Values.providers }}
{{- fail "providers needs at least one provider instance (name, type, dnsZones, settings, credentials); see docs/helm.md" }}
{{- end }}
{{- $required := include "zoneproof.requiredSettings" . | fromYaml }}
{{- $generic := list "name" "type" "dnsZones" "ttl" "propagation" "namespaces" "firstLabels" "concurrency" }}
{{- $seen := dict }}
{{- range $i, $p := .Values.providers }}
{{- $where := printf "providers[%d] (%s)" $i $p.name }}
{{- if hasKey $seen $p.name }}
{{- fail (printf "%s: the name is used twice; every provider instance needs its own" $where) }}
{{- end }}
{{- $_ := set $seen $p.name true }}
{{- $settings := $p.settings | default dict }}
{{- range $k, $v := $settings }}
{{- if has $k $generic }}
{{- fail (printf "%s: settings.%s belongs one level up, beside name and type" $where $k) }}
{{- end }}
{{- end }}
{{- $files := dict }}
{{- with $p.credentials }}
{{- $files = .files | default dict }}
{{- if not .secretName }}
{{- fail (printf "%s: credentials.secretName is required: the Secret whose keys credentials.files names" $where) }}
{{- end }}
{{- if not $files }}
{{- fail (printf "%s: credentials.files is empty: map each *File setting to a key of Secret %s, e.g. {apiTokenFile: api-token}" $where .secretName) }}
{{- end }}
{{- range $k, $v := $files }}
{{- if not (hasSuffix "File" $k) }}
{{- fail (printf "%s: credentials.files.%s: only *File settings can point into the Secret; put %s under settings" $where $k $k) }}
{{- end }}
{{- if hasKey $settings $k }}
{{- fail (printf "%s: %s is set both in settings and in credentials.files; keep one" $where $k) }}
{{- end }}
{{- end }}
{{- end }}
{{- with $p.kerberos }}
{{- if ne $p.type "rfc2136" }}
{{- fail (printf "%s: kerberos is for type rfc2136 with settings.tsigAlgorithm gss-tsig (GSS-TSIG, docs/providers/rfc2136.md); remove it" $where) }}
{{- end }}
{{- if hasKey $settings "kerberos" }}
{{- fail (printf "%s: kerberos is set both beside settings and in settings.kerberos; keep one (the one beside settings can mount keytabSecret)" $where) }}
{{- end }}
{{- if not (has (get $settings "tsigAlgorithm" | default "") (list "gss-tsig" "gss.microsoft.com")) }}
{{- fail (printf "%s: kerberos needs settings.tsigAlgorithm: gss-tsig (or gss.microsoft.com); the key is then negotiated with Kerberos" $where) }}
{{- end }}
{{- if eq (len (pick . "keytabSecret" "keytabSecretRef")) 1 | not }}
{{- fail (printf "%s: kerberos needs one of keytabSecret ({name, key} of a Secret in the release's namespace, mounted) or keytabSecretRef (read through the Kubernetes API), not both nor neither" $where) }}
{{- end }}
{{- if hasKey . "keytabFile" }}
{{- fail (printf "%s: kerberos.keytabFile is set by the chart from kerberos.keytabSecret; name the Secret there" $where) }}
{{- end }}
{{- if and .kdc .krb5ConfigFile }}
{{- fail (printf "%s: kerberos.kdc and kerberos.krb5ConfigFile both name KDCs; keep one" $where) }}
{{- end }}
{{- end }}
{{- range (get $required $p.type | default list) }}
{{- $ref := printf "%sSecretRef" (trimSuffix "File" .) }}
{{- if not (or (hasKey $settings .) (hasKey $files .) (and (hasSuffix "File" .) (hasKey $settings $ref))) }}
{{- if hasSuffix "File" . }}
{{- fail (printf "%s: %s is required: name the key of the credential Secret that holds it in credentials.files.%s (docs/providers/%s.md)" $where . . $p.type) }}
{{- else }}
{{- fail (printf "%s: settings.%s is required for type %s (docs/providers/%s.md)" $where . $p.type $p.type) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- $m := .Values.metrics }}
{{- if $m.enabled }}
{{- if eq (int $m.port) 8443 }}
{{- fail "metrics.port is 8443, the webhook's HTTPS port: metrics are served on a port of their own (e.g. 8080)" }}
{{- end }}
{{- if eq (int $m.port) (int .Values.service.port) }}
{{- fail (printf "metrics.port and service.port are both %v: the Service needs a port for each; change one" $m.port) }}
{{- end }}
{{- else }}
{{- if $m.statusPage }}
{{- fail "metrics.statusPage needs metrics.enabled: the status page is served on the metrics port" }}
{{- end }}
{{- if .Values.serviceMonitor.enabled }}
{{- fail "serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the metrics port" }}
{{- end }}
{{- if .Values.prometheusRule.enabled }}
{{- fail "prometheusRule.enabled needs metrics.enabled: the alerts read zoneproof's metrics" }}
{{- end }}
{{- end }}
{{- if and .Values.krb5Config.enabled (not .Values.krb5Config.realms) }}
{{- fail "krb5Config.enabled needs krb5Config.realms: each realm with its kdcs (host:port), e.g. {realm: CORP.EXAMPLE, kdcs: [\"dc1.corp.example:88\"]}" }}
{{- end }}
{{- if .Values.secretRef.enabled }}
{{- if not .Values.secretRef.secrets }}
{{- fail "secretRef.enabled needs secretRef.secrets: the namespaces and names of the Secrets zoneproof may read (nothing else is granted)" }}
{{- end }}
{{- $ns := dict }}
{{- range $i, $s := .Values.secretRef.secrets }}
{{- if or (not $s.namespace) (not $s.names) }}
{{- fail (printf "secretRef.secrets[%d]: needs a namespace and a non-empty list of names" $i) }}
{{- end }}
{{- if hasKey $ns $s.namespace }}
{{- fail (printf "secretRef.secrets[%d]: namespace %s is listed twice; put all its names in one entry" $i $s.namespace) }}
{{- end }}
{{- $_ := set $ns $s.namespace true }}
{{- end }}
{{- end }}
{{- end }}

{{/*
zoneproof's configuration file (docs/configuration.md), from the values. Scalars are written as
JSON, which YAML reads as written (no "on"/"no"/"0x" surprises).
*/}}
{{- define "zoneproof.config" -}}
{{- $root := . -}}
{{- $dir := include "zoneproof.secretsDir" . -}}
{{- $kdir := include "zoneproof.keytabDir" . -}}
groupName: {{ .Values.groupName | toJson }}
solverName: {{ .Values.solverName | toJson }}
clusterResourceNamespace: {{ .Values.certManager.clusterResourceNamespace | default .Values.certManager.namespace | toJson }}
{{- $prop := dict }}
{{- range $k, $v := (.Values.propagation | default dict) }}
{{- if not (or (kindIs "invalid" $v) (and (kindIs "string" $v) (eq $v "")) (and (kindIs "slice" $v) (eq (len $v) 0))) }}
{{- $_ := set $prop $k $v }}
{{- end }}
{{- end }}
{{- if $prop }}
propagation:
{{- range $k, $v := $prop }}
  {{ $k }}: {{ $v | toJson }}
{{- end }}
{{- end }}
{{- with .Values.cleanup }}
cleanup:
{{- range $k, $v := . }}
  {{ $k }}: {{ $v | toJson }}
{{- end }}
{{- end }}
{{- with .Values.workers }}
workers:
{{- range $k, $v := . }}
  {{ $k }}: {{ $v | toJson }}
{{- end }}
{{- end }}
providers:
{{- range $p := .Values.providers }}
  - name: {{ $p.name | toJson }}
    type: {{ $p.type | toJson }}
    dnsZones: {{ $p.dnsZones | toJson }}
    {{- with $p.namespaces }}
    namespaces: {{ . | toJson }}
    {{- end }}
    {{- with $p.firstLabels }}
    firstLabels: {{ . | toJson }}
    {{- end }}
    {{- if not (kindIs "invalid" $p.concurrency) }}
    concurrency: {{ $p.concurrency | toJson }}
    {{- end }}
    {{- if not (kindIs "invalid" $p.ttl) }}
    ttl: {{ $p.ttl | toJson }}
    {{- end }}
    {{- with $p.propagation }}
    propagation:
    {{- range $k, $v := . }}
      {{ $k }}: {{ $v | toJson }}
    {{- end }}
    {{- end }}
    {{- range $k, $v := ($p.settings | default dict) }}
    {{ $k }}: {{ $v | toJson }}
    {{- end }}
    {{- with $p.credentials }}
    {{- range $k, $key := (.files | default dict) }}
    {{ $k }}: {{ printf "%s/%s/%s" $dir $p.name $key | toJson }}
    {{- end }}
    {{- end }}
    {{- with $p.kerberos }}
    kerberos:
    {{- range $k, $v := (omit . "keytabSecret") }}
    {{- if not (empty $v) }}
      {{ $k }}: {{ $v | toJson }}
    {{- end }}
    {{- end }}
    {{- if .keytabSecret }}
      keytabFile: {{ printf "%s/%s/keytab" $kdir $p.name | toJson }}
    {{- end }}
    {{- if and $root.Values.krb5Config.enabled (not .kdc) (not .krb5ConfigFile) }}
      krb5ConfigFile: {{ include "zoneproof.krb5ConfigPath" $root | toJson }}
    {{- end }}
    {{- end }}
{{- end }}
{{- end }}

{{/*
"true" when the values pin the front-proxy CA (requestHeader.clientCA or .existingConfigMap):
the chart then mounts it and passes --requestheader-client-ca-file. Otherwise zoneproof reads
kube-system/extension-apiserver-authentication itself and follows its changes.
*/}}
{{- define "zoneproof.explicitCA" -}}
{{- if or .Values.requestHeader.clientCA .Values.requestHeader.existingConfigMap }}true{{ end }}
{{- end }}

{{/*
The page written in files/alerts.yaml's runbook_url annotations (its path in zoneproof's
sources); prometheusRule.runbookBaseURL, where the operator publishes it, replaces it.
*/}}
{{- define "zoneproof.runbookBaseURL" -}}
docs/observability.md
{{- end }}

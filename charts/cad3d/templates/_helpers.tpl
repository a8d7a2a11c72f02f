{{/*
Naming, labels and the small per-component facts every template shares. Component templates are
called with a context dict: {"root": $, "name": <component key>, "c": <component values>}.
*/}}

{{- define "cad3d.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cad3d.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cad3d.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a component's objects: <fullname>-<component>. Context: {"root", "name"}. */}}
{{- define "cad3d.componentName" -}}
{{- printf "%s-%s" (include "cad3d.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels. Context: {"root", "name"}. */}}
{{- define "cad3d.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cad3d.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* All recommended labels. Context: {"root", "name"}. */}}
{{- define "cad3d.labels" -}}
helm.sh/chart: {{ include "cad3d.chart" .root }}
{{ include "cad3d.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: cad3d
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* What kind of workload a component is: http (gateway), grpc (conversion services), triton. */}}
{{- define "cad3d.kind" -}}
{{- if has .name (list "gateway" "dispatcher") -}}http{{- else if eq .name "triton" -}}triton{{- else -}}grpc{{- end -}}
{{- end -}}

{{/* Fully qualified gRPC service each conversion service reports health for. */}}
{{- define "cad3d.grpcServiceName" -}}
{{- $names := dict "dxf" "cad3d.dxf.v1.DxfService" "pdf" "cad3d.pdf.v1.PdfService" "depth" "cad3d.depth.v1.DepthService" -}}
{{- required (printf "no gRPC service name known for component %q" .name) (get $names .name) -}}
{{- end -}}

{{/* Fixed in-cluster ports: the services all listen on the same ports, set explicitly by env. */}}
{{- define "cad3d.port.http" -}}8080{{- end -}}
{{- define "cad3d.port.grpc" -}}50051{{- end -}}
{{- define "cad3d.port.metrics" -}}9090{{- end -}}
{{- define "cad3d.port.tritonHttp" -}}8000{{- end -}}
{{- define "cad3d.port.tritonGrpc" -}}8001{{- end -}}
{{- define "cad3d.port.tritonMetrics" -}}8002{{- end -}}

{{/* Image reference. Context: {"root", "c"}. A repository without a "/" gets image.registry. */}}
{{- define "cad3d.image" -}}
{{- $img := .c.image -}}
{{- $repo := $img.repository -}}
{{- if and (not (contains "/" $repo)) .root.Values.image.registry -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" .root.Values.image.registry) $repo -}}
{{- end -}}
{{- $tag := $img.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if eq (toString $tag) "latest" -}}
{{- fail (printf "image %s: the tag \"latest\" is not allowed; pin a version" $repo) -}}
{{- end -}}
{{- if $img.digest -}}
{{- printf "%s:%s@%s" $repo $tag $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* NATS URL: the bundled chart's client service, or externalNats.url. */}}
{{- define "cad3d.natsUrl" -}}
{{- if .Values.externalNats.url -}}
{{- .Values.externalNats.url -}}
{{- else if .Values.nats.enabled -}}
{{- printf "nats://%s-nats:4222" .Release.Name -}}
{{- else -}}
{{- fail "NATS: set externalNats.url or enable the bundled chart with nats.enabled=true" -}}
{{- end -}}
{{- end -}}

{{/* S3 endpoint host:port: objectStorage.endpoint or the bundled MinIO service. */}}
{{- define "cad3d.s3Endpoint" -}}
{{- if .Values.objectStorage.endpoint -}}
{{- .Values.objectStorage.endpoint -}}
{{- else if .Values.minio.enabled -}}
{{- printf "%s-minio:9000" .Release.Name -}}
{{- else -}}
{{- fail "object storage: set objectStorage.endpoint or enable the bundled chart with minio.enabled=true" -}}
{{- end -}}
{{- end -}}

{{- define "cad3d.s3Url" -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.objectStorage.secure) (include "cad3d.s3Endpoint" .) -}}
{{- end -}}

{{/* Secret holding the S3 credentials and its two keys, as a dict. */}}
{{- define "cad3d.s3SecretRef" -}}
{{- $os := .Values.objectStorage -}}
{{- if $os.existingSecret -}}
{{- dict "name" $os.existingSecret "accessKey" $os.accessKeyKey "secretKey" $os.secretKeyKey | toJson -}}
{{- else if and .Values.minio.enabled (not $os.endpoint) (not $os.accessKey) -}}
{{- $name := .Values.minio.existingSecret | default (printf "%s-minio" .Release.Name) -}}
{{- dict "name" $name "accessKey" "rootUser" "secretKey" "rootPassword" | toJson -}}
{{- else -}}
{{- dict "name" (printf "%s-s3" (include "cad3d.fullname" .)) "accessKey" "accessKey" "secretKey" "secretKey" | toJson -}}
{{- end -}}
{{- end -}}

{{/* Whether the chart itself must create the S3 credentials Secret. */}}
{{- define "cad3d.ownsS3Secret" -}}
{{- $os := .Values.objectStorage -}}
{{- if and (not $os.existingSecret) (not (and .Values.minio.enabled (not $os.endpoint) (not $os.accessKey))) -}}true{{- end -}}
{{- end -}}

{{/* S3 credential env vars under a given name prefix. Context: {"root", "prefix"}. */}}
{{- define "cad3d.s3CredentialEnv" -}}
{{- $ref := include "cad3d.s3SecretRef" .root | fromJson -}}
- name: {{ .accessName }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.accessKey }}
- name: {{ .secretName }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.secretKey }}
{{- end -}}

{{- define "cad3d.authEnabled" -}}
{{- if or .Values.auth.existingSecret .Values.auth.apiKeysFile -}}true{{- end -}}
{{- end -}}

{{- define "cad3d.authSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "cad3d.fullname" .)) -}}
{{- end -}}

{{/* Seconds a conversion service needs to finish in-flight work after SIGTERM. */}}
{{- define "cad3d.shutdownGraceSeconds" -}}
{{- add .Values.config.conversionTimeoutSeconds 10 -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: preStop sleep + the component's drain time + margin. The gateway
     drains the longest job deadline; the services drain one conversion. */}}
{{- define "cad3d.terminationGracePeriodSeconds" -}}
{{- $cfg := .root.Values.config -}}
{{- $drain := 60 -}}
{{- if has .name (list "gateway" "dispatcher") -}}{{- $drain = $cfg.jobTimeoutSeconds -}}
{{- else if ne .name "triton" -}}{{- $drain = include "cad3d.shutdownGraceSeconds" .root | int -}}
{{- end -}}
{{- add $cfg.preStopSleepSeconds $drain 15 -}}
{{- end -}}

{{/* Ingress body-size annotation value: maxUploadBytes rounded up to whole MiB. */}}
{{- define "cad3d.uploadSizeMiB" -}}
{{- $b := int64 .Values.config.maxUploadBytes -}}
{{- div (add $b 1048575) 1048576 -}}
{{- end -}}

{{- define "cad3d.checkValues" -}}
{{- $c := .Values.components -}}
{{- if and $c.depth.enabled (eq $c.depth.backend "triton") (not $c.triton.enabled) -}}
{{- fail "components.depth.backend=triton needs components.triton.enabled=true (or use backend onnxruntime)" -}}
{{- end -}}
{{- if and $c.dispatcher.keda.enabled $c.dispatcher.autoscaling.enabled -}}
{{- fail "components.dispatcher: keda.enabled replaces the CPU HPA; set autoscaling.enabled=false" -}}
{{- end -}}
{{- if and $c.dispatcher.enabled (not $c.gateway.enabled) -}}
{{- fail "components.dispatcher needs components.gateway (the gateway creates the job streams)" -}}
{{- end -}}
{{- if and .Values.minio.enabled (not .Values.minio.existingSecret) (not (and .Values.minio.rootUser .Values.minio.rootPassword)) -}}
{{- fail "minio: set minio.rootUser and minio.rootPassword, or minio.existingSecret (left empty, the MinIO chart generates new random credentials on every upgrade)" -}}
{{- end -}}
{{- if include "cad3d.ownsS3Secret" . -}}
{{- if not (and .Values.objectStorage.accessKey .Values.objectStorage.secretKey) -}}
{{- fail "objectStorage: set existingSecret, or accessKey and secretKey, or use the bundled MinIO" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Non-secret settings of a cad3d component as a dict (keys without the env prefix).
     Context: {"root", "name", "c"}. */}}
{{- define "cad3d.settings" -}}
{{- $root := .root -}}
{{- $cfg := $root.Values.config -}}
{{- $os := $root.Values.objectStorage -}}
{{- $s := dict "LOG_LEVEL" $cfg.logLevel "STORAGE_BACKEND" "s3" -}}
{{- $_ := set $s "S3_ENDPOINT" (include "cad3d.s3Endpoint" $root) -}}
{{- $_ = set $s "S3_SECURE" (ternary "true" "false" $os.secure) -}}
{{- $_ = set $s "S3_BUCKET" $os.bucket -}}
{{- $_ = set $s "S3_REGION" $os.region -}}
{{- with $cfg.otlpEndpoint }}{{ $_ = set $s "OTLP_ENDPOINT" . }}{{ end -}}
{{- if has .name (list "gateway" "dispatcher") -}}
{{- $split := $root.Values.components.dispatcher.enabled -}}
{{- $_ = set $s "ROLE" (ternary (ternary "worker" "api" (eq .name "dispatcher")) "all" $split) -}}
{{- $_ = set $s "SERVICE_NAME" (printf "cad3d-%s" .name) -}}
{{- $_ = set $s "HTTP_PORT" (include "cad3d.port.http" .) -}}
{{- $_ = set $s "DISPATCHER_CONCURRENCY" (toString $cfg.dispatcherConcurrency) -}}
{{- $_ = set $s "JOB_MAX_ATTEMPTS" (toString $cfg.jobMaxAttempts) -}}
{{- $_ = set $s "GRPC_MAX_MESSAGE_BYTES" (toString (int64 $cfg.maxMessageBytes)) -}}
{{- $_ = set $s "NATS_URL" (include "cad3d.natsUrl" $root) -}}
{{- $_ = set $s "MAX_UPLOAD_BYTES" (toString (int64 $cfg.maxUploadBytes)) -}}
{{- $_ = set $s "JOB_TIMEOUT_SECONDS" (toString $cfg.jobTimeoutSeconds) -}}
{{- with $os.publicUrl }}{{ $_ = set $s "S3_PUBLIC_URL" . }}{{ end -}}
{{- range $svc := list "dxf" "pdf" "depth" -}}
{{- if (get $root.Values.components $svc).enabled -}}
{{- $addr := printf "%s:%s" (include "cad3d.componentName" (dict "root" $root "name" $svc)) (include "cad3d.port.grpc" .) -}}
{{- $_ = set $s (printf "%s_ADDRESS" (upper $svc)) $addr -}}
{{- end -}}
{{- end -}}
{{- if include "cad3d.authEnabled" $root -}}
{{- $_ = set $s "API_KEYS_FILE" (printf "/etc/cad3d/auth/%s" $root.Values.auth.secretKey) -}}
{{- end -}}
{{- if $root.Values.webhooks.enabled -}}
{{- $_ = set $s "WEBHOOK_ALLOW_HOSTS" (toJson $root.Values.webhooks.allowHosts) -}}
{{- end -}}
{{- else -}}
{{- $_ = set $s "GRPC_PORT" (include "cad3d.port.grpc" .) -}}
{{- $_ = set $s "METRICS_PORT" (include "cad3d.port.metrics" .) -}}
{{- $_ = set $s "SHUTDOWN_GRACE_SECONDS" (include "cad3d.shutdownGraceSeconds" $root) -}}
{{- $_ = set $s "MAX_MESSAGE_BYTES" (toString (int64 $cfg.maxMessageBytes)) -}}
{{- $_ = set $s "CONVERSION_TIMEOUT_SECONDS" (toString $cfg.conversionTimeoutSeconds) -}}
{{- $_ = set $s "CONVERSION_MEMORY_MB" (toString $cfg.conversionMemoryMb) -}}
{{- if eq .name "depth" -}}
{{- $_ = set $s "BACKEND" .c.backend -}}
{{- $_ = set $s "MODEL_NAME" .c.modelName -}}
{{- $_ = set $s "MODEL_VERSION" (toString .c.modelVersion) -}}
{{- $_ = set $s "TIMEOUT_SECONDS" (toString .c.inferenceTimeoutSeconds) -}}
{{- with .c.profile }}{{ $_ = set $s "PROFILE" . }}{{ end -}}
{{- if eq .c.backend "triton" -}}
{{- $_ = set $s "TRITON_URL" (printf "%s:%s" (include "cad3d.componentName" (dict "root" $root "name" "triton")) (include "cad3d.port.tritonGrpc" .)) -}}
{{- else -}}
{{- $_ = set $s "MODEL_PATH" "/models/model.onnx" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $s -}}
{{- end -}}

{{/* The dispatcher is the gateway program in another role, so it reads the gateway's settings. */}}
{{- define "cad3d.envPrefix" -}}
{{- printf "CAD3D_%s_" (upper (ternary "gateway" .name (eq .name "dispatcher"))) -}}
{{- end -}}

{{/* Port of the S3 endpoint (explicit :port, else 443/80 by objectStorage.secure). */}}
{{- define "cad3d.s3Port" -}}
{{- $parts := splitList ":" (include "cad3d.s3Endpoint" .) -}}
{{- if gt (len $parts) 1 -}}{{- last $parts -}}{{- else -}}{{- ternary 443 80 .Values.objectStorage.secure -}}{{- end -}}
{{- end -}}

{{/* Port of the NATS URL (default 4222). */}}
{{- define "cad3d.natsPort" -}}
{{- $hostport := include "cad3d.natsUrl" . | trimPrefix "nats://" | trimPrefix "tls://" -}}
{{- $parts := splitList ":" $hostport -}}
{{- if gt (len $parts) 1 -}}{{- last $parts | trimSuffix "/" -}}{{- else -}}4222{{- end -}}
{{- end -}}

{{/* NetworkPolicy egress rules shared by several components. Context: $ (root). */}}
{{- define "cad3d.netpol.egressDns" -}}
- ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end -}}

{{- define "cad3d.netpol.egressObjectStorage" -}}
- ports:
    - {port: {{ include "cad3d.s3Port" . }}, protocol: TCP}
  {{- if and .Values.minio.enabled (not .Values.objectStorage.endpoint) }}
  to:
    - podSelector:
        matchLabels:
          app: minio
          release: {{ .Release.Name }}
  {{- else if .Values.networkPolicy.externalObjectStoragePeers }}
  to:
    {{- toYaml .Values.networkPolicy.externalObjectStoragePeers | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "cad3d.netpol.egressNats" -}}
- ports:
    - {port: {{ include "cad3d.natsPort" . }}, protocol: TCP}
  {{- if and .Values.nats.enabled (not .Values.externalNats.url) }}
  to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: nats
          app.kubernetes.io/instance: {{ .Release.Name }}
          app.kubernetes.io/component: nats
  {{- else if .Values.networkPolicy.externalNatsPeers }}
  to:
    {{- toYaml .Values.networkPolicy.externalNatsPeers | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "cad3d.netpol.egressOtlp" -}}
{{- if .Values.config.otlpEndpoint }}
- ports:
    - {port: {{ .Values.networkPolicy.otlpPort }}, protocol: TCP}
  {{- with .Values.networkPolicy.otlpPeers }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Peer selecting one component's pods. Context: {"root", "name"}. */}}
{{- define "cad3d.netpol.peer" -}}
- podSelector:
    matchLabels:
      {{- include "cad3d.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/* Name of the Secret holding the webhook signing key. */}}
{{- define "cad3d.webhookSecretName" -}}
{{- .Values.webhooks.existingSecret | default (printf "%s-webhooks" (include "cad3d.fullname" .)) -}}
{{- end -}}

{{/* Egress of the gateway pods to webhook receivers (only with webhooks on). */}}
{{- define "cad3d.netpol.egressWebhooks" -}}
{{- if .Values.webhooks.enabled }}
- ports:
    {{- range .Values.webhooks.ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
  to:
    {{- if .Values.webhooks.peers }}
    {{- toYaml .Values.webhooks.peers | nindent 4 }}
    {{- else }}
    - ipBlock:
        cidr: 0.0.0.0/0
        except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
    {{- end }}
{{- end }}
{{- end -}}

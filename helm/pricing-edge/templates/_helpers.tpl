{{- define "pricing-edge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pricing-edge.fullname" -}}
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

{{- define "pricing-edge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "pricing-edge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "edge") */}}
{{- define "pricing-edge.selector" -}}
app.kubernetes.io/name: {{ include "pricing-edge.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pricing-edge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pricing-edge.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pricing-edge.secretName" -}}
{{- default (printf "%s-secrets" (include "pricing-edge.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "pricing-edge.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "pricing-edge.redisName" -}}
{{- printf "%s-redis" (include "pricing-edge.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* What every pricing-edge container shares: image, settings from the ConfigMap and the Secret, a writable
     home for the upstream schema cache (the root filesystem is read-only), and rolling on config changes. */}}
{{- define "pricing-edge.podCommon" -}}
serviceAccountName: {{ include "pricing-edge.serviceAccountName" . }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: home
    emptyDir: {}
{{- end }}

{{- define "pricing-edge.containerCommon" -}}
image: {{ include "pricing-edge.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
envFrom:
  - configMapRef:
      name: {{ include "pricing-edge.fullname" . }}
  - secretRef:
      name: {{ include "pricing-edge.secretName" . }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: home
    mountPath: /var/lib/pricing-edge
{{- end }}

{{- define "pricing-edge.checksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}

{{/* The chart's name: fixed, since the toolbox namespaces' NetworkPolicy admits the server by it. */}}
{{- define "kubelab.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{/* The release's objects' name: <release>-kubelab, or the release name alone when it already says kubelab. */}}
{{- define "kubelab.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "kubelab.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Selector labels: the toolbox namespaces' NetworkPolicy admits pods with these name and component labels. */}}
{{- define "kubelab.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubelab.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* Labels on every object (Helm's recommended set). */}}
{{- define "kubelab.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubelab.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubelab
{{- end -}}

{{/* The server image: <registry>/<repository>:<tag, default appVersion>. */}}
{{- define "kubelab.image" -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .Values.registry) .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Service's in-cluster names, which the server accepts as Host. */}}
{{- define "kubelab.serviceHosts" -}}
{{- $svc := include "kubelab.fullname" . -}}
{{- list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) | join "," -}}
{{- end -}}

{{/* The claim holding the state directory. */}}
{{- define "kubelab.claimName" -}}
{{- default (printf "%s-state" (include "kubelab.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

#!/usr/bin/env bash
# Service and pod, but no init container: the pod starts whether the Service exists or not; grader must say exam.init-missing.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-web}
SERVICE=${SERVICE:-backend}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
  labels:
    app: ${POD}
spec:
  containers:
  - name: web
    image: nginx
YAML
kubectl create service clusterip "$SERVICE" --tcp=80:80 --dry-run=client -o json \
  | kubectl patch --local -f - --type=merge -o yaml -p "{\"spec\":{\"selector\":{\"app\":\"$POD\"}}}" \
  | kubectl create -f -
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

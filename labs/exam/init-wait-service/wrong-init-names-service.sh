#!/usr/bin/env bash
# Look-alike: an init container that names the Service but does not wait for it (it echoes and exits); the pod starts, the Service comes later. grader must say exam.init-did-not-wait.
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
  initContainers:
  - name: wait-for-${SERVICE}
    image: busybox
    command: ["sh", "-c", "echo waiting for ${SERVICE}"]
  containers:
  - name: web
    image: nginx
YAML
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s
# Whole seconds apart from the init container's end, so the order is visible in the API's timestamps.
sleep 2
kubectl create service clusterip "$SERVICE" --tcp=80:80 --dry-run=client -o json \
  | kubectl patch --local -f - --type=merge -o yaml -p "{\"spec\":{\"selector\":{\"app\":\"$POD\"}}}" \
  | kubectl create -f -

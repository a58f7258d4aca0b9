#!/usr/bin/env bash
# The pod to debug: its only container, app, is the pause image (no shell, no tools); waits until it is ready.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-vault}
DEBUGGER=${DEBUGGER:-dbg}
CONFIGMAP=${CONFIGMAP:-answer}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
spec:
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10.1
YAML
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

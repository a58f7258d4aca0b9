#!/usr/bin/env bash
# Another route: kubectl apply, three init containers with other names and no shared volume (each just prints and sleeps), an nginx app; waits until Ready.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-init-order}
kubectl apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${NAME}
spec:
  initContainers:
  - name: fetch
    image: busybox:1.36
    args: ["sh", "-c", "echo fetching; sleep 1"]
  - name: migrate
    image: busybox:1.36
    args: ["sh", "-c", "echo migrating; sleep 1"]
  - name: warm-up
    image: busybox:1.36
    args: ["sh", "-c", "echo warming up"]
  containers:
  - name: web
    image: nginx
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=120s

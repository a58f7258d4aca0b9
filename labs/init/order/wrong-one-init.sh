#!/usr/bin/env bash
# A single init container does both steps; grader must say init.order-too-few.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-init-order}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${NAME}
spec:
  volumes:
  - name: work
    emptyDir: {}
  initContainers:
  - name: both
    image: busybox
    command: ["sh", "-c", "echo first >> /work/order.txt; echo second >> /work/order.txt"]
    volumeMounts:
    - {name: work, mountPath: /work}
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "cat /work/order.txt; sleep 3600"]
    volumeMounts:
    - {name: work, mountPath: /work}
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=120s

#!/usr/bin/env bash
# Second init container is a native sidecar (restartPolicy: Always) that never finishes; grader must say init.order-sidecar.
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
  - name: first
    image: busybox
    command: ["sh", "-c", "echo first >> /work/order.txt; sleep 2"]
    volumeMounts:
    - {name: work, mountPath: /work}
  - name: second
    image: busybox
    restartPolicy: Always
    command: ["sh", "-c", "echo second >> /work/order.txt; sleep 3600"]
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

#!/usr/bin/env bash
# Pod init-order with init containers first and second (run in order), then app; waits until Ready.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-init-order}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete pod ${NAME} --ignore-not-found --now
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
    command: ["sh", "-c", "echo second >> /work/order.txt; sleep 2"]
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
kubectl logs ${NAME} -c app

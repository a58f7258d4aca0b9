#!/usr/bin/env bash
# Another route: restartPolicy Never and an app that finishes (the pod Succeeds); two init containers writing to a shared emptyDir; waits until the app ran.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-init-order}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${NAME}
spec:
  restartPolicy: Never
  volumes:
  - name: scratch
    emptyDir: {}
  initContainers:
  - name: step-1
    image: busybox
    command: ["sh", "-c", "date > /s/a"]
    volumeMounts: [{name: scratch, mountPath: /s}]
  - name: step-2
    image: busybox
    command: ["sh", "-c", "sleep 1; date > /s/b"]
    volumeMounts: [{name: scratch, mountPath: /s}]
  containers:
  - name: report
    image: busybox
    command: ["sh", "-c", "cat /s/a /s/b"]
    volumeMounts: [{name: scratch, mountPath: /s}]
YAML
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/${NAME} --timeout=120s
kubectl logs ${NAME} -c report

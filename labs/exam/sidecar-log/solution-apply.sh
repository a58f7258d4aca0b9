#!/usr/bin/env bash
# Another route: kubectl apply; the volume has another name, the app container another name and printf, the sidecar follows with tail -f from args; waits until ready.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-shop}
SIDECAR=${SIDECAR:-log-shipper}
TEXT=${TEXT:-order received}
kubectl apply -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
spec:
  volumes:
  - name: applog
    emptyDir: {}
  initContainers:
  - name: ${SIDECAR}
    image: busybox:1.36
    restartPolicy: Always
    args: ["sh", "-c", "touch /var/log/app/app.log; tail -f /var/log/app/app.log"]
    volumeMounts:
    - {name: applog, mountPath: /var/log/app}
  containers:
  - name: main
    image: busybox:1.36
    args: ["sh", "-c", "while true; do printf '%s\\n' '${TEXT}' >> /var/log/app/app.log; sleep 2; done"]
    volumeMounts:
    - {name: applog, mountPath: /var/log/app}
YAML
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

#!/usr/bin/env bash
# Another route to the same result (issue 25's false fail): apply, init container "prepare" (busybox) writes the file with echo >, the volume is named "shared" and mounted at /work in the init container.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-nginx}
FILE=${FILE:-test-init.txt}
kubectl apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${NAME}
spec:
  replicas: 1
  selector:
    matchLabels:
      run: web
  template:
    metadata:
      labels:
        run: web
    spec:
      volumes:
      - name: shared
        emptyDir: {}
      initContainers:
      - name: prepare
        image: busybox
        command: ["sh", "-c", "echo ready > /work/${FILE}"]
        volumeMounts:
        - name: shared
          mountPath: /work
      containers:
      - name: nginx01
        image: nginx:1.20.0
        volumeMounts:
        - name: shared
          mountPath: /mnt/
YAML
kubectl rollout status deploy/${NAME} --timeout=180s
kubectl exec deploy/${NAME} -c nginx01 -- ls /mnt

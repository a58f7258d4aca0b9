#!/usr/bin/env bash
# Look-alike: an init container shares the volume but writes the file to its own /tmp, so nginx01's /mnt stays empty; grader must say init.file-missing.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-nginx}
FILE=${FILE:-test-init.txt}
kubectl create -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${NAME}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      volumes:
      - name: init-volume
        emptyDir: {}
      initContainers:
      - name: init-test
        image: nginx
        command: ["sh", "-c", "touch /tmp/${FILE}"]
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
      containers:
      - name: nginx01
        image: nginx:1.20.0
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
YAML
kubectl rollout status deploy/${NAME} --timeout=180s

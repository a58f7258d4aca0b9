#!/usr/bin/env bash
# No init container: nginx01's postStart hook creates the file (ls /mnt shows it too); grader must say init.no-init-container.
set -euo pipefail
kubectl create -f - <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels:
    app: nginx
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
      containers:
      - image: nginx:1.20.0
        name: nginx01
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
        lifecycle:
          postStart:
            exec:
              command: ["sh", "-c", "touch /mnt/test-init.txt"]
YAML
kubectl rollout status deploy/nginx --timeout=180s

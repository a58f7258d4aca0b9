#!/usr/bin/env bash
# Init container touches /mnt/test-init.txt, but nginx01 does not mount the emptyDir, so it never sees the file; grader must say init.app-mount.
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
      initContainers:
      - command:
        - sh
        - -c
        - touch /mnt/test-init.txt
        image: nginx
        name: init-test
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
      containers:
      - image: nginx:1.20.0
        name: nginx01
YAML
kubectl rollout status deploy/nginx --timeout=180s

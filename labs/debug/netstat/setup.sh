#!/usr/bin/env bash
# Creates the document's Deployment nginx (nginx01, nginx:1.20.0, no netstat inside) and waits for it.
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
      containers:
      - image: nginx:1.20.0
        name: nginx01
YAML
kubectl rollout status deploy/nginx --timeout=180s

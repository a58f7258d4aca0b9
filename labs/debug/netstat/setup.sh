#!/usr/bin/env bash
# Creates the document's Deployment nginx (nginx01, nginx:1.20.0, no netstat inside) and waits for it.
set -euo pipefail
# Parameters (an exam draws another name); the default is the lesson's.
NAME=${NAME:-nginx}
kubectl create -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${NAME}
  labels:
    app: ${NAME}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${NAME}
  template:
    metadata:
      labels:
        app: ${NAME}
    spec:
      containers:
      - image: nginx:1.20.0
        name: nginx01
YAML
kubectl rollout status deploy/${NAME} --timeout=180s

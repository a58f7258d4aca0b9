#!/usr/bin/env bash
# No init container: nginx01's own command touches the file before starting nginx; grader must say init.no-init-container.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-nginx}
FILE=${FILE:-test-init.txt}
kubectl create -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${NAME}
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
        command: ["sh", "-c", "touch /mnt/${FILE} && exec nginx -g 'daemon off;'"]
YAML
kubectl rollout status deploy/${NAME} --timeout=180s

#!/usr/bin/env bash
# The document's Deployment nginx with init container init-test sharing an emptyDir at /mnt with nginx01; checks ls /mnt.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-nginx}
FILE=${FILE:-test-init.txt}
# Starts over if an earlier attempt left an object of the same name behind.
kubectl delete deployment ${NAME} --ignore-not-found
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
      initContainers:
      - command:
        - sh
        - -c
        - touch /mnt/${FILE}
        image: nginx
        name: init-test
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
      containers:
      - image: nginx:1.20.0
        name: nginx01
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
YAML
kubectl rollout status deploy/${NAME} --timeout=180s
kubectl exec deploy/${NAME} -c nginx01 -- ls /mnt

#!/usr/bin/env bash
# Look-alike: an init container that only sleeps, and nginx01's postStart writes the file (ls /mnt shows it, written after the init container finished); grader must say init.app-writes-file.
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
        image: busybox
        command: ["sleep", "1"]
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
      containers:
      - name: nginx01
        image: nginx:1.20.0
        volumeMounts:
        - name: init-volume
          mountPath: /mnt
        lifecycle:
          postStart:
            exec:
              # A second later: the file's time (whole seconds) must fall after the init container's end.
              command: ["sh", "-c", "sleep 2; touch /mnt/${FILE}"]
YAML
kubectl rollout status deploy/${NAME} --timeout=180s

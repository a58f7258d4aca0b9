#!/usr/bin/env bash
# Imperative route: kubectl create deployment, then a JSON patch adds the volume, the init container (date > file) and nginx01's mount; kubectl apply.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-nginx}
FILE=${FILE:-test-init.txt}
kubectl create deployment "${NAME}" --image=nginx:1.20.0 --dry-run=client -o json \
  | kubectl patch --local -f - --type=json -o yaml -p "[
      {\"op\": \"replace\", \"path\": \"/spec/template/spec/containers/0/name\", \"value\": \"nginx01\"},
      {\"op\": \"add\", \"path\": \"/spec/template/spec/volumes\", \"value\": [{\"name\": \"data\", \"emptyDir\": {}}]},
      {\"op\": \"add\", \"path\": \"/spec/template/spec/containers/0/volumeMounts\", \"value\": [{\"name\": \"data\", \"mountPath\": \"/mnt\"}]},
      {\"op\": \"add\", \"path\": \"/spec/template/spec/initContainers\", \"value\": [{\"name\": \"stamp\", \"image\": \"busybox\",
        \"command\": [\"sh\", \"-c\", \"date > /mnt/${FILE}\"], \"volumeMounts\": [{\"name\": \"data\", \"mountPath\": \"/mnt\"}]}]}
    ]" \
  | kubectl apply -f -
kubectl rollout status deploy/${NAME} --timeout=180s

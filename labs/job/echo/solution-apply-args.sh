#!/usr/bin/env bash
# Another route: kubectl apply, a minimal Job (no labels, no defaults written out), container "greeter" (busybox:1.36) printing through sh -c in args; waits until it completes.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-echo}
TEXT=${TEXT:-Hello, Job}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
      - name: greeter
        image: busybox:1.36
        args: ["sh", "-c", "echo '${TEXT}'"]
YAML
kubectl wait --for=condition=complete job/${NAME} --timeout=90s
kubectl logs job/${NAME}

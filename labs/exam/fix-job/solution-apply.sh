#!/usr/bin/env bash
# Another route: delete the broken Job, kubectl apply a YAML Job printing the text through sh -c in args; waits for completion.
set -euo pipefail
# Parameters (the exam draws them); the defaults are the grader's.
NAME=${NAME:-greeter}
TEXT=${TEXT:-Hello from the exam}
kubectl delete job "$NAME" --ignore-not-found
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ${NAME}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: greeter
        image: busybox:1.36
        args: ["sh", "-c", "echo '${TEXT}'"]
YAML
kubectl wait --for=condition=complete "job/$NAME" --timeout=90s

#!/usr/bin/env bash
# Same CronJob with concurrencyPolicy Allow: two Jobs run side by side; grader must say cronjob.policy-allow.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-concurrency}
kubectl create -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  schedule: '*/1 * * * *'
  concurrencyPolicy: Allow
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: ${NAME}
            image: busybox
            command: ["sh", "-c", "date; sleep 90"]
          restartPolicy: OnFailure
YAML
wait_for_cronjob_job() { # $1 = CronJob name; waits until it has created a Job (up to 150 s)
  for _ in $(seq 1 75); do
    if kubectl get jobs -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].name}{"\n"}{end}' | grep -qx "$1"; then return 0; fi
    sleep 2
  done
  echo "CronJob $1 created no Job within 150 s" >&2; return 1
}
sleep_to_next_minute() { sleep $(( 60 - $(date +%s) % 60 + ${1:-5} )); }
wait_for_cronjob_job ${NAME}
sleep_to_next_minute 10

#!/usr/bin/env bash
# Another route: kubectl apply with the limits in the other order, schedule "* * * * *", container "tick" printing with args; waits for two runs so the older Job gets pruned.
set -euo pipefail
# Parameters (an exam draws others); the defaults are the lesson's.
NAME=${NAME:-history}
kubectl apply -f - <<YAML
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ${NAME}
spec:
  failedJobsHistoryLimit: 2
  successfulJobsHistoryLimit: 1
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: tick
            image: busybox:1.36
            args: ["sh", "-c", "echo tick"]
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
sleep_to_next_minute 20
kubectl get jobs

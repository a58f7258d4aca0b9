#!/usr/bin/env bash
# Look-alike: kubectl debug node/<node> with the right image and profile, but its command (true) never looks at the node; grader must say debug.node-not-looked.
set -euo pipefail
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
kubectl debug "node/$node" --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools -- true
for _ in $(seq 1 60); do
  if kubectl get pods -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' | grep -Eq "^node-debugger-$node-[a-z0-9]{5} (Succeeded|Failed)$"; then exit 0; fi
  sleep 2
done
echo "no node-debugger pod ran within 120 s" >&2; exit 1

#!/usr/bin/env bash
# The document's node debugging route without a terminal: kubectl debug node/<node> -i with the shell's input piped in.
set -euo pipefail
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
printf 'ls /host\nexit\n' | kubectl debug "node/$node" -i --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools
# Wait (up to 120 s) until the node-debugger pod's container has run.
for _ in $(seq 1 60); do
  if kubectl get pods -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' | grep -Eq "^node-debugger-$node-[a-z0-9]{5} (Running|Succeeded|Failed)$"; then exit 0; fi
  sleep 2
done
echo "no node-debugger pod ran within 120 s" >&2; exit 1

#!/usr/bin/env bash
# A plain pod with the debug-tools image: same tools, no view of the node; grader must say debug.node-plain-pod.
set -euo pipefail
kubectl run tools --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools --restart=Never -- sleep 3600
kubectl wait --for=condition=Ready pod/tools --timeout=120s

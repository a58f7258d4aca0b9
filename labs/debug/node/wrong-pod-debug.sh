#!/usr/bin/env bash
# Debugs an ordinary pod with the debug-tools image (ephemeral container), not the node; grader must say debug.node-missing.
set -euo pipefail
kubectl run target --image=busybox --restart=Never -- sleep 3600
kubectl wait --for=condition=Ready pod/target --timeout=120s
kubectl debug target --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools -c debugger -- ls /

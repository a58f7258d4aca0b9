#!/usr/bin/env bash
# Another route: kubectl run with --overrides, the node's root mounted at /rootfs (not /host), and its os-release read.
set -euo pipefail
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
kubectl run rootfs --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools --restart=Never --overrides="$(cat <<JSON
{"spec": {"nodeName": "${node}", "hostNetwork": true, "hostPID": true, "hostIPC": true,
  "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
  "containers": [{"name": "rootfs", "image": "registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools",
    "command": ["cat", "/rootfs/etc/os-release"], "volumeMounts": [{"name": "root", "mountPath": "/rootfs"}]}]}}
JSON
)"
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/rootfs --timeout=120s

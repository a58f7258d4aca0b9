#!/usr/bin/env bash
# Another route: the debugging pod written by hand (any name: node-shell), pinned to the node, in its namespaces, the node's root at /host; it lists /host.
set -euo pipefail
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
kubectl create -f - <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: node-shell
spec:
  nodeName: ${node}
  hostNetwork: true
  hostPID: true
  hostIPC: true
  restartPolicy: Never
  volumes:
  - name: node-root
    hostPath:
      path: /
  containers:
  - name: shell
    image: registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools
    command: ["ls", "/host"]
    volumeMounts:
    - name: node-root
      mountPath: /host
YAML
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/node-shell --timeout=120s

/**
 * The local-path provisioner's objects (rancher's, as kind and k3s run it)
 * and its default StorageClass, from the image this project builds
 * (catalog.ts): one definition for the embedded node's add-ons
 * (src/cluster/local/addons.ts) and the kind node image's
 * /kind/manifests/default-storage.yaml (kind-recipes.ts).
 */
import { BUSYBOX_IMAGE, LOCAL_PATH_PROVISIONER_IMAGE } from "./catalog.ts";

/**
 * The default StorageClass's name and provisioner, as kind and k3s name them.
 * Its volumes are directories whose size nothing enforces, so learners'
 * quotas refuse its claims (src/lab/manifests.ts).
 */
export const LOCAL_PATH_STORAGE_CLASS = "local-path";

const MANAGED_BY_LABEL = "    app.kubernetes.io/managed-by: kubelab";

const LOCAL_PATH = "local-path-provisioner";

/**
 * The local-path provisioner and its default StorageClass. WaitForFirstConsumer:
 * the volume is made on the node the pod is scheduled to (one node here, but
 * the claim stays Pending until a pod uses it, as on kind and k3s).
 */
export function localPathProvisioner(localVolumes: string): string[] {
  const meta = (name: string, namespaced = true) =>
    `metadata:\n  name: ${name}\n${namespaced ? "  namespace: kube-system\n" : ""}  labels:\n${MANAGED_BY_LABEL}\n    app.kubernetes.io/name: ${LOCAL_PATH}\n`;
  // The helper pods run as the provisioner's account (its --service-account-name) without its token.
  const helperPod = `apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  priorityClassName: system-node-critical
  automountServiceAccountToken: false
  tolerations:
  - key: node.kubernetes.io/disk-pressure
    operator: Exists
    effect: NoSchedule
  containers:
  - name: helper-pod
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent`;
  const config = JSON.stringify({
    nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [localVolumes] }],
  });
  const indent = (text: string) => text.replace(/^/gm, "    ");
  return [
    `apiVersion: v1
kind: ServiceAccount
${meta(LOCAL_PATH)}`,
    // Upstream's roles: read claims and nodes, write PersistentVolumes, run helper pods in its namespace.
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
${meta(LOCAL_PATH, false)}rules:
- apiGroups: [""]
  resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
${meta(LOCAL_PATH, false)}roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${LOCAL_PATH}
subjects:
- kind: ServiceAccount
  name: ${LOCAL_PATH}
  namespace: kube-system
`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
${meta(LOCAL_PATH)}rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, patch, update, delete]
`,
    `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
${meta(LOCAL_PATH)}roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${LOCAL_PATH}
subjects:
- kind: ServiceAccount
  name: ${LOCAL_PATH}
  namespace: kube-system
`,
    `apiVersion: v1
kind: ConfigMap
${meta("local-path-config")}data:
  config.json: |-
${indent(config)}
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "$VOL_DIR"
  helperPod.yaml: |-
${indent(helperPod)}
`,
    `apiVersion: apps/v1
kind: Deployment
${meta(LOCAL_PATH)}spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${LOCAL_PATH}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${LOCAL_PATH}
    spec:
      serviceAccountName: ${LOCAL_PATH}
      priorityClassName: system-cluster-critical
      securityContext:
        runAsNonRoot: true
        runAsUser: 65534
        runAsGroup: 65534
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: ${LOCAL_PATH}
        image: ${LOCAL_PATH_PROVISIONER_IMAGE}
        imagePullPolicy: IfNotPresent
        args: [start, --config, /etc/config/config.json, --service-account-name, ${LOCAL_PATH}, --helper-image, ${BUSYBOX_IMAGE}]
        env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: CONFIG_MOUNT_PATH
          value: /etc/config/
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
        resources:
          requests:
            cpu: 10m
            memory: 32Mi
          limits:
            memory: 128Mi
        volumeMounts:
        - name: config
          mountPath: /etc/config/
      volumes:
      - name: config
        configMap:
          name: local-path-config
`,
    `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: ${LOCAL_PATH_STORAGE_CLASS}
  labels:
${MANAGED_BY_LABEL}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
`,
  ];
}

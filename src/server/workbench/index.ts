/** The workbench editor's server side, made from the server's kubeconfig (routes in ../routes/workbench-files.ts). */
import { Exec, type KubeConfig } from "@kubernetes/client-node";
import { kubeGetJson, kubeRequest } from "../../cluster/kube-request.ts";
import { TOOLBOX_SERVICE_ACCOUNT } from "../../lab/manifests.ts";
import { WORK_DIR } from "../../terminal/index.ts";
import type { WorkbenchRoutesDeps } from "../routes/workbench-files.ts";
import { applier } from "./apply.ts";
import { clusterSchemas } from "./cluster-schemas.ts";
import { apiToolboxExec, toolboxFiles, type StdinExecClient } from "./toolbox-files.ts";

export type WorkbenchDeps = Omit<WorkbenchRoutesDeps, "labManager">;

export function workbenchFromKubeConfig(kubeConfig: KubeConfig): WorkbenchDeps {
  const exec = new Exec(kubeConfig) as unknown as StdinExecClient;
  return {
    files: (lab) =>
      toolboxFiles(
        apiToolboxExec(exec, { namespace: lab.toolboxNamespace, pod: lab.toolboxPod, container: lab.toolboxContainer }),
        WORK_DIR,
      ),
    schemas: clusterSchemas((path) => kubeGetJson(kubeConfig, path)),
    apply: applier((method, path, body, headers) => kubeRequest(kubeConfig, method, path, body, headers)),
    learner: (lab) => ({
      namespace: lab.namespace,
      serviceAccount: { namespace: lab.toolboxNamespace, name: TOOLBOX_SERVICE_ACCOUNT },
    }),
  };
}

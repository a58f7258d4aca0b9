/**
 * The workbench editor's server side (its routes: src/server/routes/workbench-files.ts):
 * a lab's toolbox files, the cluster's own schemas, and apply as the learner.
 */
import { Exec, type KubeConfig } from "@kubernetes/client-node";
import { kubeGetJson, kubeRequest } from "../../cluster/kube-request.ts";
import { TOOLBOX_SERVICE_ACCOUNT } from "../../lab/manifests.ts";
import type { Lab } from "../../lab/types.ts";
import type { WorkbenchApplyResult } from "../../shared/contract.ts";
import { WORK_DIR } from "../../terminal/index.ts";
import { applier, type Learner } from "./apply.ts";
import { clusterSchemas, type ClusterSchemas } from "./cluster-schemas.ts";
import { apiToolboxExec, toolboxFiles, type StdinExecClient, type ToolboxFiles } from "./toolbox-files.ts";

export type { Learner } from "./apply.ts";
export type { ClusterSchemas } from "./cluster-schemas.ts";
export { MAX_FILE_BYTES, type ToolboxFiles } from "./toolbox-files.ts";

/** What the editor's routes act through, for one lab at a time. */
export interface WorkbenchEditor {
  /** The files of a lab's toolbox. */
  files(lab: Lab): ToolboxFiles;
  schemas: ClusterSchemas;
  /** Apply a file's YAML as the lab's learner. */
  apply(content: string, learner: Learner): Promise<WorkbenchApplyResult>;
  /** The ServiceAccount a lab's learner acts as. */
  learner(lab: Lab): Learner;
}

export function editorFromKubeConfig(kubeConfig: KubeConfig): WorkbenchEditor {
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

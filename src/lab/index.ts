/**
 * The lab facade: import labs from here.
 */
export type { IsolationMode, Lab, LabLifecycle, LabManager, LabState } from "./types.ts";
export { LabError } from "./types.ts";
export { createLabManager, labIdFor, labIdIsOfMode, type LabManagerOptions } from "./lab-manager.ts";
export { createLabKube, waitNamespaceUsable, type LabKube, type ObjectRef } from "./kube-ops.ts";
export { classLimitObjects } from "./manifests.ts";
export { LEARNER_OBJECTS, resetLabNamespace } from "./reset.ts";
export { toolboxAgents, type ToolboxAgents, type ToolboxExec } from "./terminal-agent-address.ts";
export { apiServerEndpoints, followApiServerEndpoints, refreshApiEgress } from "./api-endpoints.ts";
export {
  ACCEPT_UNENFORCED_ENV,
  ACCEPT_UNENFORCED_FLAG,
  watchPolicyEnforcement,
  type PolicyCheck,
  type PolicyWatch,
} from "./policy-check.ts";

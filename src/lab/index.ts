/**
 * The lab facade: import labs from here.
 */
export type { IsolationMode, Lab, LabLifecycle, LabManager, LabState } from "./types.ts";
export { LabError } from "./types.ts";
export { createLabManager, labIdFor, labIdIsOfMode, type LabManagerOptions } from "./lab-manager.ts";
export { createLabKube, type LabKube, type ObjectRef } from "./kube-ops.ts";
export { LEARNER_OBJECTS, resetLabNamespace } from "./reset.ts";

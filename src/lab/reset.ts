/**
 * A lab's reset: its namespace emptied by the one reset every path uses
 * (`src/cluster/reset.ts`), keeping kubelab's own objects there (the
 * learner's RoleBinding, ResourceQuota and LimitRange in namespace mode).
 * The lab manager's Reset and `./kubelab lab verify` both call this.
 */
import { emptyNamespace, type EmptyOptions, type ResetApi } from "../cluster/reset.ts";
import { LABEL_MANAGED_BY, MANAGED_BY } from "./manifests.ts";

/** Everything in a lab's namespace that is the learner's, not kubelab's. */
export const LEARNER_OBJECTS = `${LABEL_MANAGED_BY}!=${MANAGED_BY}`;

export function resetLabNamespace(
  api: ResetApi,
  namespace: string,
  options: Omit<EmptyOptions, "labelSelector"> = {},
): Promise<void> {
  return emptyNamespace(api, namespace, { ...options, labelSelector: LEARNER_OBJECTS });
}

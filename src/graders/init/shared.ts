/** Helpers for Deployment-based exercises: the pods a Deployment owns. */
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { GradeContext } from "../context.ts";
import { isOwnedBy, ownerUid } from "../../k8s/rules.ts";

/** Pods owned by a ReplicaSet that the Deployment owns (not merely matching its labels). */
export async function podsOfDeployment(ctx: GradeContext, deployment: V1Deployment): Promise<V1Pod[]> {
  const sets = await ctx.apps.listNamespacedReplicaSet({ namespace: ctx.namespace });
  const rsUids = new Set(
    sets.items.filter((rs) => isOwnedBy(rs, "Deployment", deployment.metadata?.uid)).map((rs) => rs.metadata!.uid!),
  );
  const pods = await ctx.core.listNamespacedPod({ namespace: ctx.namespace });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp && rsUids.has(ownerUid(p, "ReplicaSet") ?? ""));
}

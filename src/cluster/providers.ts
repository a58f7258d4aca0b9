/**
 * The facade the rest of kubelab uses to get a cluster provider: chosen by
 * KUBELAB_PROVIDER (`local`, the default, `kubeconfig`, `incluster` in a pod, or
 * `kind`: a kind cluster under a Docker kubelab runs, docs/kind.md).
 */
import { KubelabError } from "../errors.ts";
import { InclusterProvider } from "./incluster/incluster-provider.ts";
import { KindProvider, kindStateDir } from "./kind/kind-provider.ts";
import { KubeconfigProvider } from "./kubeconfig/kubeconfig-provider.ts";
import { LocalProvider } from "./local/local-provider.ts";
import type { ClusterProvider } from "./provider.ts";

export type { ClusterProvider } from "./provider.ts";

export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): ClusterProvider {
  const name = env.KUBELAB_PROVIDER ?? "local";
  switch (name) {
    case "local":
      return new LocalProvider();
    case "kubeconfig":
      return new KubeconfigProvider();
    case "incluster":
      // KUBELAB_SERVICE_ACCOUNT_ROOT: a directory standing for a pod's root, to run it outside one (see InclusterOptions.root).
      return new InclusterProvider({ root: env.KUBELAB_SERVICE_ACCOUNT_ROOT });
    case "kind":
      return new KindProvider(kindStateDir(env));
    default:
      throw new KubelabError(`unknown cluster provider "${name}"`, "set KUBELAB_PROVIDER to `local`, `kubeconfig`, `incluster` or `kind`");
  }
}

/** Each command's usage: printed by `./kubelab <command> --help` and with any flag it does not know. */
export const USAGES = {
  start: `start [--mode cluster|namespace] [--port N] [--host H] [--origin URL] [--allowed-host NAME]...
        [--trusted-proxy CIDR]... [--access-password-file FILE|-] [--max-labs N] [--labs-per-minute N] [--max-terminals N]
        [--open-labs] [--allow-pod-clients] [--accept-unenforced-network-policy] [--learner-cpu Q] [--learner-memory Q]
        [--store FILE] [--registry R] [--metrics-port [HOST:]PORT]
                             build the lesson site if needed, bring up the local cluster
                             and the lab server, print the URL (namespace: a lab per learner;
                             on a network address only for class members unless --open-labs;
                             --learner-cpu/--learner-memory: each learner's requests instead of
                             the nodes' allocatable over the class's places; --registry: the
                             lab's images from registry R, as \`images push\` put them there;
                             --metrics-port or KUBELAB_METRICS_PORT: GET /metrics alone on that
                             port too, for a cluster's scraper; a bare port listens on every address;
                             --trusted-proxy: a reverse proxy whose X-Forwarded-For names the
                             client for the per-client limits)`,
  build: `build [--force|--check]    build the lesson site into dist/ when its sources changed`,
  image: `image build [all-in-one|server|kind-node] [--output FILE] [--tag NAME] [--load]
                             build a container image as a \`docker load\` archive (--load: into
                             the local Docker too): all-in-one (server and cluster in one, the
                             default), server (the server alone, for a pod in any cluster) or
                             kind-node (a node for \`kind create cluster --image\`, offline)
  images push --registry R [--insecure]
                             push the server image and the labs' images to registry R
                             (--insecure: plain HTTP; credentials: KUBELAB_REGISTRY_USERNAME/_PASSWORD)`,
  cluster: `cluster up|down|status|reset|logs
                             manage the embedded local cluster`,
  kubectl: `kubectl ...                kubectl with the cluster's admin kubeconfig`,
  helm: `helm ...                   Helm (built from its Go module once, cached) with the cluster's admin kubeconfig`,
  grade: `grade <exercise> [--json] [--namespace NS] [--locale en|zh-CN]
                             grade an exercise in the learner namespace`,
  lab: `lab verify [exercise] [--exam [exam ...] [--seeds a,b,c] [--task ID]] [--concurrency N] [--class-quota]
                             author check: setup → fails, solve → passes (--exam: every exam
                             task under several seeds)`,
  format: `format [--check]           format the code with Prettier (--check: only report)`,
  test: `test [format|typecheck|unit|integration|security|verify|container|kind|e2e|conformance]
                             run the test suites (all by default)`,
  progress: `progress export [--format json|csv] [--learner ID] [--output FILE]
                             learners' attempts and lab events from the progress store`,
  store: `store backup|restore FILE
                             a consistent copy of the progress store while the server runs
                             (SQLite's online backup, or pg_dump); restore one (the server
                             stopped; a newer kubelab's backup is refused). docs/store.md`,
  instructor: `instructor add <name>      make an instructor who runs classes (password from the terminal or stdin)
  instructor list|remove <name>
                             list instructors; remove one (their sessions end, their classes stay)`,
  labs: `labs list [--json] [--min-age MIN]
                             every kubelab namespace in the cluster: lab, learner, mode, age, state
                             (live, orphan: the store knows no owner, expired: its lifetime is over;
                             younger than --min-age minutes, default 10: live)
  labs delete <lab-id>|--orphans [--dry-run] [--force] [--min-age MIN]
                             delete a lab's namespaces, or every orphan and expired one
                             (never a live one without --force); --dry-run: only say what would go`,
  bench: `bench [cluster|lab|graders|store|class|exam|soak]
                             run benchmarks (all but soak by default), write results to bench/results/`,
} as const;

/** `./kubelab <command>` with its usage, as shown in hints. */
export const usageOf = (command: keyof typeof USAGES): string => `./kubelab ${USAGES[command]}`;

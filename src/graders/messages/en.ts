/**
 * English grader messages. Every message has a `text` (what we saw) and a
 * `hint` (what to do next). `{name}`-style placeholders are filled from the
 * check's params. Keys here define the MessageId/TitleId types; zh-CN.ts must
 * have exactly the same keys.
 */

export interface MessageText {
  text: string;
  hint: string;
}

export const titles = {
  "title.job-exists": "Job {name} exists",
  "title.job-complete": "Job {name} completed",
  "title.job-output": "A pod of Job {name} printed “{text}”",
  "title.job-spec": "Job {name} is configured as the exercise asks",
  "title.job-counts": "Job {name} needs {completions} completions, {parallelism} at a time",
  "title.job-cleanup": "Job {name} retries at most {backoffLimit} times and is removed {ttl} s after it finished",
  "title.job-succeeded-n": "Job {name} completed with {count} successful pods",
  "title.job-sequential": "The pods of Job {name} ran one at a time",
  "title.job-parallel": "The pods of Job {name} ran in parallel, at most {limit} at once",
  "title.job-backoff-failed": "Job {name} gave up after its retries",
  "title.job-backoff-pods": "Job {name} made {count} pods (backoffLimit + 1)",
  "title.job-ttl-set": "Job {name} has ttlSecondsAfterFinished: {ttl}",
  "title.job-ttl-removed": "The TTL controller removed Job {name} after it finished",
  "title.cronjob-exists": "CronJob {name} exists",
  "title.cronjob-schedule": "CronJob {name} runs every minute ({schedule})",
  "title.cronjob-image": "CronJob {name} uses the {image} image",
  "title.cronjob-command": "CronJob {name} prints the date and the greeting",
  "title.cronjob-restart-policy": "CronJob {name}'s pods use restartPolicy {policy}",
  "title.cronjob-fired": "CronJob {name} has run and a Job it created completed",
  "title.cronjob-suspended": "CronJob {name} is suspended",
  "title.cronjob-no-jobs": "No Job was created while {name} was suspended",
  "title.cronjob-policy": "CronJob {name} does not allow overlapping runs",
  "title.cronjob-behaviour": "The concurrency policy of {name} was seen in action",
  "title.cronjob-limits": "CronJob {name} keeps {successful} successful and {failed} failed Jobs",
  "title.cronjob-history": "Older finished Jobs of {name} were cleaned up",
  "title.deploy-exists": "Deployment {name} exists",
  "title.init-container": "Deployment {name} has an init container with an emptyDir volume",
  "title.app-container": "App container {container} uses {image} and shares /mnt",
  "title.init-ran-first": "The init container finished before {container} started",
  "title.init-file": "{file} is visible in /mnt inside {container}",
  "title.pod-exists": "Pod {name} exists",
  "title.init-two": "Pod {name} has at least two init containers",
  "title.init-sequence": "The init containers of {name} ran one after another",
  "title.debug-target": "Deployment {name} has a running pod",
  "title.debug-ephemeral": "The pod has an ephemeral container using {image}",
  "title.debug-ran": "The ephemeral container started",
  "title.debug-netstat": "netstat was run inside the ephemeral container",
  "title.node-pod": "A pod on the node mounts the node's root filesystem (kubectl debug node/…)",
  "title.node-image": "It uses the {image} image",
  "title.node-host": "It shares the node's network, PID and IPC namespaces",
  "title.node-ran": "Its shell looked at the node's filesystem",
  "title.job-deadline-set": "Job {name} has activeDeadlineSeconds: {seconds}",
  "title.job-deadline-exceeded": "Job {name} was stopped by its deadline (DeadlineExceeded)",
  "title.init-sidecar-native": "Pod {name} has a native sidecar (an init container with restartPolicy: Always)",
  "title.init-sidecar-running": "The sidecar and the app container of {name} run side by side",
  "title.init-sidecar-output": "The sidecar's log shows “{text}” written by the app",
  // Exam-only tasks (src/exams/graders/).
  "title.exam-exists": "{kind} {name} exists",
  "title.exam-field": "{kind} {name}: {field} is {expected}",
  "title.exam-pod-running": "Pod {name} is running and ready",
  "title.exam-init-waits": "Pod {name} has an init container that waits for Service {service}",
  "title.exam-service": "Service {name} exists and selects pod {pod}",
  "title.exam-native-sidecar": "{container} is a native sidecar of pod {name} (init container, restartPolicy Always)",
  "title.exam-sidecar-output": "The sidecar {container} shows “{text}”",
  "title.exam-ephemeral":
    "An ephemeral container {container} (busybox) debugged pod {name}, targeting its container {target}",
  "title.exam-answer": "ConfigMap {name} holds the answer in key {key}",
  "title.exam-from-cronjob": "Job {name} was created from CronJob {cronjob}",
} satisfies Record<string, string>;

export const messages = {
  // common
  "common.not-checked": {
    text: "Not checked: “{check}” has to pass first.",
    hint: "Fix that check first, then press Check again.",
  },
  "common.not-evaluated": {
    text: "This check was not evaluated.",
    hint: "Press Check again; if it keeps happening, report it to the course maintainers.",
  },
  "common.unavailable-namespace-mode": {
    text: "This exercise needs access to a node, which this lab (a shared cluster with one namespace per learner) does not give.",
    hint: "Skip it here, or do it in a lab with its own cluster.",
  },
  "common.output-too-large": {
    text: "`{command}` in container {container} printed more than {limit} KiB, so kubelab stopped reading it; what it looks for was not in the part it read.",
    hint: "That command should print a short answer: make sure {container} runs the image the exercise asks for, unchanged, then press Check again.",
  },
  "common.exec-timeout": {
    text: "`{command}` in container {container} did not finish within {seconds} s, so kubelab stopped it and could not check this.",
    hint: "That command should answer at once: make sure {container} runs the image the exercise asks for, unchanged, then press Check again.",
  },
  "common.log-too-large": {
    text: "The log of container {container} in pod {pod} is longer than {limit} KiB; kubelab reads only that much and did not find what it looks for there.",
    hint: "Let the container print only what the exercise asks, then run it again.",
  },
  "infra.unreachable": {
    text: "The cluster could not be reached, so this could not be checked. This is not a mistake on your part.",
    hint: "Wait a few seconds and press Check again. If it keeps failing, reset the lab or ask your instructor.",
  },
  "infra.grader-error": {
    text: "The grader itself ran into a problem, so this could not be checked. This is not a mistake on your part.",
    hint: "Press Check again; if it keeps happening, tell your instructor or the course maintainers.",
  },

  // Jobs
  "job.missing": {
    text: "There is no Job named {name} in your namespace.",
    hint: "Create it, for example with `kubectl create -f job.yaml`, then check with `kubectl get job {name}`.",
  },
  "job.bare-pod": {
    text: "{name} is a plain Pod, not a Job. A Pod runs once and nothing re-runs it if it fails; a Job makes sure the work completes.",
    hint: "Delete the Pod (`kubectl delete pod {name}`) and create a Job named {name} instead (`kind: Job`, or `kubectl create job`).",
  },
  "job.exists": {
    text: "Job {name} exists.",
    hint: "Next, make sure it runs to completion.",
  },
  "job.completed": {
    text: "Job {name} completed ({succeeded} pod(s) succeeded).",
    hint: "`kubectl get po` shows its pod as Completed.",
  },
  "job.failed": {
    text: "Job {name} failed ({reason}).",
    hint: "Look at its pods with `kubectl get po` and `kubectl logs <pod>` to see why, fix the manifest, then delete the Job and create it again.",
  },
  "job.still-running": {
    text: "Job {name} is still running, {seconds} s after it started.",
    hint: "Look at `kubectl get po` and `kubectl describe job {name}` to see what it is waiting for (image pull, scheduling, a command that does not end…), then press Check again.",
  },
  "job.waiting": {
    text: "Waiting for Job {name} to finish: {succeeded} of {completions} pod(s) succeeded so far, running for {seconds} s.",
    hint: "Check looks again by itself, for up to {limit} s after the Job started; meanwhile `kubectl get po -w` shows its pods.",
  },
  "job.run-not-awaited": {
    text: "Not waited for: Job {name} is still running, but it does not match the exercise (see the checks above).",
    hint: "Fix the manifest, delete the Job (`kubectl delete job {name}`) and create it again, then press Check.",
  },
  "job.no-pods": {
    text: "No pods of Job {name} are left to look at.",
    hint: "A Job's pods are kept after it finishes unless something removed them. Delete the Job and create it again.",
  },
  "job.no-logs": {
    text: "The pods of Job {name} have no logs to read yet.",
    hint: "Wait until a pod has run (`kubectl get po`), then press Check again.",
  },
  "job.output-ok": {
    text: "Pod {pod} printed “{text}”.",
    hint: "`kubectl logs {pod}` shows the same line.",
  },
  "job.output-wrong": {
    text: "Job {name}'s pod printed “{actual}”, not “{expected}”.",
    hint: 'The container should run `echo "{expected}"` exactly. Fix the command, delete the Job (`kubectl delete job {name}`) and create it again.',
  },
  "job.output-empty": {
    text: "Job {name}'s pod printed nothing; it should print “{expected}”.",
    hint: 'Check the container\'s command (`command: [echo, "{expected}"]`), then delete the Job and create it again.',
  },

  "job.spec-mismatch": {
    text: "Job {name} has {field}: {actual}; the exercise asks for {expected}.",
    hint: "Most Job fields cannot be changed after creation: fix the manifest, `kubectl delete job {name}`, then create it again.",
  },
  "job.spec-ok": {
    text: "Job {name} is set up as asked ({fields}).",
    hint: "Now watch it run: `kubectl get po -w`.",
  },
  "job.too-few-succeeded": {
    text: "Job {name} finished with only {succeeded} successful pod(s); {expected} are needed.",
    hint: "Set `completions: {expected}`, then delete the Job and create it again.",
  },
  "job.overlap": {
    text: "Up to {peak} pods of Job {name} were running at the same time; at most {limit} should.",
    hint: "`parallelism` limits how many pods run at once. Set it to {limit}, delete the Job and create it again.",
  },
  "job.sequential": {
    text: "The pods of Job {name} ran strictly one after another.",
    hint: 'That is the "fixed completion count" pattern: completions > 1, parallelism 1.',
  },
  "job.not-parallel": {
    text: "The pods of Job {name} never overlapped (at most {peak} at a time).",
    hint: "Give the pods some work that takes a few seconds (e.g. `sleep 5`) and set `parallelism: 3`, then delete the Job and create it again.",
  },
  "job.parallel-ok": {
    text: "Up to {peak} pods of Job {name} ran at once, never more than {limit}.",
    hint: "Notice the last round: only the one remaining completion got a pod.",
  },
  "recorder.missed": {
    text: "kubelab did not see {kind} {name} run, so its history cannot be checked (it may have run while the lab was not being watched).",
    hint: "Delete {kind} {name} if it still exists and create it again with this page open, then press Check.",
  },
  "recorder.gap": {
    text: "kubelab lost its connection to the cluster while {kind} {name} was being removed, so it cannot tell who removed it. This is not a mistake on your part.",
    hint: "Create {kind} {name} again and let it finish while this page is open, then press Check.",
  },
  "job.backoff-succeeded": {
    text: "Job {name} completed successfully, but this exercise needs a Job that keeps failing.",
    hint: 'Make the container exit with an error, e.g. `command: ["sh", "-c", "exit 1"]`, then delete the Job and create it again.',
  },
  "job.failed-other-reason": {
    text: "Job {name} failed, but for another reason ({reason}) than running out of retries.",
    hint: "Remove `activeDeadlineSeconds` and similar limits so that only `backoffLimit` decides; delete the Job and create it again.",
  },
  "job.backoff-failed": {
    text: "Job {name} failed with BackoffLimitExceeded after its {limit} retries.",
    hint: "See it with `kubectl describe job {name}`: the events show each retry.",
  },
  "job.backoff-pods": {
    text: "Job {name} created {count} pods: the first try plus one per retry.",
    hint: "`kubectl get po` lists them all as Error.",
  },
  "job.backoff-pod-count": {
    text: "Job {name} created {count} pod(s); with restartPolicy Never and backoffLimit 2 it should create {expected}.",
    hint: "With `restartPolicy: OnFailure` the same pod restarts instead of a new one being created. Use `restartPolicy: Never`, delete the Job and create it again.",
  },
  "job.ttl-missing": {
    text: "Job {name} has no ttlSecondsAfterFinished, so nothing will clean it up automatically.",
    hint: "Add `ttlSecondsAfterFinished: 10` under `spec`, delete the Job and create it again.",
  },
  "job.ttl-not-yet": {
    text: "Job {name} is still there; it should disappear {ttl} s after it finishes.",
    hint: "Wait a few seconds and press Check again; `kubectl get job -w` shows when it goes. Do not delete it yourself.",
  },
  "job.waiting-ttl": {
    text: "Waiting for the TTL controller to remove Job {name}: it is due at {at}.",
    hint: "Check looks again by itself then; `kubectl get job -w` shows it go. Do not delete it yourself.",
  },
  "job.ttl-removed": {
    text: "Job {name} finished and was then removed by the TTL-after-finished controller.",
    hint: "Its pods went with it: `kubectl get po` no longer lists them.",
  },
  "job.deleted-before-finish": {
    text: "Job {name} was deleted before it finished, so the TTL controller never had a chance.",
    hint: "Create it again and let it run to completion; it will be removed automatically.",
  },
  "job.deleted-by-hand": {
    text: "Job {name} was deleted, but not by the TTL controller (it was deleted by someone, probably with kubectl delete).",
    hint: "Create it again and do not delete it: with `ttlSecondsAfterFinished: 10` it disappears on its own about 10 s after it completes.",
  },
  "cronjob.missing": {
    text: "There is no CronJob named {name} in your namespace.",
    hint: "Create it, for example with `kubectl create -f cronjob.yaml`, then check with `kubectl get cj`.",
  },
  "cronjob.exists": {
    text: "CronJob {name} exists.",
    hint: "`kubectl get cj` shows its schedule and when it last ran.",
  },
  "cronjob.schedule-ok": {
    text: "CronJob {name} runs every minute ({schedule}).",
    hint: "The five fields are minute, hour, day of month, month and day of week, like crontab.",
  },
  "cronjob.schedule-wrong": {
    text: 'CronJob {name} has schedule "{actual}"; the exercise asks for "{expected}" (every minute).',
    hint: "Change it with `kubectl edit cj {name}` (or fix the YAML and apply it again).",
  },
  "cronjob.image-ok": {
    text: "CronJob {name} runs {image}.",
    hint: "Next: the command it runs.",
  },
  "cronjob.image-wrong": {
    text: 'CronJob {name} runs the image "{actual}"; the exercise uses {expected}.',
    hint: "Set `image: {expected}` in the container under `jobTemplate`.",
  },
  "cronjob.command-ok": {
    text: "The pod of Job {job} printed the date and “Hello from the Kubernetes cluster”.",
    hint: "Each run's output is in its pod's log: `kubectl logs job/{job}`.",
  },
  "cronjob.no-log": {
    text: "Job {job} of CronJob {name} completed, but no log of its pod is left to read.",
    hint: "Its pod may have been removed. Wait for the next run (one a minute) and press Check again.",
  },
  "cronjob.restart-policy-ok": {
    text: "The pods of CronJob {name} use restartPolicy {policy}.",
    hint: "With OnFailure a failed container is restarted in the same pod.",
  },
  "cronjob.restart-policy-wrong": {
    text: "The pods of CronJob {name} use restartPolicy {actual}; the exercise asks for {expected}.",
    hint: "Set `restartPolicy: {expected}` in the pod template under `jobTemplate` (a Job's pods cannot use Always).",
  },
  "cronjob.suspended-never-fired": {
    text: "CronJob {name} is suspended, so it never runs.",
    hint: 'Set `suspend: false` (`kubectl patch cj {name} -p \'{"spec":{"suspend":false}}\'`) and wait for the next minute.',
  },
  "cronjob.not-fired": {
    text: "CronJob {name} has not created a Job, though a scheduled time has passed since it was created.",
    hint: "It fires at the start of each minute. Wait a minute, then press Check again; `kubectl get jobs -w` shows new Jobs as they appear.",
  },
  "cronjob.no-completed-job": {
    text: "CronJob {name} has created Jobs, but none has completed.",
    hint: "Look at the newest Job's pod: `kubectl get po` and `kubectl logs <pod>`. Is the image right, does the command succeed?",
  },
  "cronjob.run-not-awaited": {
    text: "Not waited for a run: CronJob {name} does not match the exercise yet (see the checks above).",
    hint: "Fix it (`kubectl edit cj {name}`, or change the YAML and `kubectl replace -f` it), then press Check again.",
  },
  "cronjob.waiting-run": {
    text: "Waiting for the run of CronJob {name} due at {at}.",
    hint: "Check looks again by itself when it is due; meanwhile `kubectl get jobs -w` shows each Job as it appears.",
  },
  "cronjob.waiting-job": {
    text: "Waiting for Job {job} of CronJob {name} to finish.",
    hint: "`kubectl get po` shows its pod; `kubectl logs job/{job}` shows its output.",
  },
  "cronjob.output-wrong": {
    text: "Job {job} of CronJob {name} completed, but its pod did not print the date and “{expected}”; it printed: {actual}",
    hint: 'The container should run `date` and then `echo {expected}`, e.g. args `/bin/sh -c "date; echo {expected}"`. Fix it (`kubectl edit cj {name}`) and wait for the next run.',
  },
  "cronjob.fired": {
    text: "CronJob {name} ran: Job {job} completed.",
    hint: "`kubectl get jobs` shows one Job per minute; `kubectl logs job/{job}` shows its output.",
  },
  "cronjob.not-suspended": {
    text: "CronJob {name} is not suspended.",
    hint: 'Set `suspend: true` in its spec (or `kubectl patch cj {name} -p \'{"spec":{"suspend":true}}\'`).',
  },
  "cronjob.suspended": {
    text: "CronJob {name} is suspended.",
    hint: "`kubectl get cj` shows SUSPEND True.",
  },
  "cronjob.ran-while-suspended": {
    text: "CronJob {name} created Job {job} while it was suspended.",
    hint: "Delete the CronJob and its Jobs, then create it with `suspend: true` from the start.",
  },
  "cronjob.suspend-not-observed": {
    text: "No scheduled time has passed yet while CronJob {name} was suspended, so there is nothing to prove yet.",
    hint: "Keep it suspended and wait until the next minute has started, then press Check again.",
  },
  "cronjob.no-jobs-while-suspended": {
    text: "CronJob {name} stayed suspended over {count} scheduled time(s) and created no Job.",
    hint: "Resume it with `suspend: false` whenever you want the runs back.",
  },
  "cronjob.policy-allow": {
    text: "CronJob {name} uses concurrencyPolicy {actual}, which lets runs overlap.",
    hint: "Set `concurrencyPolicy: Forbid` (skip a run while the previous one is still going) or `Replace` (stop the old run and start the new one).",
  },
  "cronjob.policy-ok": {
    text: "CronJob {name} uses concurrencyPolicy {policy}.",
    hint: "Now let a run last longer than a minute and watch what happens: `kubectl get jobs -w`.",
  },
  "cronjob.overlap": {
    text: "Two or more Jobs of CronJob {name} were active at the same time (up to {peak}).",
    hint: "With Forbid this should never happen; check `concurrencyPolicy` and that the Jobs really belong to this CronJob.",
  },
  "cronjob.policy-not-exercised": {
    text: "kubelab has not yet seen a run of CronJob {name} still going when the next one was due, so {policy} had nothing to do.",
    hint: "Make each run take longer than the schedule period (e.g. `sleep 90` with `*/1 * * * *`), wait about two minutes, then press Check again.",
  },
  "cronjob.forbid-ok": {
    text: "A run of CronJob {name} was still going at the next scheduled time, and no second Job was started alongside it.",
    hint: "That is Forbid: the new run waits (or is skipped) until the old one ends.",
  },
  "cronjob.replace-ok": {
    text: "CronJob {name} replaced a run: Job {old} was stopped and Job {next} started in its place.",
    hint: "That is Replace: the newest run always wins.",
  },
  "cronjob.spec-mismatch": {
    text: "CronJob {name} has {field}: {actual}; the exercise asks for {expected}.",
    hint: "Change it with `kubectl edit cj {name}`, or fix the YAML and apply it again.",
  },
  "cronjob.limits-ok": {
    text: "CronJob {name} keeps {successful} successful and {failed} failed Job(s).",
    hint: "Now let it run a few times and watch older Jobs disappear: `kubectl get jobs -w`.",
  },
  "cronjob.history-over-limit": {
    text: "CronJob {name} still has {kept} finished Jobs of one kind; the limit is {limit}.",
    hint: "The controller prunes after each run; if this persists, check the limits in `kubectl get cj {name} -o yaml`.",
  },
  "cronjob.history-not-enough-runs": {
    text: "kubelab has seen {seen} successful run(s) of CronJob {name}; at least {needed} are needed before an old one gets cleaned up.",
    hint: "Wait another minute or two, then press Check again.",
  },
  "cronjob.history-pruned": {
    text: "CronJob {name} removed the older Job {job} and keeps {kept} successful Job(s).",
    hint: "That is successfulJobsHistoryLimit at work.",
  },
  "deploy.missing": {
    text: "There is no Deployment named {name} in your namespace.",
    hint: "Create it, for example with `kubectl create -f nginx-deploy.yaml`, then check with `kubectl get deploy {name}`.",
  },
  "deploy.exists": {
    text: "Deployment {name} exists.",
    hint: "Next: what its pod template contains.",
  },
  "init.no-init-container": {
    text: "The pods of Deployment {name} have no init container.",
    hint: "Add an `initContainers:` list to the pod template, next to `containers:`.",
  },
  "init.init-mount": {
    text: "Init container {container} does not mount an emptyDir volume, so nothing it writes can reach the app container.",
    hint: "Declare `volumes: [{name: init-volume, emptyDir: {}}]` and mount it in the init container with `volumeMounts: [{name: init-volume, mountPath: /mnt}]`.",
  },
  "init.init-ok": {
    text: "Init container {container} mounts an emptyDir volume.",
    hint: "Next: the app container must mount the same volume.",
  },
  "init.app-missing": {
    text: "Deployment {name} has no container named {container}.",
    hint: "Name the app container `{container}` (`name: {container}` under `containers:`).",
  },
  "init.app-image": {
    text: "Container {container} uses the image {actual}; the exercise uses {expected}.",
    hint: "Set `image: {expected}`.",
  },
  "init.app-mount": {
    text: "Container {container} does not mount the init container's emptyDir at /mnt.",
    hint: "Add the same volume to {container} with `mountPath: /mnt`, so both containers see the same directory.",
  },
  "init.app-ok": {
    text: "Container {container} runs nginx:1.20.0 and shares /mnt with the init container.",
    hint: "Now check the running pod.",
  },
  "init.pod-not-running": {
    text: "No pod of Deployment {name} with the init container is running yet.",
    hint: "Look at `kubectl get po`: Init:0/1 means the init container is still running, Init:Error or Init:CrashLoopBackOff means it failed (`kubectl logs <pod> -c <init container>`).",
  },
  "init.not-finished": {
    text: "Init container {container} has not finished.",
    hint: "Wait a moment; if it stays like this, `kubectl describe pod` shows why.",
  },
  "init.init-failed": {
    text: "Init container {container} exited with code {exitCode}.",
    hint: "Read its log with `kubectl logs <pod> -c {container}`, fix the command and re-create the pod.",
  },
  "init.order-wrong": {
    text: "{second} started before {first} had finished.",
    hint: "Init containers always run to completion one by one before the app starts; make sure these are init containers (not regular containers or sidecars).",
  },
  "init.ran-first-ok": {
    text: "In pod {pod}, init container {container} finished before {app} started.",
    hint: "That is the guarantee postStart does not give.",
  },
  "init.app-writes-file": {
    text: "{file} in /mnt was last written after the init containers had finished, so {container} (its command or a postStart hook) wrote it, not the init container.",
    hint: "Remove that from {container}; let only the init container create the file.",
  },
  "init.file-present": {
    text: "`ls /mnt` in {container} of pod {pod} lists {file}.",
    hint: "The init container and the app container shared the emptyDir.",
  },
  "init.file-missing": {
    text: "`ls /mnt` in {container} does not list {file}.",
    hint: "Both containers must mount the same emptyDir volume at /mnt; check `volumeMounts` of both.",
  },
  "pod.waiting-running": {
    text: "Waiting for Pod {name} to run: it was created {seconds} s ago.",
    hint: "Check looks again by itself; meanwhile `kubectl get po {name} -w` shows it start (Init:0/1 means an init container is still running).",
  },
  "pod.waiting-log": {
    text: "Waiting for “{text}” in the log of container {container} of Pod {name} (created {seconds} s ago).",
    hint: "Check looks again by itself; `kubectl logs {name} -c {container} -f` shows the log as it grows.",
  },
  "init.waiting-inits": {
    text: "Waiting for the init containers of Pod {name} to finish: it was created {seconds} s ago.",
    hint: "Check looks again by itself; `kubectl get po {name} -w` shows Init:1/2, Init:2/2… as they finish.",
  },
  "pod.missing": {
    text: "There is no Pod named {name} in your namespace.",
    hint: "Create it, e.g. `kubectl create -f {name}.yaml`, then check with `kubectl get po {name}`.",
  },
  "pod.exists": {
    text: "Pod {name} exists.",
    hint: "Next: its init containers.",
  },
  "init.order-too-few": {
    text: "Pod {name} has {count} init container(s); the exercise needs at least two.",
    hint: "List two containers under `initContainers:`; they run in the order listed.",
  },
  "init.order-sidecar": {
    text: "Init container {container} has `restartPolicy: Always`, which makes it a sidecar that keeps running alongside the app instead of finishing first.",
    hint: "Remove `restartPolicy: Always` from {container}.",
  },
  "init.order-two-ok": {
    text: "Pod {name} has {count} init containers.",
    hint: "Now watch them run: `kubectl get po {name} -w` shows Init:0/2, Init:1/2, …",
  },
  "init.app-not-started": {
    text: "App container {container} has not started yet.",
    hint: "Wait a moment, then press Check again; `kubectl describe pod` shows what it is waiting for.",
  },
  "init.order-ok": {
    text: "The init containers of {name} ran one after another ({order}), then the app started.",
    hint: "Each one started only after the previous one had exited successfully.",
  },
  "debug.no-running-pod": {
    text: "Deployment {name} has no running pod to debug.",
    hint: "Wait for `kubectl get po` to show it Running (or create the Deployment from the lesson first).",
  },
  "debug.target-ok": {
    text: "Deployment {name} has a running pod ({pod}).",
    hint: "Try `kubectl exec {pod} -- netstat -anpt` first: the nginx image has no netstat.",
  },
  "debug.no-ephemeral": {
    text: "Pod {pod} has no ephemeral container. `kubectl exec` runs inside the existing container, which has no netstat; `kubectl debug --copy-to` makes a separate copy.",
    hint: "Add one to the pod itself: `kubectl debug {pod} -it --image=busybox`, then run `netstat -anpt`.",
  },
  "debug.ephemeral-ok": {
    text: "Pod {pod} has ephemeral container {container} ({image}).",
    hint: "It shares the pod's network namespace, so it sees nginx's sockets.",
  },
  "debug.ephemeral-image": {
    text: "Ephemeral container {container} uses {image}, not {expected}.",
    hint: "Add another one with `--image={expected}`; busybox ships netstat.",
  },
  "debug.ran-ok": {
    text: "Ephemeral container {container} started.",
    hint: "Ephemeral containers are never restarted; once you exit, it stays Terminated.",
  },
  "debug.ephemeral-not-started": {
    text: "Ephemeral container {container} has not started ({reason}).",
    hint: "Wait for the image to be pulled; `kubectl describe pod` shows the ephemeral container's state.",
  },
  "debug.netstat-seen": {
    text: "netstat was run in ephemeral container {container}.",
    hint: "Its table shows nginx listening on port 80, which the nginx container could not tell you.",
  },
  "debug.netstat-missing": {
    text: "There is no sign that netstat was run in ephemeral container {container}.",
    hint: "Attach to it (`kubectl attach {pod} -c {container} -it`, if it is still running) or start a new one with `kubectl debug {pod} -it --image=busybox`, and run `netstat -anpt`.",
  },
  "debug.node-missing": {
    text: "No pod in your namespace mounts a node's root filesystem, as the pod `kubectl debug node/…` creates does.",
    hint: "Run `kubectl debug node/<node> -it --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools`; `kubectl get nodes` gives the node name.",
  },
  "debug.node-plain-pod": {
    text: "Pod {pod} uses the debug-tools image, but it is an ordinary pod: the node's filesystem is not mounted in it, so it cannot see the node.",
    hint: "Use `kubectl debug node/<node> -it --image=…` instead: it pins the pod to the node, shares the node's namespaces and mounts the node's root at /host.",
  },
  "debug.node-pod-ok": {
    text: "Pod {pod} runs on node {node} with the node's root filesystem at {path}.",
    hint: "Inside it, the node's files are under {path} (`chroot {path}` to use them as root).",
  },
  "debug.node-image-ok": {
    text: "It uses {image}.",
    hint: "That image carries network and process tools the node may lack.",
  },
  "debug.node-image": {
    text: "The debugging pod uses {actual}, not {expected}.",
    hint: "Run it again with `--image={expected}`.",
  },
  "debug.node-host-ok": {
    text: "Pod {pod} shares the node's network, PID and IPC namespaces.",
    hint: "`ps aux` there lists the node's processes, `ip addr` its interfaces.",
  },
  "debug.node-no-host": {
    text: "Pod {pod} lacks host access: {missing}.",
    hint: "Create it with `kubectl debug node/<node>` (default profile) rather than by hand or with a restricted profile.",
  },
  "debug.node-looked": {
    text: "The log of {pod} shows the node's filesystem (at {path}) being looked at.",
    hint: "When you are done, delete the pod: `kubectl delete pod {pod}`.",
  },
  "debug.node-not-looked": {
    text: "{pod} ran, but its log does not show the node's filesystem being looked at (it is mounted at {path}).",
    hint: "Start a shell on the node again and run `ls {path}`, or give the command directly: `kubectl debug node/<node> --image=… -- ls /host`. Then press Check.",
  },
  "debug.node-not-started": {
    text: "The container of {pod} has not started ({reason}).",
    hint: "Wait for the image to be pulled; `kubectl describe pod {pod}` shows why it is waiting.",
  },
  "job.deadline-set": {
    text: "Job {name} may run for at most {seconds} s (activeDeadlineSeconds in the Job's spec).",
    hint: "Next, let the deadline pass: the Job should fail with reason DeadlineExceeded.",
  },
  "job.deadline-missing": {
    text: "Job {name} has no activeDeadlineSeconds, so nothing limits how long it runs (a `timeout` in the command limits one container, not the Job).",
    hint: "Add `activeDeadlineSeconds: {seconds}` under the Job's `spec:` (beside `template:`), `kubectl delete job {name}` and create it again.",
  },
  "job.deadline-on-pod": {
    text: "activeDeadlineSeconds ({seconds}) is in the Pod template of Job {name}: that limits each Pod, and the Job starts a new Pod after each one that fails.",
    hint: "Move it up to the Job's own `spec:` (beside `template:` and `backoffLimit`), `kubectl delete job {name}` and create it again.",
  },
  "job.deadline-succeeded": {
    text: "Job {name} completed before its deadline, so the deadline never stopped it.",
    hint: "Make the container run longer than the deadline (`sleep 60`), `kubectl delete job {name}` and create it again.",
  },
  "job.deadline-exceeded": {
    text: "Job {name} failed with reason DeadlineExceeded: the controller stopped its Pod when the time was up.",
    hint: "`kubectl describe job {name}` shows the condition and the event.",
  },
  "job.deadline-other-reason": {
    text: "Job {name} failed, but with reason {reason}, not DeadlineExceeded: it failed before the deadline was reached.",
    hint: "Let the container run without failing (`sleep 60`) so that only activeDeadlineSeconds ends it; `kubectl delete job {name}` and create it again.",
  },
  "init.sidecar-pod-missing": {
    text: "There is no Pod named {name} in your namespace.",
    hint: "Create it, e.g. `kubectl create -f sidecar.yaml`, then check with `kubectl get po {name}`.",
  },
  "init.sidecar-missing": {
    text: "Pod {name} has no init container with `restartPolicy: Always`, so it has no native sidecar.",
    hint: "Add the follower under `initContainers:` with `restartPolicy: Always`, `kubectl delete pod {name}` and create it again.",
  },
  "init.sidecar-blocks": {
    text: "Init container {container} has not finished, and a regular init container must finish before the app starts: a follower that never exits keeps the Pod in Init forever.",
    hint: "Give {container} `restartPolicy: Always` to make it a sidecar that keeps running beside the app. A Pod's containers cannot be changed in place: `kubectl delete pod sidecar` and create it again from the corrected file.",
  },
  "init.sidecar-regular-container": {
    text: "The follower is an ordinary container ({containers}): that works, but it is the pattern from before native sidecars — it is not started before the app, and it would keep a Job's Pod from ever completing.",
    hint: "Move the follower from `containers:` to `initContainers:` and give it `restartPolicy: Always`; delete the Pod and create it again.",
  },
  "init.sidecar-native": {
    text: "{container} is a native sidecar: an init container with restartPolicy: Always.",
    hint: "It starts before the app container and keeps running beside it.",
  },
  "init.sidecar-not-running": {
    text: "{container} is not running ({reason}).",
    hint: "`kubectl describe pod sidecar` and `kubectl logs sidecar -c {container}` show why.",
  },
  "init.sidecar-running": {
    text: "Sidecar {sidecar} runs beside the app container(s) {apps}.",
    hint: "`kubectl get po sidecar` counts the sidecar in READY (2/2).",
  },
  "init.sidecar-output": {
    text: "The log of {container} shows “{text}”: the sidecar reads what the app writes to the shared volume.",
    hint: "`kubectl logs sidecar -c {container} -f` follows it live.",
  },
  "init.sidecar-no-output": {
    text: "The log of {container} does not show “{text}”: the sidecar does not see the app's file.",
    hint: "Mount the same emptyDir volume in both containers and have the sidecar follow the file the app writes (`tail -f`).",
  },
  // Exam-only tasks (src/exams/graders/). {expected}/{actual}: what the task asks, what kubelab saw.
  "exam.object-missing": {
    text: "There is no {kind} named {name} in this task's namespace.",
    hint: "Check the name and the context: `kubectl config current-context`, then `kubectl get {kind} {name}`.",
  },
  "exam.object-exists": {
    text: "{kind} {name} exists.",
    hint: "`kubectl get {kind} {name} -o yaml` shows it in full.",
  },
  "exam.field-ok": {
    text: "{kind} {name}: {field} is {expected}.",
    hint: "`kubectl get {kind} {name} -o yaml` shows the field.",
  },
  "exam.field-wrong": {
    text: "{kind} {name}: {field} is {actual}, the task asks for {expected}.",
    hint: "Most fields of a running object cannot be changed: `kubectl get {kind} {name} -o yaml > t.yaml`, edit, `kubectl replace --force -f t.yaml`.",
  },
  "exam.field-missing": {
    text: "{kind} {name}: {field} is not set, the task asks for {expected}.",
    hint: "`kubectl explain {kind}.{field}` shows where the field belongs.",
  },
  "exam.pod-running": {
    text: "Pod {name} is running and ready.",
    hint: "`kubectl get pod {name}` shows READY.",
  },
  "exam.pod-not-running": {
    text: "Pod {name} is not running and ready (phase {phase}, {reason}).",
    hint: "`kubectl describe pod {name}` shows the events; `kubectl logs {name} -c <init-container>` what an init container waits for.",
  },
  "exam.init-did-not-wait": {
    text: "The init containers of Pod {name} had all finished before Service {service} existed (the last: {container}), so they did not wait for it: the app would have started without the Service.",
    hint: "Make an init container loop until the Service's name resolves, e.g. `until nslookup {service}; do sleep 2; done`. Create the Pod, then the Service, and watch it leave Init.",
  },
  "exam.init-no-service": {
    text: "There is no Service {service} yet, so it cannot be seen whether Pod {name} waits for it.",
    hint: "Create Service {service} (port 80) selecting the pod; an init container that waits for it finishes soon after.",
  },
  "exam.init-waits": {
    text: "Init container {container} waits for Service {service}.",
    hint: "`kubectl logs {name} -c {container}` shows its lookups.",
  },
  "exam.init-missing": {
    text: "Pod {name} has no init container (a sidecar, restartPolicy Always, does not hold the app back), so nothing makes it wait for Service {service}.",
    hint: "Add an init container to spec.initContainers whose command loops until the name resolves, e.g. `until nslookup {service} | grep -q '^Name:'; do sleep 2; done` (busybox's nslookup exits 1 even once the name resolves, when one of the search domains does not).",
  },
  "exam.service-ok": {
    text: "Service {name} selects pod {pod}.",
    hint: "`kubectl get endpointslices -l kubernetes.io/service-name={name}` lists its endpoints.",
  },
  "exam.service-no-match": {
    text: "Service {name} does not select pod {pod} (selector {selector}).",
    hint: "The Service's selector must match the pod's labels: `kubectl get pod {pod} --show-labels`.",
  },
  "exam.sidecar-native": {
    text: "{container} is an init container with restartPolicy Always: a native sidecar.",
    hint: "`kubectl get pod {name} -o jsonpath='{.spec.initContainers[*].restartPolicy}'` shows it.",
  },
  "exam.sidecar-not-native": {
    text: "Pod {name} has no init container {container} with restartPolicy Always.",
    hint: "Put the sidecar under spec.initContainers with `restartPolicy: Always`, not under spec.containers.",
  },
  "exam.sidecar-output": {
    text: "The log of {container} shows “{text}”.",
    hint: "`kubectl logs {name} -c {container}` shows it.",
  },
  "exam.sidecar-no-output": {
    text: "The log of {container} does not show “{text}”.",
    hint: "Both containers must mount the same volume; the sidecar follows the file the app writes (`tail -F`).",
  },
  "exam.ephemeral-ok": {
    text: "Ephemeral container {container} ran in pod {name}, targeting {target}.",
    hint: "`kubectl get pod {name} -o jsonpath='{.spec.ephemeralContainers}'` lists it.",
  },
  "exam.ephemeral-missing": {
    text: "Pod {name} has no ephemeral container {container} with the busybox image.",
    hint: "A pod without a shell cannot be entered with `kubectl exec`: `kubectl debug -it {name} --image=busybox --target={target} -c {container}`.",
  },
  "exam.ephemeral-no-target": {
    text: "Ephemeral container {container} does not target {target}, so it cannot see that container's processes.",
    hint: "Add `--target={target}` to `kubectl debug` (it shares the process namespace).",
  },
  "exam.answer-ok": {
    text: "ConfigMap {name} key {key} is {expected}.",
    hint: "`kubectl get cm {name} -o yaml` shows it.",
  },
  "exam.answer-wrong": {
    text: "ConfigMap {name} key {key} is “{actual}”, which is not the answer.",
    hint: "From the debug container, `ps` or `cat /proc/1/cmdline` shows the target container's process.",
  },
  "exam.answer-missing": {
    text: "There is no ConfigMap {name} with key {key}.",
    hint: "`kubectl create configmap {name} --from-literal={key}=<answer>`.",
  },
  "exam.from-cronjob-ok": {
    text: "Job {name} is owned by CronJob {cronjob}.",
    hint: "`kubectl get job {name} -o jsonpath='{.metadata.ownerReferences}'` shows it.",
  },
  "exam.not-from-cronjob": {
    text: "Job {name} was not created from CronJob {cronjob}: it has no owner reference to it.",
    hint: "`kubectl create job {name} --from=cronjob/{cronjob}` copies the CronJob's template and records where it came from.",
  },
  "exam.wrong-namespace": {
    text: "{kind} {name} is in namespace {found}; this task's namespace is {namespace}.",
    hint: "Each task has its own context: run the `kubectl config use-context` line at the top of the task before you start.",
  },
} satisfies Record<string, MessageText>;

export type MessageId = keyof typeof messages;
export type TitleId = keyof typeof titles;

/** 评分器提示（简体中文）。键必须与 en.ts 完全一致；每条都有 text（看到了什么）和 hint（下一步怎么做）。 */
import type { MessageId, MessageText, TitleId } from "./en.ts";

export const titles: Record<TitleId, string> = {
  "title.job-exists": "已创建 Job {name}",
  "title.job-complete": "Job {name} 已执行完成",
  "title.job-output": "Job {name} 的 Pod 输出了“{text}”",
  "title.job-spec": "Job {name} 的配置符合练习要求",
  "title.job-counts": "Job {name} 需要 {completions} 次完成，每次并行 {parallelism} 个",
  "title.job-cleanup": "Job {name} 最多重试 {backoffLimit} 次，完成 {ttl} 秒后被删除",
  "title.job-succeeded-n": "Job {name} 已完成，共 {count} 个 Pod 执行成功",
  "title.job-sequential": "Job {name} 的 Pod 是一个接一个执行的",
  "title.job-parallel": "Job {name} 的 Pod 并行执行，同时最多 {limit} 个",
  "title.job-backoff-failed": "Job {name} 重试用尽后放弃",
  "title.job-backoff-pods": "Job {name} 一共创建了 {count} 个 Pod（backoffLimit + 1）",
  "title.job-ttl-set": "Job {name} 设置了 ttlSecondsAfterFinished: {ttl}",
  "title.job-ttl-removed": "Job {name} 执行完后被 TTL 控制器自动清理",
  "title.cronjob-exists": "已创建 CronJob {name}",
  "title.cronjob-schedule": "CronJob {name} 每分钟执行一次（{schedule}）",
  "title.cronjob-image": "CronJob {name} 使用 {image} 镜像",
  "title.cronjob-command": "CronJob {name} 输出日期和问候语",
  "title.cronjob-restart-policy": "CronJob {name} 的 Pod 重启策略是 {policy}",
  "title.cronjob-fired": "CronJob {name} 已触发，且它创建的 Job 已完成",
  "title.cronjob-suspended": "CronJob {name} 已暂停",
  "title.cronjob-no-jobs": "{name} 暂停期间没有创建任何 Job",
  "title.cronjob-policy": "CronJob {name} 不允许任务重叠执行",
  "title.cronjob-behaviour": "观察到了 {name} 的并发策略实际生效",
  "title.cronjob-limits": "CronJob {name} 保留 {successful} 个成功、{failed} 个失败的 Job",
  "title.cronjob-history": "{name} 较早完成的 Job 已被清理",
  "title.deploy-exists": "已创建 Deployment {name}",
  "title.init-container": "Deployment {name} 有一个挂载 emptyDir 卷的初始化容器",
  "title.app-container": "业务容器 {container} 使用 {image}，并共享 /mnt",
  "title.init-ran-first": "初始化容器在 {container} 启动之前就已执行完",
  "title.init-file": "在 {container} 的 /mnt 下能看到 {file}",
  "title.pod-exists": "已创建 Pod {name}",
  "title.init-two": "Pod {name} 至少有两个初始化容器",
  "title.init-sequence": "{name} 的初始化容器是依次执行的",
  "title.debug-target": "Deployment {name} 有正在运行的 Pod",
  "title.debug-ephemeral": "Pod 里有一个使用 {image} 的临时容器",
  "title.debug-ran": "临时容器已启动",
  "title.debug-netstat": "在临时容器里执行过 netstat",
  "title.node-pod": "节点上有一个挂载了节点根文件系统的 Pod（kubectl debug node/…）",
  "title.node-image": "调试 Pod 使用 {image} 镜像",
  "title.node-host": "调试 Pod 共享节点的网络、PID 和 IPC 命名空间",
  "title.node-ran": "调试容器里查看过节点的文件系统",
  "title.job-deadline-set": "Job {name} 设置了 activeDeadlineSeconds: {seconds}",
  "title.job-deadline-exceeded": "Job {name} 因超过时限而终止（DeadlineExceeded）",
  "title.init-sidecar-native": "Pod {name} 有原生边车容器（restartPolicy: Always 的初始化容器）",
  "title.init-sidecar-running": "{name} 的边车容器和应用容器同时在运行",
  "title.init-sidecar-output": "边车容器的日志里有应用写入的“{text}”",
  // 考试专用任务（src/exams/graders/）。
  "title.exam-exists": "{kind} {name} 已存在",
  "title.exam-field": "{kind} {name}：{field} 为 {expected}",
  "title.exam-pod-running": "Pod {name} 正在运行且就绪",
  "title.exam-init-waits": "Pod {name} 有一个等待 Service {service} 的 init 容器",
  "title.exam-service": "Service {name} 已存在并选中 Pod {pod}",
  "title.exam-native-sidecar": "{container} 是 Pod {name} 的原生边车（init 容器，restartPolicy Always）",
  "title.exam-sidecar-output": "边车 {container} 显示了“{text}”",
  "title.exam-ephemeral": "临时容器 {container}（busybox）调试了 Pod {name}，目标容器为 {target}",
  "title.exam-answer": "ConfigMap {name} 的键 {key} 中有答案",
  "title.exam-from-cronjob": "Job {name} 由 CronJob {cronjob} 创建",
};

export const messages: Record<MessageId, MessageText> = {
  "common.not-checked": {
    text: "未检查：需要先通过“{check}”。",
    hint: "先把那一项改好，再点一次“检查”。",
  },
  "common.not-evaluated": {
    text: "这一项没有被检查到。",
    hint: "再点一次“检查”；如果反复出现，请反馈给课程维护者。",
  },
  "common.unavailable-namespace-mode": {
    text: "这个练习需要访问节点，而当前实验环境（多人共用集群、每人一个命名空间）不提供节点权限。",
    hint: "可以先跳过，或者换到独占集群的实验环境里再做。",
  },
  "common.output-too-large": {
    text: "容器 {container} 里的 `{command}` 输出超过了 {limit} KiB，kubelab 不再继续读取；在已读取的部分里没有找到要检查的内容。",
    hint: "这条命令本应只输出很短的结果：确认 {container} 使用的是练习要求的镜像且未被改动，然后再点一次“检查”。",
  },
  "common.exec-timeout": {
    text: "容器 {container} 里的 `{command}` 在 {seconds} 秒内没有结束，kubelab 已停止它，这一项没法检查。",
    hint: "这条命令本应立即返回：确认 {container} 使用的是练习要求的镜像且未被改动，然后再点一次“检查”。",
  },
  "common.log-too-large": {
    text: "Pod {pod} 中容器 {container} 的日志超过了 {limit} KiB；kubelab 只读取这么多，在其中没有找到要检查的内容。",
    hint: "让容器只输出练习要求的内容，然后重新运行一次。",
  },
  "infra.unreachable": {
    text: "暂时连不上集群，这一项没法检查。这不是你操作的问题。",
    hint: "稍等几秒再点“检查”。如果一直失败，可以重置实验环境，或者联系老师。",
  },
  "infra.grader-error": {
    text: "评分程序自身出了问题，这一项没法检查。这不是你操作的问题。",
    hint: "再点一次“检查”；如果反复出现，请告诉老师或课程维护者。",
  },

  "job.missing": {
    text: "你的命名空间里没有名为 {name} 的 Job。",
    hint: "先创建它，比如 `kubectl create -f job.yaml`，再用 `kubectl get job {name}` 确认。",
  },
  "job.bare-pod": {
    text: "{name} 是一个普通 Pod，不是 Job。Pod 只跑一次，失败了也没人替它重跑；Job 才会保证任务执行成功。",
    hint: "先删掉这个 Pod（`kubectl delete pod {name}`），再创建一个名为 {name} 的 Job（`kind: Job`，或者用 `kubectl create job`）。",
  },
  "job.exists": {
    text: "Job {name} 已创建。",
    hint: "接下来确认它能顺利执行完。",
  },
  "job.completed": {
    text: "Job {name} 已完成（成功的 Pod 数：{succeeded}）。",
    hint: "用 `kubectl get po` 可以看到它的 Pod 状态是 Completed。",
  },
  "job.failed": {
    text: "Job {name} 执行失败（{reason}）。",
    hint: "用 `kubectl get po` 和 `kubectl logs <pod>` 看看失败原因，改好清单后删掉这个 Job 再重新创建。",
  },
  "job.still-running": {
    text: "Job {name} 启动 {seconds} 秒后仍在运行。",
    hint: "用 `kubectl get po` 和 `kubectl describe job {name}` 看看它在等什么（拉镜像、调度、不会结束的命令等），然后再点“检查”。",
  },
  "job.waiting": {
    text: "正在等待 Job {name} 执行完成：目前 {completions} 个 Pod 中已有 {succeeded} 个成功，已运行 {seconds} 秒。",
    hint: "“检查”会自动再看，最多到 Job 启动后 {limit} 秒；这期间可以用 `kubectl get po -w` 观察它的 Pod。",
  },
  "job.run-not-awaited": {
    text: "没有等待：Job {name} 仍在运行，但它不符合练习要求（见上面的检查项）。",
    hint: "改正清单，删除这个 Job（`kubectl delete job {name}`）后重新创建，再点“检查”。",
  },
  "job.no-pods": {
    text: "Job {name} 已经没有 Pod 可供检查了。",
    hint: "Job 执行完后 Pod 默认会保留，除非被删掉了。删掉这个 Job 重新创建一次吧。",
  },
  "job.no-logs": {
    text: "Job {name} 的 Pod 还没有日志可读。",
    hint: "等 Pod 跑起来（`kubectl get po`）之后再点“检查”。",
  },
  "job.output-ok": {
    text: "Pod {pod} 输出了“{text}”。",
    hint: "用 `kubectl logs {pod}` 也能看到这一行。",
  },
  "job.output-wrong": {
    text: "Job {name} 的 Pod 输出的是“{actual}”，而不是“{expected}”。",
    hint: '容器应当原样执行 `echo "{expected}"`。改好命令后，先 `kubectl delete job {name}`，再重新创建。',
  },
  "job.output-empty": {
    text: "Job {name} 的 Pod 什么也没输出，应该输出“{expected}”。",
    hint: '检查容器的命令（`command: [echo, "{expected}"]`），然后删掉 Job 重新创建。',
  },

  "job.spec-mismatch": {
    text: "Job {name} 的 {field} 是 {actual}，练习要求是 {expected}。",
    hint: "Job 的大部分字段创建后就不能再改：先改好清单，`kubectl delete job {name}`，再重新创建。",
  },
  "job.spec-ok": {
    text: "Job {name} 的配置没问题（{fields}）。",
    hint: "接下来看看它怎么运行：`kubectl get po -w`。",
  },
  "job.too-few-succeeded": {
    text: "Job {name} 结束时只有 {succeeded} 个 Pod 成功，需要 {expected} 个。",
    hint: "把 `completions` 设为 {expected}，然后删掉 Job 重新创建。",
  },
  "job.overlap": {
    text: "Job {name} 同一时刻最多有 {peak} 个 Pod 在运行，而最多只应有 {limit} 个。",
    hint: "同时运行多少个 Pod 由 `parallelism` 决定。把它设为 {limit}，删掉 Job 后重新创建。",
  },
  "job.sequential": {
    text: "Job {name} 的 Pod 严格地一个接一个执行。",
    hint: "这就是“固定完成次数”的模式：completions 大于 1，parallelism 为 1。",
  },
  "job.not-parallel": {
    text: "Job {name} 的 Pod 从来没有同时运行过（同一时刻最多 {peak} 个）。",
    hint: "让 Pod 多干一会儿（比如 `sleep 5`），并设置 `parallelism: 3`，然后删掉 Job 重新创建。",
  },
  "job.parallel-ok": {
    text: "Job {name} 同时最多运行了 {peak} 个 Pod，从未超过 {limit} 个。",
    hint: "注意最后一轮：只剩一个完成数，所以只启动了一个 Pod。",
  },
  "recorder.missed": {
    text: "kubelab 没有观察到 {kind} {name} 的运行过程，无法检查它的历史（可能是在实验环境没有被监视时运行的）。",
    hint: "如果 {kind} {name} 还在，先删掉；保持本页面打开，重新创建一次，再点“检查”。",
  },
  "recorder.gap": {
    text: "{kind} {name} 被删除时，kubelab 与集群的连接中断了，因此无法判断是谁删除的。这不是你操作的问题。",
    hint: "重新创建 {kind} {name}，保持本页面打开等它执行完，再点“检查”。",
  },
  "job.backoff-succeeded": {
    text: "Job {name} 成功完成了，但这个练习需要一个一直失败的 Job。",
    hint: '让容器以错误退出，比如 `command: ["sh", "-c", "exit 1"]`，然后删掉 Job 重新创建。',
  },
  "job.failed-other-reason": {
    text: "Job {name} 失败了，但原因是 {reason}，而不是重试次数用尽。",
    hint: "去掉 `activeDeadlineSeconds` 之类的限制，只让 `backoffLimit` 起作用；删掉 Job 后重新创建。",
  },
  "job.backoff-failed": {
    text: "Job {name} 在 {limit} 次重试后以 BackoffLimitExceeded 失败。",
    hint: "用 `kubectl describe job {name}` 看看，事件里记录了每次重试。",
  },
  "job.backoff-pods": {
    text: "Job {name} 一共创建了 {count} 个 Pod：第一次执行加上每次重试各一个。",
    hint: "`kubectl get po` 能看到它们都是 Error 状态。",
  },
  "job.backoff-pod-count": {
    text: "Job {name} 创建了 {count} 个 Pod；在 restartPolicy 为 Never、backoffLimit 为 2 时应该是 {expected} 个。",
    hint: "如果用 `restartPolicy: OnFailure`，失败时是原地重启同一个 Pod，而不是新建 Pod。请改成 `restartPolicy: Never`，删掉 Job 后重新创建。",
  },
  "job.ttl-missing": {
    text: "Job {name} 没有设置 ttlSecondsAfterFinished，执行完后不会被自动清理。",
    hint: "在 `spec` 下加上 `ttlSecondsAfterFinished: 10`，删掉 Job 后重新创建。",
  },
  "job.ttl-not-yet": {
    text: "Job {name} 还在；它应该在执行完 {ttl} 秒后自动消失。",
    hint: "等几秒再点“检查”；用 `kubectl get job -w` 能看到它什么时候被删。不要自己手动删除。",
  },
  "job.waiting-ttl": {
    text: "正在等待 TTL 控制器删除 Job {name}：预计在 {at}。",
    hint: "到时“检查”会自动再看；`kubectl get job -w` 可以看到它消失。不要自己删除它。",
  },
  "job.ttl-removed": {
    text: "Job {name} 执行完后，被 TTL 控制器（TTL-after-finished）自动删除了。",
    hint: "它的 Pod 也一起被清理了，`kubectl get po` 里已经看不到了。",
  },
  "job.deleted-before-finish": {
    text: "Job {name} 还没执行完就被删掉了，TTL 控制器根本没机会出手。",
    hint: "重新创建它，让它执行完，它会被自动清理。",
  },
  "job.deleted-by-hand": {
    text: "Job {name} 被删掉了，但不是 TTL 控制器删的（很可能是用 kubectl delete 手动删的）。",
    hint: "重新创建它，这次不要手动删除：有了 `ttlSecondsAfterFinished: 10`，它执行完大约 10 秒后会自己消失。",
  },
  "cronjob.missing": {
    text: "你的命名空间里没有名为 {name} 的 CronJob。",
    hint: "先创建它，比如 `kubectl create -f cronjob.yaml`，再用 `kubectl get cj` 确认。",
  },
  "cronjob.exists": {
    text: "CronJob {name} 已创建。",
    hint: "`kubectl get cj` 能看到它的调度周期和上次执行时间。",
  },
  "cronjob.schedule-ok": {
    text: "CronJob {name} 每分钟执行一次（{schedule}）。",
    hint: "五个字段依次是分、时、日、月、周，和 crontab 一样。",
  },
  "cronjob.schedule-wrong": {
    text: "CronJob {name} 的调度周期是“{actual}”，练习要求“{expected}”（每分钟一次）。",
    hint: "用 `kubectl edit cj {name}` 修改（或者改好 YAML 再重新应用）。",
  },
  "cronjob.image-ok": {
    text: "CronJob {name} 使用的镜像是 {image}。",
    hint: "接下来看它执行的命令。",
  },
  "cronjob.image-wrong": {
    text: "CronJob {name} 使用的镜像是“{actual}”，练习用的是 {expected}。",
    hint: "把 `jobTemplate` 里容器的 `image` 改成 {expected}。",
  },
  "cronjob.command-ok": {
    text: "Job {job} 的 Pod 输出了日期和“Hello from the Kubernetes cluster”。",
    hint: "每次执行的输出都在对应 Pod 的日志里：`kubectl logs job/{job}`。",
  },
  "cronjob.no-log": {
    text: "CronJob {name} 创建的 Job {job} 执行完了，但它的 Pod 已没有日志可读。",
    hint: "它的 Pod 可能已被删除。等下一次执行（每分钟一次）后再点“检查”。",
  },
  "cronjob.restart-policy-ok": {
    text: "CronJob {name} 的 Pod 重启策略是 {policy}。",
    hint: "用 OnFailure 时，容器失败后会在同一个 Pod 里重启。",
  },
  "cronjob.restart-policy-wrong": {
    text: "CronJob {name} 的 Pod 重启策略是 {actual}，练习要求 {expected}。",
    hint: "在 `jobTemplate` 的 Pod 模板里设置 `restartPolicy: {expected}`（Job 的 Pod 不能用 Always）。",
  },
  "cronjob.suspended-never-fired": {
    text: "CronJob {name} 处于暂停状态，所以一直不会执行。",
    hint: '把 `suspend` 设为 false（`kubectl patch cj {name} -p \'{"spec":{"suspend":false}}\'`），等到下一分钟。',
  },
  "cronjob.not-fired": {
    text: "CronJob {name} 创建以来已经过了调度时间点，但还没有创建过 Job。",
    hint: "它在每分钟开始时触发。等一分钟再点“检查”；用 `kubectl get jobs -w` 可以看到新创建的 Job。",
  },
  "cronjob.no-completed-job": {
    text: "CronJob {name} 已经创建过 Job，但没有一个执行完成。",
    hint: "看看最新那个 Job 的 Pod：`kubectl get po`、`kubectl logs <pod>`。镜像对不对？命令能否成功执行？",
  },
  "cronjob.run-not-awaited": {
    text: "没有等待执行：CronJob {name} 还不符合练习要求（见上面的检查项）。",
    hint: "先改正它（`kubectl edit cj {name}`，或改好 YAML 后 `kubectl replace -f`），再点“检查”。",
  },
  "cronjob.waiting-run": {
    text: "正在等待 CronJob {name} 在 {at} 的那次执行。",
    hint: "到时间后会自动再检查一次；等待期间可以用 `kubectl get jobs -w` 看 Job 出现。",
  },
  "cronjob.waiting-job": {
    text: "正在等待 CronJob {name} 的 Job {job} 执行完成。",
    hint: "`kubectl get po` 查看它的 Pod；`kubectl logs job/{job}` 查看输出。",
  },
  "cronjob.output-wrong": {
    text: "CronJob {name} 创建的 Job {job} 执行完了，但它的 Pod 没有输出日期和“{expected}”；它输出的是：{actual}",
    hint: '容器应先执行 `date` 再执行 `echo {expected}`，例如 args 为 `/bin/sh -c "date; echo {expected}"`。改正它（`kubectl edit cj {name}`）后等待下一次执行。',
  },
  "cronjob.fired": {
    text: "CronJob {name} 已经执行：Job {job} 已完成。",
    hint: "`kubectl get jobs` 能看到每分钟一个 Job；`kubectl logs job/{job}` 能看到输出。",
  },
  "cronjob.not-suspended": {
    text: "CronJob {name} 没有处于暂停状态。",
    hint: '在 spec 里设置 `suspend: true`（或者 `kubectl patch cj {name} -p \'{"spec":{"suspend":true}}\'`）。',
  },
  "cronjob.suspended": {
    text: "CronJob {name} 已暂停。",
    hint: "`kubectl get cj` 里 SUSPEND 一列显示 True。",
  },
  "cronjob.ran-while-suspended": {
    text: "CronJob {name} 在暂停期间仍创建了 Job {job}。",
    hint: "删掉这个 CronJob 和它的 Job，然后从一开始就带着 `suspend: true` 创建。",
  },
  "cronjob.suspend-not-observed": {
    text: "CronJob {name} 暂停以来还没有经过任何一个调度时间点，暂时无法证明暂停生效。",
    hint: "保持暂停状态，等过了下一分钟再点“检查”。",
  },
  "cronjob.no-jobs-while-suspended": {
    text: "CronJob {name} 在暂停期间经过了 {count} 个调度时间点，一个 Job 都没有创建。",
    hint: "需要恢复执行时，把 `suspend` 改回 false 即可。",
  },
  "cronjob.policy-allow": {
    text: "CronJob {name} 的并发策略是 {actual}，允许任务重叠执行。",
    hint: "改成 `concurrencyPolicy: Forbid`（上一个还没完成就跳过这次）或 `Replace`（停掉旧的，启动新的）。",
  },
  "cronjob.policy-ok": {
    text: "CronJob {name} 的并发策略是 {policy}。",
    hint: "接下来让一次执行超过一分钟，看看会发生什么：`kubectl get jobs -w`。",
  },
  "cronjob.overlap": {
    text: "CronJob {name} 有多个 Job 同时在运行（最多 {peak} 个）。",
    hint: "用 Forbid 时不应该出现这种情况；检查一下 `concurrencyPolicy`，以及这些 Job 是否真的属于这个 CronJob。",
  },
  "cronjob.policy-not-exercised": {
    text: "kubelab 还没看到 CronJob {name} 出现“上一次没跑完、下一次又到点”的情况，{policy} 还没机会起作用。",
    hint: "让每次执行的时间超过调度周期（比如 `*/1 * * * *` 配合 `sleep 90`），等两分钟左右再点“检查”。",
  },
  "cronjob.forbid-ok": {
    text: "CronJob {name} 的某次执行到下一个调度时间点时还没结束，而且没有同时启动第二个 Job。",
    hint: "这就是 Forbid：上一次没结束，新的一次就等待（或被跳过）。",
  },
  "cronjob.replace-ok": {
    text: "CronJob {name} 发生了替换：Job {old} 被停掉，Job {next} 取而代之。",
    hint: "这就是 Replace：总是以最新的一次为准。",
  },
  "cronjob.spec-mismatch": {
    text: "CronJob {name} 的 {field} 是 {actual}，练习要求是 {expected}。",
    hint: "用 `kubectl edit cj {name}` 修改，或者改好 YAML 后重新应用。",
  },
  "cronjob.limits-ok": {
    text: "CronJob {name} 会保留 {successful} 个成功、{failed} 个失败的 Job。",
    hint: "接下来让它多跑几次，看看旧的 Job 怎么消失：`kubectl get jobs -w`。",
  },
  "cronjob.history-over-limit": {
    text: "CronJob {name} 同一类已完成的 Job 还留着 {kept} 个，上限是 {limit}。",
    hint: "控制器会在每次执行后清理；如果一直这样，用 `kubectl get cj {name} -o yaml` 检查一下这两个上限。",
  },
  "cronjob.history-not-enough-runs": {
    text: "kubelab 只看到 CronJob {name} 成功执行了 {seen} 次，至少要 {needed} 次才会开始清理旧的 Job。",
    hint: "再等一两分钟，然后再点“检查”。",
  },
  "cronjob.history-pruned": {
    text: "CronJob {name} 清理了较早的 Job {job}，现在保留 {kept} 个成功的 Job。",
    hint: "这就是 successfulJobsHistoryLimit 在起作用。",
  },
  "deploy.missing": {
    text: "你的命名空间里没有名为 {name} 的 Deployment。",
    hint: "先创建它，比如 `kubectl create -f nginx-deploy.yaml`，再用 `kubectl get deploy {name}` 确认。",
  },
  "deploy.exists": {
    text: "Deployment {name} 已创建。",
    hint: "接下来看它的 Pod 模板。",
  },
  "init.no-init-container": {
    text: "Deployment {name} 的 Pod 里没有初始化容器。",
    hint: "在 Pod 模板里、和 `containers:` 平级的位置加上 `initContainers:`。",
  },
  "init.init-mount": {
    text: "初始化容器 {container} 没有挂载 emptyDir 卷，它写的文件到不了业务容器。",
    hint: "先声明 `volumes: [{name: init-volume, emptyDir: {}}]`，再用 `volumeMounts: [{name: init-volume, mountPath: /mnt}]` 挂载。",
  },
  "init.init-ok": {
    text: "初始化容器 {container} 挂载了 emptyDir 卷。",
    hint: "接下来，业务容器也要挂载同一个卷。",
  },
  "init.app-missing": {
    text: "Deployment {name} 里没有名为 {container} 的容器。",
    hint: "把业务容器命名为 `{container}`（在 `containers:` 下写 `name: {container}`）。",
  },
  "init.app-image": {
    text: "容器 {container} 用的镜像是 {actual}，练习用的是 {expected}。",
    hint: "改成 `image: {expected}`。",
  },
  "init.app-mount": {
    text: "容器 {container} 没有在 /mnt 挂载初始化容器用的那个 emptyDir。",
    hint: "给 {container} 加上同一个卷，`mountPath: /mnt`，这样两个容器看到的是同一个目录。",
  },
  "init.app-ok": {
    text: "容器 {container} 使用 nginx:1.20.0，并与初始化容器共享 /mnt。",
    hint: "接下来看实际运行的 Pod。",
  },
  "init.pod-not-running": {
    text: "Deployment {name} 还没有带初始化容器的 Pod 在运行。",
    hint: "看看 `kubectl get po`：Init:0/1 表示初始化容器还在执行，Init:Error 或 Init:CrashLoopBackOff 表示它失败了（用 `kubectl logs <pod> -c <初始化容器名>` 查看）。",
  },
  "init.not-finished": {
    text: "初始化容器 {container} 还没有执行完。",
    hint: "稍等一下；如果一直这样，用 `kubectl describe pod` 看看原因。",
  },
  "init.init-failed": {
    text: "初始化容器 {container} 的退出码是 {exitCode}。",
    hint: "用 `kubectl logs <pod> -c {container}` 查看日志，改好命令后重建 Pod。",
  },
  "init.order-wrong": {
    text: "{first} 还没执行完，{second} 就已经启动了。",
    hint: "初始化容器总是在业务容器之前、一个接一个地执行完；确认它们确实是初始化容器（而不是普通容器或边车容器）。",
  },
  "init.ran-first-ok": {
    text: "在 Pod {pod} 中，初始化容器 {container} 在 {app} 启动前就执行完了。",
    hint: "这正是 postStart 做不到的保证。",
  },
  "init.app-writes-file": {
    text: "/mnt 里的 {file} 是在初始化容器结束之后才写入的，所以是 {container}（启动命令或 postStart）写的，不是初始化容器。",
    hint: "把这部分从 {container} 里去掉，只让初始化容器创建这个文件。",
  },
  "init.file-present": {
    text: "在 Pod {pod} 的 {container} 里执行 `ls /mnt`，能看到 {file}。",
    hint: "初始化容器和业务容器共享了同一个 emptyDir。",
  },
  "init.file-missing": {
    text: "在 {container} 里执行 `ls /mnt`，看不到 {file}。",
    hint: "两个容器必须在 /mnt 挂载同一个 emptyDir 卷；检查两边的 `volumeMounts`。",
  },
  "pod.waiting-running": {
    text: "正在等待 Pod {name} 运行：它创建于 {seconds} 秒前。",
    hint: "“检查”会自动再看；这期间 `kubectl get po {name} -w` 可以看到它启动（Init:0/1 表示 init 容器还在运行）。",
  },
  "pod.waiting-log": {
    text: "正在等待 Pod {name} 的容器 {container} 的日志中出现“{text}”（Pod 创建于 {seconds} 秒前）。",
    hint: "“检查”会自动再看；`kubectl logs {name} -c {container} -f` 可以看到日志增长。",
  },
  "init.waiting-inits": {
    text: "正在等待 Pod {name} 的 init 容器执行完毕：它创建于 {seconds} 秒前。",
    hint: "“检查”会自动再看；`kubectl get po {name} -w` 会依次显示 Init:1/2、Init:2/2……",
  },
  "pod.missing": {
    text: "你的命名空间里没有名为 {name} 的 Pod。",
    hint: "先创建它，比如 `kubectl create -f {name}.yaml`，再用 `kubectl get po {name}` 确认。",
  },
  "pod.exists": {
    text: "Pod {name} 已创建。",
    hint: "接下来看它的初始化容器。",
  },
  "init.order-too-few": {
    text: "Pod {name} 只有 {count} 个初始化容器，练习至少需要两个。",
    hint: "在 `initContainers:` 下写两个容器，它们会按书写顺序执行。",
  },
  "init.order-sidecar": {
    text: "初始化容器 {container} 设置了 `restartPolicy: Always`，这会让它变成与业务容器并行运行的边车容器，而不是先执行完。",
    hint: "去掉 {container} 上的 `restartPolicy: Always`。",
  },
  "init.order-two-ok": {
    text: "Pod {name} 有 {count} 个初始化容器。",
    hint: "看看它们怎么执行：`kubectl get po {name} -w` 会依次显示 Init:0/2、Init:1/2……",
  },
  "init.app-not-started": {
    text: "业务容器 {container} 还没有启动。",
    hint: "稍等一下再点“检查”；`kubectl describe pod` 能看到它在等什么。",
  },
  "init.order-ok": {
    text: "{name} 的初始化容器依次执行（{order}），之后业务容器才启动。",
    hint: "每个初始化容器都是在上一个成功退出之后才启动的。",
  },
  "debug.no-running-pod": {
    text: "Deployment {name} 还没有可供调试的运行中的 Pod。",
    hint: "等 `kubectl get po` 显示 Running（或者先按课程创建这个 Deployment）。",
  },
  "debug.target-ok": {
    text: "Deployment {name} 有正在运行的 Pod（{pod}）。",
    hint: "先试试 `kubectl exec {pod} -- netstat -anpt`：nginx 镜像里没有 netstat。",
  },
  "debug.no-ephemeral": {
    text: "Pod {pod} 里没有临时容器。`kubectl exec` 是在原有容器里执行，而那里没有 netstat；`kubectl debug --copy-to` 则会另外复制出一个 Pod。",
    hint: "直接给这个 Pod 加一个临时容器：`kubectl debug {pod} -it --image=busybox`，然后执行 `netstat -anpt`。",
  },
  "debug.ephemeral-ok": {
    text: "Pod {pod} 里有临时容器 {container}（{image}）。",
    hint: "它和 Pod 共享网络命名空间，所以能看到 nginx 的端口。",
  },
  "debug.ephemeral-image": {
    text: "临时容器 {container} 用的是 {image}，而不是 {expected}。",
    hint: "用 `--image={expected}` 再加一个；busybox 自带 netstat。",
  },
  "debug.ran-ok": {
    text: "临时容器 {container} 已启动。",
    hint: "临时容器不会被重启；退出之后它就一直是 Terminated 状态。",
  },
  "debug.ephemeral-not-started": {
    text: "临时容器 {container} 还没有启动（{reason}）。",
    hint: "等镜像拉取完成；`kubectl describe pod` 能看到临时容器的状态。",
  },
  "debug.netstat-seen": {
    text: "在临时容器 {container} 里执行了 netstat。",
    hint: "输出里能看到 nginx 监听着 80 端口，这是在 nginx 容器里查不到的。",
  },
  "debug.netstat-missing": {
    text: "看不出在临时容器 {container} 里执行过 netstat。",
    hint: "重新连上它（如果还在运行：`kubectl attach {pod} -c {container} -it`），或用 `kubectl debug {pod} -it --image=busybox` 新开一个，然后执行 `netstat -anpt`。",
  },
  "debug.node-missing": {
    text: "你的命名空间里没有挂载节点根文件系统的 Pod（`kubectl debug node/…` 创建的 Pod 就是这样的）。",
    hint: "执行 `kubectl debug node/<节点名> -it --image=registry.cn-beijing.aliyuncs.com/dotbalo/debug-tools`；节点名可以用 `kubectl get nodes` 查到。",
  },
  "debug.node-plain-pod": {
    text: "Pod {pod} 虽然用了 debug-tools 镜像，但它只是一个普通 Pod：没有挂载节点的文件系统，看不到节点。",
    hint: "改用 `kubectl debug node/<节点名> -it --image=…`：它会把 Pod 固定到节点上，共享节点的命名空间，并把节点根目录挂载到 /host。",
  },
  "debug.node-pod-ok": {
    text: "Pod {pod} 运行在节点 {node} 上，节点的根文件系统挂在 {path}。",
    hint: "在里面，节点的文件都在 {path} 下（可以 `chroot {path}` 切换过去）。",
  },
  "debug.node-image-ok": {
    text: "它使用的镜像是 {image}。",
    hint: "这个镜像带了节点上可能没有的网络和进程排查工具。",
  },
  "debug.node-image": {
    text: "调试 Pod 用的镜像是 {actual}，而不是 {expected}。",
    hint: "用 `--image={expected}` 重新执行一次。",
  },
  "debug.node-host-ok": {
    text: "Pod {pod} 共享节点的网络、PID 和 IPC 命名空间。",
    hint: "在里面执行 `ps aux` 能看到节点上的进程，`ip addr` 能看到节点的网卡。",
  },
  "debug.node-no-host": {
    text: "Pod {pod} 缺少访问宿主机的配置：{missing}。",
    hint: "用 `kubectl debug node/<节点名>`（默认 profile）创建，而不是手写或使用受限的 profile。",
  },
  "debug.node-looked": {
    text: "{pod} 的日志显示查看过节点的文件系统（挂在 {path}）。",
    hint: "用完记得删掉：`kubectl delete pod {pod}`。",
  },
  "debug.node-not-looked": {
    text: "{pod} 运行过，但它的日志里看不到查看节点文件系统的输出（节点根目录挂在 {path}）。",
    hint: "再进入节点的 shell 执行 `ls {path}`，或者直接给出命令：`kubectl debug node/<节点名> --image=… -- ls /host`。然后再点“检查”。",
  },
  "debug.node-not-started": {
    text: "{pod} 的容器还没有启动（{reason}）。",
    hint: "等镜像拉取完成；`kubectl describe pod {pod}` 能看到它在等什么。",
  },
  "job.deadline-set": {
    text: "Job {name} 最多运行 {seconds} 秒（activeDeadlineSeconds 写在 Job 的 spec 里）。",
    hint: "接下来等时限过去：Job 应该以原因 DeadlineExceeded 失败。",
  },
  "job.deadline-missing": {
    text: "Job {name} 没有设置 activeDeadlineSeconds，没有任何东西限制它的运行时间（命令里的 `timeout` 只限制一个容器，而不是整个 Job）。",
    hint: "在 Job 的 `spec:` 下（与 `template:` 同级）加上 `activeDeadlineSeconds: {seconds}`，`kubectl delete job {name}` 后重新创建。",
  },
  "job.deadline-on-pod": {
    text: "activeDeadlineSeconds（{seconds}）写在了 Job {name} 的 Pod 模板里：那只限制单个 Pod，每个 Pod 失败后 Job 还会再创建新的。",
    hint: "把它移到 Job 自己的 `spec:` 下（与 `template:`、`backoffLimit` 同级），`kubectl delete job {name}` 后重新创建。",
  },
  "job.deadline-succeeded": {
    text: "Job {name} 在时限之前就完成了，时限根本没有起作用。",
    hint: "让容器运行得比时限更久（`sleep 60`），`kubectl delete job {name}` 后重新创建。",
  },
  "job.deadline-exceeded": {
    text: "Job {name} 以原因 DeadlineExceeded 失败：时间一到，控制器就停掉了它的 Pod。",
    hint: "`kubectl describe job {name}` 能看到对应的状况和事件。",
  },
  "job.deadline-other-reason": {
    text: "Job {name} 失败了，但原因是 {reason}，而不是 DeadlineExceeded：它在时限到达之前就失败了。",
    hint: "让容器正常运行不出错（`sleep 60`），只由 activeDeadlineSeconds 来结束它；`kubectl delete job {name}` 后重新创建。",
  },
  "init.sidecar-pod-missing": {
    text: "当前命名空间里没有名为 {name} 的 Pod。",
    hint: "先创建它，例如 `kubectl create -f sidecar.yaml`，再用 `kubectl get po {name}` 查看。",
  },
  "init.sidecar-missing": {
    text: "Pod {name} 没有 `restartPolicy: Always` 的初始化容器，也就没有原生边车容器。",
    hint: "把跟踪日志的容器写到 `initContainers:` 下并加上 `restartPolicy: Always`，`kubectl delete pod {name}` 后重新创建。",
  },
  "init.sidecar-blocks": {
    text: "初始化容器 {container} 还没有结束。普通的初始化容器必须先结束，应用才会启动：一个永不退出的跟踪程序会让 Pod 永远停在 Init 状态。",
    hint: "给 {container} 加上 `restartPolicy: Always`，让它成为与应用并行运行的边车容器；Pod 的容器不能原地修改：`kubectl delete pod sidecar` 后用改好的文件重新创建。",
  },
  "init.sidecar-regular-container": {
    text: "跟踪日志的是一个普通容器（{containers}）：能用，但这是原生边车出现之前的做法——它不保证先于应用启动，放在 Job 的 Pod 里还会让 Pod 永远无法完成。",
    hint: "把它从 `containers:` 移到 `initContainers:`，并加上 `restartPolicy: Always`；删除 Pod 后重新创建。",
  },
  "init.sidecar-native": {
    text: "{container} 是原生边车容器：restartPolicy: Always 的初始化容器。",
    hint: "它先于应用容器启动，并一直与应用并行运行。",
  },
  "init.sidecar-not-running": {
    text: "{container} 没有在运行（{reason}）。",
    hint: "用 `kubectl describe pod sidecar` 和 `kubectl logs sidecar -c {container}` 查看原因。",
  },
  "init.sidecar-running": {
    text: "边车容器 {sidecar} 与应用容器 {apps} 同时在运行。",
    hint: "`kubectl get po sidecar` 的 READY 列也把边车算在内（2/2）。",
  },
  "init.sidecar-output": {
    text: "{container} 的日志里有“{text}”：边车容器读到了应用写入共享卷的内容。",
    hint: "用 `kubectl logs sidecar -c {container} -f` 可以实时跟踪。",
  },
  "init.sidecar-no-output": {
    text: "{container} 的日志里没有“{text}”：边车容器看不到应用写的文件。",
    hint: "让两个容器挂载同一个 emptyDir 卷，并让边车容器跟踪应用写的那个文件（`tail -f`）。",
  },
  // 考试专用任务（src/exams/graders/）。{expected}/{actual}：任务要求的值、kubelab 看到的值。
  "exam.object-missing": {
    text: "本任务的命名空间里没有名为 {name} 的 {kind}。",
    hint: "检查名称和上下文：`kubectl config current-context`，然后 `kubectl get {kind} {name}`。",
  },
  "exam.object-exists": {
    text: "{kind} {name} 已存在。",
    hint: "`kubectl get {kind} {name} -o yaml` 可查看完整内容。",
  },
  "exam.field-ok": {
    text: "{kind} {name}：{field} 为 {expected}。",
    hint: "`kubectl get {kind} {name} -o yaml` 可查看该字段。",
  },
  "exam.field-wrong": {
    text: "{kind} {name}：{field} 为 {actual}，任务要求 {expected}。",
    hint: "运行中对象的大多数字段不能修改：`kubectl get {kind} {name} -o yaml > t.yaml`，编辑后 `kubectl replace --force -f t.yaml`。",
  },
  "exam.field-missing": {
    text: "{kind} {name}：{field} 未设置，任务要求 {expected}。",
    hint: "`kubectl explain {kind}.{field}` 说明该字段的位置。",
  },
  "exam.pod-running": {
    text: "Pod {name} 正在运行且就绪。",
    hint: "`kubectl get pod {name}` 的 READY 一栏可见。",
  },
  "exam.pod-not-running": {
    text: "Pod {name} 未运行或未就绪（阶段 {phase}，{reason}）。",
    hint: "`kubectl describe pod {name}` 查看事件；`kubectl logs {name} -c <init 容器>` 查看 init 容器在等什么。",
  },
  "exam.init-did-not-wait": {
    text: "Pod {name} 的 init 容器在 Service {service} 出现之前就已全部结束（最后一个：{container}），所以并没有等待它：没有这个 Service，应用也会启动。",
    hint: "让一个 init 容器循环直到 Service 的名称可以解析，例如 `until nslookup {service}; do sleep 2; done`。先创建 Pod，再创建 Service，观察它离开 Init 状态。",
  },
  "exam.init-no-service": {
    text: "还没有 Service {service}，所以看不出 Pod {name} 是否在等待它。",
    hint: "创建选中该 Pod 的 Service {service}（端口 80）；等待它的 init 容器随后很快就会结束。",
  },
  "exam.init-waits": {
    text: "init 容器 {container} 等待 Service {service}。",
    hint: "`kubectl logs {name} -c {container}` 可查看它的解析记录。",
  },
  "exam.init-missing": {
    text: "Pod {name} 没有 init 容器（restartPolicy 为 Always 的边车不会让应用等待），所以没有什么让它等待 Service {service}。",
    hint: "在 spec.initContainers 中添加一个循环等待名称可解析的 init 容器，例如 `until nslookup {service} | grep -q '^Name:'; do sleep 2; done`（busybox 的 nslookup 只要有一个搜索域查不到就返回 1，即使名称已能解析）。",
  },
  "exam.service-ok": {
    text: "Service {name} 选中了 Pod {pod}。",
    hint: "`kubectl get endpointslices -l kubernetes.io/service-name={name}` 列出它的端点。",
  },
  "exam.service-no-match": {
    text: "Service {name} 没有选中 Pod {pod}（选择器 {selector}）。",
    hint: "Service 的选择器必须与 Pod 的标签一致：`kubectl get pod {pod} --show-labels`。",
  },
  "exam.sidecar-native": {
    text: "{container} 是 restartPolicy 为 Always 的 init 容器：原生边车。",
    hint: "`kubectl get pod {name} -o jsonpath='{.spec.initContainers[*].restartPolicy}'` 可查看。",
  },
  "exam.sidecar-not-native": {
    text: "Pod {name} 没有 restartPolicy 为 Always 的 init 容器 {container}。",
    hint: "把边车放在 spec.initContainers 下并设置 `restartPolicy: Always`，而不是放在 spec.containers 下。",
  },
  "exam.sidecar-output": {
    text: "{container} 的日志显示了“{text}”。",
    hint: "`kubectl logs {name} -c {container}` 可查看。",
  },
  "exam.sidecar-no-output": {
    text: "{container} 的日志没有显示“{text}”。",
    hint: "两个容器必须挂载同一个卷；边车跟踪应用写入的文件（`tail -F`）。",
  },
  "exam.ephemeral-ok": {
    text: "临时容器 {container} 在 Pod {name} 中运行过，目标为 {target}。",
    hint: "`kubectl get pod {name} -o jsonpath='{.spec.ephemeralContainers}'` 列出它。",
  },
  "exam.ephemeral-missing": {
    text: "Pod {name} 没有使用 busybox 镜像的临时容器 {container}。",
    hint: "没有 shell 的 Pod 无法用 `kubectl exec` 进入：`kubectl debug -it {name} --image=busybox --target={target} -c {container}`。",
  },
  "exam.ephemeral-no-target": {
    text: "临时容器 {container} 没有以 {target} 为目标，因此看不到该容器的进程。",
    hint: "给 `kubectl debug` 加上 `--target={target}`（共享进程命名空间）。",
  },
  "exam.answer-ok": {
    text: "ConfigMap {name} 的键 {key} 为 {expected}。",
    hint: "`kubectl get cm {name} -o yaml` 可查看。",
  },
  "exam.answer-wrong": {
    text: "ConfigMap {name} 的键 {key} 为“{actual}”，不是正确答案。",
    hint: "在调试容器中用 `ps` 或 `cat /proc/1/cmdline` 查看目标容器的进程。",
  },
  "exam.answer-missing": {
    text: "没有带键 {key} 的 ConfigMap {name}。",
    hint: "`kubectl create configmap {name} --from-literal={key}=<答案>`。",
  },
  "exam.from-cronjob-ok": {
    text: "Job {name} 归 CronJob {cronjob} 所有。",
    hint: "`kubectl get job {name} -o jsonpath='{.metadata.ownerReferences}'` 可查看。",
  },
  "exam.not-from-cronjob": {
    text: "Job {name} 不是由 CronJob {cronjob} 创建的：它没有指向该 CronJob 的 ownerReference。",
    hint: "`kubectl create job {name} --from=cronjob/{cronjob}` 会复制 CronJob 的模板并记录来源。",
  },
  "exam.wrong-namespace": {
    text: "{kind} {name} 在命名空间 {found} 中；本任务的命名空间是 {namespace}。",
    hint: "每个任务有自己的上下文：开始前先运行任务顶部的 `kubectl config use-context` 命令。",
  },
};

/**
 * exam/fix-job — find why a Job fails and fix it: the setup creates Job
 * {name} whose command is misspelt, so every pod fails. The task: make Job
 * {name} complete and print {text}. A Job's pod template cannot be edited,
 * so the fix is delete + re-create; judged exactly as job/echo (the same
 * grader with this task's name and text).
 */
import { defineParamGrader } from "../../graders/framework.ts";
import jobEcho from "../../graders/job/echo.ts";

const defaults = { name: "greeter", text: "Hello from the exam" };

export default defineParamGrader({
  id: "exam/fix-job",
  title: { en: "Find why a Job fails and fix it", "zh-CN": "找出 Job 失败的原因并修复" },
  defaults,
  checks: (p) => jobEcho.withParams!(p).checks,
  grade: (ctx, p) => jobEcho.withParams!(p).grade(ctx),
});

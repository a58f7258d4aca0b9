/**
 * What the lessons promise in their text, checked without a browser:
 * the Kubernetes Chinese docs' terminology, a CKAD shortcuts box in every
 * chapter, diagrams in the page's language that exist, and no claim the
 * 1.34 cluster contradicts coming back.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";

const ROOT = resolve(import.meta.dirname, "../..");
const LESSONS = join(ROOT, "content/lessons");
const CHAPTERS = ["job", "cronjob", "init-containers", "ephemeral-containers"];
const read = (locale: "zh-CN" | "en", chapter: string) =>
  readFileSync(join(LESSONS, locale === "en" ? "en" : "", `${chapter}.mdx`), "utf8");
const zhAll = () =>
  readdirSync(LESSONS)
    .filter((f) => f.endsWith(".mdx"))
    .map((f) => readFileSync(join(LESSONS, f), "utf8"))
    .join("\n");

describe("lesson text", () => {
  it("zh-CN uses the Kubernetes Chinese docs' terms", () => {
    const zh = zhAll();
    assert.doesNotMatch(zh, /特性开关/, "feature gate is 特性门控");
    assert.doesNotMatch(zh, /进程空间/, "process namespace is 进程命名空间");
    assert.equal(
      zh.match(/初始化容器（Init 容器）/g)?.length,
      1,
      "“初始化容器（Init 容器）” is introduced exactly once",
    );
  });

  it("the English init-container list labels the purpose, not a “Job”", () => {
    assert.doesNotMatch(read("en", "init-containers"), /\*\*Job\*\*:/);
    assert.match(read("en", "init-containers"), /\*\*Purpose\*\*:/);
  });

  for (const chapter of CHAPTERS) {
    it(`${chapter}: a CKAD shortcuts box with commands to run, in both languages`, () => {
      for (const [locale, title] of [
        ["en", "CKAD shortcuts"],
        ["zh-CN", "CKAD 提速技巧"],
      ] as const) {
        const box = read(locale, chapter).split(`:::tip[${title}]`)[1]?.split(/^:::$/m)[0];
        assert.ok(box, `${locale} ${chapter} has :::tip[${title}]`);
        assert.match(box, /```bash\n[^`]*kubectl /, `${locale} ${chapter}: the box has a runnable kubectl block`);
      }
    });

    it(`${chapter}: diagrams speak the page's language and exist`, () => {
      for (const [locale, dir] of [
        ["en", "/diagrams/"],
        ["zh-CN", "/diagrams/zh-CN/"],
      ] as const) {
        const images = [...read(locale, chapter).matchAll(/!\[[^\]]*\]\((\/diagrams\/[^)]+\.svg)\)/g)].map((m) => m[1]);
        assert.ok(images.length > 0, `${locale} ${chapter} shows a diagram`);
        for (const src of images) {
          assert.ok(
            src.startsWith(dir) && !src.slice(dir.length).includes("/"),
            `${locale} ${chapter}: ${src} is under ${dir}`,
          );
          assert.ok(existsSync(join(ROOT, "public", src)), `${src} exists in public/`);
        }
      }
    });
  }

  it("claims that are wrong for Kubernetes 1.34 stay out (both languages)", () => {
    const en = CHAPTERS.map((c) => read("en", c)).join("\n");
    // A work queue leaves completions unset; with completions: 1 only one Pod runs.
    assert.doesNotMatch(en, /\| Parallel work queue \|[^\n]*\| 1 \| 2 or more \|/);
    assert.doesNotMatch(zhAll(), /\| 工作队列，并行 \|[^\n]*\| 1 \| 2 及以上 \|/);
    // Forbid delays the run that came due; it does not skip it (without startingDeadlineSeconds).
    assert.doesNotMatch(en, /Forbid`?: skip/);
    assert.doesNotMatch(zhAll(), /`Forbid`：跳过/);
    // Ephemeral containers use the Pod's spare resources; nothing is reserved for them.
    assert.doesNotMatch(en, /none\*\* of the resources reserved/);
    assert.doesNotMatch(zhAll(), /不占用\*\*为 Pod 预留的资源/);
    // The EphemeralContainers gate is gone; it is shown as history, never as something to set.
    assert.match(en, /feature gate is history/);
    assert.match(zhAll(), /特性门控已成历史/);
    // kubectl debug without --profile warns in 1.34.
    for (const text of [en, zhAll()]) {
      for (const m of text.matchAll(/^kubectl debug .*$/gm))
        assert.match(m[0], /--profile=/, `${m[0]} names a profile`);
    }
  });
});

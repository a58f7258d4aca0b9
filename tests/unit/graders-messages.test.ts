import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { graders } from "../../src/graders/index.ts";
import { catalog, LOCALES } from "../../src/graders/messages/index.ts";

const placeholders = (s: string) =>
  [...s.matchAll(/\{(\w+)\}/g)]
    .map((m) => m[1])
    .sort()
    .join(",");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === "messages"
        ? []
        : sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

describe("grader messages", () => {
  const en = catalog("en");
  it("every locale has exactly the same message and title ids", () => {
    for (const locale of LOCALES) {
      assert.deepEqual(Object.keys(catalog(locale).messages).sort(), Object.keys(en.messages).sort(), locale);
      assert.deepEqual(Object.keys(catalog(locale).titles).sort(), Object.keys(en.titles).sort(), locale);
    }
  });

  it("every message has a non-empty text and hint, with the same placeholders in every locale", () => {
    for (const locale of LOCALES) {
      for (const [id, m] of Object.entries(catalog(locale).messages)) {
        assert.ok(m.text.trim().length > 5, `${locale} ${id} text`);
        assert.ok(m.hint.trim().length > 5, `${locale} ${id} hint`);
        const ref = en.messages[id as keyof typeof en.messages];
        assert.equal(
          placeholders(m.text + m.hint).replace(/(\w+)(,\1)+/g, "$1"),
          placeholders(ref.text + ref.hint).replace(/(\w+)(,\1)+/g, "$1"),
          `${locale} ${id} placeholders`,
        );
      }
      for (const [id, t] of Object.entries(catalog(locale).titles)) {
        assert.ok(t.trim().length > 3, `${locale} ${id}`);
        assert.equal(
          placeholders(t),
          placeholders(en.titles[id as keyof typeof en.titles]),
          `${locale} ${id} placeholders`,
        );
      }
    }
  });

  it("zh-CN messages are written in Chinese, not left in English", () => {
    for (const [id, m] of Object.entries(catalog("zh-CN").messages)) {
      assert.match(m.text, /[\u4e00-\u9fff]/, id);
      assert.match(m.hint, /[\u4e00-\u9fff]/, id);
    }
  });

  it("every message id used in grader sources exists", () => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(import.meta.dirname, "../../src/graders"))) {
      for (const m of readFileSync(file, "utf8").matchAll(
        /"((?:common|infra|job|cronjob|init|debug|deploy|pod|recorder)\.[a-z0-9-]+)"/g,
      ))
        used.add(m[1]);
    }
    assert.ok(used.size > 50);
    for (const id of used) assert.ok(id in en.messages, `message ${id} is used but not defined`);
  });

  it("every grader's check titles exist, and every grader has both title languages", () => {
    for (const g of graders.values()) {
      assert.ok(g.title.en && g.title["zh-CN"], g.id);
      for (const c of g.checks) assert.ok(c.title in en.titles, `${g.id}:${c.id} title ${c.title}`);
      assert.ok(
        g.checks.every((c) => c.points > 0),
        g.id,
      );
    }
  });

  it("no message or title spells out a lesson's value an exam draws anew (test-init.txt…): it takes the parameter", () => {
    // Values with a separator are distinctive (a file name, a text); plain names recur as ordinary words.
    const drawn = [...graders.values()].flatMap((g) =>
      Object.entries(g.params ?? {}).flatMap(([key, v]) =>
        typeof v === "string" && /[^a-z0-9]/i.test(v) ? [{ grader: g.id, key, value: v }] : [],
      ),
    );
    assert.ok(drawn.some((d) => d.value === "test-init.txt"));
    for (const locale of LOCALES) {
      const { messages, titles } = catalog(locale);
      const texts = [
        ...Object.entries(titles),
        ...Object.entries(messages).flatMap(([id, m]) => [
          [id, m.text],
          [id, m.hint],
        ]),
      ];
      for (const d of drawn)
        for (const [id, text] of texts)
          assert.ok(
            !text.includes(d.value),
            `${locale} ${id} spells out ${d.grader}'s ${d.key} "${d.value}": use {${d.key}}`,
          );
    }
  });
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { writeSupervisorScript } from "../../src/cluster/local/supervisor-script.ts";
import { NODE_COMPONENTS } from "../../src/cluster/local/supervisor.ts";

test("the supervisor's modules are written as plain JavaScript modules that load as they are", async () => {
  const out = mkdtempSync(join(tmpdir(), "kubelab-supervisor-"));
  const entry = writeSupervisorScript(out);
  assert.equal(relative(out, entry), join("cluster", "local", "supervisor-main.mjs"));
  const files = readdirSync(out, { recursive: true }).map(String);
  assert.ok(files.includes(join("cluster", "local", "supervisor.mjs")));
  assert.ok(!files.some((f) => f.endsWith(".ts")));
  // Type-only imports pull nothing in: the PKI (and its x509 package) is not among the copies.
  assert.ok(!files.includes(join("cluster", "local", "pki.mjs")));
  for (const file of files.filter((f) => f.endsWith(".mjs"))) {
    assert.doesNotMatch(readFileSync(join(out, file), "utf8"), /from\s*["'][^"']*\.ts["']/, file);
  }
  const copy = await import(join(out, "cluster", "local", "supervisor.mjs"));
  assert.deepEqual(copy.NODE_COMPONENTS, NODE_COMPONENTS);
});

test("a supervisor module that imports a package is refused: the copies could not resolve it", () => {
  const src = mkdtempSync(join(tmpdir(), "kubelab-supervisor-src-"));
  writeFileSync(join(src, "main.ts"), 'import { helper } from "./helper.ts";\nhelper();\n');
  writeFileSync(join(src, "helper.ts"), 'import { x } from "some-package";\nexport const helper = (): number => x;\n');
  assert.throws(
    () => writeSupervisorScript(mkdtempSync(join(tmpdir(), "kubelab-supervisor-")), join(src, "main.ts"), src),
    /imports the package some-package/,
  );
});

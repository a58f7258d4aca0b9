/** The static file resolver never leaves the client directory. */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { resolveInside } from "../../src/server/site.ts";

const root = path.resolve("/srv/site/client");

test("maps URL paths onto files, directories onto index.html", () => {
  assert.equal(resolveInside(root, "/_astro/a.js"), path.join(root, "_astro/a.js"));
  assert.equal(resolveInside(root, "/en/job/"), path.join(root, "en/job/index.html"));
  assert.equal(resolveInside(root, "/"), path.join(root, "index.html"));
  assert.equal(resolveInside(root, "/diagrams/job%20x.svg"), path.join(root, "diagrams/job x.svg"));
});

test("rejects traversal, encoded separators, NUL and dotfiles", () => {
  for (const bad of [
    "/../etc/passwd",
    "/%2e%2e/x",
    "/a/..%2f..%2fx",
    "/a%5c..%5cx",
    "/x%00.html",
    "/.env",
    "/%E0%A4%A",
  ]) {
    assert.equal(resolveInside(root, bad), null, bad);
  }
});

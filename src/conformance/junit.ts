/**
 * Counting a ginkgo JUnit report. Ginkgo lists every spec of the suite:
 * those the focus left out are "skipped" with the bare message "skipped",
 * those skipped while running carry their reason ("skipped - <reason>").
 */

export interface SpecResult {
  /** The spec's full text, without ginkgo's "[It]" prefix and label list. */
  name: string;
  state: "passed" | "failed" | "skipped";
  /** Why a spec was skipped at run time, or the first line of its failure. */
  message?: string;
}

export interface ConformanceSummary {
  /** Specs the focus and skip patterns selected (passed + failed + skipped at run time). */
  focused: number;
  passed: SpecResult[];
  failed: SpecResult[];
  skipped: SpecResult[];
}

const unescape = (s: string) =>
  s
    .replace(/&#xA;|&#10;/g, "\n")
    .replace(/&#x9;|&#9;/g, "\t")
    .replace(/&quot;|&#34;/g, '"')
    .replace(/&apos;|&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescape(m[1]) : undefined;
};

export function summarizeJunit(xml: string): ConformanceSummary {
  const summary: ConformanceSummary = { focused: 0, passed: [], failed: [], skipped: [] };
  for (const block of xml.split("<testcase").slice(1)) {
    const open = block.slice(0, block.indexOf(">"));
    const raw = attr(open, "name") ?? "";
    // Suite set-up nodes ([SynchronizedBeforeSuite] …) are listed too; only specs count.
    if (!raw.startsWith("[It] ")) continue;
    const name = raw.slice(5).replace(/ \[[^\]]*\]$/, "");
    const status = attr(open, "status");
    if (status === "passed") summary.passed.push({ name, state: "passed" });
    else if (status === "skipped") {
      const reason = /<skipped message="skipped - ([^"]*)"/.exec(block);
      // Left out by the focus: not part of this run.
      if (!reason) continue;
      summary.skipped.push({ name, state: "skipped", message: unescape(reason[1]) });
    } else {
      const failure = /<(?:failure|error) message="([^"]*)"/.exec(block);
      summary.failed.push({ name, state: "failed", message: failure ? unescape(failure[1]).split("\n")[0] : status });
    }
  }
  summary.focused = summary.passed.length + summary.failed.length + summary.skipped.length;
  return summary;
}

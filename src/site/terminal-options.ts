/**
 * How every terminal on the site looks: the learner's (terminal-element.ts)
 * and the instructor's read-only view of it (instructor-page.ts) use the
 * same font, line height and colours, so the instructor sees what the
 * learner sees.
 */
import type { ITerminalOptions } from "@xterm/xterm";

export const TERMINAL_LOOK = {
  fontFamily: 'ui-monospace, "Cascadia Mono", "DejaVu Sans Mono", Menlo, monospace',
  fontSize: 14,
  // At 1.0 the row is exactly the font's height and the DOM renderer clips its
  // bottom pixel row at 1× density: underscores vanished ("snake case name").
  lineHeight: 1.2,
  theme: { background: "#0d1117", foreground: "#e6edf3" },
} as const satisfies ITerminalOptions;

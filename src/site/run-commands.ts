/**
 * Decides what a code block's Run button sends to the terminal. Pure so it
 * can be unit-tested without a browser.
 *
 * - `sh`/`bash`/`shell` blocks: the text as-is (heredocs included).
 * - `console` transcripts (prompt + output, e.g. `[root@master pod]# …`)
 *   show what to expect and name example pods, so they get no Run button.
 * - YAML blocks with a title (```yaml title="job.yaml"): a heredoc that writes the file.
 *
 * After a block that leaves a command running (a `kubectl get -w` watch),
 * the next button presses Ctrl+C before typing (`typeAction`), so the watch
 * stops instead of swallowing the text. Only then: Ctrl+C inside a
 * container's shell would make its `exit` report code 130.
 */

export interface CodeBlock {
  language: string;
  /** The block's title (usually a file name), if any. */
  title?: string;
  code: string;
}

export interface RunAction {
  kind: "run" | "write";
  command: string;
  /** For `write`: the file name. */
  file?: string;
  /** For `write`: the file's text. */
  content?: string;
  /** Its last line keeps running until interrupted (`-w`, `--watch`, `-f`, `--follow`). */
  keepsRunning?: boolean;
}

/** Flags of kubectl (and tail) that keep a command running: watch and follow. */
const KEEPS_RUNNING = /^(kubectl|tail)\b.*\s(-w|--watch|--watch-only|-f|--follow|-F)(\s|=|$)/;

const SHELL = new Set(["sh", "bash", "shell", "zsh"]);

/** What Expressive Code renders for a block: its language, caption title, copy button source and visible text. */
export interface RenderedBlock {
  language?: string;
  title?: string;
  /** The copy button's `data-code`: the exact source, with U+007F for line breaks. */
  copyCode?: string;
  text?: string;
}

/** A rendered block read back into its source (the page's buttons and the lesson-command test both use this). */
export function blockFromRendered(rendered: RenderedBlock): CodeBlock {
  return {
    language: rendered.language ?? "",
    title: rendered.title?.trim() || undefined,
    code: rendered.copyCode?.replace(/\u007f/g, "\n") ?? rendered.text ?? "",
  };
}

export function runActionFor(block: CodeBlock): RunAction | undefined {
  const language = block.language.toLowerCase();
  const code = block.code.replace(/\r\n?/g, "\n").replace(/\n+$/, "");
  if (!code.trim()) return undefined;

  if (SHELL.has(language)) {
    const last = code.split("\n").at(-1)!.trim();
    // `kubectl create -f file` is a file, not a follow.
    const keepsRunning = KEEPS_RUNNING.test(last) && !/^kubectl\s+(create|apply|delete|replace)\b/.test(last);
    return keepsRunning ? { kind: "run", command: code, keepsRunning } : { kind: "run", command: code };
  }

  if ((language === "yaml" || language === "yml") && block.title && /^[\w.-]+$/.test(block.title)) {
    // A quoted delimiter keeps the shell from expanding $vars inside the manifest.
    let delimiter = "EOF";
    while (code.split("\n").includes(delimiter)) delimiter += "_";
    return {
      kind: "write",
      file: block.title,
      content: `${code}\n`, // what the heredoc writes
      command: `cat > ${block.title} <<'${delimiter}'\n${code}\n${delimiter}`,
    };
  }
  return undefined;
}

/** Ctrl+C: the tty turns it into SIGINT for whatever runs in the foreground. */
export const INTERRUPT = "\x03";

/**
 * Pause between Ctrl+C and the command. Bash handles the interrupt as it
 * reads its next key, and that key is lost (`echo` would arrive as `cho`);
 * after a short pause it is at a fresh prompt.
 */
export const INTERRUPT_SETTLE_MS = 150;

export interface RunTarget {
  /** Raw keystrokes, no Enter added. */
  sendInput(text: string): void;
  /** Type the command and press Enter. */
  run(command: string): void;
  sleep(ms: number): Promise<void>;
}

/** What a Run or Write button does: stop what the previous one left running, then type the command. */
export async function typeAction(action: RunAction, previous: RunAction | undefined, target: RunTarget): Promise<void> {
  if (previous?.keepsRunning) {
    target.sendInput(INTERRUPT);
    await target.sleep(INTERRUPT_SETTLE_MS);
  }
  target.run(action.command);
}

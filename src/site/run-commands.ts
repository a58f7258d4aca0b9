/**
 * Decides what a code block's Run button sends to the terminal. Pure so it
 * can be unit-tested without a browser.
 *
 * - `sh`/`bash`/`shell` blocks: the text as-is (heredocs included).
 * - `console` transcripts (prompt + output, e.g. `[root@master pod]# …`)
 *   show what to expect and name example pods, so they get no Run button.
 * - YAML blocks with a title (```yaml title="job.yaml"): a heredoc that writes the file.
 */

export interface CodeBlock {
	language: string;
	/** The block's title (usually a file name), if any. */
	title?: string;
	code: string;
}

export interface RunAction {
	kind: 'run' | 'write';
	command: string;
	/** For `write`: the file name. */
	file?: string;
}

const SHELL = new Set(['sh', 'bash', 'shell', 'zsh']);

export function runActionFor(block: CodeBlock): RunAction | undefined {
	const language = block.language.toLowerCase();
	const code = block.code.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
	if (!code.trim()) return undefined;

	if (SHELL.has(language)) return { kind: 'run', command: code };

	if ((language === 'yaml' || language === 'yml') && block.title && /^[\w.-]+$/.test(block.title)) {
		// A quoted delimiter keeps the shell from expanding $vars inside the manifest.
		let delimiter = 'EOF';
		while (code.split('\n').includes(delimiter)) delimiter += '_';
		return {
			kind: 'write',
			file: block.title,
			command: `cat > ${block.title} <<'${delimiter}'\n${code}\n${delimiter}`,
		};
	}
	return undefined;
}

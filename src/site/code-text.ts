/**
 * Grader messages and hints write commands and fields as Markdown code
 * (`kubectl edit cj hello`). As DOM nodes: text between backticks becomes
 * `<code>`, the rest stays text. Text nodes only, never HTML: the messages
 * come from the server.
 */
export function withCode(text: string): (string | HTMLElement)[] {
  return text.split(/`([^`\n]+)`/).map((part, i) => {
    if (i % 2 === 0) return part;
    const code = document.createElement("code");
    code.textContent = part;
    return code;
  });
}

/**
 * A lesson table wider than its column scrolls sideways (Starlight's table
 * style); keyboard users need to reach it to scroll it (WCAG 2.1.1), so each
 * table that scrolls becomes a tab stop.
 */
function reachScrollingTables(): void {
  for (const table of document.querySelectorAll<HTMLTableElement>(".sl-markdown-content table")) {
    const scrolls = table.scrollWidth > table.clientWidth + 1;
    if (scrolls && !table.hasAttribute("tabindex")) table.tabIndex = 0;
    else if (!scrolls && table.tabIndex === 0) table.removeAttribute("tabindex");
  }
}

reachScrollingTables();
let pending: ReturnType<typeof setTimeout> | undefined;
window.addEventListener("resize", () => {
  clearTimeout(pending);
  pending = setTimeout(reachScrollingTables, 150);
});

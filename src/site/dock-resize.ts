/**
 * The separator on top of the docked terminal (narrow screens): drag it, or
 * focus it and press ↑/↓ (Home/End), to give the terminal more or less of the
 * window. The height is `--kl-dock-height` on the root element and is kept
 * in localStorage, so the next lesson opens the same way. The separator says
 * the dock's height in pixels (`aria-valuenow`, which a focusable separator
 * must have) from the start and whenever it changes: a drag, the window, the
 * editor or the cluster view opening (lab.css lets the dock grow then).
 */
const STORAGE_KEY = "kubelab.dockHeight";
const MIN_PX = 128;
const STEP_PX = 32;

function maxHeight(): number {
  return Math.max(MIN_PX, window.innerHeight - 120);
}

function apply(separator: HTMLElement, px: number): number {
  const height = Math.round(Math.min(maxHeight(), Math.max(MIN_PX, px)));
  document.documentElement.style.setProperty("--kl-dock-height", `${height}px`);
  report(separator);
  return height;
}

/** Say the dock's height as it is now. */
function report(separator: HTMLElement): void {
  separator.setAttribute("aria-valuenow", String(Math.round(current(separator))));
  separator.setAttribute("aria-valuemax", String(maxHeight()));
}

function save(height: number): void {
  try {
    localStorage.setItem(STORAGE_KEY, String(height));
  } catch {
    /* storage off: the height lasts for this page */
  }
}

function current(separator: HTMLElement): number {
  return separator.closest(".kl-lab-pane")?.getBoundingClientRect().height ?? MIN_PX;
}

for (const separator of document.querySelectorAll<HTMLElement>("[data-dock-resize]")) {
  separator.setAttribute("aria-valuemin", String(MIN_PX));
  const stored = Number(localStorage.getItem(STORAGE_KEY));
  if (stored > 0) apply(separator, stored);
  report(separator);
  const pane = separator.closest(".kl-lab-pane");
  if (pane) new ResizeObserver(() => report(separator)).observe(pane);

  separator.addEventListener("pointerdown", (down) => {
    separator.setPointerCapture(down.pointerId);
    const startY = down.clientY;
    const startHeight = current(separator);
    const move = (event: PointerEvent) => apply(separator, startHeight + (startY - event.clientY));
    const up = (event: PointerEvent) => {
      separator.removeEventListener("pointermove", move);
      separator.removeEventListener("pointerup", up);
      save(apply(separator, startHeight + (startY - event.clientY)));
    };
    separator.addEventListener("pointermove", move);
    separator.addEventListener("pointerup", up);
  });

  separator.addEventListener("keydown", (event) => {
    const now = current(separator);
    const target =
      event.key === "ArrowUp"
        ? now + STEP_PX
        : event.key === "ArrowDown"
          ? now - STEP_PX
          : event.key === "Home"
            ? maxHeight()
            : event.key === "End"
              ? MIN_PX
              : undefined;
    if (target === undefined) return;
    event.preventDefault();
    save(apply(separator, target));
  });
}

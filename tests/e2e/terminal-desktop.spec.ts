/**
 * The terminal behaves like a desktop terminal: glyphs are drawn whole at
 * 1× and 2× density, the clipboard works with the keys people expect, the
 * keyboard can leave it, and on a narrow screen it stays in view.
 */
import { expect, test, type Page } from "@playwright/test";
import { clearTerminal, expectTerminal, openLesson, runInTerminal, sendInput, terminalText } from "./support.ts";

interface TerminalLike {
  term: {
    cols: number;
    buffer: {
      active: {
        length: number;
        viewportY: number;
        getLine(y: number): { translateToString(trim: boolean): string } | undefined;
      };
    };
  };
}

/**
 * The screen rectangle (CSS pixels) of the cell at column `col` of the last
 * row whose text is exactly `text`.
 */
async function cellRect(page: Page, text: string, col: number) {
  return page.evaluate(
    ({ text, col }) => {
      const element = document.querySelector("kubelab-terminal") as unknown as TerminalLike;
      const buffer = element.term.buffer.active;
      let row = -1;
      for (let y = buffer.length - 1; y >= 0; y--) {
        if (buffer.getLine(y)?.translateToString(true) === text) {
          row = y - buffer.viewportY;
          break;
        }
      }
      const rowElement = document.querySelectorAll<HTMLElement>(".xterm-rows > div")[row];
      if (!rowElement) return undefined;
      const box = rowElement.getBoundingClientRect();
      const width = box.width / element.term.cols;
      return { x: box.left + col * width, y: box.top, width, height: box.height };
    },
    { text, col },
  );
}

/** How many pixels of a PNG are bright (the terminal's light text on its dark background). */
async function brightPixels(page: Page, png: Buffer): Promise<{ bright: number; total: number }> {
  return page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d")!;
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    let bright = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2] > 110) bright++;
    }
    return { bright, total: data.length / 4 };
  }, png.toString("base64"));
}

for (const deviceScaleFactor of [1, 2]) {
  test(`an underscore is drawn at ${deviceScaleFactor}× device pixel ratio`, async ({ browser }) => {
    const context = await browser.newContext({ deviceScaleFactor, viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    try {
      await openLesson(page, "/en/job/");
      await runInTerminal(page, "echo snake_case_name");
      await expectTerminal(page, /^snake_case_name$/m, 30_000);
      // "snake_case_name": the cell of the first underscore (column 5) and of the "e" before it.
      for (const [col, what] of [
        [5, "the underscore"],
        [4, "the e"],
      ] as const) {
        const rect = await cellRect(page, "snake_case_name", col);
        expect(rect, "the output row is on the screen").toBeTruthy();
        const png = await page.screenshot({ clip: rect! });
        const { bright, total } = await brightPixels(page, png);
        console.log(`${deviceScaleFactor}×: ${what}'s cell has ${bright} of ${total} pixels lit`);
        expect(bright, `${what} is visible at ${deviceScaleFactor}×`).toBeGreaterThanOrEqual(4 * deviceScaleFactor);
      }
      await clearTerminal(page);
    } finally {
      await context.close();
    }
  });
}

/** The system clipboard as the page reads it (the context grants clipboard access). */
function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Select the last row whose text is exactly `text` (as a mouse drag over it would). */
async function selectRow(page: Page, text: string): Promise<void> {
  const rect = await cellRect(page, text, 0);
  expect(rect, `a row "${text}" is on the screen`).toBeTruthy();
  const y = rect!.y + rect!.height / 2;
  await page.mouse.move(rect!.x + 1, y);
  await page.mouse.down();
  await page.mouse.move(rect!.x + rect!.width * text.length - 1, y, { steps: 5 });
  await page.mouse.up();
}

test.describe("clipboard", () => {
  test.use({ permissions: ["clipboard-read", "clipboard-write"] });

  test("copy on selection, Ctrl+Shift+C, and Ctrl+C with a selection copy; without one Ctrl+C stops the command", async ({
    page,
  }) => {
    const sent: string[] = [];
    page.on("websocket", (ws) => ws.on("framesent", ({ payload }) => sent.push(payload.toString())));
    await openLesson(page, "/en/job/");
    const n = 100 + Math.floor(Math.random() * 800);
    await runInTerminal(page, `echo copy-me-$((${n}+1))`);
    const line = `copy-me-${n + 1}`;
    await expectTerminal(page, new RegExp(`^${line}$`, "m"), 30_000);

    // Selecting copies.
    await page.evaluate(() => navigator.clipboard.writeText("nothing yet"));
    await selectRow(page, line);
    await expect.poll(() => readClipboard(page)).toBe(line);

    // Ctrl+Shift+C copies the selection.
    await page.evaluate(() => navigator.clipboard.writeText("nothing yet"));
    await page.keyboard.press("Control+Shift+C");
    await expect.poll(() => readClipboard(page)).toBe(line);

    // Ctrl+C with a selection copies and sends no ^C: the half-typed line survives it.
    await page.keyboard.type("echo half-");
    await selectRow(page, line);
    await page.evaluate(() => navigator.clipboard.writeText("nothing yet"));
    await page.keyboard.press("Control+C");
    await expect.poll(() => readClipboard(page)).toBe(line);
    await page.keyboard.type("typed\n");
    await expectTerminal(page, /^half-typed$/m, 30_000);

    // Without a selection Ctrl+C interrupts the command, as in any terminal.
    // ^C once the command runs (not while the shell still reads its line): then no key after it is lost.
    await runInTerminal(page, "echo sleeping-$((1+1)); sleep 300; echo slept");
    await expectTerminal(page, /^sleeping-2$/m, 15_000);
    await page.keyboard.press("Control+C");
    await runInTerminal(page, "echo after-interrupt-$((2+3))");
    await expectTerminal(page, /^after-interrupt-5$/m, 15_000);
    expect(await terminalText(page)).not.toMatch(/^slept$/m);
    expect(
      sent.some((frame) => frame.includes("\x03")),
      "a ^C went to the shell",
    ).toBe(true);
    await clearTerminal(page);
  });

  test("Ctrl+V and Ctrl+Shift+V paste without sending ^V, and OSC 52 from the shell sets the clipboard", async ({
    page,
  }) => {
    const sent: string[] = [];
    page.on("websocket", (ws) => ws.on("framesent", ({ payload }) => sent.push(payload.toString())));
    await openLesson(page, "/en/job/");
    await page.locator(".xterm-screen").click();

    for (const [keys, n] of [
      ["Control+V", 7],
      ["Control+Shift+V", 8],
    ] as const) {
      await page.evaluate((text) => navigator.clipboard.writeText(text), `echo pasted-$((${n}*6))`);
      await page.keyboard.press(keys);
      await page.keyboard.press("Enter");
      await expectTerminal(page, new RegExp(`^pasted-${n * 6}$`, "m"), 30_000);
    }
    expect(
      sent.filter((frame) => frame.includes("\x16")),
      "no ^V reached the shell",
    ).toEqual([]);
    // Not left in quoted-insert: Ctrl+C still interrupts.
    await runInTerminal(page, "echo sleeping-$((2+2)); sleep 300; echo slept");
    await expectTerminal(page, /^sleeping-4$/m, 15_000);
    await page.keyboard.press("Control+C");
    await runInTerminal(page, "echo still-here");
    await expectTerminal(page, /^still-here$/m, 15_000);

    // A program in the shell (through tmux) copies with OSC 52.
    await page.evaluate(() => navigator.clipboard.writeText("nothing yet"));
    await runInTerminal(page, `printf '\\033]52;c;%s\\a' "$(printf osc-52-copy | base64)"`);
    await expect.poll(() => readClipboard(page), { timeout: 15_000 }).toBe("osc-52-copy");
    await clearTerminal(page);
  });
});

test("Esc then Tab leaves the terminal, which comes early in the tab order", async ({ page }) => {
  await openLesson(page, "/en/job/");
  const inTerminal = () => page.evaluate(() => !!document.activeElement?.closest("kubelab-terminal .xterm"));

  // From the top of a freshly loaded page the keyboard reaches the terminal within a few stops.
  await page.goto("/en/job/");
  await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
  let presses = 0;
  while (!(await inTerminal()) && presses < 100) {
    await page.keyboard.press("Tab");
    presses++;
  }
  console.log(`the terminal is tab stop ${presses}`);
  expect(await inTerminal(), "Tab reaches the terminal").toBe(true);
  expect(presses, "tab stops before the terminal").toBeLessThanOrEqual(20);

  // Tab alone stays in the shell (completion), Esc then Tab moves on, Esc then Shift+Tab moves back.
  await page.keyboard.press("Tab");
  expect(await inTerminal()).toBe(true);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  expect(await inTerminal(), "Esc, Tab leaves the terminal").toBe(false);
  const after = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
  expect(after.length, "focus went to a control with a name").toBeGreaterThan(0);
  await page.locator(".xterm-screen").click();
  expect(await inTerminal()).toBe(true);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Shift+Tab");
  expect(await inTerminal(), "Esc, Shift+Tab leaves the terminal").toBe(false);
  // On a wide screen the lesson says the terminal is on the right, where it is.
  await expect(page.locator(".kl-where-wide").first()).toHaveText("on the right");
  await expect(page.locator(".kl-where-narrow").first()).toBeHidden();
  // The help names the key, for sighted and screen-reader users alike.
  await expect(page.locator("#kubelab-terminal-keys")).toContainText("Esc then Tab");
  const describedBy = await page.locator("kubelab-terminal textarea").getAttribute("aria-describedby");
  expect(describedBy).toBe("kubelab-terminal-keys");
  await clearTerminal(page);
});

test.describe("a narrow window", () => {
  test.use({ viewport: { width: 800, height: 900 } });

  test("the terminal is docked in view, Run far down the lesson types into it, and the text says where it is", async ({
    page,
  }) => {
    await page.goto("/en/job/");
    await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready", { timeout: 120_000 });
    // Not openLesson: docking shrinks the terminal after tmux first draws, which leaves a prompt in
    // xterm's scrollback, so the text is never a lone prompt. Clear the screen and xterm's scrollback.
    await sendInput(page, "\x03");
    await runInTerminal(page, "clear");
    await expect.poll(() => terminalText(page)).toMatch(/\[root@master pod\]#\s*$/);
    await page.evaluate(() =>
      (document.querySelector("kubelab-terminal") as unknown as { term: { clear(): void } }).term.clear(),
    );
    expect(await terminalText(page)).not.toMatch(/activeDeadlineSeconds/);
    await expect(page.locator(".kl-where-narrow").first()).toBeVisible();
    await expect(page.locator(".kl-where-wide").first()).toBeHidden();
    await expect(page.locator(".kl-where-narrow").first()).toHaveText("at the bottom of the screen");

    const block = page.locator(".expressive-code", { hasText: "kubectl explain job.spec.activeDeadlineSeconds" });
    const run = block.locator("xpath=following-sibling::div[1]").locator("button.kl-run");
    await run.scrollIntoViewIfNeeded();
    const scrolled = await page.evaluate(() => window.scrollY);
    expect(scrolled, "the button is far down the page").toBeGreaterThan(2000);
    await run.click(); // Playwright refuses if the dock covers the button
    await expectTerminal(page, /activeDeadlineSeconds/, 60_000);

    // The terminal is on the screen, on top, while the page is scrolled to the button.
    const screen = await page.locator(".kl-lab-screen").boundingBox();
    expect(screen).toBeTruthy();
    expect(screen!.y).toBeGreaterThanOrEqual(0);
    expect(screen!.y + screen!.height).toBeLessThanOrEqual(900 + 1);
    expect(screen!.height, "the terminal shows several rows").toBeGreaterThan(150);
    const onTop = await page.evaluate(({ x, y }) => !!document.elementFromPoint(x, y)?.closest("kubelab-terminal"), {
      x: screen!.x + screen!.width / 2,
      y: screen!.y + screen!.height / 2,
    });
    expect(onTop, "nothing covers the terminal").toBe(true);
    expect(await page.evaluate(() => window.scrollY), "Run did not scroll the page away").toBe(scrolled);

    // The separator resizes it, by keyboard too.
    const separator = page.locator("[data-dock-resize]");
    await separator.focus();
    const before = (await page.locator(".kl-lab-pane").boundingBox())!.height;
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("ArrowUp");
    await expect
      .poll(async () => (await page.locator(".kl-lab-pane").boundingBox())!.height)
      .toBeGreaterThan(before + 50);
    await runInTerminal(page, "clear");

    // The Chinese lesson says the same.
    await page.goto("/job/");
    await expect(page.locator(".kl-where-narrow").first()).toHaveText("屏幕下方");
    await expect(page.locator(".kl-where-wide").first()).toBeHidden();
  });
});

test("Reset lab says what it did, in the panel and in the terminal", async ({ page }) => {
  await openLesson(page, "/en/job/");
  page.once("dialog", (dialog) => void dialog.accept());
  await page.locator("kubelab-terminal [data-reset]").click();
  const status = page.locator("kubelab-terminal [data-status]");
  await expect(status).toContainText(
    /^Lab reset at \d\d:\d\d:\d\d: everything you created in the cluster was deleted/,
    {
      timeout: 120_000,
    },
  );
  await expect(page.locator("kubelab-terminal")).toHaveAttribute("data-state", "ready");
  await expectTerminal(
    page,
    /# Lab reset at \d\d:\d\d:\d\d: everything you created in the cluster was deleted/,
    30_000,
  );
  // A comment, whole: the # was lost to the Ctrl+C before it ("Lab: command not found").
  await expectTerminal(page, /^\[root@master pod\]# # Lab reset at/m, 5_000);
  expect(await terminalText(page)).not.toMatch(/command not found/);
  await clearTerminal(page);
});

/**
 * Every diagram of every lesson, in both languages, as Chromium draws it:
 * the page's language (zh-CN diagrams on zh-CN pages), every label inside
 * the viewBox and inside the box it is written in, no arrow running under a
 * box drawn on top of it, and a screenshot of each
 * into test-results/e2e/screenshots/diagrams/ (the e2e artefacts) to look at.
 */
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";

const SCREENSHOTS = fileURLToPath(new URL("../../test-results/e2e/screenshots/diagrams/", import.meta.url));
const CHAPTERS = ["job", "cronjob", "init-containers", "ephemeral-containers"];
const LOCALES = [
  { lang: "zh-CN", prefix: "/", diagrams: "/diagrams/zh-CN/" },
  { lang: "en", prefix: "/en/", diagrams: "/diagrams/" },
] as const;
const CJK = /[\u3400-\u9fff\uff00-\uffef]/;
/** Anti-aliasing and stroke widths: a label may touch its box's edge. */
const SLACK = 1.5;

interface Label {
  text: string;
  box: { x: number; y: number; width: number; height: number };
  /** The smallest rect whose area holds the label's anchor point, if any. */
  container?: { x: number; y: number; width: number; height: number };
}

for (const { lang, prefix, diagrams } of LOCALES) {
  for (const chapter of CHAPTERS) {
    test(`${lang} ${chapter}: diagrams speak the page's language and fit`, async ({ page }) => {
      await page.goto(`${prefix}${chapter}/`);
      await expect(page.locator("html")).toHaveAttribute("lang", lang);
      const images = page.locator('main img[src$=".svg"]');
      const count = await images.count();
      expect(count, "every chapter has a diagram").toBeGreaterThan(0);

      for (let i = 0; i < count; i++) {
        const image = images.nth(i);
        const src = (await image.getAttribute("src"))!;
        expect(
          src.startsWith(diagrams) && !src.slice(diagrams.length).includes("/"),
          `${src} is a ${lang} diagram`,
        ).toBe(true);
        await image.scrollIntoViewIfNeeded();
        await expect
          .poll(() =>
            image.evaluate((img: HTMLImageElement) => {
              // A pod starting on this host adds a veth; Chromium takes that for a network change
              // and fails the requests in flight (net::ERR_NETWORK_CHANGED). A failed image is asked for again.
              if (img.complete && img.naturalWidth === 0) {
                const again = new URL(img.src);
                again.searchParams.set("retry", String(Date.now()));
                img.src = again.href;
              }
              return img.complete && img.naturalWidth > 0;
            }),
          )
          .toBe(true);
        const name = src
          .split("/")
          .pop()!
          .replace(/\.svg$/, "");
        await image.screenshot({ path: `${SCREENSHOTS}${lang}-${name}.png` });

        // Open the SVG itself to measure its text as drawn.
        const svgPage = await page.context().newPage();
        await svgPage.goto(src);
        const { viewBox, labels, hidden } = await svgPage.evaluate(() => {
          const svg = document.documentElement as unknown as SVGSVGElement;
          const vb = svg.viewBox.baseVal;
          const rects = [...svg.querySelectorAll("rect")].map((r) => r.getBBox());
          const labels = [...svg.querySelectorAll("text")].map((t) => {
            const box = t.getBBox();
            const ax = t.x.baseVal[0]?.value ?? box.x;
            const ay = t.y.baseVal[0]?.value ?? box.y;
            const holding = rects
              .filter((r) => ax >= r.x && ax <= r.x + r.width && ay >= r.y && ay <= r.y + r.height)
              .sort((a, b) => a.width * a.height - b.width * b.height);
            const plain = (b: DOMRect) => ({ x: b.x, y: b.y, width: b.width, height: b.height });
            return { text: t.textContent ?? "", box: plain(box), container: holding[0] && plain(holding[0]) };
          });
          // An arrow drawn before a filled box that covers part of it is partly hidden.
          const all = [...svg.querySelectorAll("*")];
          const hidden: string[] = [];
          for (const arrow of svg.querySelectorAll<SVGGeometryElement>("path, line")) {
            const marked = arrow.getAttribute("marker-end") ?? arrow.closest("g")?.getAttribute("marker-end");
            if (!marked) continue;
            const later = [...svg.querySelectorAll("rect")].filter(
              (r) => all.indexOf(r) > all.indexOf(arrow) && r.getAttribute("fill") !== "none",
            );
            const length = arrow.getTotalLength();
            for (let at = 3; at < length - 3; at += 4) {
              const p = arrow.getPointAtLength(at);
              const cover = later.find((r) => {
                const b = r.getBBox();
                return p.x > b.x && p.x < b.x + b.width && p.y > b.y && p.y < b.y + b.height;
              });
              if (cover) {
                hidden.push(
                  `${arrow.getAttribute("d") ?? arrow.outerHTML} under the box at ${cover.getAttribute("x")},${cover.getAttribute("y")}`,
                );
                break;
              }
            }
          }
          return { viewBox: { x: vb.x, y: vb.y, width: vb.width, height: vb.height }, labels, hidden };
        });
        await svgPage.close();

        expect(labels.length, `${src} has text`).toBeGreaterThan(0);
        expect(hidden, `arrows of ${src} drawn under a box`).toEqual([]);
        const texts = labels.map((l: Label) => l.text).join(" ");
        if (lang === "zh-CN") expect(texts, `${src} is written in Chinese`).toMatch(CJK);
        else expect(texts, `${src} is written in English`).not.toMatch(CJK);
        for (const { text, box, container } of labels as Label[]) {
          const inside = (outer: Label["box"]) =>
            box.x >= outer.x - SLACK &&
            box.y >= outer.y - SLACK &&
            box.x + box.width <= outer.x + outer.width + SLACK &&
            box.y + box.height <= outer.y + outer.height + SLACK;
          expect(inside(viewBox), `“${text}” in ${src} fits the viewBox (${JSON.stringify(box)})`).toBe(true);
          if (container)
            expect(
              inside(container),
              `“${text}” in ${src} fits its box (${JSON.stringify(box)} in ${JSON.stringify(container)})`,
            ).toBe(true);
        }
      }
    });
  }
}

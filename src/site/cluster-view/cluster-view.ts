/**
 * The live cluster view on the page (loaded on the first open, see
 * ClusterView.astro): frames from the server's feed (Server-Sent Events,
 * src/server/routes/cluster-view.ts) drawn as an ARIA tree — objects,
 * containers and their latest events as tree items, each state in words
 * (the colour and mark only repeat it). The tree is drawn again per frame
 * (at most five a second), keeping what the learner collapsed and the item
 * that has focus; the keys are the WAI-ARIA tree's (arrows, Home, End,
 * Enter/Space to expand or collapse). During an exam the server offers its
 * task namespaces too, picked in a select above the tree.
 */
import { toUiLocale, useUi } from "../../i18n/ui/index.ts";
import { CLUSTER_VIEW_PATH, type ClusterViewFrame, type ViewEvent, type ViewNode } from "../../shared/cluster-view.ts";

declare global {
  interface WindowEventMap {
    /** A frame drawn: the server's build time and when it was on the page (the delay measure). */
    "kubelab:cluster-frame": CustomEvent<{ builtAt: number; drawnAt: number }>;
  }
}

const t = useUi(toUiLocale(document.documentElement.lang));
const MARK: Record<ViewNode["tone"], string> = { ok: "●", done: "✓", progress: "◐", waiting: "○", failed: "✕" };

let source: EventSource | undefined;
let root: HTMLElement | undefined;
/** The namespace picked in the select; undefined: the lab's own (the server's default). */
let picked: string | undefined;
/** Keys of the items the learner collapsed (all start expanded: the lesson's objects are few). */
const collapsed = new Set<string>();

/** Open the view in `section` (its markup: ClusterView.astro) and start the feed. */
export function open(section: HTMLElement): void {
  root = section;
  if (source) return;
  const tree = section.querySelector<HTMLElement>("[data-view-tree]")!;
  if (!tree.dataset.keys) {
    tree.dataset.keys = "1";
    tree.addEventListener("keydown", onKey);
    tree.addEventListener("click", onClick);
  }
  status(t("view.connecting"));
  const query = new URLSearchParams({ locale: toUiLocale(document.documentElement.lang) });
  if (picked) query.set("namespace", picked);
  source = new EventSource(`${CLUSTER_VIEW_PATH}?${query}`);
  source.onmessage = (event) => draw(JSON.parse(event.data) as ClusterViewFrame);
  source.addEventListener("namespaces", (event) => offer(JSON.parse((event as MessageEvent).data) as string[]));
  // EventSource reconnects by itself; say so meanwhile. A refusal closes it: an exam's namespace once
  // the exam is over goes back to the lab's own.
  const mine = source;
  source.onerror = () => {
    status(t("view.lost"));
    if (mine.readyState !== EventSource.CLOSED || source !== mine) return;
    source = undefined;
    picked = undefined;
    setTimeout(() => root && !root.hidden && open(root), 2000);
  };
}

/** Stop the feed (the server frees this page's viewer slot). */
export function close(): void {
  source?.close();
  source = undefined;
}

/** The namespaces this session may view: a select when there is more than the lab's own. */
function offer(namespaces: string[]): void {
  const label = root?.querySelector<HTMLElement>("[data-view-ns]");
  const select = label?.querySelector("select");
  if (!label || !select) return;
  label.hidden = namespaces.length < 2;
  select.replaceChildren(...namespaces.map((ns) => new Option(ns, ns, false, ns === (picked ?? namespaces[0]))));
  select.onchange = () => {
    picked = select.value;
    collapsed.clear();
    close();
    if (root) open(root);
  };
}

function status(text: string): void {
  const el = root?.querySelector<HTMLElement>("[data-view-status]");
  if (el && el.textContent !== text) el.textContent = text;
}

function draw(frame: ClusterViewFrame): void {
  if (!root) return;
  const tree = root.querySelector<HTMLElement>("[data-view-tree]")!;
  const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>("[role=treeitem]");
  const focusKey = focused && tree.contains(focused) ? focused.dataset.key : undefined;

  const title = root.querySelector<HTMLElement>("[data-view-title]");
  if (title) title.textContent = t("view.title", { namespace: frame.namespace });
  status(frame.roots.length ? "" : t("view.empty", { namespace: frame.namespace }));
  const updated = root.querySelector<HTMLElement>("[data-view-updated]");
  if (updated)
    updated.textContent = t("view.updated", {
      time: new Date(frame.at).toLocaleTimeString(document.documentElement.lang || undefined, { hour12: false }),
    });
  const omitted = root.querySelector<HTMLElement>("[data-view-omitted]");
  if (omitted) {
    omitted.hidden = !frame.omitted.nodes && !frame.omitted.events;
    omitted.textContent = t("view.omitted", frame.omitted);
  }

  tree.replaceChildren(...items(frame.roots, 1));
  const all = treeItems(tree);
  const target = (focusKey && all.find((el) => el.dataset.key === focusKey)) || all[0];
  // One tab stop in the tree (roving tabindex): the focused item, else the first.
  if (target) {
    target.tabIndex = 0;
    if (focusKey) target.focus({ preventScroll: true });
  }
  window.dispatchEvent(
    new CustomEvent("kubelab:cluster-frame", { detail: { builtAt: frame.at, drawnAt: Date.now() } }),
  );
}

function items(nodes: ViewNode[], level: number): HTMLLIElement[] {
  return nodes.map((node, i) => {
    const children = [
      ...items(node.children, level + 1),
      ...(node.events ?? []).map((e, j, all) => eventItem(node, e, level + 1, node.children.length + j, all.length)),
    ];
    const li = item(node.key, level, i, nodes.length);
    li.dataset.kind = node.kind;
    li.dataset.tone = node.tone;
    li.dataset.name = node.name;
    const kind = node.kind === "Container" && node.role ? t(`view.role.${node.role}`) : node.kind;
    li.append(
      line(
        children.length > 0 ? (collapsed.has(node.key) ? "▸" : "▾") : "",
        MARK[node.tone],
        kind,
        node.name,
        node.state,
        node.detail,
      ),
    );
    if (children.length) {
      // Each item's size counts the events listed with it.
      for (const child of children) child.setAttribute("aria-setsize", String(children.length));
      const group = document.createElement("ul");
      group.setAttribute("role", "group");
      group.append(...children);
      li.append(group);
      const open = !collapsed.has(node.key);
      li.setAttribute("aria-expanded", String(open));
      group.hidden = !open;
    }
    return li;
  });
}

function eventItem(owner: ViewNode, e: ViewEvent, level: number, index: number, size: number): HTMLLIElement {
  const li = item(`${owner.key}/event/${index}`, level, index, size);
  li.dataset.kind = "Event";
  if (e.type === "Warning") li.classList.add("kl-event-warning");
  const count = e.count > 1 ? ` (×${e.count})` : "";
  li.append(
    line("", e.type === "Warning" ? "!" : "·", t("view.event", { type: e.type }), e.reason, `${e.message}${count}`),
  );
  return li;
}

function item(key: string, level: number, index: number, size: number): HTMLLIElement {
  const li = document.createElement("li");
  li.setAttribute("role", "treeitem");
  li.setAttribute("aria-level", String(level));
  li.setAttribute("aria-posinset", String(index + 1));
  li.setAttribute("aria-setsize", String(size));
  li.tabIndex = -1;
  li.dataset.key = key;
  return li;
}

/** An item's line: what a screen reader reads is its text, "Pod web-1: Running, …". */
function line(
  twisty: string,
  mark: string,
  kind: string,
  name: string,
  state: string,
  detail?: string,
): HTMLSpanElement {
  const span = (cls: string, text: string, hidden = false) => {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    if (hidden) s.setAttribute("aria-hidden", "true");
    return s;
  };
  const row = document.createElement("span");
  row.className = "kl-node";
  row.append(
    span("kl-twisty", twisty, true),
    span("kl-mark", mark, true),
    span("kl-kind", kind),
    span("kl-name", `${name}:`),
    span("kl-state", state),
  );
  if (detail) row.append(span("kl-detail", `(${detail})`));
  return row;
}

/** The tree's items a keyboard can reach (none inside a collapsed group). */
function treeItems(tree: HTMLElement): HTMLElement[] {
  return [...tree.querySelectorAll<HTMLElement>("[role=treeitem]")].filter((el) => !el.closest("[hidden]"));
}

function setExpanded(li: HTMLElement, open: boolean): void {
  if (!li.hasAttribute("aria-expanded")) return;
  const key = li.dataset.key!;
  if (open) collapsed.delete(key);
  else collapsed.add(key);
  li.setAttribute("aria-expanded", String(open));
  const group = li.querySelector<HTMLElement>(":scope > [role=group]");
  if (group) group.hidden = !open;
  const twisty = li.querySelector(":scope > .kl-node > .kl-twisty");
  if (twisty) twisty.textContent = open ? "▾" : "▸";
}

function focusItem(tree: HTMLElement, next: HTMLElement | undefined | null): void {
  if (!next) return;
  for (const el of tree.querySelectorAll<HTMLElement>("[role=treeitem][tabindex='0']")) el.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
}

function onClick(event: MouseEvent): void {
  const li = (event.target as HTMLElement).closest<HTMLElement>("[role=treeitem]");
  const tree = event.currentTarget as HTMLElement;
  if (!li) return;
  if (li.hasAttribute("aria-expanded")) setExpanded(li, li.getAttribute("aria-expanded") !== "true");
  focusItem(tree, li);
}

function onKey(event: KeyboardEvent): void {
  const tree = event.currentTarget as HTMLElement;
  const li = (event.target as HTMLElement).closest<HTMLElement>("[role=treeitem]");
  if (!li) return;
  const all = treeItems(tree);
  const here = all.indexOf(li);
  const expanded = li.getAttribute("aria-expanded");
  const parent = li.parentElement?.closest<HTMLElement>("[role=treeitem]");
  switch (event.key) {
    case "ArrowDown":
      focusItem(tree, all[here + 1]);
      break;
    case "ArrowUp":
      focusItem(tree, all[here - 1]);
      break;
    case "Home":
      focusItem(tree, all[0]);
      break;
    case "End":
      focusItem(tree, all.at(-1));
      break;
    case "ArrowRight":
      if (expanded === "false") setExpanded(li, true);
      else if (expanded === "true") focusItem(tree, all[here + 1]);
      break;
    case "ArrowLeft":
      if (expanded === "true") setExpanded(li, false);
      else focusItem(tree, parent);
      break;
    case "Enter":
    case " ":
      if (expanded) setExpanded(li, expanded !== "true");
      break;
    default:
      return;
  }
  event.preventDefault();
}

/** Looks up and fills grader messages for a locale. */
import type { Params } from "../framework.ts";
import type { Locale } from "../types.ts";
import * as en from "./en.ts";
import type { MessageId, MessageText, TitleId } from "./en.ts";
import * as zhCN from "./zh-CN.ts";

export type { MessageId, MessageText, TitleId };

const catalogs: Record<Locale, { messages: Record<MessageId, MessageText>; titles: Record<TitleId, string> }> = {
  en: { messages: en.messages, titles: en.titles },
  "zh-CN": { messages: zhCN.messages, titles: zhCN.titles },
};

export { LOCALES } from "../../shared/contract.ts";

/** Replaces `{key}` with params[key]; unknown keys stay visible so a missing param is noticed. */
export function fill(template: string, params: Params = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

export function translateMessage(id: MessageId, params: Params | undefined, locale: Locale): MessageText {
  const m = catalogs[locale].messages[id] ?? catalogs.en.messages[id];
  if (!m)
    throw new Error(`unknown grader message id "${id}" (hint: add it to src/graders/messages/en.ts and zh-CN.ts)`);
  return { text: fill(m.text, params), hint: fill(m.hint, params) };
}

export function translateTitle(id: TitleId, params: Params | undefined, locale: Locale): string {
  const t = catalogs[locale].titles[id] ?? catalogs.en.titles[id];
  if (t === undefined)
    throw new Error(`unknown grader title id "${id}" (hint: add it to src/graders/messages/en.ts and zh-CN.ts)`);
  return fill(t, params);
}

/** Raw catalogs, for tests and tooling. */
export function catalog(locale: Locale) {
  return catalogs[locale];
}

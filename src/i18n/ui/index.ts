/**
 * UI message catalogues. English is the reference: every other locale must
 * provide the same keys (checked by the `satisfies` in each file).
 */
import type { Locale } from "../../shared/contract.ts";
import en, { type UiKey, type UiStrings } from "./en.ts";
import zhCN from "./zh-CN.ts";

/** The page's languages are the contract's locales (the graders answer in the same ones). */
export type UiLocale = Locale;
export type { UiKey, UiStrings };

const catalogues: Record<UiLocale, UiStrings> = { en, "zh-CN": zhCN };

/** Map any BCP 47 tag (`zh`, `zh-Hans-CN`, `en-GB`) onto a supported locale. */
export function toUiLocale(tag: string | null | undefined): UiLocale {
  return tag?.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

/** A translator for one locale; `{name}` placeholders are filled from `vars`. */
export function useUi(locale: UiLocale) {
  const strings = catalogues[locale];
  return (key: UiKey, vars: Record<string, string | number> = {}): string =>
    strings[key].replace(/\{(\w+)\}/g, (whole, name: string) => String(vars[name] ?? whole));
}

import type { BrowserContext, ConsoleMessage } from "@playwright/test";

/*
 * Content-Security-Policy violations Chromium reports in the console ("Refused to … because it
 * violates the following Content Security Policy directive"). Every journey fails on any: the
 * policy must not break a page (scripts, styles, the optimiser's websocket, previews).
 */
const violations: string[] = [];
const watched = new WeakSet<BrowserContext>();

export function watchCsp(context: BrowserContext): void {
  if (watched.has(context)) return;
  watched.add(context);
  const check = (message: ConsoleMessage) => {
    if (/Content Security Policy/i.test(message.text()))
      violations.push(`${message.page()?.url() ?? "?"}: ${message.text()}`);
  };
  context.on("console", check);
}

/** The violations seen since the last call (and forgets them). */
export function takeCspViolations(): string[] {
  return violations.splice(0, violations.length);
}

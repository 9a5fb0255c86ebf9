/*
 * Where to send the browser after sign-in/sign-up. A return path comes from the query string
 * (`callbackUrl`), so it is attacker-controlled: only a path on this site is accepted.
 * Browsers strip tabs and newlines from URLs and read `\` as `/`, so `/\t/evil.example`
 * becomes `//evil.example`; resolving it with the WHATWG URL parser (what the browser does)
 * and comparing the origin catches every such form. Control characters are refused outright
 * (a `\n` would also break the Location header).
 */

/** Any origin works as the base: only whether the value stays on it matters. */
const BASE_ORIGIN = "http://atelier.invalid";
const MAX_LENGTH = 2048;
// C0 controls, DEL and C1 controls
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function decodedAlso(value: string): string[] {
  try {
    return [value, decodeURIComponent(value)];
  } catch {
    return [value];
  }
}

/**
 * The normalised same-origin path (`/a/b?c#d`) `value` leads to from `origin`, or null when it
 * leaves the origin, is not a rooted path, or holds control characters (raw or %-encoded).
 */
function sameOriginPath(value: unknown, origin: string = BASE_ORIGIN): string | null {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_LENGTH) return null;
  if (!value.startsWith("/")) return null;
  if (decodedAlso(value).some((v) => CONTROL.test(v))) return null;
  let base: URL;
  let url: URL;
  try {
    base = new URL(origin);
    url = new URL(value, base);
  } catch {
    return null;
  }
  if (url.origin !== base.origin) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

export function isSameOriginPath(value: unknown, origin: string = BASE_ORIGIN): boolean {
  return sameOriginPath(value, origin) !== null;
}

/** A same-site path to return to after sign-in; anything else falls back. Never next-auth's own routes. */
export function safeReturnPath(value: unknown, fallback = "/dashboard"): string {
  const path = sameOriginPath(value);
  if (path === null || path === "/api/auth" || path.startsWith("/api/auth/")) return fallback;
  return path;
}

/**
 * next-auth's redirect callback: `url` may be absolute (same origin as `baseUrl`) or a path.
 * Anything else goes to the dashboard.
 */
export function safeAuthRedirect(url: string, baseUrl: string): string {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    return "/dashboard";
  }
  let candidate = url;
  if (!url.startsWith("/")) {
    try {
      const absolute = new URL(url);
      if (absolute.origin !== base.origin) return `${base.origin}/dashboard`;
      candidate = `${absolute.pathname}${absolute.search}${absolute.hash}`;
    } catch {
      return `${base.origin}/dashboard`;
    }
  }
  // sign-out and the auth pages' own redirects may go to "/": keep them, but never off-site
  const path = sameOriginPath(candidate, base.origin);
  return `${base.origin}${path ?? "/dashboard"}`;
}

/*
 * The security headers of every response (pure: settings in, headers out; src/proxy.ts applies
 * them). The Content-Security-Policy is honest about what Next.js needs: its pages carry inline
 * bootstrap scripts (RSC payload) and React sets inline styles, so script-src and style-src
 * allow 'unsafe-inline' (nonces would make every page dynamic). What the policy does enforce:
 * scripts, styles, fonts, workers only from this origin; network connections only to this
 * origin and the optimisation service (http + ws); no plugins; no <base> rewriting; forms post
 * here only; and no framing at all (frame-ancestors 'none', plus X-Frame-Options for old browsers).
 */

export interface SecurityHeaderSettings {
  /** the optimisation service's URL as the browser reaches it (Socket.IO: http polling + websocket) */
  optimizerUrl: string;
  oauth: { github: boolean; google: boolean };
  /** `next dev`: React's dev build needs eval, and the dev server's HMR websocket */
  development: boolean;
  /** the request reached us over HTTPS (directly or through the proxy in front) */
  https: boolean;
}

/** The optimiser's origins for connect-src: its http(s) origin and the matching ws(s) one. */
export function optimizerOrigins(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return [];
  const ws = `${parsed.protocol === "https:" ? "wss:" : "ws:"}//${parsed.host}`;
  return [parsed.origin, ws];
}

export function contentSecurityPolicy(s: SecurityHeaderSettings): string {
  const oauthHosts = [
    ...(s.oauth.github ? ["https://github.com"] : []),
    ...(s.oauth.google ? ["https://accounts.google.com"] : []),
  ];
  const directives: Array<[string, ...string[]]> = [
    ["default-src", "'self'"],
    ["script-src", "'self'", "'unsafe-inline'", ...(s.development ? ["'unsafe-eval'"] : [])],
    ["style-src", "'self'", "'unsafe-inline'"],
    // previews are blob: URLs; OAuth avatars come from the provider's image hosts
    ["img-src", "'self'", "data:", "blob:", ...(oauthHosts.length ? ["https:"] : [])],
    ["font-src", "'self'", "data:"],
    ["connect-src", "'self'", ...optimizerOrigins(s.optimizerUrl), ...(s.development ? ["ws:"] : [])],
    ["worker-src", "'self'", "blob:"],
    ["media-src", "'self'", "blob:"],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'", ...oauthHosts],
    ["frame-ancestors", "'none'"],
    ["frame-src", "'none'"],
    ...(s.https ? ([["upgrade-insecure-requests"]] as Array<[string]>) : []),
  ];
  return directives.map((d) => d.join(" ")).join("; ");
}

export function securityHeaders(s: SecurityHeaderSettings): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(s),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    // invite links carry their token in the path: never send paths to other sites
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    ...(s.https ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/** Whether the request came over HTTPS: its own URL, or the protocol the proxy in front reports. */
export function servedOverHttps(url: string, forwardedProto: string | null): boolean {
  if (url.startsWith("https:")) return true;
  return forwardedProto?.split(",")[0]?.trim().toLowerCase() === "https";
}

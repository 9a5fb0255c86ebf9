/*
 * Cross-site request refusal, in depth behind SameSite=Lax cookies (pure). A browser marks
 * every request with Sec-Fetch-Site and, for state-changing ones, Origin: a state-changing API
 * request from another site is refused before any handler runs. Requests without either header
 * (curl, server-to-server) carry no ambient browser cookies and pass.
 */

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface CrossSiteCheck {
  method: string;
  pathname: string;
  origin: string | null;
  secFetchSite: string | null;
  /** this site's origins (the configured public one and the one the request was made to) */
  allowedOrigins: string[];
}

/** Why the request is refused, or null when it may go on. */
export function crossSiteRefusal(c: CrossSiteCheck): string | null {
  if (SAFE_METHODS.has(c.method.toUpperCase())) return null;
  if (!c.pathname.startsWith("/api/")) return null;
  const site = c.secFetchSite?.trim().toLowerCase();
  if (site && site !== "same-origin" && site !== "none")
    return `cross-site ${c.method} refused (Sec-Fetch-Site: ${site})`;
  if (c.origin !== null && c.origin !== "" && !c.allowedOrigins.includes(c.origin))
    return `cross-origin ${c.method} refused (Origin: ${c.origin.slice(0, 100)})`;
  return null;
}

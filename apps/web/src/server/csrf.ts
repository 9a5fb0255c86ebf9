import { originAllowed, type OriginRule } from "@atelier/protocol";

/*
 * Cross-site request refusal, in depth behind SameSite=Lax cookies (pure). A browser marks
 * every request with Sec-Fetch-Site and, for state-changing ones, Origin: a state-changing API
 * request from another site is refused before any handler runs. Requests without either header
 * (curl, server-to-server) carry no ambient browser cookies and pass. Which origins are this
 * site is @atelier/protocol's origin rule, the one the optimiser's socket check uses too.
 */

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface CrossSiteCheck {
  method: string;
  pathname: string;
  origin: string | null;
  secFetchSite: string | null;
  /** the request's Host header (never X-Forwarded-Host) */
  host: string | null;
  /** this site's configured origins and allowed hosts */
  rule: OriginRule;
}

/** Why the request is refused, or null when it may go on. */
export function crossSiteRefusal(c: CrossSiteCheck): string | null {
  if (SAFE_METHODS.has(c.method.toUpperCase())) return null;
  if (!c.pathname.startsWith("/api/")) return null;
  const site = c.secFetchSite?.trim().toLowerCase();
  if (site && site !== "same-origin" && site !== "none")
    return `cross-site ${c.method} refused (Sec-Fetch-Site: ${site})`;
  if (c.origin !== null && c.origin !== "" && !originAllowed(c.origin, c.host, c.rule))
    return `cross-origin ${c.method} refused (Origin: ${c.origin.slice(0, 100)})`;
  return null;
}

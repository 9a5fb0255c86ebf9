import { parseTrustedProxies, type TrustedProxies } from "./client-address";
import type { SecurityHeaderSettings } from "./security-headers";

/*
 * The settings the request proxy (src/proxy.ts) needs as well as the pages: read at request
 * time, and without the database or file-system imports of config.ts (which re-exports these).
 */

/** The optimisation service's URL as the browser reaches it. */
export function optimizerPublicUrl(): string {
  return (process.env.ATELIER_OPTIMIZER_URL?.trim() || "http://localhost:4001").replace(/\/+$/, "");
}

/** The optimisation service's URL as this server reaches it (ATELIER_OPTIMIZER_INTERNAL_URL, else the public one). */
export function optimizerInternalUrl(): string {
  return (process.env.ATELIER_OPTIMIZER_INTERNAL_URL?.trim() || optimizerPublicUrl()).replace(/\/+$/, "");
}

/** Which OAuth providers are configured (their client id and secret are both set). */
export function oauthProvidersConfigured(): { github: boolean; google: boolean } {
  const set = (name: string) => Boolean(process.env[name]?.trim());
  return {
    github: set("AUTH_GITHUB_ID") && set("AUTH_GITHUB_SECRET"),
    google: set("AUTH_GOOGLE_ID") && set("AUTH_GOOGLE_SECRET"),
  };
}

/**
 * The proxies in front of the web app whose X-Forwarded-For entries are believed
 * (ATELIER_TRUSTED_PROXIES: a hop count such as `1`, or proxy addresses `10.0.0.2,10.0.0.3`).
 * Unset: none, the TCP peer is the client.
 */
export function trustedProxies(): TrustedProxies {
  return parseTrustedProxies(process.env.ATELIER_TRUSTED_PROXIES);
}

/** What the security headers depend on: the optimiser's origin (connect-src), OAuth hosts, dev mode. */
export function securityHeaderSettings(): Omit<SecurityHeaderSettings, "https"> {
  return {
    optimizerUrl: optimizerPublicUrl(),
    oauth: oauthProvidersConfigured(),
    development: process.env.NODE_ENV === "development",
  };
}

/**
 * The site's public origin, for links it hands out (invite URLs): ATELIER_PUBLIC_URL, else
 * AUTH_URL, else the origin the request itself was made to (never X-Forwarded-Host).
 */
export function publicOrigin(requestUrl: string): string {
  for (const raw of [process.env.ATELIER_PUBLIC_URL, process.env.AUTH_URL]) {
    const value = raw?.trim();
    if (!value) continue;
    try {
      return new URL(value).origin;
    } catch {
      // not a URL: try the next
    }
  }
  return new URL(requestUrl).origin;
}

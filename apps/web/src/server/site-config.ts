import { hostAllowed, hostNameOf, parseAllowedHosts, serviceUrlFor, type OriginRule } from "@atelier/protocol";
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

/**
 * The same-origin rule's settings (@atelier/protocol origin.ts): the configured public origin
 * (ATELIER_PUBLIC_URL, else AUTH_URL) and the origin Next itself was started on, plus the
 * hosts a page may be opened on besides localhost and IP literals (ATELIER_ALLOWED_HOSTS).
 */
export function originRule(requestUrl: string): OriginRule {
  const configured = configuredPublicOrigin();
  return {
    publicOrigins: configured ? [configured, new URL(requestUrl).origin] : [new URL(requestUrl).origin],
    allowedHosts: parseAllowedHosts(process.env.ATELIER_ALLOWED_HOSTS),
  };
}

/** The request as the settings below read it: its URL and its own Host header (X-Forwarded-Host is never read). */
export interface ArrivedRequest {
  url: string;
  headers: Headers;
}

/** The optimiser's URL for a page requested this way (a loopback URL follows the page's host: serviceUrlFor). */
export function optimizerUrlFor(request: ArrivedRequest): string {
  return serviceUrlFor(optimizerPublicUrl(), request.headers.get("host"), originRule(request.url));
}

/** What the security headers depend on: the optimiser's origin (connect-src), OAuth hosts, dev mode. */
export function securityHeaderSettings(request: ArrivedRequest): Omit<SecurityHeaderSettings, "https"> {
  return {
    optimizerUrl: optimizerUrlFor(request),
    oauth: oauthProvidersConfigured(),
    development: process.env.NODE_ENV === "development",
  };
}

function configuredPublicOrigin(): string | null {
  for (const raw of [process.env.ATELIER_PUBLIC_URL, process.env.AUTH_URL]) {
    const value = raw?.trim();
    if (!value) continue;
    try {
      return new URL(value).origin;
    } catch {
      // not a URL: try the next
    }
  }
  return null;
}

/**
 * The site's public origin, for links it hands out (invite URLs): ATELIER_PUBLIC_URL, else
 * AUTH_URL, else the host the request arrived on when the origin rule allows it (a site opened
 * as http://127.0.0.1:3000 hands out 127.0.0.1 links), else Next's own origin. Never
 * X-Forwarded-Host.
 */
export function publicOrigin(request: ArrivedRequest): string {
  const configured = configuredPublicOrigin();
  if (configured) return configured;
  const own = new URL(request.url);
  const host = request.headers.get("host");
  const hostname = hostNameOf(host);
  if (host && hostname && hostAllowed(hostname, parseAllowedHosts(process.env.ATELIER_ALLOWED_HOSTS)))
    return `${own.protocol}//${host.trim().toLowerCase()}`;
  return own.origin;
}

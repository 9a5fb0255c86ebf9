/*
 * The one same-origin rule of the web app (its CSRF check on state-changing requests) and the
 * optimisation service (its Socket.IO origin check), pure so both use the very same decision.
 *
 * A browser's `Origin` is accepted when it is
 *   1. one of the configured public origins (the web app's ATELIER_PUBLIC_URL / AUTH_URL, the
 *      optimiser's WEB_ORIGIN), or
 *   2. on the host the request arrived on (its `Host` header), when that host is allowed:
 *      `localhost`, an IP literal, or a name in ATELIER_ALLOWED_HOSTS.
 *
 * Why (2) needs an allow-list: a DNS name can be rebound to our address by whoever owns it, and
 * then their page's Origin and the Host it sends us agree. An IP literal or `localhost` cannot
 * be rebound: a page whose origin is http://192.168.1.5:3000 was served from that address.
 * Ports are not compared in (2): the web app and its realtime service share a host, not a
 * port, and two ports of one host are one site for cookies anyway (`Sec-Fetch-Site: same-site`
 * is still refused by the web app's check).
 * `X-Forwarded-Host` is never read: anyone can send it. Behind a proxy, configure the public
 * origin, or have the proxy pass the browser's Host through and list that name.
 */

export interface OriginRule {
  /** configured public origins, exact (`https://atelier.example`) */
  publicOrigins: readonly string[];
  /** ATELIER_ALLOWED_HOSTS: host names, `*.suffix` wildcards, or `*` (any host: trusted networks only) */
  allowedHosts: readonly string[];
}

/** `scheme://host[:port]` of an http(s) URL, or null (anything else, including `null`). */
export function httpOrigin(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

/** The host name of a `Host` header value (`127.0.0.1:3000` → `127.0.0.1`, `[::1]:3000` → `[::1]`), lower-cased. */
export function hostNameOf(host: string | null | undefined): string | null {
  if (!host) return null;
  try {
    const url = new URL(`http://${host.trim()}`);
    // a Host header is host[:port] only: anything that parses into more is not one
    if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) return null;
    return url.hostname;
  } catch {
    return null;
  }
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IP literal (the URL parser's host form: IPv6 in brackets) or `localhost`: names nobody can rebind. */
function unrebindable(hostname: string): boolean {
  return hostname === "localhost" || IPV4.test(hostname) || /^\[[0-9a-f:.]+\]$/.test(hostname);
}

/** Loopback names: a service configured there can only mean "the machine the web app runs on". */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\./.test(hostname);
}

/** ATELIER_ALLOWED_HOSTS → lower-cased entries; what is not a host name, `*.suffix` or `*` is an error. */
export function parseAllowedHosts(raw: string | undefined): string[] {
  const entries = (raw ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const entry of entries)
    if (entry !== "*" && !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry))
      throw new Error(`ATELIER_ALLOWED_HOSTS: "${entry}" is not a host name, *.suffix or *`);
  return entries;
}

/** Whether requests that arrive on this host name may come from pages on it. */
export function hostAllowed(hostname: string, allowedHosts: readonly string[]): boolean {
  if (unrebindable(hostname)) return true;
  return allowedHosts.some(
    (entry) => entry === "*" || entry === hostname || (entry.startsWith("*.") && hostname.endsWith(entry.slice(1))),
  );
}

/** Whether a browser's Origin header names this site (see the rule above). */
export function originAllowed(origin: string, requestHost: string | null | undefined, rule: OriginRule): boolean {
  const normalised = httpOrigin(origin);
  if (!normalised) return false;
  if (rule.publicOrigins.some((o) => httpOrigin(o) === normalised)) return true;
  const arrived = hostNameOf(requestHost);
  return arrived !== null && new URL(normalised).hostname === arrived && hostAllowed(arrived, rule.allowedHosts);
}

/**
 * The realtime service's URL for a page opened on `requestHost`: a loopback URL (the default,
 * `http://localhost:4001`) is moved to the page's own host when that host is allowed, so a site
 * opened as http://127.0.0.1:3000 or from another machine on the LAN reaches the service on the
 * same machine (a browser elsewhere cannot reach "localhost"). Any other URL is kept.
 */
export function serviceUrlFor(configured: string, requestHost: string | null | undefined, rule: OriginRule): string {
  const arrived = hostNameOf(requestHost);
  let url: URL;
  try {
    url = new URL(configured);
  } catch {
    return configured;
  }
  if (!arrived || !isLoopbackHost(url.hostname) || arrived === url.hostname) return configured;
  if (!hostAllowed(arrived, rule.allowedHosts)) return configured;
  url.hostname = arrived;
  return url.toString().replace(/\/+$/, "");
}

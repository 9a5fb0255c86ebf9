/*
 * Who is asking, for per-address rate limits. `X-Forwarded-For` is only as good as the hop that
 * wrote it: a client can send any value, so forwarded entries are believed only for hops we
 * trust (configured proxies); otherwise the answer is the TCP peer's address.
 *
 * `next start` does not give route handlers the socket: instrumentation.ts copies the peer
 * address into PEER_HEADER on every incoming request (overwriting whatever the client sent).
 */

/** Set on every request by installPeerAddressHeader(); a client-sent value is overwritten. */
export const PEER_HEADER = "x-atelier-peer";

/** `count`: that many proxies in front of us, each appending to X-Forwarded-For; `addresses`: those peers are proxies. */
export type TrustedProxies = { kind: "count"; count: number } | { kind: "addresses"; addresses: string[] };

export const NO_TRUSTED_PROXIES: TrustedProxies = { kind: "count", count: 0 };

/** Parses ATELIER_TRUSTED_PROXIES: empty → none, `2` → two hops, `10.0.0.1, ::1` → those addresses. */
export function parseTrustedProxies(raw: string | undefined): TrustedProxies {
  const value = raw?.trim() ?? "";
  if (!value) return NO_TRUSTED_PROXIES;
  if (/^\d+$/.test(value)) return { kind: "count", count: Math.min(Number(value), 32) };
  const addresses = value
    .split(",")
    .map(normaliseAddress)
    .filter((a): a is string => a !== null);
  return { kind: "addresses", addresses };
}

/** An address as a stable key: trimmed, lower-case, IPv4-mapped IPv6 unwrapped; null if empty or odd. */
export function normaliseAddress(value: string | null | undefined): string | null {
  let a = value?.trim().toLowerCase() ?? "";
  if (a.startsWith("[") && a.includes("]")) a = a.slice(1, a.indexOf("]")); // [v6]:port
  if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(":")); // v4:port
  if (a.startsWith("::ffff:") && a.includes(".")) a = a.slice("::ffff:".length);
  if (!a || a.length > 64 || !/^[0-9a-f.:%a-z]+$/.test(a)) return null;
  return a;
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy, in which case the
 * X-Forwarded-For entry it appended, and so on leftwards while the hops are trusted.
 */
export function clientAddress(
  forwardedFor: string | null | undefined,
  peerAddress: string | null | undefined,
  trusted: TrustedProxies,
): string {
  const peer = normaliseAddress(peerAddress) ?? "unknown";
  const forwarded = forwardedFor?.trim()
    ? forwardedFor
        .split(",")
        .slice(-64)
        .map((entry) => normaliseAddress(entry) ?? "unknown")
    : [];
  const chain = [...forwarded, peer];
  if (trusted.kind === "count") {
    return chain[Math.max(0, chain.length - 1 - trusted.count)]!;
  }
  const proxies = new Set(trusted.addresses);
  let i = chain.length - 1;
  while (i > 0 && proxies.has(chain[i]!)) i--;
  return chain[i]!;
}

/**
 * The Socket.IO server's origin check, by the one same-origin rule of @atelier/protocol (shared
 * with the web app's CSRF check): the configured web origin(s), or a page on the host the
 * handshake arrived on when that host is allowed (localhost, IP literals, ATELIER_ALLOWED_HOSTS).
 * Browsers do not apply CORS to WebSockets, so the handshake itself is refused too
 * (allowRequest), not only the polling responses' CORS headers. A handshake without an Origin
 * is not a browser page (tests, tools) and carries no ambient credentials: the token decides.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { ServerOptions } from "socket.io";
import { originAllowed, type OriginRule } from "@atelier/protocol";

export function socketOriginOptions(rule: OriginRule): Pick<ServerOptions, "cors" | "allowRequest"> {
  const allowed = (req: { headers: IncomingHttpHeaders }): boolean => {
    const origin = req.headers.origin;
    return origin === undefined || originAllowed(origin, req.headers.host, rule);
  };
  return {
    // the cors package's per-request form: (req, callback) → options
    cors: (
      req: { headers: IncomingHttpHeaders },
      callback: (err: Error | null, options: { origin: boolean; credentials: boolean }) => void,
    ) => callback(null, { origin: req.headers.origin !== undefined && allowed(req), credentials: true }),
    allowRequest: (req, callback) => {
      if (allowed(req)) callback(null, true);
      else callback(`origin not allowed: ${String(req.headers.origin).slice(0, 100)}`, false);
    },
  };
}

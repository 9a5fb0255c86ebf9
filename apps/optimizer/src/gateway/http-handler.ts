/**
 * The service's HTTP side: `GET /health` (for probes and load balancers), `GET /metrics`
 * (Prometheus, with the metrics token: common/metrics.ts) and
 * `POST /internal/membership` (the web app, signed with the realtime secret, says a member's
 * role changed or they were removed).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { verifyMembershipChange } from "@atelier/protocol/token";
import type { GatewayContext } from "./context.ts";
import { metricsAllowed, metricsText } from "../common/metrics.ts";

export interface HttpDeps {
  /** the body of /health beyond `ok` (queue, workers, rooms, ...) */
  health(): Record<string, unknown>;
  /** applies a membership change; resolves how many sockets followed */
  membershipChanged(roomId: string, userId: string): Promise<number>;
  /** the bearer token GET /metrics wants; null: no /metrics */
  metricsToken: string | null;
}

export function createHttpHandler(
  ctx: Pick<GatewayContext, "log" | "secret" | "isClosing">,
  deps: HttpDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { log } = ctx;
  const reply = (res: ServerResponse, status: number, body: object) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/health") {
      const closing = ctx.isClosing();
      return reply(res, closing ? 503 : 200, { ok: !closing, ...deps.health() });
    }
    if (req.method === "GET" && url.pathname === "/metrics" && deps.metricsToken) {
      if (!metricsAllowed(req.headers.authorization, deps.metricsToken))
        return reply(res, 401, { ok: false, error: "the metrics need their bearer token" });
      void metricsText().then(
        ({ contentType, body }) => {
          res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
          res.end(body);
        },
        (error: unknown) => {
          log.error("metrics.failed", { error });
          reply(res, 500, { ok: false, error: "internal error" });
        },
      );
      return;
    }
    if (req.method === "POST" && url.pathname === "/internal/membership") {
      const token = req.headers.authorization?.replace(/^Bearer\s+/i, "");
      const verified = verifyMembershipChange(token, ctx.secret);
      if (!verified.ok) {
        log.info("membership.refused", { reason: verified.error, address: req.socket.remoteAddress });
        return reply(res, 401, { ok: false, error: verified.error });
      }
      void deps.membershipChanged(verified.change.roomId, verified.change.userId).then(
        (sockets) => reply(res, 200, { ok: true, sockets }),
        (error: unknown) => {
          log.error("membership.failed", { error });
          reply(res, 500, { ok: false, error: "internal error" });
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: false, error: "not found" }));
  };
}

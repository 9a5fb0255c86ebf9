import { timingSafeEqual } from "node:crypto";
import { errorResponse } from "@/server/http";
import { metricsToken } from "@/server/config";
import { webMetrics } from "@/server/metrics";

/*
 * GET /metrics: Prometheus text, for a request bearing `Authorization: Bearer
 * <ATELIER_METRICS_TOKEN>`; without that variable set, there is no such page (404).
 */
export async function GET(req: Request): Promise<Response> {
  const token = metricsToken();
  if (!token) return errorResponse(404, "not found");
  const given = Buffer.from(req.headers.get("authorization")?.replace(/^Bearer\s+/i, "") ?? "");
  const wanted = Buffer.from(token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
    return errorResponse(401, "the metrics need their bearer token");
  const { registry } = webMetrics();
  return new Response(await registry.metrics(), {
    status: 200,
    headers: { "Content-Type": registry.contentType, "Cache-Control": "no-store" },
  });
}

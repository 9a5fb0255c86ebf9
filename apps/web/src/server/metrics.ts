/**
 * The web app's Prometheus metrics (prom-client): Node's default process metrics and the image
 * responses by status, served by GET /metrics to a request bearing ATELIER_METRICS_TOKEN. One
 * registry per process, kept on globalThis: Next bundles each route apart, and a registry per
 * bundle would count each route's figures on its own.
 */
import client from "prom-client";

type WebMetrics = { registry: client.Registry; imageResponses: client.Counter<"status"> };

const slot = globalThis as typeof globalThis & { __atelierMetrics?: WebMetrics };

export function webMetrics(): WebMetrics {
  if (!slot.__atelierMetrics) {
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    const imageResponses = new client.Counter({
      name: "atelier_web_image_responses_total",
      help: "image responses of GET /api/images/:id, by HTTP status",
      labelNames: ["status"] as const,
      registers: [registry],
    });
    slot.__atelierMetrics = { registry, imageResponses };
  }
  return slot.__atelierMetrics;
}

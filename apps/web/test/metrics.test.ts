import { afterEach, describe, expect, it } from "vitest";

const TOKEN = "web-metrics-token-0123456789";

afterEach(() => {
  delete process.env.ATELIER_METRICS_TOKEN;
});

describe("GET /metrics", () => {
  it("does not exist without a token; with one, answers only its bearer, in Prometheus text", async () => {
    const { GET } = await import("@/app/metrics/route");
    const get = (authorization?: string) =>
      GET(new Request("http://localhost/metrics", { headers: authorization ? { authorization } : {} }));
    expect((await get(`Bearer ${TOKEN}`)).status).toBe(404);
    process.env.ATELIER_METRICS_TOKEN = TOKEN;
    expect((await get()).status).toBe(401);
    expect((await get("Bearer not-the-token-at-all-00")).status).toBe(401);
    const res = await get(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain("# TYPE atelier_web_image_responses_total counter");
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    process.env.ATELIER_METRICS_TOKEN = "short";
    await expect(get(`Bearer short`)).rejects.toThrow(/at least 16/);
  });
});

import { describe, expect, it } from "vitest";
import {
  hostAllowed,
  hostNameOf,
  httpOrigin,
  originAllowed,
  parseAllowedHosts,
  serviceUrlFor,
  type OriginRule,
} from "../src/origin.ts";

const rule = (publicOrigins: string[] = [], allowedHosts: string[] = []): OriginRule => ({
  publicOrigins,
  allowedHosts,
});

describe("the same-origin rule", () => {
  it("accepts the configured public origin whatever host the request arrived on", () => {
    const r = rule(["https://atelier.example/"]);
    expect(originAllowed("https://atelier.example", "10.0.0.7:3000", r)).toBe(true);
    expect(originAllowed("https://atelier.example:443", null, r)).toBe(true);
    expect(originAllowed("http://atelier.example", "10.0.0.7:3000", r)).toBe(false);
    expect(originAllowed("https://evil.example", "10.0.0.7:3000", r)).toBe(false);
  });

  it("127.0.0.1, localhost, [::1] and LAN addresses: the host the request arrived on, no configuration", () => {
    const r = rule(["http://localhost:3000"]);
    expect(originAllowed("http://127.0.0.1:3000", "127.0.0.1:3000", r)).toBe(true);
    expect(originAllowed("http://192.168.1.23:3000", "192.168.1.23:3000", r)).toBe(true);
    expect(originAllowed("http://[::1]:3000", "[::1]:3000", r)).toBe(true);
    // the realtime service: same host, its own port
    expect(originAllowed("http://192.168.1.23:3000", "192.168.1.23:4001", r)).toBe(true);
    // another host than the one the request arrived on
    expect(originAllowed("http://192.168.1.99:3000", "192.168.1.23:3000", r)).toBe(false);
    expect(originAllowed("http://127.0.0.1:3000", null, r)).toBe(false);
  });

  it("a DNS name the request arrived on counts only when listed (DNS rebinding), wildcards included", () => {
    expect(originAllowed("http://rebound.evil.example:3000", "rebound.evil.example:3000", rule())).toBe(false);
    const r = rule([], parseAllowedHosts(" Atelier.LAN , *.studio.example"));
    expect(originAllowed("http://atelier.lan:3000", "atelier.lan:3000", r)).toBe(true);
    expect(originAllowed("https://a.studio.example", "a.studio.example", r)).toBe(true);
    expect(originAllowed("https://studio.example", "studio.example", r)).toBe(false);
    expect(originAllowed("https://evilstudio.example", "evilstudio.example", r)).toBe(false);
    expect(originAllowed("http://anything.example", "anything.example", rule([], ["*"]))).toBe(true);
  });

  it("a proxy: the browser's host reaches us as X-Forwarded-Host, which is never read", () => {
    // the proxy talks to the app as 127.0.0.1:3000; the browser was on https://atelier.example
    expect(originAllowed("https://atelier.example", "127.0.0.1:3000", rule())).toBe(false);
    // …so the public origin is configured (or the proxy passes Host through and the name is listed)
    expect(originAllowed("https://atelier.example", "127.0.0.1:3000", rule(["https://atelier.example"]))).toBe(true);
    expect(originAllowed("https://atelier.example", "atelier.example", rule([], ["atelier.example"]))).toBe(true);
  });

  it("refuses what is not an http(s) origin, and Host values that are more than host[:port]", () => {
    for (const bad of ["null", "", "file://", "javascript:alert(1)", "chrome-extension://abc"])
      expect(originAllowed(bad, "127.0.0.1:3000", rule(["http://127.0.0.1:3000"]))).toBe(false);
    expect(hostNameOf("127.0.0.1:3000")).toBe("127.0.0.1");
    expect(hostNameOf("[::1]:3000")).toBe("[::1]");
    expect(hostNameOf("Atelier.Example")).toBe("atelier.example");
    expect(hostNameOf("evil.example/x")).toBeNull();
    expect(hostNameOf("a@127.0.0.1")).toBeNull();
    expect(hostNameOf("")).toBeNull();
    expect(httpOrigin("https://a.example/path?q")).toBe("https://a.example");
    expect(hostAllowed("127.1.2.3", [])).toBe(true);
    expect(hostAllowed("printer.local", [])).toBe(false);
    expect(() => parseAllowedHosts("ok.example, http://bad/")).toThrow(/not a host name/);
  });

  it("serviceUrlFor moves a loopback service URL to the page's host, when that host is allowed", () => {
    expect(serviceUrlFor("http://localhost:4001", "127.0.0.1:3000", rule())).toBe("http://127.0.0.1:4001");
    expect(serviceUrlFor("http://localhost:4001", "192.168.1.23:3000", rule())).toBe("http://192.168.1.23:4001");
    expect(serviceUrlFor("http://localhost:4001", "localhost:3000", rule())).toBe("http://localhost:4001");
    expect(serviceUrlFor("http://localhost:4001", "rebound.evil.example", rule())).toBe("http://localhost:4001");
    expect(serviceUrlFor("https://rt.atelier.example", "127.0.0.1:3000", rule())).toBe("https://rt.atelier.example");
    expect(serviceUrlFor("http://localhost:4001", null, rule())).toBe("http://localhost:4001");
  });
});

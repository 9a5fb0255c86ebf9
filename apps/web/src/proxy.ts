import { NextResponse, type NextRequest } from "next/server";
import { crossSiteRefusal } from "./server/csrf";
import { securityHeaders, servedOverHttps } from "./server/security-headers";
import { originRule, securityHeaderSettings } from "./server/site-config";

/**
 * Every request: state-changing API calls from other sites are refused; every page and API
 * response gets the security headers (settings read per request: one build serves any deployment).
 */
export function proxy(request: NextRequest): NextResponse {
  const https = servedOverHttps(request.url, request.headers.get("x-forwarded-proto"));
  const headers = securityHeaders({ ...securityHeaderSettings(request), https });
  const refusal = crossSiteRefusal({
    method: request.method,
    pathname: request.nextUrl.pathname,
    origin: request.headers.get("origin"),
    secFetchSite: request.headers.get("sec-fetch-site"),
    // the Host header, not request.url: `next start` puts its own hostname into the latter
    host: request.headers.get("host"),
    rule: originRule(request.url),
  });
  const response = refusal
    ? NextResponse.json({ error: refusal }, { status: 403, headers: { "Cache-Control": "no-store" } })
    : NextResponse.next();
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  // not Next's hashed static assets (immutable files, no documents)
  matcher: ["/((?!_next/static|_next/image).*)"],
};

import { NextResponse, type NextRequest } from "next/server";
import { securityHeaders, servedOverHttps } from "./server/security-headers";
import { securityHeaderSettings } from "./server/site-config";

/** Every page and API response gets the security headers (settings read per request: one build serves any deployment). */
export function proxy(request: NextRequest): NextResponse {
  const response = NextResponse.next();
  const https = servedOverHttps(request.url, request.headers.get("x-forwarded-proto"));
  for (const [name, value] of Object.entries(securityHeaders({ ...securityHeaderSettings(), https })))
    response.headers.set(name, value);
  return response;
}

export const config = {
  // not Next's hashed static assets (immutable files, no documents)
  matcher: ["/((?!_next/static|_next/image).*)"],
};

import type { ReactNode } from "react";
import { requireUser } from "@/server/page-session";

/**
 * Signed out: a real redirect (307) to sign-in. Checked here, above the page's loading
 * boundary, so it happens before anything streams (in the page it would be a 200 and a
 * client-side redirect).
 */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  await requireUser("/dashboard");
  return children;
}

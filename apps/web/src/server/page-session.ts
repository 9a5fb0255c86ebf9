import { cache } from "react";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { authPagePath } from "@/lib/paths";
import { getSessionUser, type SessionUser } from "./session";

/** The signed-in user of the page being rendered (once per render). */
export const currentUser = cache(async (): Promise<SessionUser | null> => getSessionUser(await headers()));

/** The signed-in user, or a redirect to sign-in that comes back to `returnTo`. */
export async function requireUser(returnTo: string): Promise<SessionUser> {
  const user = await currentUser();
  if (!user) redirect(authPagePath("signin", returnTo));
  return user;
}

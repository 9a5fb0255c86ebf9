import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { AuthShell } from "@/components/auth-shell";
import { OAuthButtons, SignInForm } from "@/components/auth-forms";
import { oauthProvidersConfigured } from "@/server/config";
import { currentUser } from "@/server/page-session";
import { safeReturnPath } from "@/lib/safe-redirect";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const sp = await searchParams;
  const returnTo = safeReturnPath(sp.callbackUrl);
  if (await currentUser()) redirect(returnTo);
  const error = typeof sp.code === "string" ? sp.code : typeof sp.error === "string" ? sp.error : undefined;
  return (
    <AuthShell title="Welcome back" subtitle="Sign in to open your rooms and keep painting.">
      <OAuthButtons providers={oauthProvidersConfigured()} returnTo={returnTo} />
      <SignInForm returnTo={returnTo} initialError={error} />
    </AuthShell>
  );
}

import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { AuthShell } from "@/components/auth-shell";
import { OAuthButtons, SignUpForm } from "@/components/auth-forms";
import { oauthProvidersConfigured } from "@/server/config";
import { currentUser } from "@/server/page-session";
import { safeReturnPath } from "@/lib/safe-redirect";

export const metadata: Metadata = { title: "Create an account" };

export default async function SignUpPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const sp = await searchParams;
  const returnTo = safeReturnPath(sp.callbackUrl);
  if (await currentUser()) redirect(returnTo);
  return (
    <AuthShell
      title="Open your atelier"
      subtitle="An account lets you create rooms, keep a style library and publish to the gallery."
    >
      <OAuthButtons providers={oauthProvidersConfigured()} returnTo={returnTo} />
      <SignUpForm returnTo={returnTo} />
    </AuthShell>
  );
}

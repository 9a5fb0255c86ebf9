import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { getDb } from "@atelier/db";
import { requireUser } from "@/server/page-session";
import { acceptInvite } from "@/server/rooms";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Join a room", robots: { index: false } };

/**
 * Opening an invite link joins its room (signed out: sign in first, then come back here).
 * The join is idempotent, so a reload or a second visit changes nothing.
 */
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const user = await requireUser(`/invite/${encodeURIComponent(token)}`);
  const outcome = await acceptInvite(await getDb(), token, user.id);
  if (outcome.ok) redirect(`/rooms/${outcome.value.roomId}?joined=${outcome.value.role}`);
  return (
    <main className="mx-auto flex w-full max-w-lg flex-1 flex-col items-center justify-center px-5 py-20 text-center">
      <p className="eyebrow">Invite link</p>
      <h1 className="mt-2 text-3xl">This door is closed</h1>
      <p className="mt-3 text-muted" data-testid="invite-error">
        {outcome.error}
      </p>
      <Link href="/dashboard" className="btn btn-primary mt-8">
        Go to your studio
      </Link>
    </main>
  );
}

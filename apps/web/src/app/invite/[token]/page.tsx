import type { Metadata } from "next";
import { notFound, redirect } from "next/navigation";
import { getDb } from "@atelier/db";
import { InviteLanding } from "@/components/invite-landing";
import { currentUser } from "@/server/page-session";
import { summarizeInvite } from "@/server/invite-landing";
import { acceptInvite } from "@/server/rooms";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ token: string }> }): Promise<Metadata> {
  const { token } = await params;
  const invite = await summarizeInvite(await getDb(), token);
  return { title: invite ? `Join ${invite.roomName}` : "Invite link not valid", robots: { index: false } };
}

/**
 * Opening an invite link joins its room. Signed out, the page says which room, who invited and
 * with what role, and its sign-in / sign-up links come back here; the join is idempotent, so
 * a reload or a second visit changes nothing.
 */
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const returnTo = `/invite/${encodeURIComponent(token)}`;
  const user = await currentUser();
  const db = await getDb();
  if (!user) {
    const invite = await summarizeInvite(db, token);
    if (!invite) notFound();
    return <InviteLanding invite={invite} returnTo={returnTo} />;
  }
  const outcome = await acceptInvite(db, token, user.id);
  if (outcome.ok) redirect(`/rooms/${outcome.value.roomId}?joined=${outcome.value.role}`);
  // invalid, revoked, expired or used up: a real 404 (the page explains the possibilities)
  notFound();
}

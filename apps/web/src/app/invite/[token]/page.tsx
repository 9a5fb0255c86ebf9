import type { Metadata } from "next";
import { notFound, redirect } from "next/navigation";
import { getDb, roleOf } from "@atelier/db";
import { InviteLanding } from "@/components/invite-landing";
import { currentUser } from "@/server/page-session";
import { summarizeInvite } from "@/server/invite-landing";

export const dynamic = "force-dynamic";

export async function generateMetadata({ params }: { params: Promise<{ token: string }> }): Promise<Metadata> {
  const { token } = await params;
  const invite = await summarizeInvite(await getDb(), token);
  return { title: invite ? `Join ${invite.roomName}` : "Invite link not valid", robots: { index: false } };
}

/**
 * An invite link shows the room, who invited and with what role, and asks "Join": joining is a
 * POST the visitor makes (/api/invites/[token]), never a side effect of opening a link another
 * site may have sent them to. Signed out, the sign-in / sign-up links come back here. A member
 * of the room goes straight in (nothing changes). A dead link is a real 404.
 */
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const returnTo = `/invite/${encodeURIComponent(token)}`;
  const user = await currentUser();
  const db = await getDb();
  const invite = await summarizeInvite(db, token);
  if (!invite) notFound();
  if (user) {
    const member = await roleOf(db, invite.roomId, user.id);
    if (member) redirect(`/rooms/${invite.roomId}`);
  }
  return <InviteLanding invite={invite} returnTo={returnTo} token={token} signedIn={user !== null} />;
}

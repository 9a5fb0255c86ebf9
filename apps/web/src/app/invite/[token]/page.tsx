import type { Metadata } from "next";
import { notFound, redirect } from "next/navigation";
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
  // invalid, revoked, expired or used up: a real 404 (the page explains the possibilities)
  notFound();
}

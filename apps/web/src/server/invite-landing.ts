import type { Db } from "@atelier/db";
import type { Role } from "@atelier/protocol";

/** What a signed-out visitor may learn from an invite link before signing in: only what the link itself grants. */
export interface InviteSummary {
  roomName: string;
  inviterName: string;
  role: Extract<Role, "editor" | "viewer">;
}

interface InviteRow {
  role: string;
  expiresAt: Date | null;
  maxUses: number | null;
  uses: number;
}

/** Whether an invite can still let someone new in (pure: the same rules acceptInvite applies). */
export function inviteUsable(invite: InviteRow, now: number): boolean {
  if (invite.expiresAt && invite.expiresAt.getTime() <= now) return false;
  return invite.maxUses === null || invite.uses < invite.maxUses;
}

/** The room's name, who made the link and its role; null when the link would not let anyone in. */
export async function summarizeInvite(db: Db, token: string, now = Date.now()): Promise<InviteSummary | null> {
  const invite = await db.roomInvite.findUnique({
    where: { token },
    select: {
      role: true,
      expiresAt: true,
      maxUses: true,
      uses: true,
      room: { select: { name: true } },
      createdBy: { select: { name: true, email: true } },
    },
  });
  if (!invite || !inviteUsable(invite, now)) return null;
  return {
    roomName: invite.room.name,
    // people without a display name are shown by the part of their email before the @, never the whole address
    inviterName: invite.createdBy.name?.trim() || invite.createdBy.email.split("@")[0]!,
    role: invite.role === "editor" ? "editor" : "viewer",
  };
}

import { roleOf, type Db } from "@atelier/db";
import type { Role } from "@atelier/protocol";
import { inviteGrant } from "./rooms";

/** What a visitor may learn from an invite link before joining: only what the link itself grants. */
export interface InviteSummary {
  /** for the page's redirect of an existing member; not shown */
  roomId: string;
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
      roomId: true,
      createdById: true,
      room: { select: { name: true } },
      createdBy: { select: { name: true, email: true } },
    },
  });
  if (!invite || !inviteUsable(invite, now)) return null;
  const role = inviteGrant(await roleOf(db, invite.roomId, invite.createdById), invite.role);
  if (!role) return null;
  return {
    roomId: invite.roomId,
    roomName: invite.room.name,
    // people without a display name are shown by the part of their email before the @, never the whole address
    inviterName: invite.createdBy.name?.trim() || invite.createdBy.email.split("@")[0]!,
    role,
  };
}

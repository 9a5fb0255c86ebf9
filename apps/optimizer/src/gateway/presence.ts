/**
 * Who is in a room (over every node: `fetchSockets` spans the cluster) and the coalesced
 * `presence` broadcast: a burst of joins, leaves and focus changes goes out as one.
 */
import type { Member } from "@atelier/protocol";
import { roomKey, type AtelierServer } from "./context.ts";
import type { Logger } from "../common/log.ts";

export class Presence {
  /** rooms with a presence broadcast pending */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly io: AtelierServer,
    private readonly log: Logger,
    private readonly coalesceMs: number,
  ) {}

  /** The room's members, one entry per user (several tabs of one user: the latest focus wins). */
  async membersOf(roomId: string): Promise<Member[]> {
    const sockets = await this.io.in(roomKey(roomId)).fetchSockets();
    const byUser = new Map<string, Member & { focusAt: number }>();
    for (const s of sockets) {
      const membership = s.data.rooms?.[roomId];
      if (!s.data.user || !membership) continue;
      const existing = byUser.get(s.data.user.id);
      if (!existing) {
        byUser.set(s.data.user.id, {
          userId: s.data.user.id,
          name: s.data.user.name,
          color: s.data.color,
          role: membership.role,
          editingField: membership.editingField,
          focusAt: membership.focusAt,
        });
      } else if (membership.focusAt > existing.focusAt) {
        existing.editingField = membership.editingField;
        existing.focusAt = membership.focusAt;
        existing.role = membership.role;
      }
    }
    return [...byUser.values()]
      .map(({ focusAt: _f, ...m }) => m)
      .sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  }

  /** A presence broadcast for the room soon (changes within the coalescing window go out as one). */
  schedule(roomId: string): void {
    if (this.pending.has(roomId) || this.closed) return;
    const timer = setTimeout(() => {
      this.pending.delete(roomId);
      void this.broadcast(roomId);
    }, this.coalesceMs);
    timer.unref();
    this.pending.set(roomId, timer);
  }

  private async broadcast(roomId: string): Promise<void> {
    try {
      const members = await this.membersOf(roomId);
      // closed meanwhile: the adapter's Redis clients may be gone (an emit would reject unhandled)
      if (this.closed) return;
      this.io.to(roomKey(roomId)).emit("presence", { roomId, members });
    } catch (error) {
      this.log.warn("presence.failed", { roomId, error });
    }
  }

  close(): void {
    this.closed = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}

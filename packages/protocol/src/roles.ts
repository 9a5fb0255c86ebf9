import { z } from "zod";

/** A member's role in a room: the owner and editors change it, viewers watch. */
export const ROLES = ["owner", "editor", "viewer"] as const;
export const role = z.enum(ROLES);
export type Role = z.infer<typeof role>;
export function canEdit(r: Role): boolean {
  return r === "owner" || r === "editor";
}

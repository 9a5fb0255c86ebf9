import { createHash } from "node:crypto";

/**
 * A stable colour per user, the same on every node and after every reconnect: the hue comes
 * from a hash of the user id, saturation and lightness are fixed so every colour reads well
 * on light and dark backgrounds.
 */
export function colorOf(userId: string): string {
  const hash = createHash("sha256").update(userId).digest();
  const hue = hash.readUInt16BE(0) % 360;
  return `hsl(${hue} 70% 45%)`;
}

/**
 * One colour per person everywhere (presence, field rings, the header's avatar): the hue comes
 * from a hash of the user id (FNV-1a: the same in Node and the browser, on every node and after
 * every reconnect); saturation and lightness are fixed so every colour reads well with white text.
 */
export function colorOf(userId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `hsl(${hash % 360} 70% 45%)`;
}

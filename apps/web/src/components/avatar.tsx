/** Initials on a colour derived from the name (or the given colour: presence uses the service's per-user colour). */
export function Avatar({
  name,
  color,
  size = 32,
  ring,
}: {
  name: string;
  color?: string;
  size?: number;
  ring?: boolean;
}) {
  const initials =
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]!.toUpperCase())
      .join("") || "?";
  const bg = color ?? nameColor(name);
  return (
    <span
      aria-hidden="true"
      className="inline-flex shrink-0 items-center justify-center rounded-full font-semibold text-white"
      style={{
        width: size,
        height: size,
        fontSize: size * 0.4,
        background: bg,
        boxShadow: ring ? `0 0 0 2px var(--color-canvas), 0 0 0 4px ${bg}` : undefined,
      }}
    >
      {initials}
    </span>
  );
}

function nameColor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return `hsl(${h % 360} 42% 42%)`;
}

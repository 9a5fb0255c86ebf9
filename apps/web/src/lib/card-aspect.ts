/**
 * The box a result's card gives its picture: the picture's own aspect ratio, so a landscape
 * painting stays landscape; only extreme panoramas/strips are held within 2:1 (either way) so a
 * grid row stays readable (cover crops the rest).
 */
const MAX_RATIO = 2;

export function cardAspect(width: number, height: number): string {
  if (!(width > 0) || !(height > 0)) return "1 / 1";
  const ratio = Math.min(MAX_RATIO, Math.max(1 / MAX_RATIO, width / height));
  if (ratio === width / height) return `${width} / ${height}`;
  return ratio > 1 ? `${MAX_RATIO} / 1` : `1 / ${MAX_RATIO}`;
}

/* eslint-disable @next/next/no-img-element -- images come from our own content-addressed route, already sized */

export function imageUrl(id: string, width?: number): string {
  return width ? `/api/images/${id}?w=${width}` : `/api/images/${id}`;
}

/**
 * An image in a box of fixed aspect ratio (the image's own, when known), so nothing shifts
 * when it loads. `fit="cover"` crops to the box; "contain" letterboxes.
 */
export function FramedImage({
  id,
  alt,
  width,
  height,
  thumb = 640,
  ratio,
  fit = "cover",
  className = "",
  priority = false,
}: {
  id: string;
  alt: string;
  width?: number;
  height?: number;
  thumb?: number;
  ratio?: string;
  fit?: "cover" | "contain";
  className?: string;
  priority?: boolean;
}) {
  const aspect = ratio ?? (width && height ? `${width} / ${height}` : "1 / 1");
  return (
    <div className={`frame ${className}`} style={{ aspectRatio: aspect }}>
      <img
        src={imageUrl(id, thumb)}
        alt={alt}
        loading={priority ? "eager" : "lazy"}
        decoding="async"
        className={`absolute inset-0 h-full w-full ${fit === "cover" ? "object-cover" : "object-contain"}`}
      />
    </div>
  );
}

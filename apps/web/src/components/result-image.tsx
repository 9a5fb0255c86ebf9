"use client";
/* eslint-disable @next/next/no-img-element -- the original from our own content-addressed route, at its own size */

import { useEffect, useRef, useState } from "react";
import { resultDisplayWidth, resultZooms, scaleText, zoomLabel, type ResultZoom } from "@/lib/result-zoom";
import { imageUrl } from "./image";

/**
 * A result at its real resolution: the stored original (not a lossy thumbnail), fitted to the
 * column but never stretched past its own pixels, and zoom steps (100 %, 200 %…) that show the
 * pixels in a box that scrolls. Zoomed past 100 % the pixels are drawn as squares: zoom is for
 * looking at them.
 */
export function ResultImage({ id, alt, width, height }: { id: string; alt: string; width: number; height: number }) {
  const [zoom, setZoom] = useState<ResultZoom>("fit");
  const [available, setAvailable] = useState(width);
  const box = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setAvailable(el.clientWidth));
    observer.observe(el);
    setAvailable(el.clientWidth);
    return () => observer.disconnect();
  }, []);
  const shown = resultDisplayWidth(zoom, width, available);
  return (
    <figure className="m-0">
      <div
        ref={box}
        className={`frame rounded-2xl border border-line ${zoom === "fit" ? "" : "max-h-[80dvh] overflow-auto"}`}
        data-testid="result-image-box"
      >
        <img
          src={imageUrl(id)}
          alt={alt}
          width={width}
          height={height}
          decoding="async"
          className="mx-auto block h-auto max-w-none"
          style={{ width: shown, imageRendering: zoom !== "fit" && zoom > 1 ? "pixelated" : "auto" }}
          data-testid="result-image"
        />
      </div>
      <figcaption className="mt-2 flex flex-wrap items-center justify-between gap-2 text-xs text-muted">
        <span className="tabular-nums" data-testid="result-scale">
          {scaleText(width, height, shown)}
        </span>
        <span className="flex gap-1" role="group" aria-label="Zoom">
          {resultZooms(width).map((z) => (
            <button
              key={z}
              type="button"
              className={`btn btn-sm ${z === zoom ? "btn-secondary" : "btn-ghost"}`}
              aria-pressed={z === zoom}
              onClick={() => setZoom(z)}
              data-testid={`result-zoom-${z}`}
            >
              {zoomLabel(z)}
            </button>
          ))}
        </span>
      </figcaption>
    </figure>
  );
}

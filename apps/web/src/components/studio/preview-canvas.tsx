"use client";

import { useEffect, useState } from "react";
import type { Preview } from "@atelier/protocol";
import { createFrameScheduler } from "@/lib/frame-scheduler";
import { emptyCanvasText, frameFreshness } from "@/lib/run-display";
import { useStudio } from "./context";

/**
 * The live preview: frames are decoded with createImageBitmap and drawn onto a canvas inside a
 * fixed-ratio frame (the canvas is letterboxed with object-fit), so arriving frames never move
 * the layout. Drawing goes through the latest-frame-wins scheduler.
 */
export function PreviewCanvas({
  canvasRef,
  onPainted,
}: {
  canvasRef: React.RefObject<HTMLCanvasElement | null>;
  /** told the canvas's size after each frame drawn */
  onPainted?: (width: number, height: number) => void;
}) {
  const { onPreview, state, doc, editable } = useStudio();
  const [shown, setShown] = useState<{ runId: string; iteration: number; width: number; height: number } | null>(null);
  const [drawError, setDrawError] = useState<string | null>(null);
  const runId = state.run?.runId ?? null;

  useEffect(() => {
    const scheduler = createFrameScheduler<Preview>(
      async (frame) => {
        const canvas = canvasRef.current;
        if (!canvas) return;
        const bitmap = await createImageBitmap(new Blob([frame.data as BlobPart], { type: frame.mime }));
        // read the size before close(): a closed bitmap reports 0×0
        const { width, height } = bitmap;
        try {
          if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
            canvas.width = bitmap.width;
            canvas.height = bitmap.height;
          }
          canvas.getContext("2d")?.drawImage(bitmap, 0, 0);
        } finally {
          bitmap.close();
        }
        setShown({ runId: frame.runId, iteration: frame.iteration, width, height });
        onPainted?.(width, height);
        setDrawError(null);
      },
      () => setDrawError("A preview frame could not be decoded; waiting for the next one."),
    );
    const off = onPreview((frame) => scheduler.push(frame));
    return () => {
      off();
      scheduler.dispose();
    };
  }, [onPreview, canvasRef, onPainted]);

  const emptyText = emptyCanvasText(runId, doc, editable);
  const freshness = frameFreshness(shown?.runId ?? null, runId);
  const empty = freshness === "none";
  const stale = freshness === "stale";
  return (
    <figure className="m-0">
      {/* width capped so the fixed 4:3 frame never grows taller than 70% of the viewport */}
      <div
        className="frame mx-auto w-full max-w-[calc(70dvh*4/3)] rounded-2xl border border-line"
        style={{ aspectRatio: "4 / 3" }}
      >
        <canvas
          ref={canvasRef}
          width={4}
          height={3}
          className={`absolute inset-0 h-full w-full object-contain transition-opacity duration-300 ${empty ? "opacity-0" : stale ? "opacity-50 grayscale" : "opacity-100"}`}
          role="img"
          aria-label={
            shown
              ? `${stale ? "Previous run's image" : "Live preview"} at iteration ${shown.iteration}, ${shown.width} by ${shown.height} pixels`
              : "Live preview (nothing painted yet)"
          }
          data-testid="preview-canvas"
          data-iteration={shown?.iteration ?? ""}
          data-run-id={shown?.runId ?? ""}
        />
        {stale && (
          <p
            className="absolute left-3 top-3 rounded-full bg-paper/90 px-3 py-1 text-xs text-muted shadow-sm"
            role="status"
            data-testid="preview-stale"
          >
            Previous run’s image — the new run’s first frame is on its way
          </p>
        )}
        {empty && (
          <div className="absolute inset-0 flex flex-col items-center justify-center gap-2 p-6 text-center">
            <p className="font-serif text-xl text-ink/80" data-testid="canvas-empty-title">
              {emptyText.title}
            </p>
            <p className="max-w-sm text-sm text-muted">{emptyText.hint}</p>
          </div>
        )}
      </div>
      {drawError && (
        <figcaption role="status" className="mt-2 text-xs text-danger">
          {drawError}
        </figcaption>
      )}
    </figure>
  );
}

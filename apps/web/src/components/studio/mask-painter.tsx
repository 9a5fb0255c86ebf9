"use client";

import { useEffect, useRef, useState, type PointerEvent } from "react";
import {
  MAX_BRUSH_SIZE,
  MIN_BRUSH_SIZE,
  maskSize,
  type MaskEditRequest,
  type MaskStroke,
  type MaskTool,
} from "@atelier/protocol";
import { cssColor, extendStroke, othersStrokes, photoPoint, regionColor, regionOverlay } from "@/lib/mask-stroke";
import { imageUrl } from "../image";
import { useShortcuts } from "./use-shortcuts";
import { stepBrush } from "@/lib/shortcuts";
import { useStudio } from "./context";
import { FIELD_HELP } from "./field-help";
import { useRoomStyleNames } from "./use-room-style-names";

/** The overlay's raster on the photo's long side: fine enough to paint, cheap to redraw per edit. */
const OVERLAY_LONG_SIDE = 320;
const REGION_ALPHA = 0.45;
/** Width (overlay px) of the ring drawn around someone else's stroke, in their presence colour. */
const OUTLINE_WIDTH = 1.5;
const TOOL_LABELS: Record<MaskTool, string> = { brush: "Brush", eraser: "Eraser", fill: "Fill" };

/**
 * Paint where each style goes, over the content photo. Every finished stroke is one `mask:edit`
 * (the server appends it, so people painting at once all keep their strokes); everyone's regions
 * are drawn in their style's colour as they land, others' strokes outlined in their author's
 * presence colour. Undo and clear touch only my own strokes.
 */
export function MaskPainter() {
  const { doc, conn, editable, state, me } = useStudio();
  const names = useRoomStyleNames(
    state.roomId,
    doc.styles.map((s) => s.imageId),
  );
  const [styleId, setStyleId] = useState<string | null>(null);
  const [tool, setTool] = useState<MaskTool>("brush");
  const [size, setSize] = useState(0.08);
  const [photo, setPhoto] = useState<{ width: number; height: number } | null>(null);
  const [drawing, setDrawing] = useState<[number, number][] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const photoRef = useRef<HTMLImageElement | null>(null);
  const selected = doc.styles.find((s) => s.imageId === styleId)?.imageId ?? doc.styles[0]?.imageId ?? null;
  const overlay = photo ? maskSize(photo.width, photo.height, OVERLAY_LONG_SIDE) : null;
  const overlayWidth = overlay?.width ?? 0;
  const overlayHeight = overlay?.height ?? 0;

  // a photo rendered on the server may have loaded before hydration, when onLoad was not yet listened to
  useEffect(() => {
    const img = photoRef.current;
    if (img?.complete && img.naturalWidth > 0) setPhoto({ width: img.naturalWidth, height: img.naturalHeight });
  }, [doc.contentImageId]);

  // every style's region, then the stroke being painted (local until it is sent)
  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx || overlayWidth === 0) return;
    const overlay = { width: overlayWidth, height: overlayHeight };
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    doc.styles.forEach((style, i) => {
      const layer = doc.masks[style.imageId];
      if (!layer) return;
      const pixels = regionOverlay(layer, overlay.width, overlay.height, regionColor(i), REGION_ALPHA);
      const bitmap = document.createElement("canvas");
      bitmap.width = overlay.width;
      bitmap.height = overlay.height;
      bitmap.getContext("2d")?.putImageData(new ImageData(pixels, overlay.width, overlay.height), 0, 0);
      ctx.drawImage(bitmap, 0, 0);
    });
    const ring = document.createElement("canvas");
    ring.width = overlay.width;
    ring.height = overlay.height;
    for (const style of doc.styles) {
      const layer = doc.masks[style.imageId];
      if (layer)
        for (const { stroke, color } of othersStrokes(layer, me.userId)) outlineStroke(ctx, ring, stroke, color);
    }
    if (drawing && drawing.length > 0) {
      const index = doc.styles.findIndex((s) => s.imageId === selected);
      ctx.strokeStyle = tool === "eraser" ? "rgb(255 255 255 / 0.8)" : cssColor(regionColor(index), 0.7);
      ctx.lineWidth = size * Math.max(overlay.width, overlay.height);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(drawing[0]![0] * overlay.width, drawing[0]![1] * overlay.height);
      for (const [x, y] of drawing) ctx.lineTo(x * overlay.width, y * overlay.height);
      ctx.stroke();
    }
  }, [doc.styles, doc.masks, overlayWidth, overlayHeight, drawing, selected, tool, size, me.userId]);

  useShortcuts((action) => {
    if (action !== "brush-smaller" && action !== "brush-larger") return false;
    if (!editable || !doc.contentImageId || doc.styles.length === 0) return false;
    setSize((s) => stepBrush(s, action, MIN_BRUSH_SIZE, MAX_BRUSH_SIZE));
    return true;
  });

  if (!doc.contentImageId || doc.styles.length === 0) return null;

  const send = async (edit: MaskEditRequest) => {
    const reply = await conn.mask(edit);
    setError(reply.ok ? null : reply.error);
  };
  const pointAt = (e: PointerEvent<HTMLCanvasElement>) =>
    photoPoint(e.clientX, e.clientY, e.currentTarget.getBoundingClientRect());
  const canPaint = editable && selected !== null && overlay !== null;

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!canPaint) return;
    const point = pointAt(e);
    if (tool === "fill") {
      void send({
        op: "stroke",
        styleImageId: selected,
        stroke: { strokeId: newStrokeId(), tool, size, points: [point] },
      });
      return;
    }
    e.currentTarget.setPointerCapture(e.pointerId);
    setDrawing([point]);
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (drawing) setDrawing(extendStroke(drawing, pointAt(e), size / 6));
  };
  const onPointerUp = () => {
    if (!drawing || !selected) return;
    const points = drawing;
    setDrawing(null);
    void send({ op: "stroke", styleImageId: selected, stroke: { strokeId: newStrokeId(), tool, size, points } });
  };

  return (
    <section aria-labelledby="mask-heading" className="card space-y-3 p-4" data-testid="mask-painter">
      <div>
        <h2 id="mask-heading" className="text-lg">
          Style regions
        </h2>
        <p className="text-xs text-muted">{FIELD_HELP.masks} A changed region takes effect when the run restarts.</p>
      </div>
      <div className="flex flex-wrap items-center gap-2" role="radiogroup" aria-label="Style to paint">
        {doc.styles.map((style, i) => (
          <button
            key={style.imageId}
            type="button"
            role="radio"
            aria-checked={style.imageId === selected}
            className={`btn btn-sm ${style.imageId === selected ? "btn-secondary" : "btn-ghost"}`}
            data-testid={`mask-style-${i}`}
            onClick={() => setStyleId(style.imageId)}
          >
            <span
              aria-hidden
              className="inline-block h-3 w-3 rounded-full"
              style={{ background: cssColor(regionColor(i)) }}
            />
            {names[style.imageId] ?? `Style ${i + 1}`}
          </button>
        ))}
      </div>
      <div className="flex flex-wrap items-center gap-2">
        {(Object.keys(TOOL_LABELS) as MaskTool[]).map((t) => (
          <button
            key={t}
            type="button"
            aria-pressed={tool === t}
            disabled={!editable}
            className={`btn btn-sm ${tool === t ? "btn-secondary" : "btn-ghost"}`}
            data-testid={`mask-tool-${t}`}
            onClick={() => setTool(t)}
          >
            {TOOL_LABELS[t]}
          </button>
        ))}
        <label className="flex items-center gap-2 text-sm text-muted">
          Size
          <input
            type="range"
            min={MIN_BRUSH_SIZE}
            max={MAX_BRUSH_SIZE}
            step={0.005}
            value={size}
            disabled={!editable}
            data-testid="mask-size"
            onChange={(e) => setSize(Number(e.target.value))}
          />
        </label>
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          disabled={!canPaint}
          data-testid="mask-undo"
          onClick={() => selected && void send({ op: "undo", styleImageId: selected })}
        >
          Undo mine
        </button>
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          disabled={!canPaint}
          data-testid="mask-clear"
          onClick={() => selected && void send({ op: "clear", styleImageId: selected })}
        >
          Clear mine
        </button>
      </div>
      <div className="relative overflow-hidden rounded-lg">
        {/* eslint-disable-next-line @next/next/no-img-element -- the photo's own pixels under the overlay */}
        <img
          ref={photoRef}
          src={imageUrl(doc.contentImageId, 640)}
          alt="The content photo to paint regions on"
          className="block w-full select-none"
          draggable={false}
          onLoad={(e) => setPhoto({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
        />
        {overlay && (
          <canvas
            ref={canvasRef}
            width={overlay.width}
            height={overlay.height}
            className={`absolute inset-0 h-full w-full touch-none ${canPaint ? "cursor-crosshair" : ""}`}
            data-testid="mask-canvas"
            aria-label="Style regions: paint where the selected style goes"
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={() => setDrawing(null)}
          />
        )}
      </div>
      {!editable && <p className="text-xs text-muted">Viewers see the regions but cannot paint them.</p>}
      {error && (
        <p role="alert" className="text-sm text-danger" data-testid="mask-error">
          {error}
        </p>
      )}
    </section>
  );
}

/**
 * A ring around a stroke's painted path in `color` (drawn on the scratch canvas `ring`, then onto
 * `ctx`): the path stroked wider, with the path itself cut out, so the region's tint shows
 * inside. A fill is a small ring where the bucket was tipped.
 */
function outlineStroke(ctx: CanvasRenderingContext2D, ring: HTMLCanvasElement, stroke: MaskStroke, color: string) {
  const r = ring.getContext("2d");
  if (!r) return;
  const { width, height } = ring;
  const points = stroke.points.map(([x, y]) => [x * width, y * height] as const);
  r.clearRect(0, 0, width, height);
  r.strokeStyle = color;
  r.lineCap = "round";
  r.lineJoin = "round";
  if (stroke.tool === "fill") {
    r.lineWidth = OUTLINE_WIDTH;
    r.beginPath();
    r.arc(points[0]![0], points[0]![1], 4, 0, 2 * Math.PI);
    r.stroke();
  } else {
    const path = () => {
      r.beginPath();
      r.moveTo(...points[0]!);
      for (const p of points) r.lineTo(...p);
    };
    const brush = stroke.size * Math.max(width, height);
    r.globalCompositeOperation = "source-over";
    r.lineWidth = brush + 2 * OUTLINE_WIDTH;
    path();
    r.stroke();
    r.globalCompositeOperation = "destination-out";
    r.lineWidth = brush;
    path();
    r.stroke();
    r.globalCompositeOperation = "source-over";
  }
  ctx.drawImage(ring, 0, 0);
}

function newStrokeId(): string {
  return crypto.randomUUID();
}

"use client";

import { useCallback, useEffect, useRef, useState, type PointerEvent } from "react";
import {
  MASK_RASTER_LONG_SIDE,
  MAX_BRUSH_SIZE,
  MIN_BRUSH_SIZE,
  maskSize,
  type MaskEditRequest,
  type MaskStroke,
  type MaskTool,
} from "@atelier/protocol";
import {
  LayerRasterCache,
  cssColor,
  extendStroke,
  othersStrokes,
  photoPoint,
  regionColor,
  tintMask,
} from "@/lib/mask-stroke";
import { imageUrl } from "../image";
import { useShortcuts } from "./use-shortcuts";
import { stepBrush } from "@/lib/shortcuts";
import { regionHelpText } from "@/lib/style-regions";
import { useStudio } from "./context";
import { FIELD_HELP } from "./field-help";
import { useRoomStyleNames } from "./use-room-style-names";

/** The overlay is the raster the run gets its masks at (fine enough to paint, cheap to redraw per edit). */
const OVERLAY_LONG_SIDE = MASK_RASTER_LONG_SIDE;
const REGION_ALPHA = 0.45;
/** Width (overlay px) of the ring drawn around someone else's stroke, in their presence colour. */
const OUTLINE_WIDTH = 1.5;
const TOOL_LABELS: Record<MaskTool, string> = { brush: "Brush", eraser: "Eraser", fill: "Fill" };

/**
 * Paint where each style goes, over the content photo. Every finished stroke is one `mask:edit`
 * (the server appends it, so people painting at once all keep their strokes); everyone's regions
 * are drawn in their style's colour as they land, others' strokes outlined in their author's
 * presence colour. Undo and clear touch only my own strokes.
 *
 * Costs: each style's region is kept as a raster and a tinted bitmap; a stroke that lands is
 * painted onto them alone (LayerRasterCache), an undo or clear repaints that one layer. The
 * canvas is composed on animation frames — pointer moves only extend the stroke being drawn
 * and ask for a frame — so a flood of strokes or a fast pointer never rasterises per event.
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

  /** per style: its region's raster, tinted bitmap and the outlines of others' strokes */
  const layers = useRef(new Map<string, PaintedLayer>());
  /** the stroke being painted (local until it is sent): a ref, so a pointer move re-renders nothing */
  const drawing = useRef<[number, number][] | null>(null);
  const frame = useRef<number | null>(null);
  /** what the next frame draws with (the latest render's values) */
  const view = useRef({ styleIds: [] as string[], selectedIndex: -1, tool, size });

  const compose = useCallback(() => {
    frame.current = null;
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    const { styleIds, selectedIndex, tool, size } = view.current;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    for (const styleId of styleIds) {
      const layer = layers.current.get(styleId);
      if (!layer) continue;
      ctx.drawImage(layer.tint, 0, 0);
      ctx.drawImage(layer.outline, 0, 0);
    }
    const points = drawing.current;
    if (points && points.length > 0) {
      ctx.strokeStyle = tool === "eraser" ? "rgb(255 255 255 / 0.8)" : cssColor(regionColor(selectedIndex), 0.7);
      ctx.lineWidth = size * Math.max(canvas.width, canvas.height);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(points[0]![0] * canvas.width, points[0]![1] * canvas.height);
      for (const [x, y] of points) ctx.lineTo(x * canvas.width, y * canvas.height);
      ctx.stroke();
    }
  }, []);
  const requestFrame = useCallback(() => {
    if (frame.current === null) frame.current = requestAnimationFrame(compose);
  }, [compose]);
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  // a changed region is painted onto its own layer only (an appended stroke: that stroke only)
  useEffect(() => {
    if (overlayWidth === 0) return;
    const kept = new Set(doc.styles.map((s) => s.imageId));
    for (const styleId of layers.current.keys()) if (!kept.has(styleId)) layers.current.delete(styleId);
    doc.styles.forEach((style, i) => {
      let layer = layers.current.get(style.imageId);
      if (!layer) {
        layer = newPaintedLayer(overlayWidth, overlayHeight);
        layers.current.set(style.imageId, layer);
      }
      const masks = doc.masks[style.imageId];
      const change = layer.raster.sync(masks, overlayWidth, overlayHeight);
      if (change === "same" && layer.colorIndex === i && layer.me === me.userId) return;
      layer.colorIndex = i;
      layer.me = me.userId;
      paintLayer(layer, masks?.strokes ?? [], regionColor(i), me.userId, overlayWidth, overlayHeight);
    });
    requestFrame();
  }, [doc.styles, doc.masks, overlayWidth, overlayHeight, me.userId, requestFrame]);

  // the next frame draws in the styles' order, the stroke being drawn in the selected style's
  // colour and the brush's size
  useEffect(() => {
    view.current = {
      styleIds: doc.styles.map((s) => s.imageId),
      selectedIndex: doc.styles.findIndex((s) => s.imageId === selected),
      tool,
      size,
    };
    requestFrame();
  }, [doc.styles, selected, tool, size, requestFrame]);

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
    drawing.current = [point];
    requestFrame();
  };
  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    if (!drawing.current) return;
    const next = extendStroke(drawing.current, pointAt(e), size / 6);
    if (next === drawing.current) return;
    drawing.current = next;
    requestFrame();
  };
  const onPointerUp = () => {
    const points = drawing.current;
    if (!points || !selected) return;
    drawing.current = null;
    requestFrame();
    void send({ op: "stroke", styleImageId: selected, stroke: { strokeId: newStrokeId(), tool, size, points } });
  };

  return (
    <section aria-labelledby="mask-heading" className="card space-y-3 p-4" data-testid="mask-painter">
      <div>
        <h2 id="mask-heading" className="text-lg">
          Style regions
        </h2>
        <p className="text-xs text-muted">{FIELD_HELP.masks} A changed region takes effect when the run restarts.</p>
        <p className="text-xs text-muted" data-testid="mask-coverage">
          {regionHelpText(
            doc.styles,
            doc.masks,
            (id) => names[id] ?? `Style ${doc.styles.findIndex((s) => s.imageId === id) + 1}`,
          )}
        </p>
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
            onPointerCancel={() => {
              drawing.current = null;
              requestFrame();
            }}
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

interface PaintedLayer {
  raster: LayerRasterCache;
  /** the region in its style's colour */
  tint: HTMLCanvasElement;
  /** rings around others' strokes */
  outline: HTMLCanvasElement;
  colorIndex: number;
  me: string;
}

function newPaintedLayer(width: number, height: number): PaintedLayer {
  const canvas = () => Object.assign(document.createElement("canvas"), { width, height });
  return { raster: new LayerRasterCache(width, height), tint: canvas(), outline: canvas(), colorIndex: -1, me: "" };
}

/** The layer's bitmaps from its raster (O(overlay pixels) once per change, not per frame). */
function paintLayer(
  layer: PaintedLayer,
  strokes: MaskStroke[],
  color: [number, number, number],
  me: string,
  width: number,
  height: number,
): void {
  for (const c of [layer.tint, layer.outline]) {
    c.width = width;
    c.height = height;
  }
  layer.tint
    .getContext("2d")
    ?.putImageData(new ImageData(tintMask(layer.raster.mask, color, REGION_ALPHA), width, height), 0, 0);
  const ctx = layer.outline.getContext("2d");
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  const ring = Object.assign(document.createElement("canvas"), { width, height });
  for (const { stroke, color: ringColor } of othersStrokes({ strokes }, me))
    outlineStroke(ctx, ring, stroke, ringColor);
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

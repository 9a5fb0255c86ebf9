/*
 * The result page's image at its real resolution: fitted, it is never drawn wider than its own
 * pixels (a 256 px painting was stretched to 640 px and looked soft); zoomed, it is shown at a
 * whole multiple of them inside a box that scrolls.
 */
export const RESULT_ZOOMS = ["fit", 1, 2, 4] as const;
export type ResultZoom = (typeof RESULT_ZOOMS)[number];

/** How wide the image is drawn, in CSS pixels, beside `available` px of room. */
export function resultDisplayWidth(zoom: ResultZoom, naturalWidth: number, available: number): number {
  if (zoom === "fit") return Math.max(1, Math.min(naturalWidth, Math.floor(available)));
  return naturalWidth * zoom;
}

/** The zoom steps worth offering: 4× only for small paintings (a 2048 px one is already large at 2×). */
export function resultZooms(naturalWidth: number): ResultZoom[] {
  return RESULT_ZOOMS.filter((z) => z === "fit" || z === 1 || naturalWidth * z <= 4096);
}

/** "Fit", "100 %", "200 %". */
export function zoomLabel(zoom: ResultZoom): string {
  return zoom === "fit" ? "Fit" : `${zoom * 100} %`;
}

/** What the caption says about the scale: the real size, and how large it is drawn. */
export function scaleText(naturalWidth: number, naturalHeight: number, shownWidth: number): string {
  const percent = Math.round((shownWidth / naturalWidth) * 100);
  return `${naturalWidth} × ${naturalHeight} px · shown at ${percent} %`;
}

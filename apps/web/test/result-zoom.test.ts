import { describe, expect, it } from "vitest";
import { resultDisplayWidth, resultZooms, scaleText, zoomLabel } from "@/lib/result-zoom";

describe("result zoom", () => {
  it("fits a small painting at its own pixels instead of stretching it to the column", () => {
    expect(resultDisplayWidth("fit", 256, 640)).toBe(256);
    expect(scaleText(256, 192, resultDisplayWidth("fit", 256, 640))).toBe("256 × 192 px · shown at 100 %");
  });
  it("fits a large painting to the column", () => {
    expect(resultDisplayWidth("fit", 2048, 700.6)).toBe(700);
    expect(scaleText(2048, 1536, 700)).toBe("2048 × 1536 px · shown at 34 %");
  });
  it("zooms in whole multiples of the real pixels, whatever the room", () => {
    expect(resultDisplayWidth(1, 2048, 700)).toBe(2048);
    expect(resultDisplayWidth(2, 256, 640)).toBe(512);
    expect(zoomLabel(2)).toBe("200 %");
    expect(zoomLabel("fit")).toBe("Fit");
  });
  it("offers 4× only where it stays within 4096 px", () => {
    expect(resultZooms(384)).toEqual(["fit", 1, 2, 4]);
    expect(resultZooms(2048)).toEqual(["fit", 1, 2]);
    expect(resultZooms(4096)).toEqual(["fit", 1]);
  });
});

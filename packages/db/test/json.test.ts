import { describe, expect, it } from "vitest";
import { MAX_LOSS_HISTORY, defaultRoomDocument, runParams, type Provenance } from "@atelier/protocol";
import {
  imageIdsOfDocument,
  parseRoomDocument,
  readProvenance,
  readRoomDocument,
  readRunParams,
  readStyleImageIds,
  serializeProvenance,
  serializeRoomDocument,
  serializeRunParams,
  serializeStyleImageIds,
  readLossHistory,
  serializeLossHistory,
} from "../src/index.ts";

describe("room document reader", () => {
  it("round-trips a valid document", () => {
    const doc = { ...defaultRoomDocument(), contentImageId: "img1", styles: [{ imageId: "s1", weight: 2 }], size: 256 };
    const text = serializeRoomDocument(doc);
    expect(readRoomDocument({ document: text })).toEqual(doc);
    expect(parseRoomDocument(text).issues).toEqual([]);
  });

  it("fills missing fields with defaults (documents written before a field existed)", () => {
    expect(readRoomDocument({ document: JSON.stringify({ size: 300 }) })).toEqual({
      ...defaultRoomDocument(),
      size: 300,
    });
  });

  it("never throws on bad text: not JSON, not an object, wrong types", () => {
    for (const text of ["", "{", "null", "42", "[1,2]", '"text"']) {
      const parsed = parseRoomDocument(text);
      expect(parsed.document).toEqual(defaultRoomDocument());
      expect(parsed.issues.length).toBeGreaterThan(0);
    }
  });

  it("keeps every valid field when some are invalid, and the valid styles among invalid ones", () => {
    const parsed = parseRoomDocument(
      JSON.stringify({
        size: 100000, // out of range → default
        styleWeight: 250,
        contentImageId: "content",
        styles: [
          { imageId: "a", weight: 1 },
          { imageId: "", weight: 1 },
          "junk",
          { imageId: "b", weight: -3 },
          { imageId: "c", weight: 0.5 },
        ],
        unknownField: true,
      }),
    );
    expect(parsed.document).toEqual({
      ...defaultRoomDocument(),
      styleWeight: 250,
      contentImageId: "content",
      styles: [
        { imageId: "a", weight: 1 },
        { imageId: "c", weight: 0.5 },
      ],
    });
    expect(parsed.issues.join("\n")).toMatch(/size/);
    expect(parsed.issues.join("\n")).toMatch(/styles.*kept 2 valid of 5/);
  });

  it("refuses to serialise an invalid document", () => {
    expect(() => serializeRoomDocument({ ...defaultRoomDocument(), size: 1 })).toThrow();
  });

  it("lists the images a document uses", () => {
    expect(
      imageIdsOfDocument({
        contentImageId: "c",
        styles: [
          { imageId: "a", weight: 1 },
          { imageId: "b", weight: 0 },
        ],
      }),
    ).toEqual(["c", "a", "b"]);
    expect(imageIdsOfDocument({ contentImageId: null, styles: [] })).toEqual([]);
  });
});

describe("run params, style ids, provenance readers", () => {
  const params = runParams.parse({ contentImageId: "c", styles: [{ imageId: "s", weight: 1 }] });

  it("round-trips run params and reads invalid ones as null", () => {
    expect(readRunParams({ params: serializeRunParams(params) })).toEqual(params);
    expect(readRunParams({ params: "{" })).toBeNull();
    expect(readRunParams({ params: JSON.stringify({ ...params, styles: [] }) })).toBeNull();
    expect(() => serializeRunParams({ ...params, styles: [] })).toThrow(/at least one style/);
  });

  it("reads style image ids and provenance defensively", () => {
    expect(readStyleImageIds({ styleImageIds: serializeStyleImageIds(["a", "b"]) })).toEqual(["a", "b"]);
    expect(readStyleImageIds({ styleImageIds: "[]" })).toEqual([]);
    expect(readStyleImageIds({ styleImageIds: "not json" })).toEqual([]);
    expect(readStyleImageIds({ styleImageIds: "[1,2]" })).toEqual([]);
    expect(() => serializeStyleImageIds([""])).toThrow();
    expect(readProvenance({ provenance: '{"seed":1}' })).toEqual({ seed: 1 });
    expect(readProvenance({ provenance: "[]" })).toBeNull();
    expect(readProvenance({ provenance: "" })).toBeNull();
  });

  it("writes only valid provenance and reads back what was written", () => {
    const record: Provenance = {
      method: "gatys-ecker-bethge-2015",
      runId: "r1",
      roomId: "room1",
      authorId: "u1",
      savedBy: "u2",
      savedAt: "2026-11-28T12:00:00.000Z",
      kind: "final",
      params,
      seed: params.seed,
      backend: "wasm",
      modelHash: null,
      iterations: 300,
      targetIterations: 300,
      status: "completed",
      timings: { createdAt: "2026-11-28T11:00:00.000Z", startedAt: null, finishedAt: null, computeMs: 1200 },
      contentImageId: "c",
      styleImageIds: ["s"],
      styleWeights: [1],
      resumedFromId: null,
      liveEdits: [{ iteration: 3, field: "styleWeight", value: 50, authorId: "u2" }],
      width: 512,
      height: 384,
    };
    expect(readProvenance({ provenance: serializeProvenance(record) })).toEqual(record);
    expect(() => serializeProvenance({ ...record, kind: "draft" as never })).toThrow(/invalid provenance: kind/);
    expect(() => serializeProvenance({ ...record, width: 0 })).toThrow(/width/);
    // a present field must be valid, even though a stored record may lack fields
    expect(readProvenance({ provenance: JSON.stringify({ ...record, iterations: "many" }) })).toBeNull();
  });
});

describe("loss history column", () => {
  const point = (iteration: number) => ({
    runId: "r1",
    iteration,
    scale: 0,
    total: 3,
    content: 1,
    style: { relu1_1: 2 },
    tv: 0,
    ms: 4,
  });

  it("round-trips a curve", () => {
    const curve = [point(1), point(2)];
    expect(readLossHistory({ lossHistory: serializeLossHistory(curve) })).toEqual(curve);
  });

  it("stores at most MAX_LOSS_HISTORY points, the newest", () => {
    const curve = Array.from({ length: MAX_LOSS_HISTORY + 3 }, (_, i) => point(i + 1));
    const stored = readLossHistory({ lossHistory: serializeLossHistory(curve) });
    expect(stored).toHaveLength(MAX_LOSS_HISTORY);
    expect(stored[0]!.iteration).toBe(4);
  });

  it("refuses invalid points when writing and reads bad text as no curve", () => {
    expect(() => serializeLossHistory([{ ...point(1), total: "x" as unknown as number }])).toThrow();
    for (const text of ["", "{", "null", '[{"iteration":1}]'])
      expect(readLossHistory({ lossHistory: text })).toEqual([]);
  });
});

/**
 * Settings from room to pixels (issue 27): every field a room document holds, set through the
 * room (doc:edit, mask:edit) on a real service, reaches the engine — the Run row keeps it, and
 * the run's result shows it (its loss terms at the first iteration, its size, its colours, its
 * picture). The table is keyed by the protocol's own field list and covers every option of each
 * enum and boolean field, so a setting added to the protocol without a row here, or one the
 * service does not hand to the engine, fails this file.
 *
 * Tiny runs (64 px, 3 Adam iterations, one level): the first iteration's losses are those of
 * the initial image, so a weight shows as an exact ratio and a layer or pooling choice as a
 * different figure, without a long optimisation.
 */
// test-plan: one database engine (the settings travel through the same Run row code on both; the
// PostgreSQL pass has runs.test.ts for the row itself)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRunParams, serializeRoomDocument } from "@atelier/db";
import { decodeImage, type RgbImage } from "@atelier/engine";
import {
  defaultScalePlan,
  roomDocument,
  ROOM_FIELDS,
  type IterationStats,
  type RoomDocument,
  type RoomField,
  type RunParams,
} from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  createFixture,
  imageAt,
  joinRoom,
  pixelDistance,
  request,
  startServer,
  tinyDocument,
  waitFor,
  type Fixture,
} from "./support.ts";

let f: Fixture;
let server: OptimizerServer;

/** What a run left: its stored params, its loss curve and its final image. */
interface Painted {
  params: RunParams;
  history: IterationStats[];
  iterations: number;
  image: RgbImage;
}

/** A room's settings as the table sets them: document fields, plus painted regions as strokes. */
type Settings = Partial<Omit<RoomDocument, "masks">> & { masks?: { styleIndex: number; strokes: number } };

const base = (): RoomDocument =>
  tinyDocument(f, { size: 64, iterations: 3, multiscale: false, optimizer: "adam", learningRate: 5 });

/** the left half of the photo, painted as a few wide horizontal strokes (masks.test.ts) */
const leftHalf = (strokeId: string) => ({
  strokeId,
  tool: "brush",
  size: 0.25,
  points: [
    [0, 0.1],
    [0.37, 0.1],
    [0.37, 0.5],
    [0, 0.5],
    [0, 0.9],
    [0.37, 0.9],
  ],
});

const runs = new Map<string, Promise<Painted>>();

/** A run of a fresh room whose members set `settings` through the room (memoised: references are shared). */
function paint(settings: Settings): Promise<Painted> {
  const key = JSON.stringify(settings);
  let run = runs.get(key);
  if (!run) {
    run = paintOnce(settings);
    runs.set(key, run);
  }
  return run;
}

async function paintOnce(settings: Settings): Promise<Painted> {
  const room = await f.db.room.create({
    data: {
      name: "Settings",
      ownerId: f.users.owner.id,
      document: serializeRoomDocument(base()),
      members: { create: [{ userId: f.users.owner.id, role: "owner" }] },
    },
  });
  const { socket, state } = await joinRoom(server, f.users.owner, room.id);
  try {
    let version = state.version;
    const { masks, ...fields } = settings;
    for (const [field, value] of Object.entries(fields)) {
      const reply = await request(socket, "doc:edit", { roomId: room.id, field, value, baseVersion: version });
      if (!reply.ok) throw new Error(`doc:edit ${field}: ${reply.error}`);
      version = reply.version;
    }
    if (masks) {
      const styleImageId = (settings.styles ?? base().styles)[masks.styleIndex]!.imageId;
      for (let i = 0; i < masks.strokes; i++) {
        const stroke = leftHalf(`stroke-${i}`);
        const reply = await request(socket, "mask:edit", { op: "stroke", roomId: room.id, styleImageId, stroke });
        if (!reply.ok) throw new Error(`mask:edit: ${reply.error}`);
      }
    }
    const started = await request(socket, "run:start", { roomId: room.id });
    if (!started.ok) throw new Error(started.error);
    const end = await waitFor(
      socket,
      "run:update",
      (u) => u.run.runId === started.run.runId && u.run.status !== "running" && u.run.status !== "queued",
    );
    if (end.run.status !== "completed") throw new Error(`run ${end.run.status}: ${end.run.error}`);
    const row = await f.db.run.findUniqueOrThrow({ where: { id: started.run.runId } });
    return {
      params: readRunParams(row)!,
      history: JSON.parse(row.lossHistory) as IterationStats[],
      iterations: row.iterations,
      image: await decodeImage(`${f.dataDir}/runs/${row.id}/final.png`),
    };
  } finally {
    socket.close();
  }
}

const first = (p: Painted): IterationStats => p.history[0]!;
const styleLoss = (s: IterationStats): number => Object.values(s.style).reduce((a, b) => a + b, 0);
/** how far a / b is from 1 */
const relDiff = (a: number, b: number): number => Math.abs(a / b - 1);
/** distance of a run's picture to an image of ../shared/images at its size */
const distanceTo = async (p: Painted, file: string): Promise<number> =>
  pixelDistance(p.image, await imageAt(file, p.image.width, p.image.height));

/** mean |I| + |Q| difference (YIQ chroma, 0–255 scale) per pixel: how far the colours are, whatever the brightness */
function chromaDistance(a: RgbImage, b: RgbImage): number {
  const iq = (d: Uint8Array, o: number) => [
    0.596 * d[o]! - 0.274 * d[o + 1]! - 0.322 * d[o + 2]!,
    0.211 * d[o]! - 0.523 * d[o + 1]! + 0.312 * d[o + 2]!,
  ];
  let sum = 0;
  for (let o = 0; o < a.data.length; o += 3) {
    const [ai, aq] = iq(a.data, o);
    const [bi, bq] = iq(b.data, o);
    sum += Math.abs(ai! - bi!) + Math.abs(aq! - bq!);
  }
  return sum / (a.data.length / 3);
}

/** the largest per-channel difference of the mean colours */
function meanColourDistance(a: RgbImage, b: RgbImage): number {
  const mean = (img: RgbImage) => {
    const m = [0, 0, 0];
    for (let o = 0; o < img.data.length; o += 3) for (let c = 0; c < 3; c++) m[c]! += img.data[o + c]!;
    return m.map((v) => v / (img.data.length / 3));
  };
  const [ma, mb] = [mean(a), mean(b)];
  return Math.max(...ma.map((v, c) => Math.abs(v - mb[c]!)));
}

const content = async (p: Painted) => imageAt("tubingen.jpg", p.image.width, p.image.height);

/** Colour rows start from the style image, so a result that ignores colour control keeps the style's colours. */
const fromStyle: Settings = { init: "style" };

interface Case {
  settings: Settings;
  /** what the result must show (a run of other settings is `paint(...)`, memoised) */
  shows(p: Painted): Promise<void>;
}

/** Every field of the protocol's room document, with the cases that set it and what each must show. */
const CASES: Record<RoomField, Case[]> = {
  size: [
    {
      settings: { size: 96 },
      shows: async (p) => expect(Math.max(p.image.width, p.image.height)).toBe(96),
    },
  ],
  iterations: [
    {
      settings: { iterations: 5 },
      shows: async (p) => {
        expect(p.iterations).toBe(5);
        expect(p.history.map((s) => s.iteration)).toEqual([1, 2, 3, 4, 5]);
      },
    },
  ],
  optimizer: [
    {
      settings: { optimizer: "lbfgs" },
      shows: async (p) => expect(pixelDistance(p.image, (await paint({})).image)).toBeGreaterThan(0.5),
    },
    // the default of the table's base: every option is a case (see the coverage test)
    { settings: { optimizer: "adam" }, shows: async (p) => expect(p.image).toEqual((await paint({})).image) },
  ],
  learningRate: [
    {
      // Adam's steps are about learningRate per pixel: 4× the rate moves the photo much further
      settings: { learningRate: 20 },
      shows: async (p) =>
        expect(await distanceTo(p, "tubingen.jpg")).toBeGreaterThan(
          2 * (await distanceTo(await paint({}), "tubingen.jpg")),
        ),
    },
  ],
  contentWeight: [
    {
      // from the style image, so the content term is not 0 at the first iteration
      settings: { init: "style", contentWeight: 50 },
      shows: async (p) => expect(first(p).content / first(await paint({ init: "style" })).content).toBeCloseTo(10, 3),
    },
  ],
  styleWeight: [
    {
      settings: { styleWeight: 1000 },
      shows: async (p) => expect(styleLoss(first(p)) / styleLoss(first(await paint({})))).toBeCloseTo(10, 3),
    },
  ],
  tvWeight: [
    {
      settings: { tvWeight: 0.1 },
      shows: async (p) => expect(first(p).tv / first(await paint({})).tv).toBeCloseTo(100, 1),
    },
  ],
  styleScale: [
    {
      settings: { styleScale: 2 },
      shows: async (p) => expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint({}))))).toBeGreaterThan(0.01),
    },
  ],
  originalColors: [
    {
      // colour control absent: "Original colours" means luminance only — the photo's chroma
      settings: { ...fromStyle, originalColors: true },
      shows: async (p) => {
        expect(chromaDistance(p.image, await content(p))).toBeLessThan(3);
        expect(chromaDistance((await paint(fromStyle)).image, await content(p))).toBeGreaterThan(10);
      },
    },
    {
      settings: { ...fromStyle, originalColors: false },
      shows: async (p) => expect(p.image).toEqual((await paint(fromStyle)).image),
    },
  ],
  colorControl: [
    {
      // an explicit choice wins over "Original colours": the style's colours stay
      settings: { ...fromStyle, originalColors: true, colorControl: "none" },
      shows: async (p) => expect(chromaDistance(p.image, await content(p))).toBeGreaterThan(10),
    },
    {
      settings: { ...fromStyle, colorControl: "luminance" },
      shows: async (p) => expect(chromaDistance(p.image, await content(p))).toBeLessThan(3),
    },
    {
      // the style images recoloured to the photo's colours before the run: other Gram targets
      settings: { colorControl: "match-style" },
      shows: async (p) => expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint({}))))).toBeGreaterThan(0.01),
    },
    {
      // the result's colours matched to the photo's: its mean colour is the photo's
      settings: { ...fromStyle, colorControl: "match-result" },
      shows: async (p) => {
        expect(meanColourDistance(p.image, await content(p))).toBeLessThan(3);
        expect(meanColourDistance((await paint(fromStyle)).image, await content(p))).toBeGreaterThan(10);
      },
    },
  ],
  init: [
    { settings: { init: "content" }, shows: async (p) => expect(await distanceTo(p, "tubingen.jpg")).toBeLessThan(15) },
    {
      settings: { init: "style" },
      shows: async (p) =>
        expect(await distanceTo(p, "starry_night.jpg")).toBeLessThan((await distanceTo(p, "tubingen.jpg")) / 2),
    },
    {
      // noise: far from the photo, and the content term is far from 0 at the first iteration
      settings: { init: "noise" },
      shows: async (p) => {
        expect(await distanceTo(p, "tubingen.jpg")).toBeGreaterThan(30);
        expect(first(p).content).toBeGreaterThan(100 * Math.max(1e-6, first(await paint({})).content));
      },
    },
  ],
  seed: [
    {
      settings: { init: "noise", seed: 7 },
      shows: async (p) => expect(pixelDistance(p.image, (await paint({ init: "noise" })).image)).toBeGreaterThan(5),
    },
  ],
  pooling: [
    {
      settings: { pooling: "avg" },
      shows: async (p) => expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint({}))))).toBeGreaterThan(0.01),
    },
    { settings: { pooling: "max" }, shows: async (p) => expect(p.image).toEqual((await paint({})).image) },
  ],
  contentLayers: [
    {
      settings: { init: "style", contentLayers: ["relu3_1"] },
      shows: async (p) =>
        expect(relDiff(first(p).content, first(await paint({ init: "style" })).content)).toBeGreaterThan(0.01),
    },
  ],
  styleLayers: [
    {
      settings: { styleLayers: ["relu1_1", "relu3_1"] },
      shows: async (p) => expect(Object.keys(first(p).style).sort()).toEqual(["relu1_1", "relu3_1"]),
    },
  ],
  multiscale: [
    {
      // above the coarsest level's 128 px: two levels
      settings: { size: 182, iterations: 2, multiscale: true },
      shows: async (p) => {
        const levels = defaultScalePlan(182, 2, true).sizes.length;
        expect(levels).toBeGreaterThan(1);
        expect(new Set(p.history.map((s) => s.scale)).size).toBe(levels);
      },
    },
    {
      settings: { size: 182, iterations: 2, multiscale: false },
      shows: async (p) => expect(new Set(p.history.map((s) => s.scale))).toEqual(new Set([0])),
    },
  ],
  contentImageId: [
    {
      settings: { contentImageId: "" /* set in beforeAll: the second style image as the photo */ },
      shows: async (p) =>
        expect(await distanceTo(p, "the_scream.jpg")).toBeLessThan((await distanceTo(p, "tubingen.jpg")) / 2),
    },
  ],
  styles: [
    {
      settings: { styles: [] /* set in beforeAll: the other style image */ },
      shows: async (p) => expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint({}))))).toBeGreaterThan(0.01),
    },
    {
      // blend weights reach the engine: a weight of 0 leaves the first style alone, equal ones blend
      settings: { styles: [] /* set in beforeAll: both, weights 1 and 0 */ },
      shows: async (p) => expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint({}))))).toBeLessThan(1e-3),
    },
    {
      settings: { styles: [] /* set in beforeAll: both, weights 1 and 1 */ },
      shows: async (p) => {
        expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint({}))))).toBeGreaterThan(0.01);
        expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint(CASES.styles[0]!.settings))))).toBeGreaterThan(
          0.01,
        );
      },
    },
  ],
  masks: [
    {
      // the first style painted on the left half: its Gram is taken there only
      settings: { styles: [] /* set in beforeAll: both, weights 1 and 1 */, masks: { styleIndex: 0, strokes: 1 } },
      shows: async (p) =>
        expect(relDiff(styleLoss(first(p)), styleLoss(first(await paint(CASES.styles[2]!.settings))))).toBeGreaterThan(
          0.01,
        ),
    },
  ],
};

/** The schema behind a field, without its default/optional wrapper (zod 4's `def`). */
function optionsOf(field: RoomField): unknown[] | null {
  let schema = roomDocument.shape[field] as unknown as { def: { type: string; innerType?: unknown; entries?: object } };
  while (schema.def.type === "default" || schema.def.type === "optional")
    schema = schema.def.innerType as typeof schema;
  if (schema.def.type === "enum") return Object.values(schema.def.entries!);
  if (schema.def.type === "boolean") return [true, false];
  return null;
}

beforeAll(async () => {
  f = await createFixture("settings");
  const [starry, scream] = f.styleImageIds as [string, string];
  CASES.contentImageId[0]!.settings.contentImageId = scream;
  CASES.styles[0]!.settings.styles = [{ imageId: scream, weight: 1 }];
  CASES.styles[1]!.settings.styles = [
    { imageId: starry, weight: 1 },
    { imageId: scream, weight: 0 },
  ];
  CASES.styles[2]!.settings.styles = [
    { imageId: starry, weight: 1 },
    { imageId: scream, weight: 1 },
  ];
  CASES.masks[0]!.settings.styles = CASES.styles[2]!.settings.styles;
  server = await startServer(f);
});
afterAll(async () => {
  await server?.close();
  await f?.cleanup();
});

describe("the settings table", () => {
  it("has a row for every field of the protocol's room document, and each row sets its field", () => {
    expect(Object.keys(CASES).sort()).toEqual([...ROOM_FIELDS].sort());
    for (const [field, cases] of Object.entries(CASES)) {
      expect(cases.length, field).toBeGreaterThan(0);
      for (const c of cases) expect(Object.keys(c.settings), field).toContain(field);
    }
  });

  it("sets every option of every enum and boolean field", () => {
    for (const field of ROOM_FIELDS) {
      const options = optionsOf(field);
      if (!options) continue;
      const set = CASES[field].map((c) => (c.settings as Record<string, unknown>)[field]);
      expect(new Set(set), field).toEqual(new Set(options));
    }
  });
});

describe("settings from room to pixels", () => {
  for (const field of ROOM_FIELDS) {
    it(`${field}: the run keeps it and its result shows it`, async () => {
      for (const c of CASES[field]) {
        const p = await paint(c.settings);
        // the Run row holds the room's document as the members set it
        const { masks, ...fields } = c.settings;
        expect(p.params).toMatchObject({ ...base(), ...fields, masks: expect.anything() });
        if (masks) {
          const styleImageId = (c.settings.styles ?? base().styles)[masks.styleIndex]!.imageId;
          expect(p.params.masks[styleImageId]!.strokes).toHaveLength(masks.strokes);
        } else expect(p.params.masks).toEqual({});
        await c.shows(p);
      }
    });
  }
});

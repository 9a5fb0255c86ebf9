import { z } from "zod";
import { id } from "./ids.ts";
import { roomField, runParams } from "./params.ts";
import { runStatus } from "./runs.ts";

/*
 * A saved result's provenance: everything needed to explain and reproduce the image. Written by
 * the optimisation service when a result is saved, stored as JSON with the Result, read by the
 * web app's result page. One schema for both ends.
 */

/** A field changed while the run was going, and from which iteration it applied. */
export const liveEdit = z.object({
  iteration: z.number().int().min(0),
  field: roomField,
  value: z.unknown(),
  authorId: id,
});
export type LiveEdit = z.infer<typeof liveEdit>;

export const provenance = z.object({
  method: z.literal("gatys-ecker-bethge-2015"),
  runId: id,
  roomId: id,
  authorId: id,
  savedBy: id,
  savedAt: z.iso.datetime(),
  /** "final": the run's finished image; "preview": the image reached when it was saved mid-run */
  kind: z.enum(["final", "preview"]),
  params: runParams,
  seed: z.number().int(),
  backend: z.string().nullable(),
  modelHash: z.string().nullable(),
  iterations: z.number().int().min(0),
  targetIterations: z.number().int().min(1),
  status: runStatus,
  timings: z.object({
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    computeMs: z.number().int().min(0),
  }),
  contentImageId: id,
  styleImageIds: z.array(id),
  styleWeights: z.array(z.number()),
  resumedFromId: id.nullable(),
  liveEdits: z.array(liveEdit),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
});
export type Provenance = z.infer<typeof provenance>;

/**
 * How a stored record is read back: every field optional (records written by earlier versions
 * lack newer fields) and unknown fields kept, but a field that is present must be valid.
 */
export const storedProvenance = provenance.partial().loose();
export type StoredProvenance = z.infer<typeof storedProvenance>;

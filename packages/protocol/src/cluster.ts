import { z } from "zod";
import { id } from "./ids.ts";
import { parseFieldValue, roomField } from "./params.ts";

/*
 * What optimiser nodes tell each other in cluster mode (Redis): one schema per inter-node
 * event, checked by the receiving node before it touches a room. A node of another version,
 * or anything else that can write to the channel, gets its message dropped and logged.
 */

export const interNodeEventSchemas = {
  /** a document edit the store accepted through another node (the value is checked against its field) */
  "atelier:doc": z
    .object({
      roomId: id,
      field: roomField,
      value: z.unknown(),
      version: z.number().int().min(0),
      authorId: id,
      authorName: z.string(),
    })
    .superRefine((p, ctx) => {
      const parsed = parseFieldValue(p.field, p.value);
      if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.error, path: ["value"] });
    }),
  /** a member's role changed or they were removed: every node's sockets of that user follow */
  "atelier:membership": z.object({ roomId: id, userId: id }),
} as const;
export type InterNodeEvent = keyof typeof interNodeEventSchemas;
export type InterNodePayload<E extends InterNodeEvent> = z.infer<(typeof interNodeEventSchemas)[E]>;

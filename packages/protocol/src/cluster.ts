import { z } from "zod";
import { id } from "./ids.ts";
import { parseFieldEdit, roomField } from "./params.ts";

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
    // the receiver gets the edit as its field's type (FieldEdit), checked here once
    .transform(({ field, value, ...rest }, ctx) => {
      const parsed = parseFieldEdit(field, value);
      if (!parsed.ok) {
        ctx.addIssue({ code: "custom", message: parsed.error, path: ["value"] });
        return z.NEVER;
      }
      return { ...rest, edit: parsed.edit };
    }),
  /** a member's role changed or they were removed: every node's sockets of that user follow */
  "atelier:membership": z.object({ roomId: id, userId: id }),
  /** a user signed out: every node drops that user's sockets whose token is of an older generation */
  "atelier:session": z.object({ userId: id, generation: z.number().int().min(0) }),
} as const;
export type InterNodeEvent = keyof typeof interNodeEventSchemas;
/** What a node sends (and another receives before checking it). */
export type InterNodePayload<E extends InterNodeEvent> = z.input<(typeof interNodeEventSchemas)[E]>;

/**
 * "Render large" (issue 28): the settings of a run that paints a finished run of the room again
 * at a larger size — that run's own settings (not the room's, which may have moved on since),
 * only its top level at the new size, from its image upscaled (the launcher hands the image to
 * the engine as `{ image, continues: true }`). Refused over the operator's size cap.
 */
import { readRunParams, type Db } from "@atelier/db";
import { renderLargeParams, renderLargeRefusal, type RenderLarge, type RunParams } from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import type { ServiceLimits } from "../common/limits.ts";

export async function renderLargeRunParams(
  db: Db,
  roomId: string,
  runId: string,
  render: RenderLarge,
  limits: Pick<ServiceLimits, "maxSize">,
): Promise<RunParams> {
  const row = await db.run.findFirst({ where: { id: runId, roomId }, select: { params: true, status: true } });
  if (!row) throw new ServiceError("not_found", `run ${runId} is not a run of this room`);
  if (row.status !== "completed") throw new ServiceError("conflict", "only a finished run can be rendered large");
  const source = readRunParams(row);
  if (!source) throw new ServiceError("invalid", "that run's settings cannot be read");
  const refusal = renderLargeRefusal(source.size, render.size, limits.maxSize);
  if (refusal) throw new ServiceError(render.size > limits.maxSize ? "limit" : "invalid", refusal);
  return renderLargeParams(source, render.size);
}

/**
 * Where a run's files live under DATA_DIR (checkpoint, final image, lease) and which images a
 * run reads: its content and style files (checked against the user's rights) and the image a
 * restart, resume or branch continues from.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import type { Db } from "@atelier/db";
import type { RunParams } from "@atelier/protocol";
import { canViewImage, imageFilePath } from "@atelier/storage";
import { ServiceError } from "./errors.ts";

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export class RunFiles {
  constructor(
    private readonly db: Db,
    readonly dataDir: string,
  ) {}

  runDir(runId: string): string {
    return path.join(this.dataDir, "runs", runId);
  }
  /** a path as stored in the database: relative to DATA_DIR, with forward slashes */
  relative(file: string): string {
    return path.relative(this.dataDir, file).split(path.sep).join("/");
  }
  absolute(relativePath: string): string {
    return path.resolve(this.dataDir, relativePath);
  }
  finalImagePath(runId: string): string {
    return path.join(this.runDir(runId), "final.png");
  }
  checkpointFile(runId: string): string {
    return path.join(this.runDir(runId), "checkpoint.png");
  }
  /** the absolute path of a stored checkpoint when its file is still there */
  async existingCheckpoint(relativePath: string | null): Promise<string | null> {
    if (!relativePath) return null;
    const file = this.absolute(relativePath);
    return (await exists(file)) ? file : null;
  }

  /** File paths of the run's images, checking that they exist and that the user may use them. */
  async resolveImages(params: RunParams, userId: string): Promise<{ contentPath: string; stylePaths: string[] }> {
    const ids = [params.contentImageId, ...params.styles.map((s) => s.imageId)];
    const rows = await this.db.image.findMany({ where: { id: { in: ids } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const pathOf = async (id: string, what: string) => {
      const image = byId.get(id);
      if (!image) throw new ServiceError("not_found", `the ${what} image ${id} does not exist`);
      if (!(await canViewImage(this.db, id, userId)))
        throw new ServiceError("forbidden", `you may not use the ${what} image ${id}`);
      const file = imageFilePath(image, { dataDir: this.dataDir });
      if (!(await exists(file))) throw new ServiceError("not_found", `the file of the ${what} image ${id} is missing`);
      return file;
    };
    const contentPath = await pathOf(params.contentImageId, "content");
    const stylePaths: string[] = [];
    for (const style of params.styles) stylePaths.push(await pathOf(style.imageId, "style"));
    return { contentPath, stylePaths };
  }

  /** The newest image a finished or stopped run left: its final image, else its last checkpoint, else its kept image. */
  async imageToContinueFrom(runId: string): Promise<string | null> {
    const final = this.finalImagePath(runId);
    if (await exists(final)) return final;
    const row = await this.db.run.findUnique({
      where: { id: runId },
      select: { checkpointPath: true, finalImage: { select: { sha256: true, mime: true } } },
    });
    const checkpoint = await this.existingCheckpoint(row?.checkpointPath ?? null);
    if (checkpoint) return checkpoint;
    const kept = row?.finalImage ? imageFilePath(row.finalImage, { dataDir: this.dataDir }) : null;
    return kept && (await exists(kept)) ? kept : null;
  }

  /** The image an earlier run of this room left, to start a new run from (branching); refused when it left none. */
  async imageOfRoomRun(roomId: string, runId: string): Promise<string> {
    const row = await this.db.run.findFirst({ where: { id: runId, roomId }, select: { id: true } });
    if (!row) throw new ServiceError("not_found", `run ${runId} is not a run of this room`);
    const file = await this.imageToContinueFrom(runId);
    if (!file) throw new ServiceError("not_found", "that run left no image to continue from");
    return file;
  }
}

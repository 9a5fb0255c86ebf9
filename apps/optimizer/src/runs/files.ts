/**
 * Where a run's files live in the file store (checkpoint, final image, lease: `runs/<id>/…`;
 * @atelier/files' FileStore: a directory every node shares, or an S3 bucket) and which images a
 * run reads: its content and style files (checked against the user's rights) and the image a
 * restart, resume or branch continues from. The engine takes paths: every path handed out here
 * is a local file with the stored bytes (fetched from a remote store), and what the engine
 * writes at a local path reaches the store through `keep`.
 */
import type { Db } from "@atelier/db";
import type { FileStore } from "@atelier/files";
import type { RunParams } from "@atelier/protocol";
import { canViewImage, fileStoreOf, imageKey } from "@atelier/storage";
import { ServiceError } from "../common/errors.ts";

export class RunFiles {
  /** images and run files, by key; paths below are its local paths */
  readonly store: FileStore;

  constructor(
    private readonly db: Db,
    readonly dataDir: string,
  ) {
    this.store = fileStoreOf({ dataDir });
  }

  runDir(runId: string): string {
    return this.store.localPath(`runs/${runId}`);
  }
  /** a path as stored in the database: its key in the file store (relative to DATA_DIR, forward slashes) */
  relative(file: string): string {
    const key = this.store.keyOf(file);
    if (key === null) throw new Error("a run file outside the file store");
    return key;
  }
  finalImagePath(runId: string): string {
    return this.store.localPath(`runs/${runId}/final.png`);
  }
  checkpointFile(runId: string): string {
    return this.store.localPath(`runs/${runId}/checkpoint.png`);
  }
  /** whether a file (one of this store's local paths) is there */
  async exists(file: string): Promise<boolean> {
    const key = this.store.keyOf(file);
    return key !== null && (await this.store.stat(key)) !== null;
  }
  /** the local path of a stored checkpoint (its key) when its file is still there, fetched to this machine */
  async existingCheckpoint(key: string | null): Promise<string | null> {
    if (!key) return null;
    // a key the database holds is checked like any input: a bad one is no checkpoint
    try {
      return await this.store.fetchLocal(key);
    } catch {
      return null;
    }
  }
  /** Keeps a file the engine wrote at one of the store's local paths in the store; returns its key. */
  async keep(file: string): Promise<string> {
    const key = this.relative(file);
    await this.store.storeLocal(key);
    return key;
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
      const file = await this.store.fetchLocal(imageKey(image));
      if (!file) throw new ServiceError("not_found", `the file of the ${what} image ${id} is missing`);
      return file;
    };
    const contentPath = await pathOf(params.contentImageId, "content");
    const stylePaths: string[] = [];
    for (const style of params.styles) stylePaths.push(await pathOf(style.imageId, "style"));
    return { contentPath, stylePaths };
  }

  /** The newest image a finished or stopped run left: its final image, else its last checkpoint, else its kept image. */
  async imageToContinueFrom(runId: string): Promise<string | null> {
    const final = await this.store.fetchLocal(this.relative(this.finalImagePath(runId)));
    if (final) return final;
    const row = await this.db.run.findUnique({
      where: { id: runId },
      select: { checkpointPath: true, finalImage: { select: { sha256: true, mime: true } } },
    });
    const checkpoint = await this.existingCheckpoint(row?.checkpointPath ?? null);
    if (checkpoint) return checkpoint;
    return row?.finalImage ? this.store.fetchLocal(imageKey(row.finalImage)) : null;
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

/**
 * Members never see server paths: a run that fails on a corrupt stored image tells the room a
 * plain message (the full error is logged on the server).
 */
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFilePath } from "@atelier/storage";
import { memberVisibleError } from "../src/common/errors.ts";
import type { OptimizerServer } from "../src/gateway/server.ts";
import { connect, createFixture, request, startServer, waitFor, type Client, type Fixture } from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

describe("memberVisibleError (pure)", () => {
  it("replaces absolute paths and keeps the rest", () => {
    expect(
      memberVisibleError("/srv/atelier/data/images/ab/abcd.jpg looks like image/jpeg but its header cannot be read"),
    ).toBe("a stored image file looks like image/jpeg but its header cannot be read");
    expect(memberVisibleError("ENOENT: no such file, open '/tmp/x/runs/r1/checkpoint.png'")).toBe(
      "ENOENT: no such file, open 'a stored image file'",
    );
    expect(memberVisibleError("C:\\data\\images\\a.png is broken")).toBe("a stored image file is broken");
    expect(memberVisibleError("out of memory at iteration 3/10")).toBe("out of memory at iteration 3/10");
  });
});

describe("a run failing on a corrupt stored image", () => {
  let f: Fixture;
  let server: OptimizerServer;
  let owner: Client;
  let viewer: Client;

  beforeAll(async () => {
    f = await createFixture("leaks");
    server = await startServer(f);
    owner = await connect(server, f.users.owner);
    viewer = await connect(server, f.users.viewer);
    for (const s of [owner, viewer]) {
      const joined = await request(s, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
      if (!joined.ok) throw new Error(joined.error);
    }
  });
  afterAll(async () => {
    owner?.close();
    viewer?.close();
    await server?.close();
    await f?.cleanup();
  });

  it("tells members what failed without the server's file paths", async () => {
    const image = await f.db.image.findUniqueOrThrow({ where: { id: f.contentImageId } });
    // still starts like a JPEG, then garbage: the stored file is corrupt
    writeFileSync(imageFilePath(image, { dataDir: f.dataDir }), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]));
    const failed = waitFor(viewer, "run:update", (u) => u.run.status === "failed");
    const roomError = waitFor(viewer, "room:error");
    const started = await request(owner, "run:start", { roomId: f.roomId, restart: false });
    expect(started.ok).toBe(true);
    const [update, error] = await Promise.all([failed, roomError]);
    for (const text of [update.run.error ?? "", error.error]) {
      expect(text).not.toContain(f.dataDir);
      expect(text).not.toMatch(/\/[\w.-]+\/[\w.-]+/);
      expect(text).toMatch(/stored image file/);
    }
    const row = await f.db.run.findUniqueOrThrow({ where: { id: update.run.runId } });
    expect(row.error).not.toContain(f.dataDir);
  });
});

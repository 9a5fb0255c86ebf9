import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defaultRoomDocument, editField, parseFieldValue, runParams, isLiveStylesEdit } from "../src/index.ts";
import {
  signMembershipChange,
  signRealtimeToken,
  signSessionEnded,
  verifyMembershipChange,
  verifyRealtimeToken,
  verifySessionEnded,
} from "../src/token.ts";

describe("room document", () => {
  it("has jcjohnson's weights and the Balanced preset's size, iterations and coarse-to-fine", () => {
    const d = defaultRoomDocument();
    expect(d).toMatchObject({
      contentWeight: 5,
      styleWeight: 100,
      tvWeight: 1e-3,
      size: 512,
      iterations: 200,
      multiscale: true,
      optimizer: "lbfgs",
      contentImageId: null,
      styles: [],
    });
    expect(d.styleLayers).toEqual(["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]);
  });
  it("validates one field with its own schema", () => {
    expect(parseFieldValue("styleWeight", 250)).toEqual({ ok: true, value: 250 });
    const bad = parseFieldValue("styleWeight", "lots");
    expect(bad.ok).toBe(false);
    expect(parseFieldValue("size", 10_000).ok).toBe(false);
    expect(parseFieldValue("styleLayers", ["relu9_9"]).ok).toBe(false);
  });
  it("rejects unknown fields and negative versions", () => {
    expect(editField.safeParse({ roomId: "r", field: "nope", value: 1, baseVersion: 0 }).success).toBe(false);
    expect(editField.safeParse({ roomId: "r", field: "size", value: 1, baseVersion: -1 }).success).toBe(false);
  });
  it("a run needs a content image and a weighted style", () => {
    const d = defaultRoomDocument();
    expect(runParams.safeParse(d).success).toBe(false);
    expect(runParams.safeParse({ ...d, contentImageId: "c", styles: [{ imageId: "s", weight: 0 }] }).success).toBe(
      false,
    );
    expect(runParams.safeParse({ ...d, contentImageId: "c", styles: [{ imageId: "s", weight: 1 }] }).success).toBe(
      true,
    );
  });
  it("weight-only styles edits are live", () => {
    expect(isLiveStylesEdit([{ imageId: "a", weight: 1 }], [{ imageId: "a", weight: 3 }])).toBe(true);
    expect(isLiveStylesEdit([{ imageId: "a", weight: 1 }], [{ imageId: "b", weight: 1 }])).toBe(false);
  });
});

describe("realtime token", () => {
  const secret = "s3cret";
  it("round-trips", () => {
    const t = signRealtimeToken({ id: "u1", name: "Ada" }, secret);
    const v = verifyRealtimeToken(t, secret);
    expect(v).toMatchObject({ ok: true, payload: { sub: "u1", name: "Ada" } });
  });
  it("refuses a wrong secret, tampering, expiry and garbage", () => {
    const t = signRealtimeToken({ id: "u1", name: "Ada" }, secret, 60, 0);
    expect(verifyRealtimeToken(t, "other", 0)).toEqual({ ok: false, error: "bad token signature" });
    const [body, sig] = t.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "admin", name: "x", exp: 9e9 })).toString("base64url");
    expect(verifyRealtimeToken(`${forged}.${sig}`, secret, 0).ok).toBe(false);
    expect(verifyRealtimeToken(`${body}.${sig}`, secret, 61_000)).toEqual({ ok: false, error: "token expired" });
    expect(verifyRealtimeToken(undefined, secret)).toEqual({ ok: false, error: "no token" });
    expect(verifyRealtimeToken("abc", secret)).toEqual({ ok: false, error: "malformed token" });
  });
  it("carries the session generation; a token from before generations counts as 0", () => {
    const t = signRealtimeToken({ id: "u1", name: "Ada", generation: 3 }, secret);
    expect(verifyRealtimeToken(t, secret)).toMatchObject({ ok: true, payload: { gen: 3 } });
    const old = Buffer.from(JSON.stringify({ sub: "u1", name: "Ada", exp: 9e9 })).toString("base64url");
    const oldSig = createHmac("sha256", secret).update(old).digest("base64url");
    expect(verifyRealtimeToken(`${old}.${oldSig}`, secret)).toMatchObject({ ok: true, payload: { gen: 0 } });
  });
});

describe("service messages", () => {
  const secret = "s3cret";
  it("a sign-out names the user and the generation their sockets must have reached", () => {
    const m = signSessionEnded({ userId: "u1", generation: 2 }, secret, 0);
    expect(verifySessionEnded(m, secret, 0)).toMatchObject({ ok: true, ended: { userId: "u1", generation: 2 } });
    expect(verifySessionEnded(m, "other", 0)).toEqual({ ok: false, error: "bad message signature" });
    expect(verifySessionEnded(m, secret, 61_000)).toEqual({ ok: false, error: "message expired" });
  });
  it("one kind of message never passes for another, nor a user token for either", () => {
    const membership = signMembershipChange({ roomId: "r", userId: "u1" }, secret);
    expect(verifySessionEnded(membership, secret).ok).toBe(false);
    expect(verifyMembershipChange(signSessionEnded({ userId: "u1", generation: 1 }, secret), secret).ok).toBe(false);
    expect(verifySessionEnded(signRealtimeToken({ id: "u1", name: "A" }, secret), secret).ok).toBe(false);
  });
});

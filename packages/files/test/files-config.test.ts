import { describe, expect, it } from "vitest";
import { filesConfigOf } from "../src/index.ts";

describe("filesConfigOf", () => {
  it("is the directory without ATELIER_FILES, an S3 bucket and prefix with it", () => {
    expect(filesConfigOf({})).toEqual({ kind: "directory" });
    expect(filesConfigOf({ ATELIER_FILES: " " })).toEqual({ kind: "directory" });
    expect(filesConfigOf({ ATELIER_FILES: "s3://atelier-prod/eu/one/", AWS_REGION: "eu-west-3" })).toEqual({
      kind: "s3",
      bucket: "atelier-prod",
      prefix: "eu/one/",
      region: "eu-west-3",
      forcePathStyle: false,
    });
    expect(
      filesConfigOf({
        ATELIER_FILES: "s3://b12",
        ATELIER_S3_ENDPOINT: "http://127.0.0.1:9000",
        ATELIER_S3_REGION: "auto",
      }),
    ).toEqual({
      kind: "s3",
      bucket: "b12",
      prefix: "",
      endpoint: "http://127.0.0.1:9000",
      region: "auto",
      forcePathStyle: true,
    });
    expect(
      filesConfigOf({
        ATELIER_FILES: "s3://b12/p",
        ATELIER_S3_ENDPOINT: "https://x.r2.dev",
        ATELIER_S3_FORCE_PATH_STYLE: "false",
      }).kind,
    ).toBe("s3");
  });

  it("refuses values that are not a store, saying which", () => {
    expect(() => filesConfigOf({ ATELIER_FILES: "/mnt/nfs" })).toThrow(/ATELIER_FILES must be s3:\/\/bucket/);
    expect(() => filesConfigOf({ ATELIER_FILES: "s3://Bad_Bucket/x" })).toThrow(/not an S3 bucket name/);
    expect(() => filesConfigOf({ ATELIER_FILES: "s3://bucket/a/../b" })).toThrow(/not a plain path/);
    expect(() => filesConfigOf({ ATELIER_FILES: "s3://bucket/a//b" })).toThrow(/not a plain path/);
    expect(() => filesConfigOf({ ATELIER_FILES: "s3://bucket", ATELIER_S3_ENDPOINT: "localhost:9000" })).toThrow(
      /ATELIER_S3_ENDPOINT must be an http/,
    );
    expect(() => filesConfigOf({ ATELIER_FILES: "s3://bucket", ATELIER_S3_FORCE_PATH_STYLE: "yes" })).toThrow(
      /ATELIER_S3_FORCE_PATH_STYLE/,
    );
  });
});

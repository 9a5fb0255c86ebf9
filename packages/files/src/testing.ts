/*
 * For tests: s3rver, an S3 emulator (a local Node server that speaks enough of the S3 API —
 * objects, multipart uploads, buckets — and keeps objects in a folder). It is not S3: no
 * consistency model, IAM or regions of the real service; it checks that the S3 client's
 * requests are right, not how S3 behaves at scale. Loopback only, on a free port.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

/** the part of s3rver's API used here (it ships no types) */
type S3rverServer = { run(): Promise<AddressInfo>; close(): Promise<void> };
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;

/** the emulator's fixed key pair (it checks request signatures against it) */
export const S3_EMULATOR_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export type S3Emulator = {
  endpoint: string;
  /** what a process needs in its environment to use `s3://<bucket>/<prefix>` on this emulator */
  env(bucket: string, prefix?: string): Record<string, string>;
  close(): Promise<void>;
};

export async function startS3Emulator(buckets: string[]): Promise<S3Emulator> {
  const directory = mkdtempSync(path.join(os.tmpdir(), "atelier-s3-emulator-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    env: (bucket, prefix = "") => ({
      ATELIER_FILES: `s3://${bucket}/${prefix}`,
      ATELIER_S3_ENDPOINT: endpoint,
      ATELIER_S3_REGION: "us-east-1",
      ATELIER_S3_FORCE_PATH_STYLE: "true",
      AWS_ACCESS_KEY_ID: S3_EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3_EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    }),
    close: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

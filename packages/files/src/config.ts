/*
 * Which file store a process uses, from its environment (read here and nowhere else in the
 * package): ATELIER_FILES=s3://bucket/prefix for an S3 bucket (ATELIER_S3_ENDPOINT,
 * ATELIER_S3_REGION, ATELIER_S3_FORCE_PATH_STYLE; credentials from the AWS SDK's usual chain),
 * else the directory DATA_DIR.
 */
import path from "node:path";
import { SharedDirectory, type FileStore } from "./file-store.ts";
import { S3FileStore } from "./s3-file-store.ts";

export interface FilesEnv {
  ATELIER_FILES?: string;
  ATELIER_S3_ENDPOINT?: string;
  ATELIER_S3_REGION?: string;
  ATELIER_S3_FORCE_PATH_STYLE?: string;
  AWS_REGION?: string;
  [name: string]: string | undefined;
}

export function filesEnv(): FilesEnv {
  return process.env;
}

/** Keys whose bytes never change: images and thumbnails are named by their content's hash. */
export const IMMUTABLE_PREFIXES = ["images/", "thumbs/"] as const;

export type FilesConfig =
  | { kind: "directory" }
  | { kind: "s3"; bucket: string; prefix: string; endpoint?: string; region: string; forcePathStyle: boolean };

// bucket names as S3 allows them (3–63 lowercase letters, digits, dots, hyphens)
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The file store the environment asks for; throws a clear error on a value that is not one. */
export function filesConfigOf(env: FilesEnv): FilesConfig {
  const spec = env.ATELIER_FILES?.trim();
  if (!spec) return { kind: "directory" };
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(spec);
  if (!match) throw new Error(`ATELIER_FILES must be s3://bucket[/prefix] (or unset for DATA_DIR), not "${spec}"`);
  const bucket = match[1]!;
  if (!BUCKET.test(bucket)) throw new Error(`ATELIER_FILES: "${bucket}" is not an S3 bucket name`);
  const rawPrefix = (match[2] ?? "").replace(/\/+$/, "");
  if (rawPrefix.split("/").some((p) => p === "." || p === ".." || (rawPrefix !== "" && p === "")))
    throw new Error(`ATELIER_FILES: the prefix "${rawPrefix}" is not a plain path`);
  const endpoint = env.ATELIER_S3_ENDPOINT?.trim() || undefined;
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint))
    throw new Error(`ATELIER_S3_ENDPOINT must be an http(s) URL, not "${endpoint}"`);
  const pathStyle = env.ATELIER_S3_FORCE_PATH_STYLE?.trim().toLowerCase();
  if (pathStyle && !["1", "0", "true", "false"].includes(pathStyle))
    throw new Error(`ATELIER_S3_FORCE_PATH_STYLE must be true or false, not "${pathStyle}"`);
  return {
    kind: "s3",
    bucket,
    prefix: rawPrefix ? `${rawPrefix}/` : "",
    ...(endpoint ? { endpoint } : {}),
    region: env.ATELIER_S3_REGION?.trim() || env.AWS_REGION?.trim() || "us-east-1",
    // S3-compatible servers mostly want the bucket in the path; AWS itself, in the host name
    forcePathStyle: pathStyle ? pathStyle === "1" || pathStyle === "true" : Boolean(endpoint),
  };
}

const opened = new Map<string, FileStore>();

/**
 * The process's file store for `dataDir`: the directory itself, or the S3 bucket with its cache
 * in `<dataDir>/s3-cache`. One per configuration and directory (an S3 client keeps its
 * connections open), so callers may ask for it on every use.
 */
export function fileStoreFor(dataDir: string, env: FilesEnv = filesEnv()): FileStore {
  const config = filesConfigOf(env);
  const root = path.resolve(dataDir);
  const id = JSON.stringify([config, root]);
  let store = opened.get(id);
  if (!store) {
    store =
      config.kind === "directory"
        ? new SharedDirectory(root)
        : new S3FileStore({
            ...config,
            cacheDir: path.join(root, "s3-cache"),
            immutablePrefixes: IMMUTABLE_PREFIXES,
          });
    opened.set(id, store);
  }
  return store;
}

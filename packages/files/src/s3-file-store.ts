/*
 * The file store in an S3 bucket (AWS S3 or any S3-compatible store: MinIO, Ceph, R2, GCS
 * interop), so the nodes of a cluster need no shared folder. Keys live under a prefix of the
 * bucket. The engine takes paths, so this machine keeps a cache of what it read or wrote
 * (`cacheDir`, in its own DATA_DIR): content-addressed keys (images, thumbnails) never change
 * and are served from the cache once there; every other key (checkpoints, run files) is fetched
 * again on each `fetchLocal`, since another node may have written it since.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { writeFileAtomic } from "./atomic-write.ts";
import { checkKey, type FileStore, type StoredStream } from "./file-store.ts";

/** S3's smallest multipart part (except the last): the threshold cannot be lower. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

export type S3FileStoreOptions = {
  bucket: string;
  /** keys are stored under it: "" or a path ending in "/" */
  prefix: string;
  /** an S3-compatible server's URL; AWS's own endpoint when absent */
  endpoint?: string;
  region: string;
  /** bucket in the path (http://host/bucket/key), as most S3-compatible servers want */
  forcePathStyle: boolean;
  /** this machine's copy of what it read or wrote (localPath) */
  cacheDir: string;
  /** key prefixes whose bytes never change once written (content-addressed): cached for good */
  immutablePrefixes?: readonly string[];
  /** writes of at least this many bytes go up as a multipart upload, smaller ones as one PUT */
  multipartThreshold?: number;
  /** explicit credentials (tests); otherwise the SDK's usual chain (env, profile, instance role…) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** attempts per request, the SDK's retry with backoff included */
  maxAttempts?: number;
  /** ms before a connection or a silent request is given up (and retried) */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
};

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(error) === 404;
}

/** What a failed HeadBucket at start-up means, said as what to fix. */
function startUpProblem(error: unknown, bucket: string): string {
  const status = statusOf(error);
  const name = (error as Error).name;
  if (status === 404 || name === "NotFound" || name === "NoSuchBucket")
    return `the bucket "${bucket}" does not exist — create it or fix ATELIER_FILES`;
  if (status === 403 || status === 401)
    return `the S3 credentials were refused (HTTP ${status}) — check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and that they may use the bucket`;
  if (status === 301) return "the bucket is in another region — set ATELIER_S3_REGION to its region";
  if (name === "CredentialsProviderError")
    return "no S3 credentials found — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE";
  return `cannot be reached: ${(error as Error).message || name}`;
}

export class S3FileStore implements FileStore {
  readonly client: S3Client;
  private readonly cacheRoot: string;
  private readonly immutable: readonly string[];
  private readonly multipartThreshold: number;

  constructor(readonly options: S3FileStoreOptions) {
    if (options.prefix !== "" && !options.prefix.endsWith("/")) throw new Error("an S3 prefix ends with /");
    this.cacheRoot = path.resolve(options.cacheDir);
    this.immutable = options.immutablePrefixes ?? [];
    this.multipartThreshold = Math.max(MIN_PART_BYTES, options.multipartThreshold ?? 16 * 1024 * 1024);
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      maxAttempts: options.maxAttempts ?? 4,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
      },
      // checksums only where S3 requires them: many S3-compatible servers reject the newer
      // default trailing checksums (aws-chunked bodies) that AWS's own S3 accepts
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    };
    this.client = new S3Client(config);
  }

  get description(): string {
    return `s3://${this.options.bucket}/${this.options.prefix}${this.options.endpoint ? ` at ${this.options.endpoint}` : ""}`;
  }

  private objectKey(key: string): string {
    return this.options.prefix + checkKey(key);
  }

  localPath(key: string): string {
    return path.join(this.cacheRoot, ...checkKey(key).split("/"));
  }

  keyOf(localPath: string): string | null {
    const relative = path.relative(this.cacheRoot, path.resolve(localPath));
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return null;
    return relative.split(path.sep).join("/");
  }

  async read(key: string): Promise<Buffer | null> {
    const got = await this.get(key);
    return got ? Buffer.from(await got.Body!.transformToByteArray()) : null;
  }

  async readStream(key: string): Promise<StoredStream | null> {
    const got = await this.get(key);
    if (!got) return null;
    // in Node the SDK's body is an http.IncomingMessage: a Readable that streams as it arrives
    return { stream: got.Body as Readable, size: got.ContentLength ?? 0 };
  }

  private async get(key: string) {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async write(key: string, bytes: Uint8Array | string, options: { reuseExisting?: boolean } = {}): Promise<void> {
    const body = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
    if (options.reuseExisting && typeof bytes !== "string" && (await this.stat(key))?.size === body.byteLength) return;
    const params = { Bucket: this.options.bucket, Key: this.objectKey(key), Body: body };
    // one PUT is atomic (readers see the old object or the new one); so is a multipart upload,
    // which appears only when completed: big files go up in parts, retried part by part
    if (body.byteLength < this.multipartThreshold) await this.client.send(new PutObjectCommand(params));
    else await new Upload({ client: this.client, params, partSize: MIN_PART_BYTES, queueSize: 2 }).done();
    // this machine's copy is stale now (unless it is what was just stored: storeLocal)
    if (!this.isImmutable(key)) await this.dropCached(key, body);
  }

  async stat(key: string): Promise<{ size: number; modifiedAt: number } | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return { size: head.ContentLength ?? 0, modifiedAt: head.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }));
    await rm(this.localPath(key), { force: true });
  }

  async fetchLocal(key: string): Promise<string | null> {
    const file = this.localPath(key);
    if (
      this.isImmutable(key) &&
      (await readFile(file)
        .then(() => true)
        .catch(() => false))
    )
      return file;
    const bytes = await this.read(key);
    if (!bytes) {
      await rm(file, { force: true });
      return null;
    }
    await writeFileAtomic(file, bytes);
    return file;
  }

  async storeLocal(key: string): Promise<void> {
    const bytes = await readFile(this.localPath(key));
    await this.write(key, bytes);
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (error) {
      throw new Error(`file store ${this.description}: ${startUpProblem(error, this.options.bucket)}`, {
        cause: error,
      });
    }
  }

  private isImmutable(key: string): boolean {
    return this.immutable.some((p) => key.startsWith(p));
  }

  /** Removes this machine's copy of `key` unless it holds exactly `bytes`. */
  private async dropCached(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.localPath(key);
    const cached = await readFile(file).catch(() => null);
    if (cached && !cached.equals(bytes)) await rm(file, { force: true });
  }
}

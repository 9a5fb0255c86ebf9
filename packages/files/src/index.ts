/* Files that readers never see half-written (atomic-write.ts), and where they are kept: a shared
 * directory (file-store.ts) or an S3 bucket (s3-file-store.ts), chosen by config.ts. */
export { writeFileAtomic } from "./atomic-write.ts";
export { SharedDirectory, type FileStore, type StoredStream } from "./file-store.ts";
export { S3FileStore, type S3FileStoreOptions } from "./s3-file-store.ts";
export { fileStoreFor, filesConfigOf, IMMUTABLE_PREFIXES, type FilesConfig, type FilesEnv } from "./config.ts";

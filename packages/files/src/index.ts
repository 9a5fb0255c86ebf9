/* Files that readers never see half-written (atomic-write.ts), and where they are kept (file-store.ts). */
export { writeFileAtomic } from "./atomic-write.ts";
export { SharedDirectory, type FileStore } from "./file-store.ts";

export { getDb, createDb, closeDb, providerOf, type Db, type CreateDbOptions } from "./client.ts";
export { resolveDataDir, findRepoRoot, migrationsDir, type Provider } from "./paths.ts";
export { migrate, readMigrations, type MigrateReport, type Migration } from "./migrate.ts";
export { parseDatabaseUrl, resolveDatabaseTarget, defaultSqliteFile, type DatabaseTarget } from "./url.ts";
export {
  parseRoomDocument,
  readRoomDocument,
  serializeRoomDocument,
  readRunParams,
  serializeRunParams,
  readStyleImageIds,
  serializeStyleImageIds,
  readProvenance,
  serializeProvenance,
  imageIdsOfDocument,
  readLossHistory,
  serializeLossHistory,
  type ParsedRoomDocument,
} from "./json.ts";
export { roleOf } from "./roles.ts";
export { isUniqueViolation, isRecordNotFound } from "./errors.ts";
export type {
  Prisma,
  User,
  Account,
  Session,
  VerificationToken,
  LoginAttempt,
  Room,
  RoomMember,
  RoomInvite,
  Image,
  Style,
  Run,
  Result,
  Like,
} from "./generated/sqlite/client.ts";

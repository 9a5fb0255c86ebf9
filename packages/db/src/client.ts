import type { PrismaClient } from "./generated/sqlite/client.ts";
import { migrateTarget } from "./migrate.ts";
import { resolveDatabaseTarget, type DatabaseTarget } from "./url.ts";

/**
 * The database client. The SQLite and PostgreSQL clients are generated from the same models
 * (prisma/postgresql/schema.prisma is derived from prisma/schema.prisma), so they have the same
 * shape; both are typed as the SQLite one.
 */
export type Db = PrismaClient;

export type CreateDbOptions = {
  /** file:<path> or postgresql://… ; default: `dataDir`'s atelier.db, else DATABASE_URL, else DATA_DIR/atelier.db */
  url?: string;
  /** a folder for the SQLite file (atelier.db), e.g. a temp dir in tests */
  dataDir?: string;
  /** apply the committed migrations first (default true) */
  migrate?: boolean;
};

const providers = new WeakMap<Db, DatabaseTarget["provider"]>();

/** Which provider a client talks to. */
export function providerOf(db: Db): DatabaseTarget["provider"] {
  return providers.get(db) ?? "sqlite";
}

/** A new client, migrated first. The caller owns it: `await db.$disconnect()` when done. */
export async function createDb(options: CreateDbOptions = {}): Promise<Db> {
  const target = resolveDatabaseTarget(options);
  if (options.migrate !== false) await migrateTarget(target);
  let db: Db;
  if (target.provider === "sqlite") {
    const [{ PrismaClient }, { PrismaBetterSQLite3 }] = await Promise.all([
      import("./generated/sqlite/client.ts"),
      import("@prisma/adapter-better-sqlite3"),
    ]);
    db = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: target.url, timeout: 30_000 }) });
  } else {
    const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
      import("./generated/postgresql/client.ts"),
      import("@prisma/adapter-pg"),
    ]);
    db = new PrismaClient({ adapter: new PrismaPg({ connectionString: target.url }) }) as unknown as Db;
  }
  providers.set(db, target.provider);
  return db;
}

// On globalThis so that module reloading (next dev) keeps one client per process.
const SINGLETON = Symbol.for("@atelier/db.singleton");
type Holder = { [SINGLETON]?: Promise<Db> };
const holder = globalThis as Holder;

/** The process's client (DATABASE_URL or DATA_DIR/atelier.db), created and migrated on first use. */
export function getDb(): Promise<Db> {
  let pending = holder[SINGLETON];
  if (!pending) {
    pending = createDb();
    holder[SINGLETON] = pending;
    // a failed start (e.g. database down) must not stick: the next call tries again
    pending.catch(() => {
      if (holder[SINGLETON] === pending) delete holder[SINGLETON];
    });
  }
  return pending;
}

/** Disconnects the process's client (if any); the next getDb() creates a new one. */
export async function closeDb(): Promise<void> {
  const pending = holder[SINGLETON];
  delete holder[SINGLETON];
  if (!pending) return;
  const db = await pending.catch(() => null);
  await db?.$disconnect();
}

// `npm run db:migrate`: applies the committed migrations to DATABASE_URL (or DATA_DIR/atelier.db).
// The apps also do this on their first database access; this is for deploy scripts and checks.
import { migrate } from "../src/migrate.ts";
import { resolveDatabaseTarget } from "../src/url.ts";

const target = resolveDatabaseTarget();
const where = target.provider === "sqlite" ? target.file : "PostgreSQL (DATABASE_URL)";
try {
  const report = await migrate(target.url);
  console.log(
    report.applied.length
      ? `${where}: applied ${report.applied.join(", ")} (${report.alreadyApplied} already applied)`
      : `${where}: up to date (${report.alreadyApplied} migrations applied)`,
  );
} catch (e) {
  console.error(`${where}: ${(e as Error).message}`);
  process.exit(1);
}

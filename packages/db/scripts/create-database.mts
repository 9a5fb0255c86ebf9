// Creates the PostgreSQL database DATABASE_URL names when it does not exist yet (the local
// cluster, `npm run start:cluster`, runs on its own database). Connects to the server's `postgres`
// maintenance database for that; a SQLite URL needs nothing (the file is made on first use).
import pg from "pg";
import { resolveDatabaseTarget } from "../src/url.ts";

const target = resolveDatabaseTarget();
if (target.provider === "postgresql") {
  const url = new URL(target.url);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    console.error(`DATABASE_URL names the database "${name}": use letters, digits and _ only`);
    process.exit(1);
  }
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  try {
    await admin.connect();
    const found = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${name}"`);
      console.log(`created the PostgreSQL database ${name}`);
    } else {
      console.log(`the PostgreSQL database ${name} exists`);
    }
  } catch (e) {
    console.error(`could not create the PostgreSQL database ${name}: ${(e as Error).message}`);
    process.exit(1);
  } finally {
    await admin.end().catch(() => {});
  }
}

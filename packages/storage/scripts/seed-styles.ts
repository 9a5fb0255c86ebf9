/**
 * `npm run seed:styles -- <folder> [--manifest <file>] [--only-listed] [--owner <email>]`: imports
 * the folder's images (with --only-listed: only those the manifest names) as public styles into the database of DATABASE_URL / DATA_DIR (the same ones `npm start`
 * uses). Prints what was added, skipped and refused; exits 1 when a file was refused.
 */
import { parseArgs } from "node:util";
import { createDb, resolveDataDir } from "@atelier/db";
import { seedStyles } from "../src/seed-styles.ts";

const USAGE =
  "usage: npm run seed:styles -- <folder> [--manifest styles.json|styles.csv] [--only-listed] [--owner email]";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      manifest: { type: "string" },
      "only-listed": { type: "boolean" },
      owner: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : 1;
  }
  const dataDir = resolveDataDir();
  const db = await createDb();
  try {
    const report = await seedStyles(db, {
      folder: positionals[0]!,
      dataDir,
      manifest: values.manifest,
      onlyListed: values["only-listed"],
      ownerEmail: values.owner,
    });
    console.log(`owner: ${report.owner.email}; manifest: ${report.manifest ?? "none (titles from file names)"}`);
    for (const a of report.added) console.log(`added    ${a.file} → "${a.name}"`);
    for (const s of report.skipped) console.log(`skipped  ${s.file}: ${s.reason}`);
    for (const f of report.failed) console.error(`refused  ${f.file}: ${f.error}`);
    console.log(
      `${report.added.length} added, ${report.skipped.length} skipped, ${report.failed.length} refused (data in ${dataDir})`,
    );
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await db.$disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

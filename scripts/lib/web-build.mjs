// Whether the web app's production build (apps/web/<distDir>) is missing or older than its
// sources — shared by `npm start` and the e2e stack so neither serves stale pages.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const webDir = path.join(repoRoot, "apps", "web");

/** Newest modification time (ms) of the files under `dir`, skipping build output and dependencies. */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".next") || entry.name === "generated") continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Why the build in apps/web/<distDir> must be (re)made, or null when it is up to date. */
export function webBuildStaleReason(distDir = ".next") {
  const buildId = path.join(webDir, distDir, "BUILD_ID");
  if (!existsSync(buildId)) return "no build yet";
  const built = statSync(buildId).mtimeMs;
  const sources = [
    path.join(webDir, "src"),
    path.join(webDir, "next.config.ts"),
    path.join(webDir, "postcss.config.mjs"),
    path.join(webDir, "package.json"),
    ...["protocol", "db", "storage"].map((p) => path.join(repoRoot, "packages", p, "src")),
  ];
  const changed = sources.find(
    (s) => existsSync(s) && (statSync(s).isDirectory() ? newestMtime(s) : statSync(s).mtimeMs) > built,
  );
  return changed ? `${path.relative(repoRoot, changed)} changed since the last build` : null;
}

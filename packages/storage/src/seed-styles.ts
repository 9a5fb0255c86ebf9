/**
 * Imports a folder of images as public styles (`npm run seed:styles -- <folder>`), so a fresh
 * install has paintings to start from. Idempotent: an image whose sha256 the owner already has
 * as a style is skipped. A file that is not a usable image is reported with storage's own
 * reason and nothing is stored for it; the other files still go in.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Db } from "@atelier/db";
import { SYSTEM_ACCOUNT } from "@atelier/protocol";
import { UploadError } from "./errors.ts";
import { storeImage } from "./images.ts";
import { parseManifest, styleName, titleFromFileName, type ManifestEntry } from "./style-manifest.ts";

/** The owner of seeded styles when no --owner is given: an account nobody can sign in to (no password, no OAuth link). */
export const SYSTEM_STYLES_USER = SYSTEM_ACCOUNT;

const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp"]);
const MANIFEST_NAMES = ["styles.json", "styles.csv", "manifest.json", "manifest.csv"];

export interface SeedStylesOptions {
  folder: string;
  dataDir: string;
  /** email of an existing user to own the styles; default SYSTEM_STYLES_USER */
  ownerEmail?: string;
  /** a manifest file; default the folder's styles.json / styles.csv / manifest.json / manifest.csv if there is one */
  manifest?: string;
  /** import only the files the manifest names (a shared folder holding other pictures too) */
  onlyListed?: boolean;
}

export interface SeedStylesReport {
  owner: { id: string; email: string };
  manifest: string | null;
  added: { file: string; name: string; styleId: string }[];
  skipped: { file: string; reason: string }[];
  failed: { file: string; error: string }[];
}

async function resolveOwner(db: Db, email: string | undefined): Promise<{ id: string; email: string }> {
  if (email) {
    const user = await db.user.findUnique({ where: { email: email.toLowerCase() }, select: { id: true, email: true } });
    if (!user)
      throw new Error(`No user with the email ${email}: sign up first, or leave out --owner to use the system user.`);
    return user;
  }
  const system = await db.user.upsert({
    where: { email: SYSTEM_STYLES_USER.email },
    update: {},
    create: { email: SYSTEM_STYLES_USER.email, name: SYSTEM_STYLES_USER.name },
    select: { id: true, email: true, passwordHash: true, _count: { select: { accounts: true } } },
  });
  // an account someone can sign in to is not the site's: whoever registered the address first
  // (before sign-up refused it) would otherwise be handed the public collection
  if (system.passwordHash || system._count.accounts > 0)
    throw new Error(
      `The account ${system.email} can be signed in to (it has a ${system.passwordHash ? "password" : "linked sign-in provider"}), ` +
        "so it is not the system account: refusing to give it the styles. Remove or rename that account, or pass --owner <email>.",
    );
  return { id: system.id, email: system.email };
}

function findManifest(folder: string, explicit: string | undefined): string | null {
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`The manifest ${explicit} does not exist.`);
    return explicit;
  }
  return MANIFEST_NAMES.map((name) => path.join(folder, name)).find((file) => existsSync(file)) ?? null;
}

export async function seedStyles(db: Db, options: SeedStylesOptions): Promise<SeedStylesReport> {
  const folder = path.resolve(options.folder);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new Error(`${options.folder} is not a folder.`);
  const manifestPath = findManifest(folder, options.manifest && path.resolve(options.manifest));
  const manifest: Map<string, ManifestEntry> = manifestPath
    ? parseManifest(manifestPath, readFileSync(manifestPath, "utf8"))
    : new Map<string, ManifestEntry>();
  if (options.onlyListed && !manifestPath)
    throw new Error("--only-listed needs a manifest naming the files to import.");
  const owner = await resolveOwner(db, options.ownerEmail);
  const report: SeedStylesReport = { owner, manifest: manifestPath, added: [], skipped: [], failed: [] };

  const files = readdirSync(folder)
    .filter((f) => statSync(path.join(folder, f)).isFile() && path.join(folder, f) !== manifestPath)
    .filter((f) => !options.onlyListed || manifest.has(f))
    .sort();
  for (const file of manifest.keys()) {
    if (!files.includes(file))
      report.failed.push({ file, error: "The manifest names it, but it is not in the folder." });
  }
  for (const file of files) {
    const ext = path.extname(file).toLowerCase();
    if (!IMAGE_EXTENSIONS.has(ext)) {
      report.skipped.push({ file, reason: `Not an image file (${ext || "no extension"}).` });
      continue;
    }
    const bytes = readFileSync(path.join(folder, file));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const existing = await db.style.findFirst({
      where: { ownerId: owner.id, image: { sha256 } },
      select: { name: true },
    });
    if (existing) {
      report.skipped.push({ file, reason: `Already a style ("${existing.name}").` });
      continue;
    }
    const name = styleName(manifest.get(file) ?? { title: titleFromFileName(file), attribution: null });
    try {
      const image = await storeImage(db, bytes, { dataDir: options.dataDir, ownerId: owner.id });
      const style = await db.style.create({
        data: { name, imageId: image.id, ownerId: owner.id, isPublic: true },
        select: { id: true },
      });
      report.added.push({ file, name, styleId: style.id });
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      report.failed.push({ file, error: error.message });
    }
  }
  return report;
}

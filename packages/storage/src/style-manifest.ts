/**
 * The optional manifest of a style folder (`npm run seed:styles`): a title and an attribution
 * per file, as JSON (`[{ "file", "title", "attribution" }]` or `{ "<file>": { "title", "attribution" } }`)
 * or CSV with a `file,title,attribution` header. Pure: text in, entries or a clear error out.
 */
import path from "node:path";

export interface ManifestEntry {
  title: string;
  attribution: string | null;
}

export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

const MAX_TITLE = 80;

function entry(file: string, raw: unknown, where: string): [string, ManifestEntry] {
  if (typeof raw !== "object" || raw === null) throw new ManifestError(`${where}: expected an object with a title.`);
  const { title, attribution } = raw as { title?: unknown; attribution?: unknown };
  if (typeof title !== "string" || !title.trim()) throw new ManifestError(`${where}: "${file}" needs a title.`);
  if (attribution !== undefined && attribution !== null && typeof attribution !== "string")
    throw new ManifestError(`${where}: the attribution of "${file}" must be text.`);
  return [file, { title: title.trim(), attribution: attribution?.trim() || null }];
}

export function parseJsonManifest(text: string): Map<string, ManifestEntry> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`The manifest is not valid JSON (${(error as Error).message}).`);
  }
  if (Array.isArray(data)) {
    return new Map(
      data.map((item: unknown, i) => {
        const file = (item as { file?: unknown } | null)?.file;
        if (typeof file !== "string" || !file) throw new ManifestError(`Entry ${i + 1}: needs a "file".`);
        return entry(file, item, `Entry ${i + 1}`);
      }),
    );
  }
  if (typeof data === "object" && data !== null) {
    return new Map(Object.entries(data).map(([file, value]) => entry(file, value, `Entry "${file}"`)));
  }
  throw new ManifestError(
    "The manifest must be a list of { file, title, attribution } or an object keyed by file name.",
  );
}

/** One CSV line's fields (quotes may wrap fields with commas; "" is a quote). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(current);
      current = "";
    } else current += c;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

export function parseCsvManifest(text: string): Map<string, ManifestEntry> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const header = csvFields(lines[0] ?? "").map((h) => h.toLowerCase());
  const fileCol = header.indexOf("file");
  const titleCol = header.indexOf("title");
  const attributionCol = header.indexOf("attribution");
  if (fileCol < 0 || titleCol < 0) throw new ManifestError('The CSV manifest needs a header with "file" and "title".');
  return new Map(
    lines.slice(1).map((line, i) => {
      const f = csvFields(line);
      const file = f[fileCol] ?? "";
      if (!file) throw new ManifestError(`Line ${i + 2}: needs a file name.`);
      return entry(
        file,
        { title: f[titleCol], attribution: attributionCol >= 0 ? f[attributionCol] : undefined },
        `Line ${i + 2}`,
      );
    }),
  );
}

export function parseManifest(fileName: string, text: string): Map<string, ManifestEntry> {
  return fileName.toLowerCase().endsWith(".csv") ? parseCsvManifest(text) : parseJsonManifest(text);
}

/** "starry_night.jpg" → "Starry night": a readable title when the manifest names none. */
export function titleFromFileName(file: string): string {
  const words = path.parse(file).name.replace(/[_-]+/g, " ").replace(/\s+/g, " ").trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : "Untitled";
}

/** The style's name as people see it: "The Starry Night — Vincent van Gogh, 1889", within the length a name may have. */
export function styleName(entry: ManifestEntry): string {
  const name = entry.attribution ? `${entry.title} — ${entry.attribution}` : entry.title;
  return name.length > MAX_TITLE ? `${name.slice(0, MAX_TITLE - 1)}…` : name;
}

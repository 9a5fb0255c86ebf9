// Shared by `npm start` and `npm test`: make a fresh clone ready without extra steps.
// Only node built-ins here — this runs before `npm ci` has installed anything.
import { spawnSync } from "node:child_process";
import { existsSync, statSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export function log(message) {
  console.log(`[atelier] ${message}`);
}

export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: repoRoot, env: process.env, ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

export function runOrExit(cmd, args, options = {}) {
  const status = run(cmd, args, options);
  if (status !== 0) {
    console.error(`[atelier] failed: ${cmd} ${args.join(" ")} (exit ${status})`);
    process.exit(status);
  }
}

/** `npm ci` when node_modules is missing or older than the lockfile. */
export function ensureDependencies() {
  const marker = path.join(repoRoot, "node_modules", ".package-lock.json");
  const lock = path.join(repoRoot, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log("installing dependencies (npm ci)…");
  runOrExit("npm", ["ci", "--no-audit", "--no-fund"]);
}

/** Debian's Chromium for Playwright (its own browser download cannot work offline). */
export function ensureChromium() {
  if (existsSync("/usr/bin/chromium")) return;
  log("installing Chromium through apt…");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) => (sudo.length ? run("sudo", ["apt-get", ...args], { env }) : run("apt-get", args, { env }));
  if (apt(["update", "-qq"]) !== 0 || apt(["install", "-y", "-qq", "chromium"]) !== 0) {
    console.error("[atelier] could not install chromium: run `apt-get install chromium` and try again");
    process.exit(1);
  }
}

/** The major version of the installed mesa-vulkan-drivers package (0: not installed, or no dpkg). */
function mesaVulkanMajor() {
  const r = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "mesa-vulkan-drivers"], { encoding: "utf8" });
  return r.status === 0 ? Number.parseInt(r.stdout, 10) || 0 : 0;
}

/**
 * Mesa's software Vulkan driver (lavapipe) and vulkaninfo, so the engine's WebGPU backend
 * (ONNX Runtime's WebGPU provider, Dawn on Vulkan) is tested on every machine, GPU or not.
 * Dawn refuses Debian bookworm's own Mesa 22.3 ("shaderUniform*ArrayDynamicIndexing
 * required"); bookworm-backports has 25.0: its suite is added with the mirror and key of the
 * machine's own debian.sources.
 */
export function ensureSoftwareVulkan() {
  if (mesaVulkanMajor() >= 23 && existsSync("/usr/bin/vulkaninfo")) return;
  if (!existsSync("/usr/bin/apt-get")) {
    console.error("[atelier] no apt-get: install a Vulkan driver (Mesa ≥ 23 lavapipe) and vulkan-tools by hand");
    process.exit(1);
  }
  log("installing Mesa's software Vulkan driver (lavapipe) and vulkan-tools through apt…");
  const root = process.getuid?.() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args) => (root ? run("apt-get", args, { env }) : run("sudo", ["apt-get", ...args], { env }));
  const release = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(release)?.[1]?.trim();
  const target = [];
  if (codename === "bookworm") {
    const sources = backportsSources();
    if (!sources) {
      console.error(
        "[atelier] cannot add bookworm-backports: /etc/apt/sources.list.d/debian.sources has no Debian mirror",
      );
      process.exit(1);
    }
    const file = "/etc/apt/sources.list.d/backports.sources";
    if (!existsSync(file)) {
      if (root) writeFileSync(file, sources);
      else run("sudo", ["tee", file], { input: sources, stdio: ["pipe", "ignore", "inherit"] });
    }
    target.push("-t", "bookworm-backports");
  }
  const ok =
    apt(["update", "-qq"]) === 0 &&
    apt(["install", "-y", "-qq", ...target, "mesa-vulkan-drivers"]) === 0 &&
    apt(["install", "-y", "-qq", "vulkan-tools"]) === 0;
  if (!ok || mesaVulkanMajor() < 23) {
    console.error("[atelier] could not install Mesa ≥ 23's Vulkan drivers: see the recipe in README.md (GPU workers)");
    process.exit(1);
  }
}

/** A deb822 bookworm-backports entry with the first Debian (not security) mirror and key of debian.sources. */
function backportsSources() {
  const file = "/etc/apt/sources.list.d/debian.sources";
  if (!existsSync(file)) return null;
  for (const stanza of readFileSync(file, "utf8").split(/\n\s*\n/)) {
    const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, "m").exec(stanza)?.[1]?.trim();
    const uri = field("URIs")?.split(/\s+/)[0];
    if (!uri || !/\bbookworm\b/.test(field("Suites") ?? "") || /security/.test(uri)) continue;
    const key = field("Signed-By") ?? "/usr/share/keyrings/debian-archive-keyring.gpg";
    return `Types: deb\nURIs: ${uri}\nSuites: bookworm-backports\nComponents: main\nSigned-By: ${key}\n`;
  }
  return null;
}

function portOpen(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitForPort(port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await portOpen(port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** PostgreSQL and Redis are started on these machines before a session; start them if they stopped. */
export async function ensureServices() {
  if (!(await portOpen(5432)) && existsSync("/etc/postgresql")) {
    const version = readdirSync("/etc/postgresql")[0];
    log(`starting PostgreSQL ${version}…`);
    run("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"]);
    await waitForPort(5432, 30);
  }
  if (!(await portOpen(6379))) {
    log("starting Redis…");
    run("redis-server", [
      "--daemonize",
      "yes",
      "--bind",
      "127.0.0.1",
      "--port",
      "6379",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    await waitForPort(6379, 15);
  }
}

/** Where the VGG-19 weights are: $ATELIER_VGG19, models/vgg19 in the repo, or ../shared/models/vgg19. */
export function findWeights() {
  const candidates = [
    process.env.ATELIER_VGG19,
    path.join(repoRoot, "models", "vgg19"),
    path.join(repoRoot, "..", "shared", "models", "vgg19"),
  ].filter(Boolean);
  for (const c of candidates) {
    if (/^https?:\/\//.test(c) || existsSync(path.join(c, "model.json"))) return c;
  }
  return null;
}

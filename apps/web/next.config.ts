import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The e2e suite builds into its own folder so it never races a developer's `next build`.
  distDir: process.env.ATELIER_NEXT_DIST_DIR ?? ".next",
  // Our workspace packages ship TypeScript source (with explicit .ts import extensions).
  transpilePackages: ["@atelier/protocol", "@atelier/db", "@atelier/storage", "@atelier/files"],
  // Native or engine-carrying packages stay plain Node requires on the server.
  serverExternalPackages: [
    "better-sqlite3",
    "sharp",
    "@prisma/client",
    "@prisma/adapter-better-sqlite3",
    "@prisma/adapter-pg",
    "pg",
    "bcryptjs",
  ],
  // `npm test` builds the journeys' copy after its lint phase has type-checked apps/web (tsc):
  // it skips next build's own TypeScript pass, the same check again (23 s of one core).
  typescript: { ignoreBuildErrors: process.env.ATELIER_NEXT_TYPES_CHECKED === "1" },
  poweredByHeader: false,
  images: { unoptimized: true },
};

export default nextConfig;

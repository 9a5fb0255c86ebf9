import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Our workspace packages ship TypeScript source (with explicit .ts import extensions).
  transpilePackages: ["@atelier/protocol", "@atelier/db", "@atelier/storage"],
  // Native or engine-carrying packages stay plain Node requires on the server.
  serverExternalPackages: ["better-sqlite3", "sharp", "@prisma/client", "@prisma/adapter-better-sqlite3", "@prisma/adapter-pg", "pg", "bcryptjs"],
  poweredByHeader: false,
  images: { unoptimized: true },
};

export default nextConfig;

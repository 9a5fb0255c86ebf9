/** Runs once when the server starts (Next.js instrumentation hook). */
export async function register(): Promise<void> {
  // NEXT_RUNTIME is Next's own marker (not configuration): node:http exists only in the Node runtime
  // eslint-disable-next-line no-restricted-properties -- Next replaces this literal per runtime when it builds
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // route handlers see the TCP peer's address (for rate limits), whatever the client sends
  const { installPeerAddressHeader } = await import("./server/peer-address");
  installPeerAddressHeader();
  // the file store (DATA_DIR or ATELIER_FILES=s3://…): a missing bucket or refused credentials
  // stop the start here, saying what to fix, rather than at the first image
  const { fileStoreOf } = await import("@atelier/storage");
  await fileStoreOf().check();
}

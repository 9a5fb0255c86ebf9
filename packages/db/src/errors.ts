/** Prisma error codes callers branch on, without importing a generated client's classes. */
function prismaCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** A unique constraint failed (P2002), e.g. a second user with the same email. */
export function isUniqueViolation(error: unknown): boolean {
  return prismaCode(error) === "P2002";
}

/** The record to update/delete does not exist (P2025). */
export function isRecordNotFound(error: unknown): boolean {
  return prismaCode(error) === "P2025";
}

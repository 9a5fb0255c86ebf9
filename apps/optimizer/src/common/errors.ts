import type { ErrorCode } from "@atelier/protocol";

/** An expected refusal with a code the client understands; anything else is "internal". */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ServiceError";
  }
}

// an absolute POSIX path (two segments or more) or a Windows drive path
const ABSOLUTE_PATH = /(?:[A-Za-z]:[\\/]|\/)(?:[^\s'"`,;()<>[\]]+[\\/])+[^\s'"`,;()<>[\]]*/g;

/**
 * What members may read of an error from the engine or the file system (pure): server paths
 * replaced by "a stored image file" (the full text goes to the server log only).
 */
export function memberVisibleError(detail: string): string {
  return detail.replace(ABSOLUTE_PATH, "a stored image file").slice(0, 500);
}

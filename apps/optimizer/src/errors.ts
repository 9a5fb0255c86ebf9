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

/**
 * The engine's documented errors. Every failure a caller can cause (bad options, missing or
 * corrupt weights, a backend that cannot load) is an EngineError with a stable `code`;
 * image problems are ImageError (image.ts); cancellation is an AbortError DOMException.
 */
export type EngineErrorCode =
  /** an option is missing, out of range or inconsistent (unknown layer, empty styles, …) */
  | "bad_options"
  /** the VGG-19 weights folder/URL does not exist or is unreachable */
  | "weights_not_found"
  /** the weights exist but are malformed (bad manifest, missing layer, wrong shape or size) */
  | "weights_invalid"
  /** ATELIER_BACKEND names an unknown backend or one that cannot be loaded */
  | "bad_backend";

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EngineError";
    this.code = code;
  }
}

/** The error a cancelled run rejects with (name "AbortError", like fetch and timers/promises). */
export function abortError(signal?: AbortSignal): DOMException {
  const reason: unknown = signal?.reason;
  const detail = reason instanceof Error && reason.name !== "AbortError" ? `: ${reason.message}` : "";
  return new DOMException(`the stylize run was aborted${detail}`, "AbortError");
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

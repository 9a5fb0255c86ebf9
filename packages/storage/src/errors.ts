export type UploadErrorCode = "unsupported_type" | "too_many_bytes" | "too_many_pixels" | "corrupt";

/** A rejected upload: `code` for programs, `message` for people. Nothing was stored. */
export class UploadError extends Error {
  override readonly name = "UploadError";
  constructor(
    readonly code: UploadErrorCode,
    message: string,
  ) {
    super(message);
  }
}

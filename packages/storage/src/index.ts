export { UploadError, type UploadErrorCode } from "./errors.ts";
export { IMAGE_TYPES, sniffImageFormat, type ImageFormat, type ImageMime } from "@atelier/protocol";
export { imageFilePath, imageKey, dataDirOf, fileStoreOf, type StorageOptions } from "./files.ts";
export {
  storeImage,
  storeRgbResult,
  inspectImage,
  readImageBytes,
  readImageStream,
  thumbnail,
  thumbnailWidthFor,
  THUMBNAIL_WIDTHS,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_PIXELS,
  type StoreImageOptions,
  type RawRgb,
  type InspectedImage,
  type ThumbnailWidth,
} from "./images.ts";
export { canViewImage } from "./access.ts";

export {
  decodeImage,
  decodeImageResized,
  readImageSize,
  resizeTo,
  letterbox,
  encodeJpeg,
  encodePng,
  ImageDecodeError,
  DEFAULT_MAX_PIXELS,
  type RgbImage,
  type Letterboxed,
  type DecodeOptions,
} from "./image";
export {
  readImageFolder,
  checkImages,
  isImageFile,
  DatasetError,
  IMAGE_EXTENSIONS,
  DEFAULT_SPLIT_RATIOS,
  type Split,
  type SplitRatios,
  type ClassifyItem,
  type ClassifyIndex,
  type SkippedFile,
} from "./imagefolder";
export { createClassifyLoader, type Batch, type ClassifyLoader, type ClassifyLoaderOptions } from "./loader";
export { createPixelStore, type CacheMode, type PixelStore } from "./cache";

/**
 * Image preprocessing as LLaVA and the Hugging Face image processors do it (`reference/images.md`):
 * optional expand-to-square with the mean colour (LLaVA's `image_aspect_ratio = "pad"`), Pillow
 * bicubic resize, centre crop, rescale by 1/255 and normalise, in float32, channels first.
 */
import type { RgbImage } from "./images.js";
import { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, SIGLIP_MEAN, SIGLIP_STD, type Rgb } from "../../plan/normalization.js";
import { resizeBicubic } from "./resample.js";

export type { Rgb } from "../../plan/normalization.js";

export interface ImageProcessorConfig {
  /** `shortestEdge`: the short side becomes S, the long side `int(S * long / short)`; or an exact size */
  readonly resize: { readonly shortestEdge: number } | { readonly height: number; readonly width: number };
  /** centre crop after resizing; none when absent */
  readonly crop?: { readonly height: number; readonly width: number };
  readonly mean: Rgb;
  readonly std: Rgb;
  /** default 1/255 */
  readonly rescale?: number;
}

/** `pad`: LLaVA's expand-to-square with the mean colour before the processor; `crop`: the processor alone. */
export type AspectMode = "pad" | "crop";

export { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, SIGLIP_MEAN, SIGLIP_STD } from "../../plan/normalization.js";

/** CLIPImageProcessor of openai/clip-vit-large-patch14-336 (or another size, e.g. a tiny 32 px ViT). */
export function clipProcessor(size = 336): ImageProcessorConfig {
  return { resize: { shortestEdge: size }, crop: { height: size, width: size }, mean: CLIP_MEAN, std: CLIP_STD };
}

/** BitImageProcessor of DINOv2: shortest edge 256, centre crop 224 (other sizes keep the 256:224 ratio). */
export function dinov2Processor(crop = 224): ImageProcessorConfig {
  const resize = crop === 224 ? 256 : Math.round((crop * 256) / 224);
  return { resize: { shortestEdge: resize }, crop: { height: crop, width: crop }, mean: IMAGENET_MEAN, std: IMAGENET_STD };
}

/** SiglipImageProcessor of so400m-patch14-384: straight to a square, aspect ignored, no crop. */
export function siglipProcessor(size = 384): ImageProcessorConfig {
  return { resize: { height: size, width: size }, mean: SIGLIP_MEAN, std: SIGLIP_STD };
}

export type ProcessorPreset = "clip" | "dinov2" | "siglip";

/** The processor of a vision family at the model's image size (the crop for CLIP/DINOv2, the square for SigLIP). */
export function processorPreset(preset: ProcessorPreset, imageSize?: number): ImageProcessorConfig {
  switch (preset) {
    case "clip":
      return clipProcessor(imageSize);
    case "dinov2":
      return dinov2Processor(imageSize);
    case "siglip":
      return siglipProcessor(imageSize);
  }
}

/** Problems with a processor configuration, as messages (empty when it is valid). */
export function checkProcessorConfig(config: ImageProcessorConfig): string[] {
  const problems: string[] = [];
  const positiveInt = (v: number, name: string): void => {
    if (!Number.isInteger(v) || v < 1) problems.push(`\`${name}\` must be a positive integer, got ${v}`);
  };
  if ("shortestEdge" in config.resize) positiveInt(config.resize.shortestEdge, "resize.shortestEdge");
  else {
    positiveInt(config.resize.height, "resize.height");
    positiveInt(config.resize.width, "resize.width");
  }
  if (config.crop) {
    positiveInt(config.crop.height, "crop.height");
    positiveInt(config.crop.width, "crop.width");
    const [minH, minW] =
      "shortestEdge" in config.resize ? [config.resize.shortestEdge, config.resize.shortestEdge] : [config.resize.height, config.resize.width];
    if (config.crop.height > minH || config.crop.width > minW) {
      problems.push(`the crop ${config.crop.height}x${config.crop.width} is larger than the resized image (at least ${minH}x${minW})`);
    }
  }
  for (const [name, v] of [
    ["mean", config.mean],
    ["std", config.std],
  ] as const) {
    if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) problems.push(`\`${name}\` must be three finite numbers`);
  }
  if (config.std.some((x) => x === 0)) problems.push("`std` must not contain 0");
  return problems;
}

/** Height and width of the processor's output (what a text-only sample's zero image must have). */
export function outputSize(config: ImageProcessorConfig): { height: number; width: number } {
  if (config.crop) return { height: config.crop.height, width: config.crop.width };
  if ("shortestEdge" in config.resize) {
    throw new Error("the output size of a shortest-edge resize without a crop depends on the image; give a crop");
  }
  return { height: config.resize.height, width: config.resize.width };
}

/** LLaVA's `tuple(int(x * 255) for x in image_mean)`: CLIP gives (122, 116, 104). */
export function padColour(mean: Rgb): [number, number, number] {
  return [Math.trunc(mean[0] * 255), Math.trunc(mean[1] * 255), Math.trunc(mean[2] * 255)];
}

/** LLaVA's `expand2square`: a square of side max(w, h) filled with `colour`, the image pasted centred (floor). */
export function expandToSquare(image: RgbImage, colour: readonly [number, number, number]): RgbImage {
  const { width, height, data } = image;
  if (width === height) return image;
  const side = Math.max(width, height);
  const out = new Uint8Array(side * side * 3);
  for (let p = 0; p < side * side; p++) {
    out[p * 3] = colour[0];
    out[p * 3 + 1] = colour[1];
    out[p * 3 + 2] = colour[2];
  }
  const left = (side - width) >> 1;
  const top = (side - height) >> 1;
  for (let y = 0; y < height; y++) {
    out.set(data.subarray(y * width * 3, (y + 1) * width * 3), ((top + y) * side + left) * 3);
  }
  return { width: side, height: side, data: out };
}

/** The size a resize step gives (HF `get_resize_output_image_size`, `int()` truncation). */
export function resizedSize(width: number, height: number, config: ImageProcessorConfig): { width: number; height: number } {
  if (!("shortestEdge" in config.resize)) return { width: config.resize.width, height: config.resize.height };
  const s = config.resize.shortestEdge;
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((s * long) / short);
  return width <= height ? { width: s, height: newLong } : { width: newLong, height: s };
}

/** Centre crop: `top = (H - h) // 2`, `left = (W - w) // 2`. */
export function centreCrop(image: RgbImage, height: number, width: number): RgbImage {
  if (height > image.height || width > image.width) {
    throw new RangeError(`cannot crop ${height}x${width} from an image of ${image.height}x${image.width}`);
  }
  if (height === image.height && width === image.width) return image;
  const top = (image.height - height) >> 1;
  const left = (image.width - width) >> 1;
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    out.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, data: out };
}

/** Per channel, the float32 value of each of the 256 levels: fround(fround(fround(v/255) - mean) / std). */
function normaliseTable(config: ImageProcessorConfig): Float32Array {
  const table = new Float32Array(3 * 256);
  const rescale = config.rescale;
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(config.mean[c]);
    const std = Math.fround(config.std[c]);
    for (let v = 0; v < 256; v++) {
      const scaled = rescale === undefined ? Math.fround(v / 255) : Math.fround(v * rescale);
      table[c * 256 + v] = Math.fround(Math.fround(scaled - mean) / std);
    }
  }
  return table;
}

const tables = new WeakMap<ImageProcessorConfig, Float32Array>();

/** The 8-bit image the processor normalises: pad (optional), resize, crop. */
export function processPixels(image: RgbImage, config: ImageProcessorConfig, aspect: AspectMode = "crop"): RgbImage {
  let img = aspect === "pad" ? expandToSquare(image, padColour(config.mean)) : image;
  const size = resizedSize(img.width, img.height, config);
  img = resizeBicubic(img, size.width, size.height);
  if (config.crop) img = centreCrop(img, config.crop.height, config.crop.width);
  return img;
}

/** The whole pipeline: returns float32 `[3, H, W]` (channels first). */
export function preprocessImage(image: RgbImage, config: ImageProcessorConfig, aspect: AspectMode = "crop"): Float32Array {
  const img = processPixels(image, config, aspect);
  let table = tables.get(config);
  if (!table) {
    table = normaliseTable(config);
    tables.set(config, table);
  }
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  const data = img.data;
  for (let p = 0; p < plane; p++) {
    out[p] = table[data[p * 3]];
    out[plane + p] = table[256 + data[p * 3 + 1]];
    out[2 * plane + p] = table[512 + data[p * 3 + 2]];
  }
  return out;
}

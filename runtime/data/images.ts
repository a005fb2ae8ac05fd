/**
 * Image decoding: JPEG, PNG (and the other formats libvips reads) to 8-bit RGB, as Pillow's
 * `Image.open(path).convert("RGB")` gives it, which is what LLaVA's data loader does.
 *
 * - `sharp` decodes with libjpeg-turbo and libpng, the same libraries Pillow uses (images.md: other
 *   JPEG decoders differ by up to ~100 levels at colour edges).
 * - RGBA drops the alpha channel without compositing; greyscale is replicated to R = G = B; a palette
 *   image is expanded to its colours. Pillow also ignores embedded ICC profiles and the EXIF
 *   orientation, so sharp is told to do the same.
 */
import sharp from "sharp";

/** The part of sharp's `OutputInfo` used here. */
interface OutputInfo {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** An 8-bit RGB image, rows top to bottom, pixels interleaved: `data[(y * width + x) * 3 + c]`. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Thrown when a file is not an image sharp can decode; `cause` holds libvips's message. */
export class ImageDecodeError extends Error {
  constructor(
    message: string,
    readonly code: "missing" | "unreadable",
  ) {
    super(message);
    this.name = "ImageDecodeError";
  }
}

/**
 * The most pixels an image may have: Pillow's limit. `Image.MAX_IMAGE_PIXELS` is
 * int(1024 * 1024 * 1024 // 4 // 3) = 89,478,485; above it Pillow warns, above twice it
 * (`_decompression_bomb_check`) it raises `DecompressionBombError`, so LLaVA's loader never trains on
 * such an image. sharp refuses likewise above `limitInputPixels`, from the header, before decoding.
 */
export const PIXEL_LIMIT = 2 * 89_478_485;

/** The options every decode uses (training, evaluation and `mmfmc data check --decode` alike). */
/** A path, or the bytes as a Buffer over the same memory (what sharp reads). */
function source(input: string | Uint8Array): string | Buffer {
  return typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

function open(input: string | Uint8Array) {
  return sharp(source(input), { ignoreIcc: true, autoOrient: false, failOn: "error", limitInputPixels: PIXEL_LIMIT });
}

/**
 * Decodes that fail at the same time can lose libvips's reason: its error buffer is shared, and a
 * decode may read "Unknown error" after another cleared it. So decodes run through a gate: any number
 * together, but a failed one whose reason was lost is repeated alone, with no other decode running.
 */
class DecodeGate {
  private running = 0;
  private drained: (() => void) | null = null;
  private exclusive: Promise<void> | null = null;

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) this.drained?.();
    }
  }

  async alone<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let end = () => {};
    this.exclusive = new Promise<void>((resolve) => (end = resolve));
    try {
      while (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      return await work();
    } finally {
      this.drained = null;
      this.exclusive = null;
      end();
    }
  }
}

const gate = new DecodeGate();

function reasonLost(message: string): boolean {
  return /^unknown error$/i.test(message.trim()) || /:\s*$/.test(message);
}

/** The `ImageDecodeError` for a failed decode of `input`, with libvips's reason. */
async function failure(input: string | Uint8Array, error: unknown, again: () => Promise<unknown>): Promise<ImageDecodeError> {
  let message = error instanceof Error ? error.message : String(error);
  const name = typeof input === "string" ? ` ${input}` : "";
  if (typeof input === "string" && /no such file|ENOENT|does not exist|file is missing/i.test(message)) {
    return new ImageDecodeError(`the image file does not exist: ${input}`, "missing");
  }
  if (/pixel limit/i.test(message)) {
    const size = await sharp(source(input), { limitInputPixels: false })
      .metadata()
      .then((m) => `${m.width}x${m.height} = ${((m.width ?? 0) * (m.height ?? 0)).toLocaleString("en-US")} pixels`)
      .catch(() => "larger");
    return new ImageDecodeError(
      `the image${name} is ${size}, more than the ${PIXEL_LIMIT.toLocaleString("en-US")} pixels Pillow accepts (a decompression bomb, or an image to downscale first)`,
      "unreadable",
    );
  }
  if (reasonLost(message)) {
    message = await gate.alone(again).then(
      () => message, // decoded fine alone: keep what was seen
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
  }
  return new ImageDecodeError(`cannot decode the image${name}: ${reasons(message)}`, "unreadable");
}

/** libvips's message lines, each once, on one line. */
function reasons(message: string): string {
  const lines = [...new Set(message.split("\n").map((l) => l.trim()).filter(Boolean))];
  const text = lines.join("; ");
  return /:\s*$/.test(text) || text === "" ? `${text} (libvips gives no reason: the file is damaged, truncated or not an image)` : text;
}

/** Decodes a file (path) or encoded bytes to RGB. */
export async function decodeImage(input: string | Uint8Array): Promise<RgbImage> {
  let result: { data: Buffer; info: OutputInfo };
  const decode = () => open(input).raw().toBuffer({ resolveWithObject: true });
  try {
    result = await gate.shared(decode);
  } catch (error) {
    throw await failure(input, error, decode);
  }
  const { data, info } = result;
  const { width, height, channels } = info;
  const pixels = width * height;
  const src = depthTo8Bit(data, info, pixels * channels);
  if (channels === 3) return { width, height, data: src.subarray(0, pixels * 3) }; // no copy: an image may be ~0.5 GB
  const rgb = new Uint8Array(pixels * 3);
  switch (channels) {
    case 4: // RGBA (or CMYK, which libvips turns into sRGB before this point): drop the 4th band
      for (let p = 0, s = 0, d = 0; p < pixels; p++, s += 4, d += 3) {
        rgb[d] = src[s];
        rgb[d + 1] = src[s + 1];
        rgb[d + 2] = src[s + 2];
      }
      break;
    case 1:
    case 2: // greyscale (+ alpha): replicate the grey band
      for (let p = 0, s = 0, d = 0; p < pixels; p++, s += channels, d += 3) {
        const v = src[s];
        rgb[d] = v;
        rgb[d + 1] = v;
        rgb[d + 2] = v;
      }
      break;
    default:
      throw new ImageDecodeError(`cannot decode the image: unsupported number of channels ${channels}`, "unreadable");
  }
  return { width, height, data: rgb };
}

/**
 * libvips normally hands back 8-bit data (it scales 16-bit PNGs by 1/257); should a format arrive as
 * 16-bit anyway, keep the high byte, as Pillow does for 16-bit RGB.
 */
function depthTo8Bit(data: Buffer, info: OutputInfo, values: number): Uint8Array {
  if (data.length === values) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (data.length === values * 2) {
    const out = new Uint8Array(values);
    for (let i = 0; i < values; i++) out[i] = data.readUInt16LE(i * 2) >> 8;
    return out;
  }
  throw new ImageDecodeError(
    `cannot decode the image: unexpected pixel buffer of ${data.length} bytes for ${info.width}x${info.height}x${info.channels}`,
    "unreadable",
  );
}

function firstLine(text: string): string {
  return text.split("\n")[0].trim();
}

/**
 * Decodes the whole image as `decodeImage` does, keeping no pixels (libvips streams it through a
 * statistics pass): what `mmfmc data check --decode` runs, so a file it passes also trains. Throws
 * `ImageDecodeError` with libvips's reason.
 */
export async function verifyImage(path: string): Promise<void> {
  const decode = () => open(path).stats();
  try {
    await gate.shared(decode);
  } catch (error) {
    throw await failure(path, error, decode);
  }
}

/** Reads only the header: width, height and format, or throws `ImageDecodeError`. */
export async function imageHeader(path: string): Promise<{ width: number; height: number; format: string }> {
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) throw new Error("no image size in the header");
    return { width: meta.width, height: meta.height, format: meta.format ?? "unknown" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/no such file|ENOENT|does not exist|file is missing/i.test(message)) throw new ImageDecodeError(`the image file does not exist: ${path}`, "missing");
    throw new ImageDecodeError(`cannot decode the image ${path}: ${firstLine(message)}`, "unreadable");
  }
}

/** Encodes RGB pixels as a PNG (used by the synthetic data generator). */
export async function encodePng(image: RgbImage): Promise<Uint8Array> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

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

/** Decodes a file (path) or encoded bytes (Buffer) to RGB. */
export async function decodeImage(input: string | Buffer): Promise<RgbImage> {
  let result: { data: Buffer; info: OutputInfo };
  try {
    result = await sharp(input, { ignoreIcc: true, autoOrient: false, failOn: "error", limitInputPixels: 1 << 28 })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (typeof input === "string" && /no such file|ENOENT|does not exist|file is missing/i.test(message)) {
      throw new ImageDecodeError(`the image file does not exist: ${input}`, "missing");
    }
    throw new ImageDecodeError(`cannot decode the image${typeof input === "string" ? ` ${input}` : ""}: ${firstLine(message)}`, "unreadable");
  }
  const { data, info } = result;
  const { width, height, channels } = info;
  const pixels = width * height;
  const src = depthTo8Bit(data, info, pixels * channels);
  const rgb = new Uint8Array(pixels * 3);
  switch (channels) {
    case 3:
      rgb.set(src.subarray(0, pixels * 3));
      break;
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
export async function encodePng(image: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

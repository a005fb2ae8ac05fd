/**
 * Bicubic resizing exactly as Pillow does it (`Image.resize(size, Image.BICUBIC)`, Pillow 9.x), which
 * is what the Hugging Face image processors call; written from the description in
 * `reference/images.md`:
 *
 * - separable, two passes: horizontal (width) first, then vertical; a pass whose size does not change
 *   is skipped;
 * - Keys cubic kernel, a = -0.5, support 2; when downsampling by `scale = in / out` the kernel is
 *   stretched by `max(scale, 1)` (antialiasing);
 * - weights normalised to sum 1 in double precision, then turned into fixed point with 22 fractional
 *   bits (rounded half away from zero); each output is `clamp((2^21 + sum) >> 22, 0, 255)`;
 * - the image between the passes is 8-bit (rounded and clamped), as in Pillow.
 */
import type { RgbImage } from "./images.js";

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const CUBIC_A = -0.5;
const CUBIC_SUPPORT = 2;

/** Keys' cubic convolution kernel with a = -0.5. */
export function cubicKernel(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * CUBIC_A;
  return 0;
}

/** The taps of one axis: output i reads inputs `first[i] .. first[i] + taps[i] - 1` with `weights[i * width ..]`. */
export interface AxisCoefficients {
  readonly first: Int32Array;
  readonly taps: Int32Array;
  /** fixed-point weights, `width` per output, zero beyond `taps[i]` */
  readonly weights: Int32Array;
  readonly width: number;
}

/** The fixed-point filter taps for resizing one axis from `inSize` to `outSize`. */
export function axisCoefficients(inSize: number, outSize: number): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = CUBIC_SUPPORT * filterScale;
  const width = Math.ceil(support) * 2 + 1;
  const inverse = 1 / filterScale; // Pillow multiplies by the reciprocal; dividing differs in the last bit
  const first = new Int32Array(outSize);
  const taps = new Int32Array(outSize);
  const weights = new Int32Array(outSize * width);
  const w = new Float64Array(width);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = hi - lo;
    let total = 0;
    for (let k = 0; k < n; k++) {
      const v = cubicKernel((k + lo - center + 0.5) * inverse);
      w[k] = v;
      total += v;
    }
    for (let k = 0; k < n; k++) {
      const v = total !== 0 ? w[k] / total : w[k];
      // fixed point, rounded half away from zero
      weights[i * width + k] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    first[i] = lo;
    taps[i] = n;
  }
  return { first, taps, weights, width };
}

function clip8(sum: number): number {
  if (sum >= ONE * 256) return 255;
  if (sum <= 0) return 0;
  return Math.floor(sum / ONE);
}

/** Resizes the width: [H, W, 3] -> [H, outWidth, 3]. */
function resizeWidth(image: RgbImage, outWidth: number): RgbImage {
  const { width, height, data } = image;
  const c = axisCoefficients(width, outWidth);
  const out = new Uint8Array(height * outWidth * 3);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < outWidth; x++) {
      const lo = c.first[x];
      const n = c.taps[x];
      const wBase = x * c.width;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let k = 0; k < n; k++) {
        const wk = c.weights[wBase + k];
        const p = row + (lo + k) * 3;
        r += data[p] * wk;
        g += data[p + 1] * wk;
        b += data[p + 2] * wk;
      }
      const o = (y * outWidth + x) * 3;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width: outWidth, height, data: out };
}

/** Resizes the height: [H, W, 3] -> [outHeight, W, 3]. */
function resizeHeight(image: RgbImage, outHeight: number): RgbImage {
  const { width, height, data } = image;
  const c = axisCoefficients(height, outHeight);
  const out = new Uint8Array(outHeight * width * 3);
  const stride = width * 3;
  for (let y = 0; y < outHeight; y++) {
    const lo = c.first[y];
    const n = c.taps[y];
    const wBase = y * c.width;
    for (let x = 0; x < stride; x += 3) {
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let k = 0; k < n; k++) {
        const wk = c.weights[wBase + k];
        const p = (lo + k) * stride + x;
        r += data[p] * wk;
        g += data[p + 1] * wk;
        b += data[p + 2] * wk;
      }
      const o = y * stride + x;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
    }
  }
  return { width, height: outHeight, data: out };
}

/** Pillow's bicubic resize of an RGB image to `width` x `height`. */
export function resizeBicubic(image: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
  if (image.width < 1 || image.height < 1) throw new RangeError(`cannot resize an empty image (${image.width}x${image.height})`);
  let out = image;
  if (width !== image.width) out = resizeWidth(out, width);
  if (height !== image.height) out = resizeHeight(out, height);
  return out === image ? { width, height, data: image.data.slice() } : out;
}

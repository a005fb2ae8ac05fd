/**
 * Random views of a processed image, as self-supervised pretraining draws them (DINO, Caron et al.
 * 2021, and DINOv2 after it): a random resized crop (torchvision's `RandomResizedCrop`, bilinear),
 * then with probability 0.8 a colour jitter (`ColorJitter(0.4, 0.4, 0.2, 0.1)`: brightness, contrast,
 * saturation and hue, in that order here where torchvision shuffles them) and with probability 0.2
 * a grey scale (`RandomGrayscale`). Images are [3, S, S] planes, normalised by the processor's mean
 * and std; the jitter works on the [0, 1] colours and normalises again.
 *
 * Every random number comes from the `Rng` given, so a view depends only on how that was seeded.
 */
import type { Rng } from "./prng.js";

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** A random crop of `scale` of the area, aspect ratio in [3/4, 4/3] (torchvision's RandomResizedCrop). */
export function randomBox(rng: Rng, S: number, scale: readonly [number, number]): Box {
  const area = S * S * (scale[0] + (scale[1] - scale[0]) * rng.next());
  const ratio = Math.exp(Math.log(3 / 4) + (Math.log(4 / 3) - Math.log(3 / 4)) * rng.next());
  const w = Math.min(S, Math.sqrt(area * ratio));
  const h = Math.min(S, Math.sqrt(area / ratio));
  return { x: (S - w) * rng.next(), y: (S - h) * rng.next(), w, h };
}

/** Bilinear resampling of `box` of a [3, S, S] image to [3, O, O], written at `out[offset]`. */
export function cropInto(src: Float32Array, S: number, box: Box, O: number, out: Float32Array, offset: number): void {
  const coord = (start: number, length: number, i: number) => {
    const v = Math.min(Math.max(start + ((i + 0.5) * length) / O - 0.5, 0), S - 1);
    const i0 = Math.floor(v);
    return { i0, i1: Math.min(i0 + 1, S - 1), f: v - i0 };
  };
  const xs = Array.from({ length: O }, (_, i) => coord(box.x, box.w, i));
  const ys = Array.from({ length: O }, (_, i) => coord(box.y, box.h, i));
  for (let c = 0; c < 3; c++) {
    const plane = c * S * S;
    for (let oy = 0; oy < O; oy++) {
      const { i0: y0, i1: y1, f: fy } = ys[oy];
      for (let ox = 0; ox < O; ox++) {
        const { i0: x0, i1: x1, f: fx } = xs[ox];
        const top = src[plane + y0 * S + x0] * (1 - fx) + src[plane + y0 * S + x1] * fx;
        const bottom = src[plane + y1 * S + x0] * (1 - fx) + src[plane + y1 * S + x1] * fx;
        out[offset + (c * O + oy) * O + ox] = top * (1 - fy) + bottom * fy;
      }
    }
  }
}

/** DINO's colour augmentation of one view. */
export const DINO_COLOUR = { jitter: 0.8, brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1, grey: 0.2 } as const;

export type ColourAugmentation = { readonly [K in keyof typeof DINO_COLOUR]: number };

/**
 * Jitters the colours of the [3, O, O] view at `out[offset]` in place: always draws the same count of
 * numbers from `rng` (whether or not it jitters), so what follows does not shift.
 */
export function jitterColours(rng: Rng, out: Float32Array, offset: number, O: number, norm: Normalization, a: ColourAugmentation = DINO_COLOUR): void {
  const jitter = rng.next() < a.jitter;
  const brightness = 1 + a.brightness * (2 * rng.next() - 1);
  const contrast = 1 + a.contrast * (2 * rng.next() - 1);
  const saturation = 1 + a.saturation * (2 * rng.next() - 1);
  const hue = a.hue * (2 * rng.next() - 1);
  const grey = rng.next() < a.grey;
  if (!jitter && !grey) return;
  const n = O * O;
  const rgb = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) rgb[c * n + i] = out[offset + c * n + i] * norm.std[c] + norm.mean[c];
  if (jitter) {
    for (let i = 0; i < 3 * n; i++) rgb[i] = clamp(rgb[i] * brightness);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += luma(rgb, n, i);
    mean /= n;
    for (let i = 0; i < 3 * n; i++) rgb[i] = clamp(mean + contrast * (rgb[i] - mean));
    for (let i = 0; i < n; i++) {
      const l = luma(rgb, n, i);
      for (let c = 0; c < 3; c++) rgb[c * n + i] = clamp(l + saturation * (rgb[c * n + i] - l));
    }
    if (hue !== 0) for (let i = 0; i < n; i++) shiftHue(rgb, n, i, hue);
  }
  if (grey) {
    for (let i = 0; i < n; i++) {
      const l = luma(rgb, n, i);
      for (let c = 0; c < 3; c++) rgb[c * n + i] = l;
    }
  }
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out[offset + c * n + i] = (rgb[c * n + i] - norm.mean[c]) / norm.std[c];
}

const clamp = (x: number) => Math.min(1, Math.max(0, x));

/** ITU-R 601 luma, as torchvision's `rgb_to_grayscale`. */
function luma(rgb: Float32Array, n: number, i: number): number {
  return 0.299 * rgb[i] + 0.587 * rgb[n + i] + 0.114 * rgb[2 * n + i];
}

/** Rotates pixel i's hue by `shift` turns (HSV, as torchvision's `adjust_hue`). */
function shiftHue(rgb: Float32Array, n: number, i: number, shift: number): void {
  const r = rgb[i], g = rgb[n + i], b = rgb[2 * n + i];
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return; // a grey has no hue
  let h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  h = (((h / 6 + shift) % 1) + 1) % 1;
  const s = d / max;
  const k = h * 6;
  const sector = Math.floor(k) % 6;
  const f = k - Math.floor(k);
  const p = max * (1 - s), q = max * (1 - f * s), t = max * (1 - (1 - f) * s);
  const set = (R: number, G: number, B: number) => {
    rgb[i] = R;
    rgb[n + i] = G;
    rgb[2 * n + i] = B;
  };
  if (sector === 0) set(max, t, p);
  else if (sector === 1) set(q, max, p);
  else if (sector === 2) set(p, max, t);
  else if (sector === 3) set(p, q, max);
  else if (sector === 4) set(t, p, max);
  else set(max, p, q);
}

// The random views self-supervised pretraining draws (runtime/data/augment.ts): crops and DINO's colour
// jitter, on normalised [3, S, S] planes.
import { describe, expect, it } from "vitest";
import { cropInto, DINO_COLOUR, jitterColours, randomBox, Rng } from "../../runtime/data/index.js";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../plan/normalization.js";

const NORM = { mean: IMAGENET_MEAN, std: IMAGENET_STD };

/** A normalised [3, O, O] image of one colour (0-1 per channel). */
function solid(rgb: readonly number[], O = 4): Float32Array {
  const out = new Float32Array(3 * O * O);
  for (let c = 0; c < 3; c++) out.fill((rgb[c] - NORM.mean[c]) / NORM.std[c], c * O * O, (c + 1) * O * O);
  return out;
}

/** The 0-1 colour of pixel i of a normalised [3, O, O] image. */
function colourAt(x: Float32Array, i = 0, O = 4): number[] {
  return [0, 1, 2].map((c) => x[c * O * O + i] * NORM.std[c] + NORM.mean[c]);
}

/** The first seed whose first six draws pass `test`. */
function seedWhere(test: (u: number[]) => boolean): number {
  for (let seed = 0; ; seed++) {
    const rng = new Rng(seed);
    if (test(Array.from({ length: 6 }, () => rng.next()))) return seed;
  }
}

const only = (o: Partial<Record<keyof typeof DINO_COLOUR, number>>) => ({ jitter: 1, brightness: 0, contrast: 0, saturation: 0, hue: 0, grey: 0, ...o });

describe("colour jitter", () => {
  it("rotates the hue: a third of a turn takes red to green and green to blue, keeping value and saturation", () => {
    // the shift is hue * (2u - 1) for the fifth draw u: a seed whose u is near 1 shifts by a third
    const seed = seedWhere((u) => u[4] > 0.999);
    const red = solid([1, 0, 0]);
    jitterColours(new Rng(seed), red, 0, 4, NORM, only({ hue: 1 / 3, jitter: 1 }));
    const [r, g, b] = colourAt(red);
    expect(g).toBeGreaterThan(0.99);
    expect(r).toBeLessThan(0.01);
    expect(b).toBeLessThan(0.01);
  });

  it("grey scale gives equal channels at the luma of the colour", () => {
    const x = solid([0.8, 0.2, 0.4]);
    jitterColours(new Rng(1), x, 0, 4, NORM, only({ jitter: 0, grey: 1 }));
    const [r, g, b] = colourAt(x, 5);
    const luma = 0.299 * 0.8 + 0.587 * 0.2 + 0.114 * 0.4;
    for (const v of [r, g, b]) expect(v).toBeCloseTo(luma, 5);
  });

  it("leaves the view alone when it draws neither, and draws as many numbers either way", () => {
    const x = solid([0.3, 0.6, 0.9]);
    const before = Float32Array.from(x);
    const a = new Rng(7);
    jitterColours(a, x, 0, 4, NORM, only({ jitter: 0, grey: 0 }));
    expect(x).toEqual(before);
    const b = new Rng(7);
    jitterColours(b, solid([0.3, 0.6, 0.9]), 0, 4, NORM, DINO_COLOUR);
    expect(a.next()).toBe(b.next());
  });

  it("scales brightness and keeps colours within [0, 1]", () => {
    // the factor is 1 + 0.9 (2u - 1) for the second draw u: u > 0.9 brightens by more than 1.7
    const seed = seedWhere((u) => u[1] > 0.9);
    const x = solid([0.5, 0.25, 0.9]);
    jitterColours(new Rng(seed), x, 0, 4, NORM, only({ brightness: 0.9 }));
    const [r, g, b] = colourAt(x);
    expect(r).toBeGreaterThan(0.85);
    expect(g).toBeGreaterThan(0.42);
    expect(b).toBeCloseTo(1, 5); // clipped
  });

  it("jitters only the view at its offset", () => {
    const two = new Float32Array([...solid([1, 0, 0]), ...solid([0, 0, 1])]);
    const second = two.slice(48);
    jitterColours(new Rng(1), two, 0, 4, NORM, only({ jitter: 0, grey: 1 }));
    expect(two.slice(48)).toEqual(second);
    expect(colourAt(two)[0]).toBeCloseTo(colourAt(two)[1], 5);
  });
});

describe("random crops", () => {
  it("keeps the box inside the image with the area and aspect asked for", () => {
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) {
      const box = randomBox(rng, 32, [0.35, 1]);
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.w).toBeLessThanOrEqual(32 + 1e-9);
      expect(box.y + box.h).toBeLessThanOrEqual(32 + 1e-9);
      expect(box.w * box.h).toBeLessThanOrEqual(32 * 32 + 1e-6);
      expect(box.w * box.h).toBeGreaterThan(0.2 * 32 * 32); // 35% asked, less only where the side hit the edge
    }
  });

  it("resamples the whole image to itself and a quarter to the corner's pixels", () => {
    const S = 4;
    const src = new Float32Array(3 * S * S).map((_, i) => i);
    const out = new Float32Array(3 * S * S);
    cropInto(src, S, { x: 0, y: 0, w: S, h: S }, S, out, 0);
    expect(out).toEqual(src);
    const corner = new Float32Array(3 * 2 * 2);
    cropInto(src, S, { x: 2, y: 0, w: 2, h: 2 }, 2, corner, 0);
    expect([...corner.slice(0, 4)]).toEqual([2, 3, 6, 7]);
  });
});

/**
 * The rasteriser of the synthetic shapes: circles, squares and triangles on a plain background,
 * anti-aliased by 4x4 supersampling. Only +, -, *, / and sqrt are used (all exactly rounded in IEEE
 * arithmetic), so every machine draws the same pixels.
 */
import type { RgbImage } from "./images.js";

export type ShapeKind = "circle" | "square" | "triangle";

export interface DrawnShape {
  readonly kind: ShapeKind;
  readonly rgb: readonly [number, number, number];
  /** centre and size (diameter / side / base) in pixels */
  readonly cx: number;
  readonly cy: number;
  readonly size: number;
}

const SQRT3_2 = Math.sqrt(3) / 2;
const SUB = 4; // subsamples per axis

/** Whether point (x, y) is inside the shape. */
function inside(s: DrawnShape, x: number, y: number): boolean {
  const h = s.size / 2;
  switch (s.kind) {
    case "circle": {
      const dx = x - s.cx;
      const dy = y - s.cy;
      return dx * dx + dy * dy <= h * h;
    }
    case "square":
      return x >= s.cx - h && x <= s.cx + h && y >= s.cy - h && y <= s.cy + h;
    case "triangle": {
      // pointing up, base `size`, height size * sqrt(3) / 2, centred on its bounding box
      const th = s.size * SQRT3_2;
      const top = s.cy - th / 2;
      const bottom = s.cy + th / 2;
      if (y < top || y > bottom) return false;
      const half = ((y - top) / th) * h; // half-width at this height
      return x >= s.cx - half && x <= s.cx + half;
    }
  }
}

/** Draws the shapes in order (later ones on top) on a `size` x `size` background. */
export function renderShapes(size: number, background: readonly [number, number, number], shapes: readonly DrawnShape[]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = 0; sy < SUB; sy++) {
        for (let sx = 0; sx < SUB; sx++) {
          const x = px + (sx + 0.5) / SUB;
          const y = py + (sy + 0.5) / SUB;
          let c = background;
          for (let k = shapes.length - 1; k >= 0; k--) {
            if (inside(shapes[k], x, y)) {
              c = shapes[k].rgb;
              break;
            }
          }
          r += c[0];
          g += c[1];
          b += c[2];
        }
      }
      const o = (py * size + px) * 3;
      const n = SUB * SUB;
      data[o] = Math.round(r / n);
      data[o + 1] = Math.round(g / n);
      data[o + 2] = Math.round(b / n);
    }
  }
  return { width: size, height: size, data };
}

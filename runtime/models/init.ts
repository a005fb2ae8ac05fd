/**
 * Seeded parameter initialisation, independent of the tfjs backend.
 *
 * Every parameter draws from its own stream, keyed by (seed, parameter name), so the values do not
 * depend on the order in which parameters are created, on the backend, or on which other parameters a
 * model has. The generator is sfc32 seeded through splitmix32; normals come from Box-Muller in float64
 * and are rounded to float32 once.
 *
 * The init kinds are the ones transformers' `_init_weights` uses for the families here (normal,
 * truncated normal, Xavier uniform, LeCun normal, constants), so a fresh model starts close to a fresh
 * Hugging Face one (not bit-equal: PyTorch's generator is not reproduced).
 */

export type Init =
  /** N(0, std²). */
  | { readonly kind: "normal"; readonly std: number }
  /** N(0, std²) with the first dimension's row `zeroRow` set to zero (an embedding's padding_idx). */
  | { readonly kind: "normalPadded"; readonly std: number; readonly zeroRow: number }
  /** N(0, std²) truncated to the absolute interval [-2, 2] (torch.nn.init.trunc_normal_'s defaults). */
  | { readonly kind: "truncNormal"; readonly std: number }
  /** U(-bound, bound); kaiming_uniform_(a=√5), peft's LoRA A, is bound = 1/√fanIn. */
  | { readonly kind: "uniform"; readonly bound: number }
  /** U(-a, a) with a = sqrt(6 / (fanIn + fanOut)). */
  | { readonly kind: "xavierUniform"; readonly fanIn: number; readonly fanOut: number }
  /** Truncated normal with variance 1/fanIn (jax/flax lecun_normal, as SigLIP uses). */
  | { readonly kind: "lecunNormal"; readonly fanIn: number }
  | { readonly kind: "constant"; readonly value: number };

export const zeros: Init = { kind: "constant", value: 0 };
export const ones: Init = { kind: "constant", value: 1 };
export const normal = (std: number): Init => ({ kind: "normal", std });

/** A deterministic uniform generator on [0, 1). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: string) {
    let h = (seed >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
    const next = () => {
      h = (h + 0x9e3779b9) >>> 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.uint32() >>> 5) * 67108864 + (this.uint32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** The values of one parameter: `numel(shape)` float32 numbers drawn as `init` says. */
export function initValues(seed: number, name: string, shape: readonly number[], init: Init): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (init.kind === "constant") return out.fill(init.value);
  const rng = new Rng(seed, name);
  const truncated = (std: number, lo: number, hi: number) => {
    for (;;) {
      const x = rng.normal() * std;
      if (x >= lo && x <= hi) return x;
    }
  };
  switch (init.kind) {
    case "normal":
      for (let i = 0; i < n; i++) out[i] = rng.normal() * init.std;
      break;
    case "normalPadded": {
      for (let i = 0; i < n; i++) out[i] = rng.normal() * init.std;
      const row = n / shape[0];
      if (init.zeroRow >= 0 && init.zeroRow < shape[0]) out.fill(0, init.zeroRow * row, (init.zeroRow + 1) * row);
      break;
    }
    case "truncNormal":
      for (let i = 0; i < n; i++) out[i] = truncated(init.std, -2, 2);
      break;
    case "uniform":
      for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * init.bound;
      break;
    case "xavierUniform": {
      const a = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * a;
      break;
    }
    case "lecunNormal": {
      // std of N(0,1) truncated to [-2, 2] is 0.8796...; dividing restores variance 1/fanIn.
      const std = Math.sqrt(1 / init.fanIn) / 0.87962566103423978;
      for (let i = 0; i < n; i++) out[i] = truncated(std, -2 * std, 2 * std);
      break;
    }
  }
  return out;
}

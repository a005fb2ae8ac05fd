/**
 * SIMD kernels for the tfjs wasm heap, written with `assembler.ts`. Pointers are byte offsets into
 * the heap; counts are elements. Each vector loop handles 4 floats per step and a scalar tail does
 * the rest with the same arithmetic, so results do not depend on alignment or length.
 *
 *   transpose(src, dst, rows, cols)            dst[c, r] = src[r, c]
 *   adamw(p, g, m, v, pOut, mOut, vOut, n, ...) one AdamW update, torch's operation order
 *   geglu(gate, up, out, n)                    out = gelu_tanh(gate) * up
 *   gegluGrad(gate, up, dOut, dGate, dUp, n)   its gradients
 *   rmsNorm(x, w, y, rows, d, eps, offset)     y = x / sqrt(mean(x^2) + eps) * (offset + w)
 *   rmsNormGrad(x, w, dy, dx, dw, rows, d, eps, offset)
 *   rowMaxSumExp(x, rows, cols, stats)         per row: max and sum of exp(x - max)
 *   softmaxScaled(x, out, rows, cols, stats)   out = exp(x - max) * scale, per row
 *
 * exp is computed on (-87, 0] (range reduction by ln 2, a degree-7 polynomial, the exponent built
 * in integer lanes), accurate to a few float32 ulps; tanh and softmax are built on it.
 */
import { FunctionBuilder, type Local } from "./assembler.js";

const LN2_HI = 0.693145751953125; // ln 2 split so that n * LN2_HI is exact for |n| < 2^11
const LN2_LO = Math.LN2 - LN2_HI;
const LOG2E = 1.4426950408889634;
/** torch's gelu(approximate="tanh") constants: sqrt(2/pi) and 0.044715. */
export const GELU_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
export const GELU_KAPPA = 0.044715;

/** Address of element `i` of the float array at byte offset `base`. */
function addr(f: FunctionBuilder, base: Local, i: Local): FunctionBuilder {
  return f.get(base).get(i).i32Const(2).i32Shl().i32Add();
}

/** n rounded down to a multiple of 4. */
function floor4(f: FunctionBuilder, n: Local, out: Local): void {
  f.get(n).i32Const(-4).i32And().set(out);
}

export function transposeKernel(): FunctionBuilder {
  const f = new FunctionBuilder("transpose", ["i32", "i32", "i32", "i32"]);
  const [src, dst, rows, cols] = [0, 1, 2, 3].map((i) => f.param(i));
  const i = f.local("i32");
  const j = f.local("i32");
  const rows4 = f.local("i32");
  const cols4 = f.local("i32");
  const r = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")];
  const t = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")];
  floor4(f, rows, rows4);
  floor4(f, cols, cols4);
  // Full 4x4 blocks.
  f.forRange(i, () => f.i32Const(0), () => f.get(rows4), 4, () => {
    f.forRange(j, () => f.i32Const(0), () => f.get(cols4), 4, () => {
      for (let k = 0; k < 4; k++) {
        // src + ((i + k) * cols + j) * 4
        f.get(src).get(i).i32Const(k).i32Add().get(cols).i32Mul().get(j).i32Add().i32Const(2).i32Shl().i32Add();
        f.v128Load().set(r[k]);
      }
      f.get(r[0]).get(r[1]).shuffle32([0, 4, 1, 5]).set(t[0]);
      f.get(r[0]).get(r[1]).shuffle32([2, 6, 3, 7]).set(t[1]);
      f.get(r[2]).get(r[3]).shuffle32([0, 4, 1, 5]).set(t[2]);
      f.get(r[2]).get(r[3]).shuffle32([2, 6, 3, 7]).set(t[3]);
      const outs: [Local, Local, [number, number, number, number]][] = [
        [t[0], t[2], [0, 1, 4, 5]],
        [t[0], t[2], [2, 3, 6, 7]],
        [t[1], t[3], [0, 1, 4, 5]],
        [t[1], t[3], [2, 3, 6, 7]],
      ];
      outs.forEach(([a, b, lanes], k) => {
        // dst + ((j + k) * rows + i) * 4
        f.get(dst).get(j).i32Const(k).i32Add().get(rows).i32Mul().get(i).i32Add().i32Const(2).i32Shl().i32Add();
        f.get(a).get(b).shuffle32(lanes).v128Store();
      });
    });
  });
  const scalar = (rowStart: () => void, rowEnd: () => void, colStart: () => void, colEnd: () => void) => {
    f.forRange(i, rowStart, rowEnd, 1, () => {
      f.forRange(j, colStart, colEnd, 1, () => {
        f.get(dst).get(j).get(rows).i32Mul().get(i).i32Add().i32Const(2).i32Shl().i32Add();
        f.get(src).get(i).get(cols).i32Mul().get(j).i32Add().i32Const(2).i32Shl().i32Add().f32Load();
        f.f32Store();
      });
    });
  };
  // Right edge (columns past the last full block) of the full-block rows, then the bottom rows.
  scalar(() => f.i32Const(0), () => f.get(rows4), () => f.get(cols4), () => f.get(cols));
  scalar(() => f.get(rows4), () => f.get(rows), () => f.i32Const(0), () => f.get(cols));
  return f;
}

/**
 * adamw(p, g, m, v, pOut, mOut, vOut, n, gradScale, decay, b1, c1, b2, c2, bc2, eps, negStep):
 *   g' = g * gradScale; p1 = p * decay; m' = m*b1 + c1*g'; v' = v*b2 + (c2*g')*g'
 *   pOut = p1 + (negStep * m') / (sqrt(v') / bc2 + eps)
 */
export function adamwKernel(): FunctionBuilder {
  const params: ("i32" | "f32")[] = ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"];
  const f = new FunctionBuilder("adamw", [...params, "f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32", "f32"]);
  const [p, g, m, v, pOut, mOut, vOut, n] = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => f.param(k));
  const scalars = [8, 9, 10, 11, 12, 13, 14, 15, 16].map((k) => f.param(k));
  const [gradScale, decay, b1, c1, b2, c2, bc2, eps, negStep] = scalars;
  const vecs = scalars.map(() => f.local("v128"));
  const i = f.local("i32");
  const n4 = f.local("i32");
  const gv = f.local("v128");
  const mv = f.local("v128");
  const vv = f.local("v128");
  const gs = f.local("f32");
  const ms = f.local("f32");
  const vs = f.local("f32");
  scalars.forEach((s, k) => f.get(s).f32x4Splat().set(vecs[k]));
  const [GS, DECAY, B1, C1, B2, C2, BC2, EPS, NEG] = vecs;
  floor4(f, n, n4);
  f.forRange(i, () => f.i32Const(0), () => f.get(n4), 4, () => {
    addr(f, g, i).v128Load().get(GS).f32x4Mul().set(gv);
    addr(f, m, i).v128Load().get(B1).f32x4Mul().get(C1).get(gv).f32x4Mul().f32x4Add().set(mv);
    addr(f, v, i).v128Load().get(B2).f32x4Mul().get(C2).get(gv).f32x4Mul().get(gv).f32x4Mul().f32x4Add().set(vv);
    addr(f, mOut, i).get(mv).v128Store();
    addr(f, vOut, i).get(vv).v128Store();
    addr(f, pOut, i);
    addr(f, p, i).v128Load().get(DECAY).f32x4Mul();
    f.get(NEG).get(mv).f32x4Mul();
    f.get(vv).f32x4Sqrt().get(BC2).f32x4Div().get(EPS).f32x4Add();
    f.f32x4Div().f32x4Add().v128Store();
  });
  f.forRange(i, () => f.get(n4), () => f.get(n), 1, () => {
    addr(f, g, i).f32Load().get(gradScale).f32Mul().set(gs);
    addr(f, m, i).f32Load().get(b1).f32Mul().get(c1).get(gs).f32Mul().f32Add().set(ms);
    addr(f, v, i).f32Load().get(b2).f32Mul().get(c2).get(gs).f32Mul().get(gs).f32Mul().f32Add().set(vs);
    addr(f, mOut, i).get(ms).f32Store();
    addr(f, vOut, i).get(vs).f32Store();
    addr(f, pOut, i);
    addr(f, p, i).f32Load().get(decay).f32Mul();
    f.get(negStep).get(ms).f32Mul();
    f.get(vs).f32Sqrt().get(bc2).f32Div().get(eps).f32Add();
    f.f32Div().f32Add().f32Store();
  });
  return f;
}

/** Pushes exp(x) for the f32x4 x in `x` (x <= 0; clamped at -87), using scratch locals. */
function expNonPositive(f: FunctionBuilder, x: Local, s: { k: Local; r: Local; p: Local }): void {
  // k = nearest(x * log2(e)); r = x - k*ln2 (two steps); p = poly(r) ~ e^r; result p * 2^k.
  f.get(x).f32Const(-87).f32x4Splat().f32x4Max().set(x);
  f.get(x).splat(LOG2E).f32x4Mul().f32x4Nearest().set(s.k);
  f.get(x).get(s.k).splat(LN2_HI).f32x4Mul().f32x4Sub();
  f.get(s.k).splat(LN2_LO).f32x4Mul().f32x4Sub().set(s.r);
  // Horner: 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040))))))
  const coeffs = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
  f.splat(coeffs[0]).set(s.p);
  for (const c of coeffs.slice(1)) f.get(s.p).get(s.r).f32x4Mul().splat(c).f32x4Add().set(s.p);
  // 2^k: (k + 127) << 23 as float bits.
  f.get(s.p);
  f.get(s.k).i32x4TruncSatF32x4S().i32Const(127).i32x4Splat().i32x4Add().i32Const(23).i32x4Shl();
  f.f32x4Mul();
}

/** Pushes tanh(u) for the f32x4 in `u` (overwrites scratch). */
function tanh(f: FunctionBuilder, u: Local, s: { a: Local; e: Local; k: Local; r: Local; p: Local }): void {
  // tanh(|u|) = (1 - e) / (1 + e) with e = exp(-2|u|); the sign of u is put back with bitselect.
  f.get(u).f32x4Abs().splat(-2).f32x4Mul().set(s.a);
  expNonPositive(f, s.a, s);
  f.set(s.e);
  f.splat(1).get(s.e).f32x4Sub();
  f.splat(1).get(s.e).f32x4Add();
  f.f32x4Div(); // tanh(|u|), >= 0
  f.get(u); // sign bit from u
  f.i32Const(0x7fffffff).i32x4Splat(); // mask: magnitude bits from tanh(|u|)
  f.v128Bitselect();
}

/** geglu(gate, up, out, n): out = (0.5 g) (1 + tanh(beta (g + kappa g^3))) * up — torch's order. */
export function gegluKernel(): FunctionBuilder {
  const f = new FunctionBuilder("geglu", ["i32", "i32", "i32", "i32"]);
  const [gate, up, out, n] = [0, 1, 2, 3].map((k) => f.param(k));
  const i = f.local("i32");
  const x = f.local("v128");
  const u = f.local("v128");
  const scratch = { a: f.local("v128"), e: f.local("v128"), k: f.local("v128"), r: f.local("v128"), p: f.local("v128") };
  f.forRange(i, () => f.i32Const(0), () => f.get(n), 4, () => {
    addr(f, gate, i).v128Load().set(x);
    // u = beta * (x + kappa * (x*x*x))
    f.f32Const(GELU_BETA).f32x4Splat();
    f.get(x).f32Const(GELU_KAPPA).f32x4Splat().get(x).get(x).f32x4Mul().get(x).f32x4Mul().f32x4Mul().f32x4Add();
    f.f32x4Mul().set(u);
    addr(f, out, i);
    f.f32Const(0.5).f32x4Splat().get(x).f32x4Mul();
    f.f32Const(1).f32x4Splat();
    tanh(f, u, scratch);
    f.f32x4Add().f32x4Mul();
    addr(f, up, i).v128Load().f32x4Mul();
    f.v128Store();
  });
  return f;
}

/**
 * gegluGrad(gate, up, dOut, dGate, dUp, n):
 *   dUp = dOut * gelu(g);  dGate = dOut * up * (0.5 (1 + t) + 0.5 g (1 - t^2) beta (1 + 3 kappa g^2))
 */
export function gegluGradKernel(): FunctionBuilder {
  const f = new FunctionBuilder("gegluGrad", ["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [gate, up, dOut, dGate, dUp, n] = [0, 1, 2, 3, 4, 5].map((k) => f.param(k));
  const i = f.local("i32");
  const x = f.local("v128");
  const u = f.local("v128");
  const t = f.local("v128");
  const dy = f.local("v128");
  const scratch = { a: f.local("v128"), e: f.local("v128"), k: f.local("v128"), r: f.local("v128"), p: f.local("v128") };
  f.forRange(i, () => f.i32Const(0), () => f.get(n), 4, () => {
    addr(f, gate, i).v128Load().set(x);
    addr(f, dOut, i).v128Load().set(dy);
    f.f32Const(GELU_BETA).f32x4Splat();
    f.get(x).f32Const(GELU_KAPPA).f32x4Splat().get(x).get(x).f32x4Mul().get(x).f32x4Mul().f32x4Mul().f32x4Add();
    f.f32x4Mul().set(u);
    tanh(f, u, scratch);
    f.set(t);
    // dUp = dOut * (0.5 x)(1 + t)
    addr(f, dUp, i);
    f.get(dy).get(x).splat(0.5).f32x4Mul().splat(1).get(t).f32x4Add().f32x4Mul().f32x4Mul();
    f.v128Store();
    // gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2)
    addr(f, dGate, i);
    f.get(dy);
    addr(f, up, i).v128Load().f32x4Mul();
    f.splat(0.5).splat(1).get(t).f32x4Add().f32x4Mul();
    f.splat(0.5).get(x).f32x4Mul();
    f.splat(1).get(t).get(t).f32x4Mul().f32x4Sub().f32x4Mul();
    f.f32Const(GELU_BETA).f32x4Splat().f32x4Mul();
    f.splat(1).f32Const(3 * GELU_KAPPA).f32x4Splat().get(x).get(x).f32x4Mul().f32x4Mul().f32x4Add().f32x4Mul();
    f.f32x4Add();
    f.f32x4Mul().v128Store();
  });
  return f;
}


/** Pushes the f32 sum of the four lanes of `v`: (l0 + l1) + (l2 + l3). */
function laneSum(f: FunctionBuilder, v: Local): void {
  f.get(v).f32x4ExtractLane(0).get(v).f32x4ExtractLane(1).f32Add();
  f.get(v).f32x4ExtractLane(2).get(v).f32x4ExtractLane(3).f32Add();
  f.f32Add();
}

/** Sets `r` to 1 / sqrt(sum(x[row]^2) / d + eps) for the row at byte offset `row`. */
function rowRsqrt(f: FunctionBuilder, row: Local, d: Local, d4: Local, eps: Local, r: Local, j: Local, acc: Local, sum: Local): void {
  f.splat(0).set(acc);
  f.forRange(j, () => f.i32Const(0), () => f.get(d4), 4, () => {
    addr(f, row, j).v128Load();
    addr(f, row, j).v128Load();
    f.f32x4Mul().get(acc).f32x4Add().set(acc);
  });
  laneSum(f, acc);
  f.set(sum);
  f.forRange(j, () => f.get(d4), () => f.get(d), 1, () => {
    addr(f, row, j).f32Load();
    addr(f, row, j).f32Load();
    f.f32Mul().get(sum).f32Add().set(sum);
  });
  f.f32Const(1).get(sum).get(d).f32ConvertI32S().f32Div().get(eps).f32Add().f32Sqrt().f32Div().set(r);
}

/** rmsNorm(x, w, y, rows, d, eps, offset): y = (x * r) * (offset + w), r = 1/sqrt(mean(x^2) + eps). */
export function rmsNormKernel(): FunctionBuilder {
  const f = new FunctionBuilder("rmsNorm", ["i32", "i32", "i32", "i32", "i32", "f32", "f32"]);
  const [x, w, y, rows, d, eps, offset] = [0, 1, 2, 3, 4, 5, 6].map((k) => f.param(k));
  const i = f.local("i32");
  const j = f.local("i32");
  const d4 = f.local("i32");
  const xr = f.local("i32");
  const yr = f.local("i32");
  const acc = f.local("v128");
  const sum = f.local("f32");
  const r = f.local("f32");
  const rv = f.local("v128");
  const off = f.local("v128");
  floor4(f, d, d4);
  f.get(offset).f32x4Splat().set(off);
  f.forRange(i, () => f.i32Const(0), () => f.get(rows), 1, () => {
    f.get(x).get(i).get(d).i32Mul().i32Const(2).i32Shl().i32Add().set(xr);
    f.get(y).get(i).get(d).i32Mul().i32Const(2).i32Shl().i32Add().set(yr);
    rowRsqrt(f, xr, d, d4, eps, r, j, acc, sum);
    f.get(r).f32x4Splat().set(rv);
    f.forRange(j, () => f.i32Const(0), () => f.get(d4), 4, () => {
      addr(f, yr, j);
      addr(f, xr, j).v128Load().get(rv).f32x4Mul();
      f.get(off);
      addr(f, w, j).v128Load().f32x4Add();
      f.f32x4Mul().v128Store();
    });
    f.forRange(j, () => f.get(d4), () => f.get(d), 1, () => {
      addr(f, yr, j);
      addr(f, xr, j).f32Load().get(r).f32Mul();
      f.get(offset);
      addr(f, w, j).f32Load().f32Add();
      f.f32Mul().f32Store();
    });
  });
  return f;
}

/**
 * rmsNormGrad(x, w, dy, dx, dw, rows, d, eps, offset), with n = x r and s = offset + w:
 *   dx = r (dy s - n c), c = sum(dy s n) / d;   dw += dy n  (dw must start at zero)
 */
export function rmsNormGradKernel(): FunctionBuilder {
  const f = new FunctionBuilder("rmsNormGrad", ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "f32", "f32"]);
  const [x, w, dy, dx, dw, rows, d, eps, offset] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => f.param(k));
  const i = f.local("i32");
  const j = f.local("i32");
  const d4 = f.local("i32");
  const xr = f.local("i32");
  const dyr = f.local("i32");
  const dxr = f.local("i32");
  const acc = f.local("v128");
  const sum = f.local("f32");
  const r = f.local("f32");
  const c = f.local("f32");
  const rv = f.local("v128");
  const cv = f.local("v128");
  const off = f.local("v128");
  const n = f.local("v128");
  const ns = f.local("f32");
  const rowOffset = (base: Local, out: Local) => f.get(base).get(i).get(d).i32Mul().i32Const(2).i32Shl().i32Add().set(out);
  floor4(f, d, d4);
  f.get(offset).f32x4Splat().set(off);
  f.forRange(i, () => f.i32Const(0), () => f.get(rows), 1, () => {
    rowOffset(x, xr);
    rowOffset(dy, dyr);
    rowOffset(dx, dxr);
    rowRsqrt(f, xr, d, d4, eps, r, j, acc, sum);
    f.get(r).f32x4Splat().set(rv);
    // c = sum((dy * s) * (x * r)) / d; dw += dy * (x * r)
    f.splat(0).set(acc);
    f.forRange(j, () => f.i32Const(0), () => f.get(d4), 4, () => {
      addr(f, xr, j).v128Load().get(rv).f32x4Mul().set(n);
      addr(f, dyr, j).v128Load().get(off);
      addr(f, w, j).v128Load().f32x4Add().f32x4Mul();
      f.get(n).f32x4Mul().get(acc).f32x4Add().set(acc);
      addr(f, dw, j);
      addr(f, dw, j).v128Load();
      addr(f, dyr, j).v128Load().get(n).f32x4Mul().f32x4Add().v128Store();
    });
    laneSum(f, acc);
    f.set(sum);
    f.forRange(j, () => f.get(d4), () => f.get(d), 1, () => {
      addr(f, xr, j).f32Load().get(r).f32Mul().set(ns);
      addr(f, dyr, j).f32Load().get(offset);
      addr(f, w, j).f32Load().f32Add().f32Mul();
      f.get(ns).f32Mul().get(sum).f32Add().set(sum);
      addr(f, dw, j);
      addr(f, dw, j).f32Load();
      addr(f, dyr, j).f32Load().get(ns).f32Mul().f32Add().f32Store();
    });
    f.get(sum).get(d).f32ConvertI32S().f32Div().set(c);
    f.get(c).f32x4Splat().set(cv);
    // dx = r * (dy * s - (x * r) * c)
    f.forRange(j, () => f.i32Const(0), () => f.get(d4), 4, () => {
      addr(f, dxr, j);
      f.get(rv);
      addr(f, dyr, j).v128Load().get(off);
      addr(f, w, j).v128Load().f32x4Add().f32x4Mul();
      addr(f, xr, j).v128Load().get(rv).f32x4Mul().get(cv).f32x4Mul();
      f.f32x4Sub().f32x4Mul().v128Store();
    });
    f.forRange(j, () => f.get(d4), () => f.get(d), 1, () => {
      addr(f, dxr, j);
      f.get(r);
      addr(f, dyr, j).f32Load().get(offset);
      addr(f, w, j).f32Load().f32Add().f32Mul();
      addr(f, xr, j).f32Load().get(r).f32Mul().get(c).f32Mul();
      f.f32Sub().f32Mul().f32Store();
    });
  });
  return f;
}

/** rowMaxSumExp(x, rows, cols, stats): stats[r] = [max_j x[r, j], sum_j exp(x[r, j] - max)]; cols % 4 == 0. */
export function rowMaxSumExpKernel(): FunctionBuilder {
  const f = new FunctionBuilder("rowMaxSumExp", ["i32", "i32", "i32", "i32"]);
  const [x, rows, cols, stats] = [0, 1, 2, 3].map((k) => f.param(k));
  const i = f.local("i32");
  const j = f.local("i32");
  const row = f.local("i32");
  const mv = f.local("v128");
  const acc = f.local("v128");
  const m = f.local("f32");
  const v = f.local("v128");
  const scratch = { k: f.local("v128"), r: f.local("v128"), p: f.local("v128") };
  f.forRange(i, () => f.i32Const(0), () => f.get(rows), 1, () => {
    f.get(x).get(i).get(cols).i32Mul().i32Const(2).i32Shl().i32Add().set(row);
    f.splat(-Infinity).set(mv);
    f.forRange(j, () => f.i32Const(0), () => f.get(cols), 4, () => {
      addr(f, row, j).v128Load().get(mv).f32x4Max().set(mv);
    });
    f.get(mv).f32x4ExtractLane(0).get(mv).f32x4ExtractLane(1).f32Max();
    f.get(mv).f32x4ExtractLane(2).get(mv).f32x4ExtractLane(3).f32Max();
    f.f32Max().set(m);
    f.get(m).f32x4Splat().set(mv);
    f.splat(0).set(acc);
    f.forRange(j, () => f.i32Const(0), () => f.get(cols), 4, () => {
      addr(f, row, j).v128Load().get(mv).f32x4Sub().set(v);
      expNonPositive(f, v, scratch);
      f.get(acc).f32x4Add().set(acc);
    });
    f.get(stats).get(i).i32Const(3).i32Shl().i32Add().get(m).f32Store(0);
    f.get(stats).get(i).i32Const(3).i32Shl().i32Add();
    laneSum(f, acc);
    f.f32Store(4);
  });
  return f;
}

/** softmaxScaled(x, out, rows, cols, stats): out[r, j] = exp(x[r, j] - stats[r][0]) * stats[r][1]. */
export function softmaxScaledKernel(): FunctionBuilder {
  const f = new FunctionBuilder("softmaxScaled", ["i32", "i32", "i32", "i32", "i32"]);
  const [x, out, rows, cols, stats] = [0, 1, 2, 3, 4].map((k) => f.param(k));
  const i = f.local("i32");
  const j = f.local("i32");
  const xr = f.local("i32");
  const or = f.local("i32");
  const mv = f.local("v128");
  const sv = f.local("v128");
  const v = f.local("v128");
  const scratch = { k: f.local("v128"), r: f.local("v128"), p: f.local("v128") };
  f.forRange(i, () => f.i32Const(0), () => f.get(rows), 1, () => {
    f.get(x).get(i).get(cols).i32Mul().i32Const(2).i32Shl().i32Add().set(xr);
    f.get(out).get(i).get(cols).i32Mul().i32Const(2).i32Shl().i32Add().set(or);
    f.get(stats).get(i).i32Const(3).i32Shl().i32Add().f32Load(0).f32x4Splat().set(mv);
    f.get(stats).get(i).i32Const(3).i32Shl().i32Add().f32Load(4).f32x4Splat().set(sv);
    f.forRange(j, () => f.i32Const(0), () => f.get(cols), 4, () => {
      addr(f, or, j);
      addr(f, xr, j).v128Load().get(mv).f32x4Sub().set(v);
      expNonPositive(f, v, scratch);
      f.get(sv).f32x4Mul().v128Store();
    });
  });
  return f;
}

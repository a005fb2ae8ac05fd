/**
 * The pieces of a packed GEMM (GotoBLAS-style) for float32, written with `assembler.ts`:
 *
 *   packA(src, rs, cs, mc, kc, dst)   A block [mc, kc] (element strides rs, cs) -> panels of MR rows,
 *                                     each [kc][MR], zero-padded past mc
 *   packB(src, rs, cs, kc, nc, dst)   B block [kc, nc] -> panels of NR columns, each [kc][NR],
 *                                     zero-padded past nc
 *   gemmBlock(ap, bp, c, ldc, mc, nc, kc, accumulate, tile)
 *                                     C[mc, nc] (=|+=) Ap . Bp with an MR x NR register tile
 *
 * Because packing reads through strides, a transposed operand costs nothing extra: the four
 * transpose cases of BatchMatMul are four stride choices. Pointers are byte offsets; strides and
 * sizes are elements. MR = 4, NR = 8: 8 accumulators + 2 B vectors + 1 A splat fit V8's 16 xmm
 * registers; with relaxed SIMD the update is one fused multiply-add per vector.
 */
import { FunctionBuilder, type Local } from "./assembler.js";

export const MR = 4;
export const NR = 8;

/** Pushes src + (row * rs + col * cs) * 4. */
function at(f: FunctionBuilder, src: Local, row: () => void, rs: Local, col: () => void, cs: Local): void {
  f.get(src);
  row();
  f.get(rs).i32Mul();
  col();
  f.get(cs).i32Mul().i32Add().i32Const(2).i32Shl().i32Add();
}

/**
 * Transposes four v128 locals in place as a 4x4 block: rows r[0..3] become columns. `t` are 4
 * scratch v128 locals.
 */
function transpose4(f: FunctionBuilder, r: Local[], t: Local[]): void {
  f.get(r[0]).get(r[1]).shuffle32([0, 4, 1, 5]).set(t[0]);
  f.get(r[0]).get(r[1]).shuffle32([2, 6, 3, 7]).set(t[1]);
  f.get(r[2]).get(r[3]).shuffle32([0, 4, 1, 5]).set(t[2]);
  f.get(r[2]).get(r[3]).shuffle32([2, 6, 3, 7]).set(t[3]);
  f.get(t[0]).get(t[2]).shuffle32([0, 1, 4, 5]).set(r[0]);
  f.get(t[0]).get(t[2]).shuffle32([2, 3, 6, 7]).set(r[1]);
  f.get(t[1]).get(t[3]).shuffle32([0, 1, 4, 5]).set(r[2]);
  f.get(t[1]).get(t[3]).shuffle32([2, 3, 6, 7]).set(r[3]);
}

/**
 * Packs `width`-wide panels of a [outer, kc] view: panel p holds rows p*width .. p*width+width-1
 * (zero past `outer`), laid out [kc][width]. Used for A (width MR, outer = mc, strides rs/cs) and
 * for B (width NR, outer = nc, strides cs/rs: B's columns play A's rows).
 */
function packPanels(name: string, width: number): FunctionBuilder {
  const f = new FunctionBuilder(name, ["i32", "i32", "i32", "i32", "i32", "i32"]);
  // src, os (stride along the panel's lanes), ks (stride along k), outer, kc, dst
  const [src, os, ks, outer, kc, dst] = [0, 1, 2, 3, 4, 5].map((i) => f.param(i));
  const p = f.local("i32"); // first lane (row of A / column of B) of the panel
  const k = f.local("i32");
  const l = f.local("i32");
  const kc4 = f.local("i32");
  const out = f.local("i32");
  const value = f.local("f32");
  const r = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")];
  const t = [f.local("v128"), f.local("v128"), f.local("v128"), f.local("v128")];
  f.get(kc).i32Const(-4).i32And().set(kc4);
  f.get(dst).set(out);
  f.forRange(p, () => f.i32Const(0), () => f.get(outer), width, () => {
    // Full panel?
    f.get(p).i32Const(width).i32Add().get(outer).i32LeS();
    f.if(
      () => {
        // Lanes contiguous (os == 1): each k is `width` consecutive floats.
        f.get(os).i32Const(1).i32Eq();
        f.if(
          () => {
            f.forRange(k, () => f.i32Const(0), () => f.get(kc), 1, () => {
              for (let v = 0; v < width / 4; v++) {
                f.get(out);
                at(f, src, () => f.get(p).i32Const(4 * v).i32Add(), os, () => f.get(k), ks);
                f.v128Load().v128Store(16 * v);
              }
              f.get(out).i32Const(width * 4).i32Add().set(out);
            });
          },
          () => {
            // k contiguous (ks == 1): 4x4 transposes, then a scalar tail over k.
            f.get(ks).i32Const(1).i32Eq();
            f.if(
              () => {
                f.forRange(k, () => f.i32Const(0), () => f.get(kc4), 4, () => {
                  for (let v = 0; v < width / 4; v++) {
                    for (let q = 0; q < 4; q++) {
                      at(f, src, () => f.get(p).i32Const(4 * v + q).i32Add(), os, () => f.get(k), ks);
                      f.v128Load().set(r[q]);
                    }
                    transpose4(f, r, t);
                    for (let q = 0; q < 4; q++) f.get(out).get(r[q]).v128Store(16 * v + q * width * 4);
                  }
                  f.get(out).i32Const(width * 16).i32Add().set(out);
                });
                scalarK(f, () => f.get(kc4));
              },
              () => scalarK(f, () => f.i32Const(0)),
            );
          },
        );
      },
      () => scalarK(f, () => f.i32Const(0)),
    );
  });
  return f;

  /** k from `start` to kc, one lane at a time, zero past `outer`. */
  function scalarK(g: FunctionBuilder, start: () => void): void {
    g.forRange(k, start, () => g.get(kc), 1, () => {
      g.forRange(l, () => g.i32Const(0), () => g.i32Const(width), 1, () => {
        g.get(p).get(l).i32Add().get(outer).i32LtS();
        g.if(
          () => {
            at(g, src, () => g.get(p).get(l).i32Add(), os, () => g.get(k), ks);
            g.f32Load().set(value);
          },
          () => {
            g.f32Const(0).set(value);
          },
        );
        g.get(out).get(l).i32Const(2).i32Shl().i32Add().get(value).f32Store();
      });
      g.get(out).i32Const(width * 4).i32Add().set(out);
    });
  }
}

/** packA(src, rs, cs, mc, kc, dst): A's rows are the panel lanes. */
export function packAKernel(): FunctionBuilder {
  return packPanels("packA", MR);
}

/** packB(src, cs, rs, nc, kc, dst): called with B's column stride first (its columns are lanes). */
export function packBKernel(): FunctionBuilder {
  return packPanels("packB", NR);
}

/**
 * gemmBlock(ap, bp, c, ldc, mc, nc, kc, accumulate, tile): for every MR x NR tile of C, the sum over
 * kc of A-panel x B-panel, then C = acc (or C += acc). Edge tiles go through `tile` (MR*NR floats).
 */
export function gemmBlockKernel(fma: boolean): FunctionBuilder {
  const f = new FunctionBuilder("gemmBlock", ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"]);
  const [ap, bp, c, ldc, mc, nc, kc, accumulate, tile] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => f.param(i));
  const ir = f.local("i32");
  const jr = f.local("i32");
  const k = f.local("i32");
  const pa = f.local("i32");
  const pb = f.local("i32");
  const dst = f.local("i32");
  const ldd = f.local("i32"); // destination row stride in bytes
  const i = f.local("i32");
  const j = f.local("i32");
  const v = f.local("f32");
  const acc: Local[][] = [];
  for (let r = 0; r < MR; r++) acc.push([f.local("v128"), f.local("v128")]);
  const b0 = f.local("v128");
  const b1 = f.local("v128");
  const av = f.local("v128");
  f.forRange(jr, () => f.i32Const(0), () => f.get(nc), NR, () => {
    f.forRange(ir, () => f.i32Const(0), () => f.get(mc), MR, () => {
      // Panels: bp + (jr / NR) * kc * NR * 4 = bp + jr * kc * 4; ap + ir * kc * 4 likewise.
      f.get(bp).get(jr).get(kc).i32Mul().i32Const(2).i32Shl().i32Add().set(pb);
      f.get(ap).get(ir).get(kc).i32Mul().i32Const(2).i32Shl().i32Add().set(pa);
      for (const row of acc) for (const v of row) f.splat(0).set(v);
      f.forRange(k, () => f.i32Const(0), () => f.get(kc), 1, () => {
        f.get(pb).v128Load(0).set(b0);
        f.get(pb).v128Load(16).set(b1);
        for (let r = 0; r < MR; r++) {
          f.get(pa).v128Load32Splat(4 * r).set(av);
          for (const [sum, b] of [[acc[r][0], b0], [acc[r][1], b1]] as const) {
            if (fma) f.get(av).get(b).get(sum).f32x4RelaxedMadd().set(sum);
            else f.get(av).get(b).f32x4Mul().get(sum).f32x4Add().set(sum);
          }
        }
        f.get(pa).i32Const(MR * 4).i32Add().set(pa);
        f.get(pb).i32Const(NR * 4).i32Add().set(pb);
      });
      // Full tile: straight into C; edge tile: into `tile`, then the valid part into C.
      f.get(ir).i32Const(MR).i32Add().get(mc).i32LeS();
      f.get(jr).i32Const(NR).i32Add().get(nc).i32LeS();
      f.i32And();
      f.if(
        () => {
          f.get(c).get(ir).get(ldc).i32Mul().get(jr).i32Add().i32Const(2).i32Shl().i32Add().set(dst);
          f.get(ldc).i32Const(2).i32Shl().set(ldd);
          storeTile(true);
        },
        () => {
          f.get(tile).set(dst);
          f.i32Const(NR * 4).set(ldd);
          storeTile(false);
          // C[ir + i, jr + j] (+)= tile[i, j] for the rows and columns inside C.
          f.forRange(i, () => f.i32Const(0), () => f.i32Const(MR), 1, () => {
            f.get(ir).get(i).i32Add().get(mc).i32LtS();
            f.if(() => {
              f.forRange(j, () => f.i32Const(0), () => f.i32Const(NR), 1, () => {
                f.get(jr).get(j).i32Add().get(nc).i32LtS();
                f.if(() => {
                  // v = tile[i, j] (+ C[ir+i, jr+j]); C[ir+i, jr+j] = v
                  f.get(tile).get(i).i32Const(NR).i32Mul().get(j).i32Add().i32Const(2).i32Shl().i32Add().f32Load().set(v);
                  f.get(accumulate);
                  f.if(() => {
                    cAddress();
                    f.f32Load().get(v).f32Add().set(v);
                  });
                  cAddress();
                  f.get(v).f32Store();
                });
              });
            });
          });
        },
      );
    });
  });
  return f;

  /** Pushes the address of C[ir + i, jr + j]. */
  function cAddress(): void {
    f.get(c).get(ir).get(i).i32Add().get(ldc).i32Mul().get(jr).i32Add().get(j).i32Add().i32Const(2).i32Shl().i32Add();
  }

  /** Writes the accumulators at dst (row stride ldd bytes); into C, adds the old C when `accumulate`. */
  function storeTile(intoC: boolean): void {
    const store = (add: boolean) => {
      for (let r = 0; r < MR; r++) {
        for (let h = 0; h < 2; h++) {
          f.get(dst).get(ldd).i32Const(r).i32Mul().i32Add();
          f.get(acc[r][h]);
          if (add) f.get(dst).get(ldd).i32Const(r).i32Mul().i32Add().v128Load(16 * h).f32x4Add();
          f.v128Store(16 * h);
        }
      }
    };
    if (!intoC) return store(false);
    f.get(accumulate);
    f.if(() => store(true), () => store(false));
  }
}

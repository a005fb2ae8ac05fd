import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { matMulReference, maxRelError } from "./reference.js";

beforeAll(async () => {
  const info = await initBackend({ backend: "wasm", threads: 1 });
  expect(info.patches).toEqual(expect.arrayContaining(["UnsortedSegmentSum", "BatchMatMul", "Identity", "Cast", "Transpose", "GatherV2"]));
});

afterEach(() => {
  delete process.env.MMFM_WASM_MATMUL;
});

/** Runs `f` with its inputs on cpu (from the same values) and returns both results' data. */
async function wasmAndCpu(inputs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const values = await Promise.all(inputs.map((t) => t.data()));
  const run = async () => {
    const xs = inputs.map((t, i) => tf.tensor(values[i], t.shape, t.dtype));
    const out = f(...xs);
    const list = Array.isArray(out) ? out : [out];
    const data = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose([...xs, ...list]);
    return data;
  };
  const wasm = await run();
  await tf.setBackend("cpu");
  const cpu = await run();
  await tf.setBackend("wasm");
  return [wasm, cpu];
}

const MATMUL_CASES: [number[], number[]][] = [
  [[5, 7], [7, 3]],
  [[1, 1], [1, 1]],
  [[13, 300], [300, 9]], // K crosses a 256-deep block
  [[6, 20], [20, 530]], // N crosses a 512-wide block, edge tiles both ways
  [[130, 33], [33, 17]], // M crosses a 128-tall block
  [[2, 5, 7], [7, 3]], // b batch 1: folded into rows
  [[2, 5, 7], [2, 7, 3]],
  [[5, 7], [3, 7, 4]], // a broadcast
  [[2, 1, 5, 7], [1, 3, 7, 4]], // both broadcast
  [[2, 4, 8, 16], [2, 1, 16, 8]],
];

describe("BatchMatMul on wasm", () => {
  for (const route of ["packed", "xnnpack"]) {
    for (const [aShape, bShape] of MATMUL_CASES) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const sa = transposeA ? [...aShape.slice(0, -2), aShape.at(-1) as number, aShape.at(-2) as number] : aShape;
          const sb = transposeB ? [...bShape.slice(0, -2), bShape.at(-1) as number, bShape.at(-2) as number] : bShape;
          it(`${route}: [${sa}]${transposeA ? "ᵀ" : ""} x [${sb}]${transposeB ? "ᵀ" : ""} matches a float64 reference`, async () => {
            process.env.MMFM_WASM_MATMUL = route;
            const a = tf.randomNormal(sa, 0, 1, "float32", 1);
            const b = tf.randomNormal(sb, 0, 1, "float32", 2);
            const y = tf.matMul(a, b, transposeA, transposeB);
            const ref = matMulReference(await a.data(), sa, await b.data(), sb, transposeA, transposeB);
            expect(y.shape).toEqual(ref.shape);
            expect(maxRelError(await y.data(), ref.values)).toBeLessThan(2e-5);
            tf.dispose([a, b, y]);
          });
        }
      }
    }
  }

  it("an empty inner dimension gives zeros", async () => {
    const y = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 2]));
    expect(Array.from(await y.data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("says which inner dimensions differ", () => {
    expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(/inner dimensions differ|inner shapes/);
  });
});

describe("BatchMatMul gradient with broadcast batch dimensions", () => {
  for (const backend of ["wasm", "cpu"]) {
    it(`sums over the broadcast dimensions (${backend})`, async () => {
      await tf.setBackend(backend);
      const a = tf.randomNormal([2, 4, 3, 5], 0, 1, "float32", 3);
      const b = tf.randomNormal([2, 1, 5, 3], 0, 1, "float32", 4);
      const w = tf.randomNormal([2, 4, 3, 3], 0, 1, "float32", 5);
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w));
      const [ga, gb] = tf.grads(f)([a, b]);
      // The same function with b tiled explicitly: tile's gradient sums the copies.
      const [ta, tb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, tf.tile(y, [1, 4, 1, 1])), w)))([a, b]);
      expect(gb.shape).toEqual([2, 1, 5, 3]);
      expect(maxRelError(await ga.data(), await ta.data())).toBeLessThan(1e-5);
      expect(maxRelError(await gb.data(), await tb.data())).toBeLessThan(1e-5);
      tf.dispose([a, b, w, ga, gb, ta, tb]);
      await tf.setBackend("wasm");
    });
  }
});

describe("UnsortedSegmentSum on wasm", () => {
  it("sums rows into segments and drops ids outside [0, numSegments)", async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]);
    const ids = tf.tensor1d([2, 0, 2, -1, 7], "int32");
    const y = tf.unsortedSegmentSum(x, ids, 4);
    expect(y.shape).toEqual([4, 2]);
    expect(Array.from(await y.data())).toEqual([3, 4, 0, 0, 1 + 5, 2 + 6, 0, 0]);
    const xi = tf.tensor1d([5, 6, 7], "int32");
    expect(Array.from(await tf.unsortedSegmentSum(xi, tf.tensor1d([1, 1, 0], "int32"), 2).data())).toEqual([7, 11]);
  });

  it("makes embeddings trainable: gather's gradient equals cpu's", async () => {
    const table = tf.randomNormal([10, 4], 0, 1, "float32", 6);
    const ids = tf.tensor2d([[1, 3, 3], [9, 0, 1]], [2, 3], "int32");
    const w = tf.randomNormal([2, 3, 4], 0, 1, "float32", 7);
    const [wasm, cpu] = await wasmAndCpu([table, ids, w], (t, i, ww) => tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, i), ww)))(t));
    expect(maxRelError(wasm[0], cpu[0])).toBeLessThan(1e-6);
  });
});

describe("zero-copy Identity and Cast on wasm", () => {
  it("a clone and a same-type cast outlive their source", async () => {
    const x = tf.tensor1d([1.5, -2, 3]);
    const c = tf.clone(x);
    const k = tf.cast(x, "float32");
    x.dispose();
    expect(Array.from(await c.data())).toEqual([1.5, -2, 3]);
    expect(Array.from(await k.data())).toEqual([1.5, -2, 3]);
    c.dispose();
    expect(Array.from(await k.data())).toEqual([1.5, -2, 3]);
  });

  it("casts between types still convert", async () => {
    const x = tf.tensor1d([1.7, -2.2, 0]);
    expect(Array.from(await tf.cast(x, "int32").data())).toEqual([1, -2, 0]);
    expect(Array.from(await tf.cast(x, "bool").data())).toEqual([1, 1, 0]);
  });
});

describe("Transpose on wasm", () => {
  const cases: [number[], number[], "float32" | "int32"][] = [
    [[7, 5], [1, 0], "float32"],
    [[3, 9, 6], [0, 2, 1], "float32"],
    [[4, 3, 5], [1, 0, 2], "float32"],
    [[2, 6, 3, 4], [0, 2, 1, 3], "float32"], // attention's head swap
    [[2, 6, 3, 4], [1, 0, 2, 3], "float32"],
    [[2, 3, 4], [2, 0, 1], "float32"], // falls back to the stock kernel
    [[1, 5, 1, 3], [3, 2, 1, 0], "int32"],
    [[6, 10], [1, 0], "int32"],
  ];
  for (const [shape, perm, dtype] of cases) {
    it(`[${shape}] by [${perm}] (${dtype}) equals cpu`, async () => {
      const x = dtype === "int32" ? tf.cast(tf.mul(tf.randomNormal(shape, 0, 100, "float32", 8), 1), "int32") : tf.randomNormal(shape, 0, 1, "float32", 8);
      const [wasm, cpu] = await wasmAndCpu([x], (t) => tf.transpose(t, perm));
      expect(Array.from(wasm[0])).toEqual(Array.from(cpu[0]));
    });
  }
});

describe("GatherV2 on wasm", () => {
  for (const [shape, indices, axis] of [
    [[10, 4], [[1, 3, 3], [9, 0, 1]], 0],
    [[6], [5, 0, 2], 0],
    [[5, 2, 3], [4, 4, 0], 0],
    [[4, 5], [2, 0], 1], // another axis: the stock kernel
  ] as [number[], number[] | number[][], number][]) {
    it(`[${shape}] at ${JSON.stringify(indices)} along axis ${axis} equals cpu`, async () => {
      const x = tf.randomNormal(shape, 0, 1, "float32", 9);
      const i = tf.tensor(indices, undefined, "int32");
      const [wasm, cpu] = await wasmAndCpu([x, i], (t, k) => tf.gather(t, k, axis));
      expect(Array.from(wasm[0])).toEqual(Array.from(cpu[0]));
    });
  }

  it("says which index is out of range", () => {
    expect(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], "int32"))).toThrow(/index 3 at position 1 is not in \[0, 2\]/);
  });
});

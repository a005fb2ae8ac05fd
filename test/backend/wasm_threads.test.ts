import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import type { WasmBackend } from "../../runtime/backend/wasm_kernels/internals.js";
import { gemmFor, splitTask, type GemmTask } from "../../runtime/backend/wasm_simd/gemm.js";
import { crossEntropy, geglu, rmsNorm } from "../../runtime/backend/fused/index.js";
import { createOptimizer } from "../../runtime/train/index.js";
import { matMulReference, maxRelError } from "./reference.js";

beforeAll(async () => {
  const info = await initBackend({ backend: "wasm", threads: 2, env: {} });
  expect(info.threads).toBe(2);
});

describe("wasm with 2 threads (worker_threads shim)", () => {
  it("runs the threaded build with 2 threads in tfjs's pool and in the GEMM", async () => {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    expect(wasm.getThreadsCount()).toBe(2);
    expect(gemmFor((tf.backend() as unknown as WasmBackend).wasm).threads).toBe(2);
  });

  for (const [sa, sb, ta, tb] of [
    [[300, 200], [200, 150], false, false],
    [[200, 300], [150, 200], true, true],
    [[8, 64, 32], [8, 48, 32], false, true],
  ] as [number[], number[], boolean, boolean][]) {
    it(`matMul [${sa}]${ta ? "ᵀ" : ""} x [${sb}]${tb ? "ᵀ" : ""} split across threads matches a float64 reference`, async () => {
      const a = tf.randomNormal(sa, 0, 1, "float32", 1);
      const b = tf.randomNormal(sb, 0, 1, "float32", 2);
      const y = tf.matMul(a, b, ta, tb);
      const ref = matMulReference(await a.data(), sa, await b.data(), sb, ta, tb);
      expect(maxRelError(await y.data(), ref.values)).toBeLessThan(2e-5);
      tf.dispose([a, b, y]);
    });
  }

  it("splitting a GEMM across threads gives the same bits as one task", async () => {
    const backend = tf.backend() as unknown as WasmBackend;
    const gemm = gemmFor(backend.wasm);
    const a = tf.randomNormal([257, 300], 0, 1, "float32", 3);
    const b = tf.randomNormal([300, 130], 0, 1, "float32", 4);
    const whole = tf.zeros([257, 130]);
    const parts = tf.zeros([257, 130]);
    const ptr = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId).memoryOffset;
    const task = (c: tf.Tensor): GemmTask => ({
      a: { ptr: ptr(a), rs: 300, cs: 1 },
      b: { ptr: ptr(b), rs: 130, cs: 1 },
      c: { ptr: ptr(c), ldc: 130 },
      m: 257,
      n: 130,
      k: 300,
    });
    gemm.run([task(whole)]);
    gemm.run(splitTask(task(parts), 5));
    expect(Array.from(await parts.data())).toEqual(Array.from(await whole.data()));
    tf.dispose([a, b, whole, parts]);
  });

  it("trains: the embedding gradient and a matmul gradient agree with cpu", async () => {
    const table = tf.randomNormal([12, 8], 0, 1, "float32", 5);
    const ids = tf.tensor1d([3, 1, 3, 11], "int32");
    const w = tf.randomNormal([8, 5], 0, 1, "float32", 6);
    const f = (t: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(tf.gather(t, ids), ww)));
    const [gt, gw] = tf.grads(f)([table, w]);
    const wasmValues = [await gt.data(), await gw.data()];
    const tv = await table.data();
    const wv = await w.data();
    await tf.setBackend("cpu");
    const ids2 = tf.tensor1d([3, 1, 3, 11], "int32");
    const [ct, cw] = tf.grads((t: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(tf.gather(t, ids2), ww))))([
      tf.tensor(tv, [12, 8]),
      tf.tensor(wv, [8, 5]),
    ]);
    expect(maxRelError(wasmValues[0], await ct.data())).toBeLessThan(1e-5);
    expect(maxRelError(wasmValues[1], await cw.data())).toBeLessThan(1e-5);
    await tf.setBackend("wasm");
  });
});

describe("the fused kernels spread over 2 threads", () => {
  /** Runs f on wasm (2 threads, fused) and on cpu (tfjs ops) from the same inputs. */
  async function both(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor, dtypes?: ("float32" | "int32")[]) {
    const values = await Promise.all(shapes.map(async (s, i) => {
      const t = tf.randomNormal(s, 0, 2, "float32", 30 + i);
      return dtypes?.[i] === "int32" ? tf.cast(tf.abs(tf.mul(t, 100)), "int32").data() : t.data();
    }));
    const run = async () => {
      const xs = shapes.map((s, i) => tf.tensor(values[i], s, dtypes?.[i] ?? "float32"));
      const y = f(...xs);
      const out = (await y.data()) as Float32Array;
      tf.dispose([...xs, y]);
      return out;
    };
    const wasm = await run();
    await tf.setBackend("cpu");
    const cpu = await run();
    await tf.setBackend("wasm");
    return { wasm, cpu };
  }

  it("geglu on 301 x 301 (with a 1-element tail)", async () => {
    const { wasm, cpu } = await both([[301, 301], [301, 301]], (g, u) => geglu(g, u));
    expect(maxRelError(wasm, cpu)).toBeLessThan(2e-6);
  });

  it("rmsNorm on 300 x 256", async () => {
    const { wasm, cpu } = await both([[300, 256], [256]], (x, w) => rmsNorm(x, w, { eps: 1e-6, offset: 1 }));
    expect(maxRelError(wasm, cpu)).toBeLessThan(2e-6);
  });

  it("crossEntropy on 100 x 1024 and its gradient", async () => {
    const labels = (l: tf.Tensor) => tf.cast(tf.mod(l, 1024), "int32");
    const loss = await both([[100, 1024], [100]], (x, l) => crossEntropy(x, labels(l)), ["float32", "int32"]);
    expect(Math.abs(loss.wasm[0] - loss.cpu[0])).toBeLessThan(1e-5 * (1 + Math.abs(loss.cpu[0])));
    const grad = await both([[100, 1024], [100]], (x, l) => tf.grad((t: tf.Tensor) => crossEntropy(t, labels(l)))(x), ["float32", "int32"]);
    expect(maxRelError(grad.wasm, grad.cpu)).toBeLessThan(1e-6);
  });

  it("AdamW over 70000 parameters equals cpu bit for bit", async () => {
    const step = async () => {
      const params = new Map([["w", tf.variable(tf.randomNormal([70001], 0, 1, "float32", 40))]]);
      const opt = createOptimizer({ lr: 1e-2 }, params);
      for (let s = 0; s < 3; s++) {
        const g = tf.randomNormal([70001], 0, 1, "float32", 50 + s);
        opt.apply(new Map([["w", g]]), 1e-2);
        g.dispose();
      }
      const out = (await (params.get("w") as tf.Variable).data()) as Float32Array;
      opt.dispose();
      tf.dispose([...params.values()]);
      return out;
    };
    const wasm = await step();
    await tf.setBackend("cpu");
    const cpu = await step();
    await tf.setBackend("wasm");
    expect(Array.from(wasm)).toEqual(Array.from(cpu));
  });
});

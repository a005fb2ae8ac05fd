import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { BACKEND_NAMES, backendInfo, describeBackend, initBackend } from "../../runtime/backend/index.js";

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
};

describe("initBackend", () => {
  it("forces a backend from the option or from MMFM_BACKEND, and says so", async () => {
    const byOption = await initBackend({ backend: "cpu", env: {} });
    expect(byOption).toMatchObject({ name: "cpu", tfName: "cpu", forced: true, reason: "forced by --backend", gpu: false, threads: 1 });
    expect(tf.getBackend()).toBe("cpu");
    const byEnv = await initBackend({ env: { MMFM_BACKEND: "CPU" } });
    expect(byEnv.reason).toBe("forced by MMFM_BACKEND");
    expect(backendInfo()).toEqual(byEnv);
  });

  it("chooses automatically in the documented order and reports what it passed over", async () => {
    const lines: string[] = [];
    const info = await initBackend({ env: {}, log: (l) => lines.push(l) });
    expect(info.forced).toBe(false);
    expect(BACKEND_NAMES).toContain(info.name);
    expect(info.name).not.toBe("cpu");
    expect(tf.getBackend()).toBe(info.tfName);
    const order = ["tensorflow-gpu", "webgpu", "tensorflow", "wasm"];
    expect(info.skipped.map((s) => s.name)).toEqual(order.slice(0, order.indexOf(info.name)));
    if (!installed("@tensorflow/tfjs-node-gpu")) {
      expect(info.skipped[0]).toEqual({ name: "tensorflow-gpu", reason: "@tensorflow/tfjs-node-gpu is not installed" });
    }
    if (info.name === "wasm") {
      expect(info.patches).toEqual(expect.arrayContaining(["UnsortedSegmentSum", "BatchMatMul"]));
      expect(info.threads).toBe(1);
      expect(describeBackend(info)).toBe("wasm (auto: WebAssembly with SIMD; 1 thread; SIMD)");
    }
    expect(lines.at(-1)).toBe(`backend: ${describeBackend(info)}`);
    expect(lines.filter((l) => l.startsWith("backend: skipping")).length).toBe(info.skipped.length);
  });

  it("explains why a forced native backend cannot start", async () => {
    if (!installed("@tensorflow/tfjs-node")) {
      await expect(initBackend({ backend: "tensorflow", env: {} })).rejects.toThrow(
        "cannot use backend `tensorflow`: @tensorflow/tfjs-node is not installed",
      );
    }
    if (!installed("@tensorflow/tfjs-node-gpu")) {
      await expect(initBackend({ backend: "tensorflow-gpu", env: {} })).rejects.toThrow(
        "cannot use backend `tensorflow-gpu`: @tensorflow/tfjs-node-gpu is not installed",
      );
    }
  });

  it("forced webgpu without a hardware adapter is an error with a hint", async () => {
    const result = await initBackend({ backend: "webgpu", env: {} }).then(
      (info) => info,
      (e: Error) => e,
    );
    if (result instanceof Error) {
      expect(result.message).toMatch(/^cannot use backend `webgpu`: .+ \(set MMFM_WEBGPU_SOFTWARE=1 to accept a software adapter\)$/);
    } else {
      expect(result.gpu).toBe(true); // a machine with a real GPU
    }
  });

  it("rejects unknown names and bad thread counts with the value given", async () => {
    await expect(initBackend({ backend: "tpu", env: {} })).rejects.toThrow(
      "unknown backend `tpu`; expected one of tensorflow-gpu, webgpu, tensorflow, wasm, cpu",
    );
    for (const bad of ["0", "9", "two"]) {
      await expect(initBackend({ backend: "cpu", env: { MMFM_THREADS: bad } })).rejects.toThrow(
        `threads must be an integer from 1 to 8, got \`${bad}\``,
      );
    }
  });

  it("registers tfjs's gradients and chained ops (tfjs-core's Node bundle has neither)", async () => {
    await initBackend({ backend: "cpu", env: {} });
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(x, x))))(tf.eye(2));
    expect(g.shape).toEqual([2, 2]);
    const y = (tf.scalar(2) as unknown as { mul(x: number): tf.Tensor }).mul(3);
    expect(Array.from(await y.data())).toEqual([6]);
  });
});

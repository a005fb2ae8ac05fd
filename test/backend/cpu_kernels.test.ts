import { beforeAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { matMulReference, maxRelError } from "./reference.js";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
});

describe("BatchMatMul on cpu (the reference backend)", () => {
  const cases: [number[], number[]][] = [
    [[2, 4, 3, 5], [2, 1, 5, 3]], // wrong in stock tfjs-backend-cpu 4.22.0
    [[2, 1, 3, 5], [1, 3, 5, 2]], // likewise
    [[3, 4, 5], [5, 2]],
    [[6, 4, 5], [6, 5, 2]],
    [[4, 5], [2, 3, 5, 2]],
  ];
  for (const [sa, sb] of cases) {
    for (const tb of [false, true]) {
      it(`[${sa}] x [${sb}]${tb ? "ᵀ" : ""} broadcasts batch dimensions correctly`, async () => {
        const b0 = tb ? [...sb.slice(0, -2), sb.at(-1) as number, sb.at(-2) as number] : sb;
        const a = tf.randomNormal(sa, 0, 1, "float32", 1);
        const b = tf.randomNormal(b0, 0, 1, "float32", 2);
        const y = tf.matMul(a, b, false, tb);
        const ref = matMulReference(await a.data(), sa, await b.data(), b0, false, tb);
        expect(y.shape).toEqual(ref.shape);
        expect(maxRelError(await y.data(), ref.values)).toBeLessThan(1e-5);
        tf.dispose([a, b, y]);
      });
    }
  }
});

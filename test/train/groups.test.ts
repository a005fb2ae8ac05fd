/**
 * Parameter groups with their own learning rate (LLaVA's `mm_projector_lr`, a stage's `connector_lr`
 * and `vision_lr`): a grouped parameter follows the shared schedule from its own peak, exactly as a
 * separate AdamW at that rate would, weight decay included; the others are untouched by the grouping.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.js";
import { tf } from "../../runtime/tf.js";
import { createOptimizer } from "../../runtime/train/index.js";

beforeAll(async () => {
  await initBackend({ backend: "cpu" });
});

const shape = [3, 2];
const start = [0.5, -1.25, 2, 0.125, -0.75, 1];

function params(): Map<string, tf.Variable> {
  return new Map(["connector.w", "language.w"].map((n) => [n, tf.variable(tf.tensor(start, shape), true)]));
}

function grads(step: number): Map<string, tf.Tensor> {
  return new Map(["connector.w", "language.w"].map((n, k) => [n, tf.tensor(start.map((v, i) => Math.sin(v * (step + 1) + i + k)), shape)]));
}

describe("parameter groups", () => {
  it("a group's rate is its peak times the schedule's factor, as a separate optimizer at that rate", async () => {
    const schedule = [1, 0.5, 0.25]; // the factor of each step
    const base = 1e-2;
    const peak = 3e-2;
    const grouped = params();
    const opt = createOptimizer({ lr: base, weightDecay: 0.1, groups: [{ name: "connector", lr: peak, params: new Set(["connector.w"]) }] }, grouped);
    const alone = params();
    const connectorOnly = new Map([["connector.w", alone.get("connector.w")!]]);
    const languageOnly = new Map([["language.w", alone.get("language.w")!]]);
    const optConnector = createOptimizer({ lr: peak, weightDecay: 0.1 }, connectorOnly);
    const optLanguage = createOptimizer({ lr: base, weightDecay: 0.1 }, languageOnly);
    schedule.forEach((f, step) => {
      const g = grads(step);
      opt.apply(g, base * f);
      optConnector.apply(new Map([["connector.w", g.get("connector.w")!]]), peak * f);
      optLanguage.apply(new Map([["language.w", g.get("language.w")!]]), base * f);
      tf.dispose([...g.values()]);
    });
    for (const name of ["connector.w", "language.w"]) {
      const a = await grouped.get(name)!.data();
      const b = await alone.get(name)!.data();
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 7);
    }
    // the grouped parameter moved about three times as far (Adam's steps scale with the rate)
    const moved = async (name: string) => Array.from(await grouped.get(name)!.data()).reduce((s, v, i) => s + Math.abs(v - start[i]), 0);
    expect(await moved("connector.w")).toBeGreaterThan(2 * (await moved("language.w")));
    [opt, optConnector, optLanguage].forEach((o) => o.dispose());
  });

  it("refuses groups that name unknown parameters, overlap, or cannot follow a zero base rate", () => {
    const p = params();
    expect(() => createOptimizer({ lr: 1e-3, groups: [{ name: "connector", lr: 1e-2, params: new Set(["vision.w"]) }] }, p)).toThrow(/group `connector` names `vision.w`/);
    expect(() =>
      createOptimizer(
        {
          lr: 1e-3,
          groups: [
            { name: "connector", lr: 1e-2, params: new Set(["connector.w"]) },
            { name: "vision", lr: 1e-2, params: new Set(["connector.w"]) },
          ],
        },
        p,
      ),
    ).toThrow(/`connector.w` is in groups `connector` and `vision`/);
    expect(() => createOptimizer({ lr: 0, groups: [{ name: "connector", lr: 1e-2, params: new Set(["connector.w"]) }] }, p)).toThrow(/base lr above 0/);
  });
});

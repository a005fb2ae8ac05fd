/**
 * The tower probe of bench/probe (docs/benchmarks.md quotes it): on the shipped CLIP-like tower it
 * reads the colour of a one-shape scene and, from the shape's cell, its kind; a per-patch MLP (the
 * connector's shape) reads the kind better than a linear readout of the cell's mean; a tower whose
 * features say nothing scores no more than the most frequent label; and it gives the same digits
 * twice.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { probeTower, READOUTS, type ProbeOptions, type ProbeResult } from "../../bench/probe/readout.js";
import { initBackend } from "../../runtime/backend/index.js";
import { loadPretrained } from "../../runtime/models/index.js";
import { tf } from "../../runtime/tf.js";
import { repo } from "../helpers.js";

const SMALL: ProbeOptions = { train: 300, test: 200, steps: 150 };
const tower = join(repo, "std", "weights", "tiny_clip_vit");
const row = (r: ProbeResult, target: string, readout: string) => r.rows.find((x) => x.target === target && x.readout === readout)!;

describe("the tower probe", () => {
  let shipped: ProbeResult;
  beforeAll(async () => {
    await initBackend({ backend: "wasm", threads: 1 });
    shipped = probeTower(await loadPretrained(tower), SMALL);
  }, 120_000);

  it("reads the colour and the kind from the shipped CLIP-like tower", () => {
    expect(shipped.family).toBe("clip_vit");
    expect(shipped.rows.map((r) => `${r.target}/${r.readout}`)).toEqual(["colour", "kind"].flatMap((t) => READOUTS.map((r) => `${t}/${r}`)));
    for (const readout of READOUTS) expect(row(shipped, "colour", readout).test[2]).toBeGreaterThanOrEqual(95);
    expect(row(shipped, "kind", "cell, side by side").test[2]).toBeGreaterThanOrEqual(80);
    // the kind lies in how the patches differ, which a mean of raw features mostly loses
    expect(row(shipped, "kind", "MLP, cell mean").test[2]).toBeGreaterThan(row(shipped, "kind", "cell, mean").test[2] + 5);
    expect(shipped.majority.kind).toBeLessThan(50);
  });

  it("scores a tower whose features are all zero no better than the most frequent label", async () => {
    const blank = await loadPretrained(tower);
    for (const v of blank.parameters.values()) v.assign(tf.zerosLike(v));
    const r = probeTower(blank, SMALL);
    blank.dispose();
    for (const x of r.rows) for (const a of x.test) expect(a).toBeLessThanOrEqual(r.majority[x.target]);
  }, 120_000);

  it("gives the same digits on a second run", async () => {
    const again = probeTower(await loadPretrained(tower), SMALL);
    expect(again).toEqual(shipped);
  }, 120_000);
});

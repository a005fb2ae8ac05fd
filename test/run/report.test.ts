// The report on hand-made results with known numbers: deltas against the baseline, per-axis effects
// from paired variants (sign, pairing, missing metrics), repeats as mean ± std with t intervals,
// and the statistics underneath.
import { describe, expect, it } from "vitest";
import { buildReport, renderCsv, renderMarkdown, ReportError, type ReportSource } from "../../runtime/run/report.js";
import { mean, meanInterval, sampleStd, studentTCdf, studentTQuantile } from "../../runtime/run/stats.js";

interface Made {
  readonly id: string;
  readonly axes: Record<string, string>;
  /** metrics of its eval stage; undefined: the stage has not run */
  readonly metrics?: Record<string, number>;
  readonly submissions?: Record<string, string>;
  readonly pending?: string[];
}

/** A runs folder in memory: each variant a training stage (done) and an eval stage with `metrics`. */
function source(made: readonly Made[]): ReportSource {
  const params = { total: 10, vision: 4, connector: 2, language: 4 };
  return {
    dir: "/nowhere",
    variants: () =>
      made.map((m) => ({
        id: m.id,
        axes: m.axes,
        params,
        stages: [
          { name: "tune", kind: "stage" as const, key: `train-${m.id}` },
          { name: "bench", kind: "eval" as const, key: `eval-${m.id}` },
        ],
        pending: m.pending,
      })),
    record: (key) => {
      const m = made.find((x) => key.endsWith(x.id));
      if (!m) return undefined;
      if (key.startsWith("train-")) return { variant: m.id, seconds: 1, finalLoss: 0.5 };
      return m.metrics ? { variant: m.id, seconds: 0.1, metrics: m.metrics, submissions: m.submissions } : undefined;
    },
    log: () => [{ step: 1, loss: 0.5, lr: 1e-3, gradNorm: 1, seconds: 0.1 }],
  };
}

const grid: Made[] = [
  { id: "x/a-clip", axes: { lr: "a", vision: "clip" }, metrics: { "gqa.accuracy": 40, "pope.f1": 0.5 } },
  { id: "x/a-dino", axes: { lr: "a", vision: "dino" }, metrics: { "gqa.accuracy": 50, "pope.f1": 0.7 } },
  { id: "x/b-clip", axes: { lr: "b", vision: "clip" }, metrics: { "gqa.accuracy": 43, "pope.f1": 0.4 } },
  { id: "x/b-dino", axes: { lr: "b", vision: "dino" }, metrics: { "gqa.accuracy": 57, "pope.f1": 0.6 } },
];

describe("the report", () => {
  it("gives each variant its difference against the first variant, or the one named", () => {
    const r = buildReport(source(grid), { experiment: "x" });
    expect(r.baseline).toBe("x/a-clip");
    expect(r.variants.map((v) => v.delta["gqa.accuracy"])).toEqual([0, 10, 3, 17]);
    expect(r.variants[3].delta["pope.f1"]).toBeCloseTo(0.1, 12);
    const other = buildReport(source(grid), { experiment: "x", baseline: "x/b-dino" });
    expect(other.variants.map((v) => v.delta["gqa.accuracy"])).toEqual([-17, -7, -14, 0]);
    expect(() => buildReport(source(grid), { experiment: "x", baseline: "x/nope" })).toThrow(ReportError);
  });

  it("averages each axis level's difference over the pairs that differ only on that axis, with its sign", () => {
    const r = buildReport(source(grid), { experiment: "x" });
    // lr b vs a: clip 43 - 40 = +3, dino 57 - 50 = +7
    expect(r.effects.lr["b vs a"]["gqa.accuracy"]).toEqual({ mean: 5, pairs: 2 });
    // vision dino vs clip: a 50 - 40 = +10, b 57 - 43 = +14
    expect(r.effects.vision["dino vs clip"]["gqa.accuracy"]).toEqual({ mean: 12, pairs: 2 });
    // a metric that got worse has a negative effect
    expect(r.effects.lr["b vs a"]["pope.f1"].mean).toBeCloseTo(-0.1, 12);
    const md = renderMarkdown(r);
    expect(md).toContain("| lr | b vs a | +5.00 (2) | -0.10 (2) |");
    expect(md).toContain("| vision | dino vs clip | +12.00 (2) | +0.20 (2) |");
  });

  it("pairs a variant only with its twin, and leaves out metrics either side lacks", () => {
    const made: Made[] = [
      grid[0],
      { ...grid[1], metrics: { "gqa.accuracy": 50 } }, // no pope.f1
      grid[2],
      // b-dino excluded from the grid: a-dino has no twin at lr b
      { id: "x/c-clip", axes: { lr: "c", vision: "clip" } }, // its evaluation has not run
    ];
    const r = buildReport(source(made), { experiment: "x" });
    expect(r.effects.lr["b vs a"]["gqa.accuracy"]).toEqual({ mean: 3, pairs: 1 });
    expect(r.effects.lr["c vs a"]).toEqual({});
    expect(r.effects.vision["dino vs clip"]["gqa.accuracy"]).toEqual({ mean: 10, pairs: 1 });
    expect(r.effects.vision["dino vs clip"]["pope.f1"]).toBeUndefined();
    expect(r.variants[1].delta).toEqual({ "gqa.accuracy": 10 });
    expect(r.variants[3].metrics).toEqual({});
    expect(r.variants[3].stages.map((s) => s.done)).toEqual([true, false]);
    const md = renderMarkdown(r);
    expect(md).toContain("| c-clip | c | clip | – | – |");
    expect(md).toContain("| c-clip | bench | eval | not run | – | – |");
    expect(renderCsv(r).split("\n")[4]).toBe("x/c-clip,c,clip,,,,");
  });

  it("lists benchmarks without a score: a submission written instead, or pending", () => {
    const made: Made[] = [
      { ...grid[0], submissions: { vqav2: "/runs/x/stages/k/vqav2.submission.json" } },
      { ...grid[1], pending: ["mme"] },
    ];
    const r = buildReport(source(made), { experiment: "x" });
    expect(r.variants[0].unscored).toEqual({ vqav2: "submission written: /runs/x/stages/k/vqav2.submission.json" });
    expect(r.variants[1].unscored).toEqual({ mme: "pending" });
    const md = renderMarkdown(r);
    expect(md).toContain("## Not scored");
    expect(md).toContain("| a-clip | vqav2 | submission written: /runs/x/stages/k/vqav2.submission.json |");
    expect(md).toContain("| a-dino | mme | pending |");
  });
});

describe("the report of a study with repeats (a `seed` axis)", () => {
  // lr b vs a per seed: gqa +1, +2, +3 (mean 2, std 1); pope +2, +2.5, +3 (mean 2.5, std 0.5)
  const made: Made[] = [
    { id: "x/a-seed1", axes: { lr: "a", seed: "seed1" }, metrics: { gqa: 10, pope: 1 } },
    { id: "x/a-seed2", axes: { lr: "a", seed: "seed2" }, metrics: { gqa: 12, pope: 2 } },
    { id: "x/a-seed3", axes: { lr: "a", seed: "seed3" }, metrics: { gqa: 14, pope: 3 } },
    { id: "x/b-seed1", axes: { lr: "b", seed: "seed1" }, metrics: { gqa: 11, pope: 3 } },
    { id: "x/b-seed2", axes: { lr: "b", seed: "seed2" }, metrics: { gqa: 14, pope: 4.5 } },
    { id: "x/b-seed3", axes: { lr: "b", seed: "seed3" }, metrics: { gqa: 17, pope: 6 } },
  ];
  const r = buildReport(source(made), { experiment: "x" });
  const t2 = 4.302652729749462; // t(0.975, 2 degrees of freedom)

  it("groups the seeds of each configuration: mean, sample standard deviation and n", () => {
    expect(r.repeats).toEqual({ axis: "seed", seeds: ["seed1", "seed2", "seed3"] });
    expect(r.groups.map((g) => g.id)).toEqual(["x/a", "x/b"]);
    expect(r.groups[0].variants).toEqual(["x/a-seed1", "x/a-seed2", "x/a-seed3"]);
    expect(r.groups[0].axes).toEqual({ lr: "a" });
    expect(r.groups[0].metrics.gqa).toEqual({ mean: 12, std: 2, n: 3 });
    expect(r.groups[1].metrics.gqa).toEqual({ mean: 14, std: 3, n: 3 });
    expect(r.groups[1].delta.gqa).toBe(2);
    expect(r.baselineGroup).toBe("x/a");
    // every run is kept as a variant
    expect(r.variants).toHaveLength(6);
    expect(r.effects.seed).toBeUndefined();
  });

  it("computes each effect per seed, paired by seed, with a 95% t interval over the seeds", () => {
    const gqa = r.effects.lr["b vs a"].gqa;
    expect(gqa.mean).toBe(2);
    expect(gqa.pairs).toBe(3);
    expect(gqa.seeds).toBe(3);
    const half = (t2 * 1) / Math.sqrt(3);
    expect(gqa.interval!.low).toBeCloseTo(2 - half, 12);
    expect(gqa.interval!.high).toBeCloseTo(2 + half, 12);
    expect(gqa.excludesZero).toBe(false);
    const pope = r.effects.lr["b vs a"].pope;
    expect(pope.mean).toBe(2.5);
    expect(pope.interval!.low).toBeCloseTo(2.5 - (t2 * 0.5) / Math.sqrt(3), 12);
    expect(pope.excludesZero).toBe(true);
  });

  it("shows mean ± std (n) per configuration and marks intervals that exclude 0", () => {
    const md = renderMarkdown(r);
    expect(md).toContain("6 variants in 2 configurations × 3 seeds (seed1, seed2, seed3); baseline `a`");
    expect(md).toContain("| configuration | lr | gqa | pope |");
    expect(md).toContain("| a | a | 12.00 ± 2.00 (3) | 2.00 ± 1.00 (3) |");
    expect(md).toContain("| b | b | 14.00 ± 3.00 (3) | 4.50 ± 1.50 (3) |");
    expect(md).toContain("| lr | b vs a | +2.00 [-0.48, +4.48] | +2.50 [+1.26, +3.74] * |");
    expect(md).toContain("## Every run");
  });

  it("shows no interval for a single seed", () => {
    const one = buildReport(source(made.filter((m) => m.axes.seed === "seed2")), { experiment: "x" });
    expect(one.effects.lr["b vs a"].gqa).toEqual({ mean: 2, pairs: 1, seeds: 1, interval: null, excludesZero: false });
    expect(renderMarkdown(one)).toContain("| lr | b vs a | +2.00 (1 seed) | +2.50 (1 seed) |");
    expect(one.groups[0].metrics.gqa).toEqual({ mean: 12, std: null, n: 1 });
  });
});

describe("the statistics", () => {
  it("takes the sample standard deviation (n - 1)", () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138089935299395, 14);
    expect(sampleStd([3])).toBeNull();
  });

  it("gives Student's t quantiles as tables do (scipy.stats.t.ppf)", () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706204736174694],
      [0.975, 2, 4.302652729749462],
      [0.975, 3, 3.1824463052837078],
      [0.975, 4, 2.7764451051977934],
      [0.975, 9, 2.262157162798205],
      [0.975, 30, 2.0422724563012378],
      [0.975, 1000, 1.9623390808264083],
      [0.995, 1, 63.656741162871526],
      [0.95, 7, 1.8945786050900062],
    ];
    for (const [p, df, t] of table) expect(studentTQuantile(p, df)).toBeCloseTo(t, 9);
    expect(studentTQuantile(0.025, 2)).toBeCloseTo(-4.302652729749462, 9);
    expect(studentTCdf(2, 5)).toBeCloseTo(0.9490302605850708, 12);
  });

  it("gives the interval of a mean", () => {
    const i = meanInterval([1, 2, 3])!;
    expect(i.mean).toBe(2);
    expect(i.high - i.mean).toBeCloseTo(4.302652729749462 / Math.sqrt(3), 12);
    expect(meanInterval([5])).toBeNull();
  });
});

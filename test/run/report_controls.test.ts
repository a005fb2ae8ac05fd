// The report's controls and loss curves on hand-made results: each score beside its image-blind
// control and majority baseline (with the points the image gives), the controls kept out of the
// tables that compare variants but kept in report.json and report.csv; a loss panel for every
// training stage of every variant, in the order they run, labelled.
import { describe, expect, it } from "vitest";
import { buildReport, lossPanels, renderCsv, renderLossSvg, renderMarkdown, type ReportSource } from "../../runtime/run/report.js";

interface Made {
  readonly id: string;
  readonly axes: Record<string, string>;
  readonly stages: readonly string[];
  readonly metrics: Record<string, number>;
}

/** A runs folder in memory: the named training stages (done, logged), then an eval stage with `metrics`. */
function source(made: readonly Made[]): ReportSource {
  const params = { total: 10, vision: 4, connector: 2, language: 4 };
  return {
    dir: "/nowhere",
    variants: () =>
      made.map((m) => ({
        id: m.id,
        axes: m.axes,
        params,
        stages: [...m.stages.map((name, i) => ({ name, kind: "stage" as const, key: `train${i}-${m.id}` })), { name: "bench", kind: "eval" as const, key: `eval-${m.id}` }],
      })),
    record: (key) => {
      const m = made.find((x) => key.endsWith(x.id))!;
      return key.startsWith("train") ? { variant: m.id, seconds: 1, finalLoss: 0.5 } : { variant: m.id, seconds: 0.1, metrics: m.metrics };
    },
    log: (key) => [
      { step: 1, loss: key.startsWith("train0") ? 4 : 2, lr: 1e-3, gradNorm: 1, seconds: 0.1 },
      { step: 8, loss: 1, lr: 1e-3, gradNorm: 1, seconds: 0.2 },
    ],
  };
}

const shapes = (score: [number, number], blind: [number, number], majority: [number, number]) => ({
  "shapes_test.accuracy": score[0],
  "shapes_test.color": score[1],
  "shapes_test.majority.accuracy": majority[0],
  "shapes_test.majority.color": majority[1],
  "shapes_test.blind.accuracy": blind[0],
  "shapes_test.blind.color": blind[1],
});

const grid: Made[] = [
  { id: "x/direct-clip", axes: { stages: "direct", vision: "clip" }, stages: ["finetune"], metrics: shapes([52, 90], [31, 20], [28.25, 19.5]) },
  { id: "x/pretrained-clip", axes: { stages: "pretrained", vision: "clip" }, stages: ["pretrain", "finetune"], metrics: shapes([60.5, 95], [30, 25], [28.25, 19.5]) },
];

describe("the report's controls", () => {
  const r = buildReport(source(grid), { experiment: "x" });
  const md = renderMarkdown(r);

  it("keeps the controls in each variant's metrics (report.json) and in report.csv", () => {
    expect(r.variants[1].metrics["shapes_test.blind.accuracy"]).toBe(30);
    expect(r.variants[1].metrics["shapes_test.majority.color"]).toBe(19.5);
    expect(renderCsv(r).split("\n")[0]).toContain(",shapes_test.blind.accuracy,shapes_test.blind.color,");
    // the effect of an axis on the blind control too: 30 - 31
    expect(r.effects.stages["pretrained vs direct"]["shapes_test.blind.accuracy"]).toEqual({ mean: -1, pairs: 1 });
  });

  it("shows each score with its blind control and majority baseline, and the points the image gives", () => {
    expect(md).toContain("## Seeing against the controls");
    expect(md).toContain("| variant | accuracy: score / blind / majority | color: score / blind / majority | accuracy from the image |");
    // 52 - 31 = +21; 60.5 - 30 = +30.5
    expect(md).toContain("| direct-clip | 52.0 / 31.0 / 28.3 | 90.0 / 20.0 / 19.5 | +21.00 |");
    expect(md).toContain("| pretrained-clip | 60.5 / 30.0 / 28.3 | 95.0 / 25.0 / 19.5 | +30.50 |");
  });

  it("leaves the controls out of the tables that compare the variants", () => {
    expect(md).toContain("| variant | stages | vision | shapes_test.accuracy | shapes_test.color |");
    expect(md).toContain("| axis | level | shapes_test.accuracy | shapes_test.color |");
    expect(md).toContain("| stages | pretrained vs direct | +8.50 (1) | +5.00 (1) |");
    const [before] = md.split("## Seeing against the controls");
    expect(before).not.toContain("blind");
    expect(before).not.toContain("majority");
  });

  it("shows the means over the seeds with repeats, and no section without controls", () => {
    const seeds: Made[] = [
      { ...grid[0], id: "x/direct-seed1", axes: { stages: "direct", seed: "seed1" } },
      { ...grid[0], id: "x/direct-seed2", axes: { stages: "direct", seed: "seed2" }, metrics: shapes([50, 80], [35, 30], [28.25, 19.5]) },
    ];
    // accuracy (52 + 50) / 2 = 51, blind (31 + 35) / 2 = 33: +18
    expect(renderMarkdown(buildReport(source(seeds), { experiment: "x" }))).toContain("| direct | 51.0 / 33.0 / 28.3 | 85.0 / 25.0 / 19.5 | +18.00 |");
    const plain = grid.map((m) => ({ ...m, metrics: { "gqa.accuracy": m.metrics["shapes_test.accuracy"] } }));
    expect(renderMarkdown(buildReport(source(plain), { experiment: "x" }))).not.toContain("controls");
  });
});

describe("the report's loss curves", () => {
  it("have a panel per training stage in the order the variants run them, counting who runs it", () => {
    const r = buildReport(source(grid), { experiment: "x" });
    // the first variant has no pretraining: it still comes first, where the second variant runs it
    expect(lossPanels(r).map((p) => [p.title, [...p.stages.keys()]])).toEqual([
      ["pretrain", ["x/pretrained-clip"]],
      ["finetune", ["x/direct-clip", "x/pretrained-clip"]],
    ]);
    const svg = renderLossSvg(r, source(grid).log);
    expect(svg).toContain(">pretrain: training loss (1 of 2 variants)</text>");
    expect(svg).toContain(">finetune: training loss (every variant)</text>");
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(renderMarkdown(r)).toContain("Training loss, one panel per training stage: `pretrain` (1 of 2 variants), `finetune` (every variant);");
  });

  it("give a stage a variant runs twice a panel of its own, and every variant of a large grid its own line", () => {
    const twice: Made[] = [{ ...grid[0], stages: ["tune", "tune"] }];
    expect(lossPanels(buildReport(source(twice), { experiment: "x" })).map((p) => p.title)).toEqual(["tune", "tune (2)"]);
    const many: Made[] = Array.from({ length: 14 }, (_, i) => ({ ...grid[0], id: `x/v${i}`, axes: { v: `v${i}` } }));
    const svg = renderLossSvg(buildReport(source(many), { experiment: "x" }), source(many).log);
    const lines = [...svg.matchAll(/<polyline fill="none" stroke="([^"]+)"( stroke-dasharray="([^"]+)")?/g)].map((m) => `${m[1]} ${m[3] ?? ""}`);
    expect(lines).toHaveLength(14);
    expect(new Set(lines).size).toBe(14);
    for (let i = 0; i < 14; i++) expect(svg).toContain(`>v${i}</text>`);
  });
});

/**
 * The results report of a runs folder: one row per variant with its axis labels and every evaluation
 * metric (as the paper's Table 1), the difference against a baseline variant, the average effect of
 * each axis level against the baseline's level (as the paper's Figure 1: for every pair of variants
 * that differ only on that axis, the difference, averaged), each score beside its controls (the
 * image-blind control and the majority baseline, runtime/run/controls.ts), and the training loss
 * curves as SVG (a panel per training stage).
 * Written as report.md, report.csv, report.json and loss.svg; `mmfmc report` re-renders them.
 *
 * Repeats (a `seed` axis, from `repeats = N` or written in `ablate`): the rows are the
 * configurations (the variants without their seed), each metric as mean ± sample standard deviation
 * over its seeds; an axis effect is computed per seed (a variant against its twin with the same
 * seed) and shown as the mean over the seeds with a 95% t interval (runtime/run/stats.ts).
 *
 * The report is built from a `ReportSource`: a runs folder (`RunStore`), or the answers `mmfmc
 * collect` scored for an export folder.
 */
import { join } from "node:path";
import { variantFolder, variantId } from "../../plan/names.js";
import { writeAtomic } from "../../core/files.js";
import { BLIND, controlMetric, controlOf, MAJORITY } from "./controls.js";
import { mean, meanInterval, sampleStd } from "./stats.js";
import type { LogLine, StageRecord, VariantRecord } from "./store.js";

/** Where a report's numbers come from: the variants, the record of each stage key, the training logs. */
export interface ReportSource {
  /** the folder the report is written to */
  readonly dir: string;
  variants(): readonly (Pick<VariantRecord, "id" | "axes" | "params" | "stages"> & { readonly pending?: readonly string[] })[];
  /** a finished stage's record; `status`, when given, is what the stage table says instead of computed/shared */
  record(key: string): (Partial<Pick<StageRecord, "variant" | "seconds" | "finalLoss" | "metrics" | "submissions">> & { readonly status?: string }) | undefined;
  log(key: string): LogLine[];
}

/** The axis whose levels are repeats of one configuration with different seeds. */
export const SEED_AXIS = "seed";

export interface ReportVariant {
  readonly id: string;
  readonly axes: Readonly<Record<string, string>>;
  readonly params: VariantRecord["params"];
  /** `benchmark.metric` -> value; absent metrics are stages not run yet */
  readonly metrics: Readonly<Record<string, number>>;
  /** metric -> value minus the baseline's */
  readonly delta: Readonly<Record<string, number>>;
  /** benchmarks without a score: `submission written: PATH` (no ground truth) or `pending` (no answers yet) */
  readonly unscored: Readonly<Record<string, string>>;
  readonly stages: readonly { name: string; kind: string; key: string; done: boolean; seconds?: number; finalLoss?: number; computedBy?: string; status?: string }[];
}

/** One configuration of a study with repeats: its variants (one per seed) and their statistics. */
export interface ReportGroup {
  /** the variant id without the seed label (`EXPERIMENT/default` when the seed is the only axis) */
  readonly id: string;
  /** the axis labels without the seed */
  readonly axes: Readonly<Record<string, string>>;
  /** its variants' ids, in seed order */
  readonly variants: readonly string[];
  /** metric -> mean, sample standard deviation (null for one value) and number of seeds with the metric */
  readonly metrics: Readonly<Record<string, { mean: number; std: number | null; n: number }>>;
  /** metric -> mean minus the baseline configuration's mean */
  readonly delta: Readonly<Record<string, number>>;
}

/** An axis level's effect on a metric. */
export interface Effect {
  /** the mean difference (with repeats: the mean over seeds of each seed's mean difference) */
  readonly mean: number;
  /** pairs of variants compared */
  readonly pairs: number;
  /** repeats only: the seeds with a pair, the 95% t interval of the mean (null for one seed), whether it excludes 0 */
  readonly seeds?: number;
  readonly interval?: { readonly low: number; readonly high: number } | null;
  readonly excludesZero?: boolean;
}

export interface Report {
  readonly experiment: string;
  readonly baseline: string | null;
  readonly axes: readonly string[];
  readonly metrics: readonly string[];
  readonly variants: readonly ReportVariant[];
  /** axis -> level -> metric -> mean paired difference against the baseline's level (and the pair count) */
  readonly effects: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, Effect>>>>>>;
  /** the seeds when the study has repeats (a `seed` axis), else null */
  readonly repeats: { readonly axis: typeof SEED_AXIS; readonly seeds: readonly string[] } | null;
  /** with repeats: one row per configuration; empty without */
  readonly groups: readonly ReportGroup[];
  /** with repeats: the configuration the groups' deltas compare against */
  readonly baselineGroup: string | null;
}

export class ReportError extends Error {}

export function buildReport(store: ReportSource, options: { experiment: string; baseline?: string; order?: readonly string[] }): Report {
  let records = store.variants();
  if (records.length === 0) throw new ReportError(`no variants in ${store.dir}: run \`mmfmc run\` first`);
  if (options.order) {
    const rank = new Map(options.order.map((id, i) => [id, i]));
    records = records.filter((r) => rank.has(r.id)).sort((a, b) => rank.get(a.id)! - rank.get(b.id)!);
  }
  const axes: string[] = [];
  for (const r of records) for (const a of Object.keys(r.axes)) if (!axes.includes(a)) axes.push(a);
  const variants = records.map((r) => {
    const metrics: Record<string, number> = {};
    const unscored: Record<string, string> = {};
    const stages = r.stages.map((s) => {
      const rec = store.record(s.key);
      if (rec?.metrics) for (const [k, v] of Object.entries(rec.metrics)) metrics[k] = v;
      for (const [bench, path] of Object.entries(rec?.submissions ?? {})) unscored[bench] = `submission written: ${path}`;
      return { name: s.name, kind: s.kind, key: s.key, done: rec !== undefined, seconds: rec?.seconds, finalLoss: rec?.finalLoss, computedBy: rec?.variant, status: rec?.status };
    });
    for (const p of r.pending ?? []) unscored[p] = "pending";
    return { id: r.id, axes: r.axes, params: r.params, metrics, unscored, stages };
  });
  const metricNames: string[] = [];
  for (const v of variants) for (const m of Object.keys(v.metrics)) if (!metricNames.includes(m)) metricNames.push(m);
  const baselineId = options.baseline ?? variants[0]?.id ?? null;
  const baseline = variants.find((v) => v.id === baselineId);
  if (options.baseline && !baseline) {
    throw new ReportError(`--baseline \`${options.baseline}\` is not a variant; variants: ${variants.map((v) => v.id).join(", ")}`);
  }
  const withDelta: ReportVariant[] = variants.map((v) => {
    const delta: Record<string, number> = {};
    if (baseline) for (const m of metricNames) if (m in v.metrics && m in baseline.metrics) delta[m] = v.metrics[m] - baseline.metrics[m];
    return { ...v, delta };
  });
  const repeated = axes.includes(SEED_AXIS);
  const effects: Record<string, Record<string, Record<string, Effect>>> = {};
  if (baseline) {
    for (const axis of axes) {
      if (repeated && axis === SEED_AXIS) continue; // seeds are repeats, not a factor
      const base = baseline.axes[axis];
      if (base === undefined) continue;
      const levels = [...new Set(variants.map((v) => v.axes[axis]).filter((l) => l !== undefined && l !== base))];
      for (const level of levels) {
        // metric -> seed label ("" without repeats) -> the differences of its pairs
        const diffs: Record<string, Map<string, number[]>> = {};
        for (const v of variants) {
          if (v.axes[axis] !== level) continue;
          // its twin: the same labels on every other axis (the seed too), the baseline's level on this one
          const twin = variants.find((w) => w.axes[axis] === base && axes.every((a) => a === axis || w.axes[a] === v.axes[a]));
          if (!twin) continue;
          for (const m of metricNames) {
            if (!(m in v.metrics) || !(m in twin.metrics)) continue;
            const bySeed = (diffs[m] ??= new Map());
            const seed = repeated ? (v.axes[SEED_AXIS] ?? "") : "";
            bySeed.set(seed, [...(bySeed.get(seed) ?? []), v.metrics[m] - twin.metrics[m]]);
          }
        }
        const out: Record<string, Effect> = {};
        for (const [m, bySeed] of Object.entries(diffs)) {
          const pairs = [...bySeed.values()].reduce((n, d) => n + d.length, 0);
          if (!repeated) {
            out[m] = { mean: mean([...bySeed.values()].flat()), pairs };
            continue;
          }
          const perSeed = [...bySeed.values()].map(mean);
          const interval = meanInterval(perSeed);
          out[m] = {
            mean: mean(perSeed),
            pairs,
            seeds: perSeed.length,
            interval: interval && { low: interval.low, high: interval.high },
            excludesZero: interval !== null && (interval.low > 0 || interval.high < 0),
          };
        }
        ((effects[axis] ??= {})[`${level} vs ${base}`] = out);
      }
    }
  }
  const groups = repeated ? repeatGroups(options.experiment, axes, withDelta, metricNames) : [];
  const baselineGroup = baseline && repeated ? (groups.find((g) => g.variants.includes(baseline.id)) ?? null) : null;
  const groupsWithDelta = groups.map((g) => {
    const delta: Record<string, number> = {};
    if (baselineGroup) for (const m of metricNames) if (m in g.metrics && m in baselineGroup.metrics) delta[m] = g.metrics[m].mean - baselineGroup.metrics[m].mean;
    return { ...g, delta };
  });
  const seeds = repeated ? [...new Set(variants.map((v) => v.axes[SEED_AXIS]).filter((s): s is string => s !== undefined))] : [];
  return {
    experiment: options.experiment,
    baseline: baseline?.id ?? null,
    axes,
    metrics: metricNames,
    variants: withDelta,
    effects,
    repeats: repeated ? { axis: SEED_AXIS, seeds } : null,
    groups: groupsWithDelta,
    baselineGroup: baselineGroup?.id ?? null,
  };
}

/** The configurations of a study with repeats: variants with the same labels on every axis but the seed. */
function repeatGroups(experiment: string, axes: readonly string[], variants: readonly ReportVariant[], metricNames: readonly string[]): Omit<ReportGroup, "delta">[] {
  const others = axes.filter((a) => a !== SEED_AXIS);
  const byId = new Map<string, ReportVariant[]>();
  for (const v of variants) {
    const id = variantId(experiment, others.flatMap((a) => (v.axes[a] === undefined ? [] : [v.axes[a]])));
    byId.set(id, [...(byId.get(id) ?? []), v]);
  }
  return [...byId].map(([id, members]) => {
    const metrics: Record<string, { mean: number; std: number | null; n: number }> = {};
    for (const m of metricNames) {
      const values = members.flatMap((v) => (m in v.metrics ? [v.metrics[m]] : []));
      if (values.length) metrics[m] = { mean: mean(values), std: sampleStd(values), n: values.length };
    }
    const axesOf: Record<string, string> = {};
    for (const a of others) if (members[0].axes[a] !== undefined) axesOf[a] = members[0].axes[a];
    return { id, axes: axesOf, variants: members.map((v) => v.id), metrics };
  });
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));
const signed = (x: number | undefined): string => (x === undefined ? "–" : `${x >= 0 ? "+" : ""}${x.toFixed(2)}`);

function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** `mean ± std (n)`, or the mean alone for one value. */
function meanStd(s: ReportGroup["metrics"][string] | undefined): string {
  if (!s) return "–";
  return s.std === null ? `${fmt(s.mean)} (${s.n})` : `${fmt(s.mean)} ± ${fmt(s.std)} (${s.n})`;
}

/** An effect cell: `+1.23 (4)`; with repeats `+1.23 [-0.50, +2.96] *` (interval over seeds; `*` excludes 0). */
function effectCell(e: Effect | undefined): string {
  if (!e) return "–";
  if (e.seeds === undefined) return `${signed(e.mean)} (${e.pairs})`;
  if (!e.interval) return `${signed(e.mean)} (1 seed)`;
  return `${signed(e.mean)} [${signed(e.interval.low)}, ${signed(e.interval.high)}]${e.excludesZero ? " *" : ""}`;
}

/**
 * Per benchmark with controls, every score beside its image-blind control and majority baseline,
 * and the points the image gives (the score minus the blind control).
 */
function renderControls(r: Report): string[] {
  const scored = r.metrics.filter((m) => !controlOf(m) && ([BLIND, MAJORITY] as const).some((c) => r.metrics.includes(controlMetric(m, c))));
  if (scored.length === 0) return [];
  const rows = r.repeats
    ? r.groups.map((g) => ({ label: variantFolder(g.id), value: (m: string) => g.metrics[m]?.mean }))
    : r.variants.map((v) => ({ label: variantFolder(v.id), value: (m: string) => v.metrics[m] }));
  const out = ["## Seeing against the controls", ""];
  out.push(
    "Each cell: the score / the image-blind control (the same model, every image replaced by a blank one) / the majority baseline (always the question type's most common answer)" +
      `${r.repeats ? ", means over the seeds" : ""}. Last column: the score minus the blind control, the points that come from seeing.`,
    "",
  );
  const benchmarks = [...new Set(scored.map((m) => m.slice(0, m.lastIndexOf("."))))];
  for (const benchmark of benchmarks) {
    const metrics = scored.filter((m) => m.slice(0, m.lastIndexOf(".")) === benchmark);
    const overall = metrics.find((m) => m.endsWith(".accuracy")) ?? metrics[0];
    const header = ["variant", ...metrics.map((m) => `${m.slice(benchmark.length + 1)}: score / blind / majority`), `${overall.slice(benchmark.length + 1)} from the image`];
    const table = rows.map(({ label, value }) => {
      const score = value(overall);
      const blind = value(controlMetric(overall, BLIND));
      const cells = metrics.map((m) => [value(m), value(controlMetric(m, BLIND)), value(controlMetric(m, MAJORITY))].map((x) => fmt(x, 1)).join(" / "));
      return [label, ...cells, score === undefined || blind === undefined ? "–" : signed(score - blind)];
    });
    out.push(`### ${benchmark}`, "", mdTable(header, table), "");
  }
  return out;
}

export function renderMarkdown(r: Report): string {
  const out = [`# ${r.experiment}: results`, ""];
  // the controls have a section of their own; the other tables compare the variants' scores
  const shown = r.metrics.filter((m) => !controlOf(m));
  const repeats = r.repeats ? ` in ${r.groups.length} configurations × ${r.repeats.seeds.length} seeds (${r.repeats.seeds.join(", ")})` : "";
  const baseline = r.repeats ? r.baselineGroup : r.baseline;
  out.push(`${r.variants.length} variants${repeats}; baseline \`${baseline ? variantFolder(baseline) : "none"}\`. Metrics are the benchmarks' headline numbers (percent unless the benchmark reports a fraction).`, "");
  out.push("## Results", "");
  if (r.repeats) {
    const others = r.axes.filter((a) => a !== SEED_AXIS);
    out.push("Each metric as mean ± sample standard deviation over the seeds (n).", "");
    out.push(mdTable(["configuration", ...others, ...shown], r.groups.map((g) => [variantFolder(g.id), ...others.map((a) => g.axes[a] ?? "–"), ...shown.map((m) => meanStd(g.metrics[m]))])));
    out.push("", "## Difference against the baseline", "");
    out.push(mdTable(["configuration", ...shown], r.groups.map((g) => [variantFolder(g.id), ...shown.map((m) => signed(g.delta[m]))])));
  } else {
    out.push(mdTable(["variant", ...r.axes, ...shown], r.variants.map((v) => [variantFolder(v.id), ...r.axes.map((a) => v.axes[a] ?? "–"), ...shown.map((m) => fmt(v.metrics[m]))])));
    out.push("", "## Difference against the baseline", "");
    out.push(mdTable(["variant", ...shown], r.variants.map((v) => [variantFolder(v.id), ...shown.map((m) => signed(v.delta[m]))])));
  }
  out.push("", ...renderControls(r));
  out.push("## Average effect of each axis", "");
  out.push(
    r.repeats
      ? "Per seed, the mean difference over the pairs of variants that differ only on that axis; shown as the mean over the seeds with its 95% confidence interval (t distribution, seeds − 1 degrees of freedom). `*`: the interval excludes 0."
      : "Mean difference over the pairs of variants that differ only on that axis (the paper's Figure 1).",
    "",
  );
  const effectRows: string[][] = [];
  for (const [axis, levels] of Object.entries(r.effects)) {
    for (const [level, metrics] of Object.entries(levels)) {
      effectRows.push([axis, level, ...shown.map((m) => effectCell(metrics[m]))]);
    }
  }
  out.push(effectRows.length ? mdTable(["axis", "level", ...shown], effectRows) : "No axis with a baseline level to compare against.");
  if (r.repeats) {
    out.push("", "## Every run", "");
    out.push(mdTable(["variant", ...r.axes, ...shown], r.variants.map((v) => [variantFolder(v.id), ...r.axes.map((a) => v.axes[a] ?? "–"), ...shown.map((m) => fmt(v.metrics[m]))])));
  }
  const unscored = r.variants.flatMap((v) => Object.entries(v.unscored).map(([bench, what]) => [variantFolder(v.id), bench, what]));
  if (unscored.length) {
    out.push("", "## Not scored", "");
    out.push(mdTable(["variant", "benchmark", "result"], unscored));
  }
  out.push("", "## Stages", "");
  const stageRows = r.variants.flatMap((v) =>
    v.stages.map((s) => [
      variantFolder(v.id),
      s.name,
      s.kind,
      s.status ?? (s.done ? (s.computedBy && s.computedBy !== v.id ? `shared with ${variantFolder(s.computedBy)}` : "computed") : "not run"),
      s.seconds === undefined ? "–" : `${s.seconds.toFixed(1)} s`,
      fmt(s.finalLoss, 4),
    ]),
  );
  out.push(mdTable(["variant", "stage", "kind", "result", "time", "final loss"], stageRows));
  if (hasLosses(r)) {
    const panels = lossPanels(r).map((p) => `\`${p.title}\` (${p.stages.size === r.variants.length ? "every variant" : `${p.stages.size} of ${r.variants.length} variants`})`);
    out.push("", `Training loss, one panel per training stage: ${panels.join(", ")}; one line per variant (variants that share a stage share its line).`, "", "![training loss](loss.svg)");
  }
  out.push("");
  return out.join("\n");
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(r: Report): string {
  const header = ["variant", ...r.axes, ...r.metrics, ...r.metrics.map((m) => `delta ${m}`)];
  const rows = r.variants.map((v) => [v.id, ...r.axes.map((a) => v.axes[a] ?? ""), ...r.metrics.map((m) => (m in v.metrics ? String(v.metrics[m]) : "")), ...r.metrics.map((m) => (m in v.delta ? String(v.delta[m]) : ""))]);
  return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\n") + "\n";
}

const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

type ReportStage = ReportVariant["stages"][number];

/**
 * The loss plot's panels: one per training stage, in the order the variants run them (a stage only
 * some variants run, such as connector pretraining, comes where those variants run it), each with
 * the stage of every variant that runs it. A variant running a stage name twice gets `NAME (2)`.
 */
export function lossPanels(r: Report): { readonly title: string; readonly stages: ReadonlyMap<string, ReportStage> }[] {
  const order: string[] = [];
  const panels = new Map<string, Map<string, ReportStage>>();
  for (const v of r.variants) {
    const seen = new Map<string, number>();
    const titles = v.stages.flatMap((s) => {
      if (s.kind !== "stage") return [];
      const n = (seen.get(s.name) ?? 0) + 1;
      seen.set(s.name, n);
      const title = n === 1 ? s.name : `${s.name} (${n})`;
      if (!panels.has(title)) panels.set(title, new Map());
      panels.get(title)!.set(v.id, s);
      return [title];
    });
    titles.forEach((title, i) => {
      if (order.includes(title)) return;
      // before the first of this variant's later stages already placed
      const next = titles.slice(i + 1).find((t) => order.includes(t));
      order.splice(next === undefined ? order.length : order.indexOf(next), 0, title);
    });
  }
  return order.map((title) => ({ title, stages: panels.get(title)! }));
}

/** A variant's line: a colour, and past the palette a dash pattern, so that every variant has its own. */
function lineStyle(i: number): { color: string; dash: string } {
  const dashes = ["", "6,3", "2,2", "8,3,2,3"];
  return { color: palette[i % palette.length], dash: dashes[Math.floor(i / palette.length) % dashes.length] };
}

/**
 * Loss curves: one panel per training stage (`lossPanels`), titled with the stage and how many
 * variants run it; one line per distinct stage result (variants that share a stage share its line,
 * in the first one's style); a legend of every variant.
 */
export function renderLossSvg(r: Report, logs: (key: string) => LogLine[]): string {
  const panels = lossPanels(r);
  const panelW = 460;
  const panelH = 260;
  const pad = { l: 48, r: 12, t: 28, b: 34 };
  const legendRows = 12;
  const legendCols = Math.ceil(r.variants.length / legendRows);
  const legendH = 16 * Math.min(r.variants.length, legendRows) + 10;
  const width = Math.max(Math.max(1, panels.length) * panelW, legendCols * 240);
  const height = panelH + legendH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`];
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  const styleOf = new Map(r.variants.map((v, i) => [v.id, lineStyle(i)]));
  panels.forEach(({ title, stages }, p) => {
    const x0 = p * panelW;
    const curves = new Map<string, { label: string; style: { color: string; dash: string }; log: LogLine[] }>();
    for (const [id, s] of stages) {
      if (!s.done) continue;
      const existing = curves.get(s.key);
      if (existing) existing.label += `, ${variantFolder(id)}`;
      else curves.set(s.key, { label: variantFolder(id), style: styleOf.get(id)!, log: logs(s.key) });
    }
    const all = [...curves.values()].flatMap((c) => c.log);
    const maxStep = Math.max(1, ...all.map((l) => l.step));
    const losses = all.map((l) => l.loss).filter(Number.isFinite);
    const lo = losses.length ? Math.min(...losses) : 0;
    const hi = losses.length ? Math.max(...losses) : 1;
    const sx = (s: number) => x0 + pad.l + ((panelW - pad.l - pad.r) * s) / maxStep;
    const sy = (v: number) => pad.t + (panelH - pad.t - pad.b) * (1 - (v - lo) / Math.max(hi - lo, 1e-9));
    const runs = stages.size === r.variants.length ? "every variant" : `${stages.size} of ${r.variants.length} variants`;
    parts.push(`<text x="${x0 + panelW / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(title)}: training loss (${runs})</text>`);
    parts.push(`<line x1="${x0 + pad.l}" y1="${panelH - pad.b}" x2="${x0 + panelW - pad.r}" y2="${panelH - pad.b}" stroke="#333"/>`);
    parts.push(`<line x1="${x0 + pad.l}" y1="${pad.t}" x2="${x0 + pad.l}" y2="${panelH - pad.b}" stroke="#333"/>`);
    for (const step of [0, Math.round(maxStep / 2), maxStep]) parts.push(`<text x="${sx(step)}" y="${panelH - pad.b + 12}" text-anchor="middle">${step}</text>`);
    parts.push(`<text x="${x0 + panelW / 2}" y="${panelH - 6}" text-anchor="middle">step</text>`);
    for (const v of [lo, (lo + hi) / 2, hi]) parts.push(`<text x="${x0 + pad.l - 4}" y="${sy(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
    if (curves.size === 0) parts.push(`<text x="${x0 + panelW / 2}" y="${panelH / 2}" text-anchor="middle" fill="#777">not run yet</text>`);
    for (const c of curves.values()) {
      const points = c.log.filter((l) => Number.isFinite(l.loss)).map((l) => `${sx(l.step).toFixed(1)},${sy(l.loss).toFixed(1)}`);
      const dash = c.style.dash ? ` stroke-dasharray="${c.style.dash}"` : "";
      if (points.length) parts.push(`<polyline fill="none" stroke="${c.style.color}"${dash} stroke-width="1.3" points="${points.join(" ")}"><title>${escapeXml(c.label)}</title></polyline>`);
    }
  });
  r.variants.forEach((v, i) => {
    const x = 12 + 240 * Math.floor(i / legendRows);
    const y = panelH + 14 + 16 * (i % legendRows);
    const { color, dash } = lineStyle(i);
    parts.push(`<line x1="${x}" y1="${y - 7}" x2="${x + 14}" y2="${y - 7}" stroke="${color}" stroke-width="3"${dash ? ` stroke-dasharray="${dash}"` : ""}/><text x="${x + 20}" y="${y - 4}">${escapeXml(variantFolder(v.id))}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** Whether the report has training stages with a loss to plot (a collected export has none). */
function hasLosses(r: Report): boolean {
  return r.variants.some((v) => v.stages.some((s) => s.kind === "stage" && s.done && s.finalLoss !== undefined));
}

export function writeReport(store: ReportSource, report: Report): string[] {
  const files: Record<string, string> = {
    "report.md": renderMarkdown(report),
    "report.csv": renderCsv(report),
    "report.json": JSON.stringify(report, null, 2) + "\n",
  };
  if (hasLosses(report)) files["loss.svg"] = renderLossSvg(report, (key) => store.log(key));
  for (const [name, text] of Object.entries(files)) writeAtomic(join(store.dir, name), text);
  return Object.keys(files).map((f) => join(store.dir, f));
}

/**
 * The results report of a runs folder: one row per variant with its axis labels and every evaluation
 * metric (as the paper's Table 1), the difference against a baseline variant, the average effect of
 * each axis level against the baseline's level (as the paper's Figure 1: for every pair of variants
 * that differ only on that axis, the difference, averaged), and the training loss curves as SVG.
 * Written as report.md, report.csv, report.json and loss.svg; `mmfmc report` re-renders them.
 */
import { join } from "node:path";
import { variantFolder } from "../../plan/names.js";
import { writeAtomic } from "../../core/files.js";
import type { LogLine, RunStore, StageRecord, VariantRecord } from "./store.js";

export interface ReportVariant {
  readonly id: string;
  readonly axes: Readonly<Record<string, string>>;
  readonly params: VariantRecord["params"];
  /** `benchmark.metric` -> value; absent metrics are stages not run yet */
  readonly metrics: Readonly<Record<string, number>>;
  /** metric -> value minus the baseline's */
  readonly delta: Readonly<Record<string, number>>;
  readonly stages: readonly { name: string; kind: string; key: string; done: boolean; seconds?: number; finalLoss?: number; computedBy?: string }[];
}

export interface Report {
  readonly experiment: string;
  readonly baseline: string | null;
  readonly axes: readonly string[];
  readonly metrics: readonly string[];
  readonly variants: readonly ReportVariant[];
  /** axis -> level -> metric -> mean paired difference against the baseline's level (and the pair count) */
  readonly effects: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, { mean: number; pairs: number }>>>>>>;
}

export class ReportError extends Error {}

export function buildReport(store: RunStore, options: { experiment: string; baseline?: string; order?: readonly string[] }): Report {
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
    const stages = r.stages.map((s) => {
      const rec: StageRecord | undefined = store.record(s.key);
      if (rec?.metrics) for (const [k, v] of Object.entries(rec.metrics)) metrics[k] = v;
      return { name: s.name, kind: s.kind, key: s.key, done: rec !== undefined, seconds: rec?.seconds, finalLoss: rec?.finalLoss, computedBy: rec?.variant };
    });
    return { id: r.id, axes: r.axes, params: r.params, metrics, stages };
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
  const effects: Record<string, Record<string, Record<string, { mean: number; pairs: number }>>> = {};
  if (baseline) {
    for (const axis of axes) {
      const base = baseline.axes[axis];
      if (base === undefined) continue;
      const levels = [...new Set(variants.map((v) => v.axes[axis]).filter((l) => l !== undefined && l !== base))];
      for (const level of levels) {
        const sums: Record<string, { total: number; pairs: number }> = {};
        for (const v of variants) {
          if (v.axes[axis] !== level) continue;
          // its twin: the same labels on every other axis, the baseline's level on this one
          const twin = variants.find((w) => w.axes[axis] === base && axes.every((a) => a === axis || w.axes[a] === v.axes[a]));
          if (!twin) continue;
          for (const m of metricNames) {
            if (!(m in v.metrics) || !(m in twin.metrics)) continue;
            const s = (sums[m] ??= { total: 0, pairs: 0 });
            s.total += v.metrics[m] - twin.metrics[m];
            s.pairs++;
          }
        }
        const out: Record<string, { mean: number; pairs: number }> = {};
        for (const [m, s] of Object.entries(sums)) out[m] = { mean: s.total / s.pairs, pairs: s.pairs };
        ((effects[axis] ??= {})[`${level} vs ${base}`] = out);
      }
    }
  }
  return { experiment: options.experiment, baseline: baseline?.id ?? null, axes, metrics: metricNames, variants: withDelta, effects };
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits));
const signed = (x: number | undefined): string => (x === undefined ? "–" : `${x >= 0 ? "+" : ""}${x.toFixed(2)}`);

function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function renderMarkdown(r: Report): string {
  const out = [`# ${r.experiment}: results`, ""];
  out.push(`${r.variants.length} variants; baseline \`${r.baseline ? variantFolder(r.baseline) : "none"}\`. Metrics are the benchmarks' headline numbers (percent unless the benchmark reports a fraction).`, "");
  out.push("## Results", "");
  out.push(mdTable(["variant", ...r.axes, ...r.metrics], r.variants.map((v) => [variantFolder(v.id), ...r.axes.map((a) => v.axes[a] ?? "–"), ...r.metrics.map((m) => fmt(v.metrics[m]))])));
  out.push("", "## Difference against the baseline", "");
  out.push(mdTable(["variant", ...r.metrics], r.variants.map((v) => [variantFolder(v.id), ...r.metrics.map((m) => signed(v.delta[m]))])));
  out.push("", "## Average effect of each axis", "");
  out.push("Mean difference over the pairs of variants that differ only on that axis (the paper's Figure 1).", "");
  const effectRows: string[][] = [];
  for (const [axis, levels] of Object.entries(r.effects)) {
    for (const [level, metrics] of Object.entries(levels)) {
      effectRows.push([axis, level, ...r.metrics.map((m) => (metrics[m] ? `${signed(metrics[m].mean)} (${metrics[m].pairs})` : "–"))]);
    }
  }
  out.push(effectRows.length ? mdTable(["axis", "level", ...r.metrics], effectRows) : "No axis with a baseline level to compare against.");
  out.push("", "## Stages", "");
  const stageRows = r.variants.flatMap((v) =>
    v.stages.map((s) => [
      variantFolder(v.id),
      s.name,
      s.kind,
      s.done ? (s.computedBy && s.computedBy !== v.id ? `shared with ${variantFolder(s.computedBy)}` : "computed") : "not run",
      s.seconds === undefined ? "–" : `${s.seconds.toFixed(1)} s`,
      fmt(s.finalLoss, 4),
    ]),
  );
  out.push(mdTable(["variant", "stage", "kind", "result", "time", "final loss"], stageRows));
  out.push("", "![training loss](loss.svg)", "");
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

/** Loss curves: one panel per training stage name, one line per distinct stage result. */
export function renderLossSvg(r: Report, logs: (key: string) => LogLine[]): string {
  const stageNames = [...new Set(r.variants.flatMap((v) => v.stages.filter((s) => s.kind === "stage").map((s) => s.name)))];
  const panelW = 460;
  const panelH = 260;
  const pad = { l: 48, r: 12, t: 28, b: 34 };
  const legendH = 16 * Math.min(r.variants.length, 12) + 10;
  const width = Math.max(1, stageNames.length) * panelW;
  const height = panelH + legendH;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`];
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  stageNames.forEach((name, p) => {
    const x0 = p * panelW;
    const curves = new Map<string, { label: string; color: string; log: LogLine[] }>();
    r.variants.forEach((v, i) => {
      const s = v.stages.find((x) => x.name === name && x.kind === "stage" && x.done);
      if (!s) return;
      const existing = curves.get(s.key);
      if (existing) existing.label += `, ${variantFolder(v.id)}`;
      else curves.set(s.key, { label: variantFolder(v.id), color: palette[i % palette.length], log: logs(s.key) });
    });
    const all = [...curves.values()].flatMap((c) => c.log);
    const maxStep = Math.max(1, ...all.map((l) => l.step));
    const losses = all.map((l) => l.loss).filter(Number.isFinite);
    const lo = losses.length ? Math.min(...losses) : 0;
    const hi = losses.length ? Math.max(...losses) : 1;
    const sx = (s: number) => x0 + pad.l + ((panelW - pad.l - pad.r) * s) / maxStep;
    const sy = (v: number) => pad.t + (panelH - pad.t - pad.b) * (1 - (v - lo) / Math.max(hi - lo, 1e-9));
    parts.push(`<text x="${x0 + panelW / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(name)}: training loss</text>`);
    parts.push(`<line x1="${x0 + pad.l}" y1="${panelH - pad.b}" x2="${x0 + panelW - pad.r}" y2="${panelH - pad.b}" stroke="#333"/>`);
    parts.push(`<line x1="${x0 + pad.l}" y1="${pad.t}" x2="${x0 + pad.l}" y2="${panelH - pad.b}" stroke="#333"/>`);
    parts.push(`<text x="${x0 + panelW / 2}" y="${panelH - 8}" text-anchor="middle">step (of ${maxStep})</text>`);
    for (const v of [lo, (lo + hi) / 2, hi]) parts.push(`<text x="${x0 + pad.l - 4}" y="${sy(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`);
    for (const c of curves.values()) {
      const points = c.log.filter((l) => Number.isFinite(l.loss)).map((l) => `${sx(l.step).toFixed(1)},${sy(l.loss).toFixed(1)}`);
      if (points.length) parts.push(`<polyline fill="none" stroke="${c.color}" stroke-width="1.3" points="${points.join(" ")}"><title>${escapeXml(c.label)}</title></polyline>`);
    }
  });
  r.variants.slice(0, 12).forEach((v, i) => {
    const y = panelH + 14 + 16 * i;
    parts.push(`<rect x="12" y="${y - 9}" width="12" height="4" fill="${palette[i % palette.length]}"/><text x="30" y="${y - 4}">${escapeXml(variantFolder(v.id))}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

export function writeReport(store: RunStore, report: Report): string[] {
  const files = {
    "report.md": renderMarkdown(report),
    "report.csv": renderCsv(report),
    "report.json": JSON.stringify(report, null, 2) + "\n",
    "loss.svg": renderLossSvg(report, (key) => store.log(key)),
  };
  for (const [name, text] of Object.entries(files)) writeAtomic(join(store.dir, name), text);
  return Object.keys(files).map((f) => join(store.dir, f));
}

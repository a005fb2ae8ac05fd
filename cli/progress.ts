/**
 * Progress of a run: on a terminal, one line per stage redrawn in place (variant, stage, step/total,
 * loss, samples/s, ETA); elsewhere (CI, pipes), one plain line per interval. Stage starts and ends
 * are always printed.
 */
import { variantFolder } from "../plan/names.js";
import { BLIND, controlMetric, controlOf, MAJORITY } from "../runtime/run/controls.js";
import type { RunEvent } from "../runtime/run/events.js";
import type { Output } from "./output.js";

/** `NAME.accuracy 52.00 (blind 31.00, majority 40.63), ...`: each metric with its controls beside it. */
function withControls(metrics: Readonly<Record<string, number>>): string {
  return Object.entries(metrics)
    .filter(([k]) => !controlOf(k))
    .map(([k, v]) => {
      const controls = ([BLIND, MAJORITY] as const).flatMap((c) => (controlMetric(k, c) in metrics ? [`${c} ${metrics[controlMetric(k, c)].toFixed(2)}`] : []));
      return `${k} ${v.toFixed(2)}${controls.length ? ` (${controls.join(", ")})` : ""}`;
    })
    .join(", ");
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}


export class Progress {
  private lastPlain = 0;
  private startStep = 0;

  constructor(
    private readonly out: Output,
    /** seconds between plain lines when not on a terminal */
    private readonly interval = 10,
  ) {}

  private line(text: string): void {
    this.out.info(text);
  }

  handle = (e: RunEvent): void => {
    const p = this.out.paint.bind(this.out);
    switch (e.type) {
      case "variant":
        this.line(p("bold", `[${e.index + 1}/${e.count}] ${e.variant}`));
        return;
      case "stage-cached":
        this.line(`  ${p("dim", "cached")}   ${e.stage}${e.computedBy !== e.variant ? p("dim", ` (computed by ${variantFolder(e.computedBy)})`) : ""}`);
        return;
      case "stage-start": {
        const what = e.kind === "stage" ? `${e.steps} steps, training ${e.trainable ?? "?"}` : `${e.steps} items`;
        const resumed = e.resumedFrom !== undefined ? p("yellow", ` resuming from step ${e.resumedFrom}`) : "";
        this.line(`  ${p("cyan", e.kind === "stage" ? "train" : "eval")}    ${e.stage}: ${e.description}, ${what}${resumed}`);
        this.lastPlain = performance.now();
        this.startStep = e.resumedFrom ?? 0;
        return;
      }
      case "step": {
        const rate = e.samplesPerSecond;
        const remaining = (e.seconds / Math.max(1, e.step - this.startStep)) * (e.steps - e.step);
        const loss = Number.isNaN(e.loss) ? "" : `  loss ${e.loss.toFixed(4)}`;
        const text = `${variantFolder(e.variant)}  ${e.stage}  ${e.step}/${e.steps}${loss}  ${rate.toFixed(1)} samples/s  ETA ${clock(remaining)}`;
        if (this.out.animate) {
          const width = 24;
          const filled = Math.round((width * e.step) / Math.max(1, e.steps));
          const bar = `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
          this.out.status(`  ${bar} ${text}`);
        } else if (performance.now() - this.lastPlain > this.interval * 1000 || e.step === e.steps) {
          this.lastPlain = performance.now();
          this.out.info(`    ${text}`);
        }
        return;
      }
      case "checkpoint":
        return;
      case "stage-end": {
        const metrics = e.metrics ? "  " + withControls(e.metrics) : "";
        const loss = e.finalLoss !== undefined ? `  final loss ${e.finalLoss.toFixed(4)}` : "";
        this.line(`  ${p("green", "done")}     ${e.stage} in ${e.seconds.toFixed(1)} s${loss}${metrics}`);
        return;
      }
      case "note":
        this.line(`  ${e.message}`);
        return;
    }
  };

  finish(): void {
    this.out.status("");
  }
}

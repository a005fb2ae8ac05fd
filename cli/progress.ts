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
  /** per variant and stage: when the last plain line was printed, and the step the stage started at */
  private readonly lastPlain = new Map<string, number>();
  private readonly startStep = new Map<string, number>();
  /** on a terminal, the progress text of each stage running now (several in a parallel run) */
  private readonly active = new Map<string, string>();

  constructor(
    private readonly out: Output,
    /** seconds between plain lines when not on a terminal */
    private readonly interval = 10,
    /** variants run side by side (`--jobs`): every stage line names its variant */
    private readonly parallel = false,
  ) {}

  private line(text: string): void {
    this.out.info(text);
  }

  /** `finetune`, or `direct-clip-2b finetune` when variants run side by side. */
  private stageName(variant: string, stage: string): string {
    return this.parallel ? `${variantFolder(variant)} ${stage}` : stage;
  }

  handle = (e: RunEvent): void => {
    const p = this.out.paint.bind(this.out);
    switch (e.type) {
      case "variant":
        this.line(p("bold", `[${e.index + 1}/${e.count}] ${e.variant}`));
        return;
      case "stage-cached":
        this.line(`  ${p("dim", "cached")}   ${this.stageName(e.variant, e.stage)}${e.computedBy !== e.variant ? p("dim", ` (computed by ${variantFolder(e.computedBy)})`) : ""}`);
        return;
      case "stage-start": {
        const what = e.kind === "stage" ? `${e.steps} steps, training ${e.trainable ?? "?"}` : `${e.steps} items`;
        const resumed = e.resumedFrom !== undefined ? p("yellow", ` resuming from step ${e.resumedFrom}`) : "";
        this.line(`  ${p("cyan", e.kind === "stage" ? "train" : "eval")}    ${this.stageName(e.variant, e.stage)}: ${e.description}, ${what}${resumed}`);
        const key = `${e.variant}|${e.stage}`;
        this.lastPlain.set(key, performance.now());
        this.startStep.set(key, e.resumedFrom ?? 0);
        return;
      }
      case "step": {
        const key = `${e.variant}|${e.stage}`;
        const rate = e.samplesPerSecond;
        const remaining = (e.seconds / Math.max(1, e.step - (this.startStep.get(key) ?? 0))) * (e.steps - e.step);
        const loss = Number.isNaN(e.loss) ? "" : `  loss ${e.loss.toFixed(4)}`;
        const text = `${variantFolder(e.variant)}  ${e.stage}  ${e.step}/${e.steps}${loss}  ${rate.toFixed(1)} samples/s  ETA ${clock(remaining)}`;
        if (this.out.animate) {
          const width = this.parallel ? 12 : 24;
          const filled = Math.round((width * e.step) / Math.max(1, e.steps));
          const bar = `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
          this.active.set(key, `${bar} ${text}`);
          this.out.status(`  ${[...this.active.values()].join("   ")}`);
        } else if (performance.now() - (this.lastPlain.get(key) ?? 0) > this.interval * 1000 || e.step === e.steps) {
          this.lastPlain.set(key, performance.now());
          this.out.info(`    ${text}`);
        }
        return;
      }
      case "checkpoint":
        return;
      case "stage-end": {
        this.active.delete(`${e.variant}|${e.stage}`);
        const metrics = e.metrics ? "  " + withControls(e.metrics) : "";
        const loss = e.finalLoss !== undefined ? `  final loss ${e.finalLoss.toFixed(4)}` : "";
        this.line(`  ${p("green", "done")}     ${this.stageName(e.variant, e.stage)} in ${e.seconds.toFixed(1)} s${loss}${metrics}`);
        return;
      }
      case "note":
        this.line(`  ${e.message}`);
        return;
    }
  };

  finish(): void {
    this.active.clear();
    this.out.status("");
  }
}

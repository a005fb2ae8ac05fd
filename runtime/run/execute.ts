/**
 * Running an experiment's variants under the runs folder's lock: one after another (variant.ts), or
 * side by side in worker threads (parallel.ts, `jobs`).
 */
import { join, relative } from "node:path";
import type { DataContext } from "./data.js";
import type { RunEvent } from "./events.js";
import { removeOrphans } from "./orphans.js";
import { runInWorkers, sideBySide } from "./parallel.js";
import { RunStore, type StageRecord } from "./store.js";
import { runVariant, startFingerprint, type CachedStage, type JobsOptions, type VariantContext, type VariantInput } from "./variant.js";

export type { JobsOptions, VariantInput } from "./variant.js";

export interface RunOptions {
  readonly experiment: string;
  readonly variants: readonly VariantInput[];
  /** the runs folder; results go to RUNS/EXPERIMENT */
  readonly runsDir: string;
  /** the spec's folder (relative data and weights paths) */
  readonly specDir: string;
  readonly emit: (event: RunEvent) => void;
  /** tests: stop a training stage as if killed after this many steps */
  readonly stopAfter?: number;
  /**
   * Aborted (the command line does it on SIGINT/SIGTERM, with the signal's name as the reason): a
   * training stage stops at its next step boundary with a checkpoint, an evaluation after its current
   * batch, and the run throws `RunInterrupted` once the lock is released.
   */
  readonly stop?: AbortSignal;
  /**
   * Variants run side by side in this many worker threads, each on its own backend (`backend`: the
   * options the command line chose it with, so that every worker computes on the same one). Variants
   * that share a stage still to be computed run one after the other in the same worker. Only on the
   * backends `sideBySide` accepts; on others the variants run one at a time.
   */
  readonly jobs?: JobsOptions;
}

export interface RunSummary {
  readonly dir: string;
  /** stage keys computed by this run */
  readonly computed: readonly StageRecord[];
  /** (variant, stage) pairs whose result came from the cache */
  readonly cached: readonly CachedStage[];
}

export async function runExperiment(options: RunOptions): Promise<RunSummary> {
  const dir = join(options.runsDir, options.experiment);
  const store = new RunStore(dir);
  const note = (message: string) => options.emit({ type: "note", message });
  const release = store.lock(note);
  const computed: StageRecord[] = [];
  const cached: CachedStage[] = [];
  const data: DataContext = { specDir: options.specDir, cacheDir: join(dir, "data") };
  try {
    const orphans = removeOrphans(dir);
    if (orphans.length) {
      const bytes = orphans.reduce((n, o) => n + o.bytes, 0);
      note(`removed ${orphans.length} temporary file${orphans.length === 1 ? "" : "s"} left by an interrupted run (${(bytes / 1024 ** 2).toFixed(1)} MiB): ${orphans.map((o) => relative(dir, o.path)).join(", ")}`);
    }
    for (const v of options.variants) {
      const p = v.plan;
      store.writeVariant(
        { id: p.id, folder: v.folder, hash: p.hash, axes: p.axes, params: p.model.params, stages: p.stages.map((s) => ({ name: s.name, kind: s.kind, key: s.cache_key })) },
        p,
      );
    }
    const ctx: VariantContext = { store, data, emit: options.emit, stop: options.stop, stopAfter: options.stopAfter };
    const jobs = options.jobs;
    if (jobs && jobs.count > 1 && sideBySide(jobs.backend.name) && options.variants.length > 1) {
      const result = await runInWorkers(ctx, options.variants, jobs);
      computed.push(...result.computed);
      cached.push(...result.cached);
    } else {
      for (const [index, v] of options.variants.entries()) {
        const result = await runVariant(ctx, v, index, options.variants.length, startFingerprint(v.plan, data, dir));
        computed.push(...result.computed);
        cached.push(...result.cached);
      }
    }
  } finally {
    release();
  }
  return { dir, computed, cached };
}

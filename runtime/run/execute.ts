/**
 * Running an experiment's variants: each variant's stages in order, each stage's result stored under
 * its cache key. A stage already done (by this variant earlier, or by another variant sharing the
 * prefix) is not computed again; the next stage starts from the weights it left. An interrupted
 * training stage resumes from its last checkpoint.
 */
import { join, relative } from "node:path";
import type { LlavaModel } from "../graph.js";
import { buildModel } from "../models/index.js";
import type { Plan, StagePlan } from "../../plan/plan.js";
import { dataPath, tokenizerWithFolder, type DataContext } from "./data.js";
import { evalStage } from "./eval.js";
import type { RunEvent } from "./events.js";
import { changedFiles, fingerprint, type Fingerprint, type StartFolder } from "./fingerprint.js";
import { removeOrphans } from "./orphans.js";
import { RunInterrupted } from "./stop.js";
import { RunStore, type StageRecord } from "./store.js";
import { assignFrom } from "./tensors.js";
import { trainStage } from "./train.js";

export interface VariantInput {
  readonly plan: Plan;
  /** the typed graph description of the model (from the generated module) */
  readonly graph: LlavaModel<number, number>;
  /** the variant's folder name (its labels) */
  readonly folder: string;
}

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
}

export interface RunSummary {
  readonly dir: string;
  /** stage keys computed by this run */
  readonly computed: readonly StageRecord[];
  /** (variant, stage) pairs whose result came from the cache */
  readonly cached: readonly { variant: string; stage: string; key: string }[];
}

/** The key of the last training stage before `index` (whose weights a stage at `index` starts from). */
function weightsBefore(stages: readonly StagePlan[], index: number): string | null {
  for (let i = index - 1; i >= 0; i--) if (stages[i].kind === "stage") return stages[i].cache_key;
  return null;
}

/** The graph with `weights` paths made absolute (they are relative to the spec). */
function resolveWeights(graph: LlavaModel<number, number>, data: DataContext): LlavaModel<number, number> {
  const fix = <T extends { config: { weights: string | null } }>(part: T): T =>
    part.config.weights ? { ...part, config: { ...part.config, weights: dataPath(data, part.config.weights) } } : part;
  return { ...graph, vision: fix(graph.vision), language: fix(graph.language) };
}

/** The folders a variant starts from: its backbones' `weights` and its language's `tokenizer`. */
function startFolders(plan: Plan, data: DataContext): StartFolder[] {
  const folders: StartFolder[] = [];
  if (plan.model.vision.weights) folders.push({ role: "vision", dir: dataPath(data, plan.model.vision.weights) });
  if (plan.model.language.weights) folders.push({ role: "language", dir: dataPath(data, plan.model.language.weights) });
  if (plan.model.language.tokenizer) folders.push({ role: "tokenizer", dir: dataPath(data, plan.model.language.tokenizer) });
  return folders;
}

/**
 * Stage `index` of the plan was started from other files than `start` (its start.json differs): it and
 * every later stage of the variant are removed, to be computed again. Returns a note, or null when the
 * stage is not stale (or has no start record: folders from before start.json are kept).
 */
function discardStale(store: RunStore, plan: Plan, index: number, start: Fingerprint): string | null {
  const stage = plan.stages[index];
  const before = store.startRecord(stage.cache_key);
  if (!before || before.digest === start.digest) return null;
  const changed = changedFiles(before.files, start.files);
  let removed = 0;
  for (let j = index; j < plan.stages.length; j++) if (store.discard(plan.stages[j].cache_key)) removed++;
  const shown = changed.slice(0, 3).join(", ") + (changed.length > 3 ? ` and ${changed.length - 3} more` : "");
  return (
    `stage ${stage.name} of ${plan.id} was computed from other starting files than the ones there now (changed: ${shown || "none listed"}); ` +
    `its result${removed > 1 ? ` and those of ${removed === 2 ? "the stage" : `the ${removed - 1} stages`} after it were` : " was"} removed and ${removed > 1 ? "are" : "is"} computed again`
  );
}

export async function runExperiment(options: RunOptions): Promise<RunSummary> {
  const dir = join(options.runsDir, options.experiment);
  const store = new RunStore(dir);
  const note = (message: string) => options.emit({ type: "note", message });
  const release = store.lock(note);
  const computed: StageRecord[] = [];
  const cached: { variant: string; stage: string; key: string }[] = [];
  const data: DataContext = { specDir: options.specDir, cacheDir: join(dir, "data") };
  try {
    const orphans = removeOrphans(dir);
    if (orphans.length) {
      const bytes = orphans.reduce((n, o) => n + o.bytes, 0);
      note(`removed ${orphans.length} temporary file${orphans.length === 1 ? "" : "s"} left by an interrupted run (${(bytes / 1024 ** 2).toFixed(1)} MiB): ${orphans.map((o) => relative(dir, o.path)).join(", ")}`);
    }
    // an evaluation reports progress after each batch: that is where it stops when asked to
    const evalEmit = (event: RunEvent) => {
      options.emit(event);
      if (options.stop?.aborted && event.type === "step") {
        throw new RunInterrupted(String(options.stop.reason), { variant: event.variant, stage: event.stage, kind: "eval", step: event.step, steps: event.steps });
      }
    };
    const stopHere = () => {
      if (options.stop?.aborted) throw new RunInterrupted(String(options.stop.reason), null);
    };
    for (const v of options.variants) {
      const p = v.plan;
      store.writeVariant(
        { id: p.id, folder: v.folder, hash: p.hash, axes: p.axes, params: p.model.params, stages: p.stages.map((s) => ({ name: s.name, kind: s.kind, key: s.cache_key })) },
        p,
      );
    }
    for (const [index, v] of options.variants.entries()) {
      const plan = v.plan;
      options.emit({ type: "variant", variant: plan.id, index, count: options.variants.length });
      const start = fingerprint(startFolders(plan, data), join(dir, "start-hashes.json"));
      let first = 0;
      while (first < plan.stages.length) {
        const stale = discardStale(store, plan, first, start);
        if (stale) {
          note(stale);
          break;
        }
        const record = store.record(plan.stages[first].cache_key);
        if (!record) break;
        options.emit({ type: "stage-cached", variant: plan.id, stage: plan.stages[first].name, computedBy: record.variant });
        cached.push({ variant: plan.id, stage: plan.stages[first].name, key: record.key });
        first++;
      }
      if (first === plan.stages.length) continue;
      stopHere();
      const { tokenizer, dir: tokenizerDir } = await tokenizerWithFolder(plan, data);
      const graph = resolveWeights(v.graph, data);
      const model = await buildModel(graph, {
        seed: plan.seed,
        imageTokenId: tokenizer.imageTokenId,
        padTokenId: tokenizer.unkId ?? tokenizer.padId ?? 0,
      });
      try {
        const from = weightsBefore(plan.stages, first);
        if (from) assignFrom(store.weightsPath(from), model.parameters, `delete the folder ${store.stageDir(from)} to train that stage again`);
        let aspect = plan.model.vision.aspect;
        for (let i = 0; i < plan.stages.length; i++) {
          const stage = plan.stages[i];
          if (stage.kind === "stage") aspect = stage.aspect;
          if (i < first) continue;
          stopHere();
          store.writeStart(stage.cache_key, start);
          const common = { model, plan, store, data, tokenizer, variant: plan.id };
          const record =
            stage.kind === "stage"
              ? await trainStage({ ...common, emit: options.emit, index: i, stage, stopAfter: options.stopAfter, stop: options.stop, graph, tokenizerDir })
              : await evalStage({ ...common, emit: evalEmit, stage, aspect, weightsFrom: weightsBefore(plan.stages, i) });
          computed.push(record);
        }
      } finally {
        model.dispose();
      }
    }
  } finally {
    release();
  }
  return { dir, computed, cached };
}

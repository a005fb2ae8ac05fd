/**
 * One variant's run: its stages in order, each stage's result stored under its cache key. A stage
 * already done (by this variant earlier, or by another variant sharing the prefix) is not computed
 * again; the next stage starts from the weights it left. An interrupted training stage resumes from
 * its last checkpoint. Used by the sequential loop (execute.ts) and by the worker threads of a
 * parallel run (worker.ts).
 */
import { join } from "node:path";
import type { LlavaModel } from "../graph.js";
import { buildModel } from "../models/index.js";
import type { Plan, StagePlan } from "../../plan/plan.js";
import { dataPath, tokenizerWithFolder, type DataContext } from "./data.js";
import { evalStage } from "./eval.js";
import type { RunEvent } from "./events.js";
import { changedFiles, fingerprint, type Fingerprint, type StartFolder } from "./fingerprint.js";
import { RunInterrupted } from "./stop.js";
import type { RunStore, StageRecord } from "./store.js";
import { assignFrom } from "./tensors.js";
import { trainStage } from "./train.js";

export interface VariantInput {
  readonly plan: Plan;
  /** the typed graph description of the model (from the generated module) */
  readonly graph: LlavaModel<number, number>;
  /** the variant's folder name (its labels) */
  readonly folder: string;
}

export interface JobsOptions {
  readonly count: number;
  readonly backend: { readonly name: string; readonly threads: number };
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

/** What running one variant needs besides the variant: shared by the sequential loop and the workers. */
export interface VariantContext {
  readonly store: RunStore;
  readonly data: DataContext;
  readonly emit: (event: RunEvent) => void;
  readonly stop?: AbortSignal;
  readonly stopAfter?: number;
}

/** A (variant, stage) pair whose result came from the cache. */
export interface CachedStage {
  readonly variant: string;
  readonly stage: string;
  readonly key: string;
}

/** The results of one or more variants' stages. */
export interface VariantResult {
  readonly computed: StageRecord[];
  readonly cached: CachedStage[];
}

/** The folders a variant starts from, fingerprinted (their digests are cached in RUNS/EXPERIMENT/start-hashes.json). */
export function startFingerprint(plan: Plan, data: DataContext, dir: string): Fingerprint {
  return fingerprint(startFolders(plan, data), join(dir, "start-hashes.json"));
}

/**
 * The index of the first stage of the variant that has no result yet (results made from other starting
 * files are discarded first, with a note), and the cached stages before it.
 */
export function firstToCompute(store: RunStore, plan: Plan, start: Fingerprint, note: (message: string) => void): { first: number; cached: { stage: string; key: string; computedBy: string }[] } {
  const cached: { stage: string; key: string; computedBy: string }[] = [];
  let first = 0;
  while (first < plan.stages.length) {
    const stale = discardStale(store, plan, first, start);
    if (stale) {
      note(stale);
      break;
    }
    const record = store.record(plan.stages[first].cache_key);
    if (!record) break;
    cached.push({ stage: plan.stages[first].name, key: record.key, computedBy: record.variant });
    first++;
  }
  return { first, cached };
}

/** An evaluation reports progress after each batch: that is where it stops when asked to. */
function stoppingEmit(ctx: VariantContext): (event: RunEvent) => void {
  return (event) => {
    ctx.emit(event);
    if (ctx.stop?.aborted && event.type === "step") {
      throw new RunInterrupted(String(ctx.stop.reason), { variant: event.variant, stage: event.stage, kind: "eval", step: event.step, steps: event.steps });
    }
  };
}

/**
 * One variant: its stages in order, from the first without a result (the ones before come from the
 * cache), each computed and stored under its key.
 */
export async function runVariant(ctx: VariantContext, v: VariantInput, index: number, count: number, start: Fingerprint): Promise<VariantResult> {
  const { store, data } = ctx;
  const plan = v.plan;
  const computed: StageRecord[] = [];
  const cached: CachedStage[] = [];
  const stopHere = () => {
    if (ctx.stop?.aborted) throw new RunInterrupted(String(ctx.stop.reason), null);
  };
  ctx.emit({ type: "variant", variant: plan.id, index, count });
  const found = firstToCompute(store, plan, start, (message) => ctx.emit({ type: "note", message }));
  for (const c of found.cached) {
    ctx.emit({ type: "stage-cached", variant: plan.id, stage: c.stage, computedBy: c.computedBy });
    cached.push({ variant: plan.id, stage: c.stage, key: c.key });
  }
  const first = found.first;
  if (first === plan.stages.length) return { computed, cached };
  stopHere();
  const { tokenizer, dir: tokenizerDir } = await tokenizerWithFolder(plan, data);
  const graph = resolveWeights(v.graph, data);
  const model = await buildModel(graph, {
    seed: plan.seed,
    imageTokenId: tokenizer.imageTokenId,
    padTokenId: tokenizer.unkId ?? tokenizer.padId ?? 0,
  });
  const evalEmit = stoppingEmit(ctx);
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
          ? await trainStage({ ...common, emit: ctx.emit, index: i, stage, stopAfter: ctx.stopAfter, stop: ctx.stop, graph, tokenizerDir })
          : await evalStage({ ...common, emit: evalEmit, stage, aspect, weightsFrom: weightsBefore(plan.stages, i) });
      computed.push(record);
    }
  } finally {
    model.dispose();
  }
  return { computed, cached };
}


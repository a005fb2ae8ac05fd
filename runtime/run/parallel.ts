/**
 * Running an experiment's variants side by side in worker threads (`mmfmc run --jobs N`): each worker
 * starts its own backend and runs whole variants (runVariant), one after another, as the parent hands
 * them out, longest first. Variants that share a stage still to be computed form one group, run in
 * order by one worker, so that no stage is computed twice or by two workers at once; the generated
 * datasets are made here, before any worker starts, for the same reason. A variant's result does not
 * depend on which worker ran it, or beside what: its stages are seeded from their cache keys.
 *
 * The parent holds the runs folder's lock and forwards the workers' progress events. A stop
 * (SIGINT/SIGTERM) is passed on to every worker, each of which stops at its next step boundary with a
 * checkpoint; a failing variant stops the others the same way, and its error is the run's.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Plan } from "../../plan/plan.js";
import { syntheticFolder, tokenizerWithFolder } from "./data.js";
import type { RunEvent } from "./events.js";
import { firstToCompute, runVariant, startFingerprint, type JobsOptions, type VariantContext, type VariantInput, type VariantResult } from "./variant.js";
import type { Fingerprint } from "./fingerprint.js";
import { RemoteInputError } from "./input_errors.js";
import { RunInterrupted, type StopPlace } from "./stop.js";

/** What the parent sends a worker. */
export type ToWorker =
  | { readonly type: "group"; readonly count: number; readonly variants: readonly { readonly input: VariantInput; readonly index: number; readonly start: Fingerprint }[] }
  | { readonly type: "stop"; readonly reason: string };

/** What a worker sends the parent. */
export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "event"; readonly event: RunEvent }
  | { readonly type: "done"; readonly result: VariantResult }
  | { readonly type: "failed"; readonly error: WorkerError };

export interface WorkerError {
  readonly message: string;
  readonly stack?: string;
  /** an input error (isInputError): reported with its message, exit 1 */
  readonly input: boolean;
  /** a RunInterrupted: its signal and place */
  readonly interrupted?: { readonly signal: string; readonly place: StopPlace | null };
}

/** What a worker is told at its start (`workerData`). */
export interface WorkerSetup {
  readonly backend: JobsOptions["backend"];
  readonly dir: string;
  readonly data: VariantContext["data"];
  readonly stopAfter?: number;
}

/**
 * Whether variants can run side by side on this backend: each worker starts its own copy of it
 * in-process, which the wasm and cpu backends allow. A GPU or the native TensorFlow backend is one
 * device the variants would share anyway.
 */
export function sideBySide(backend: string): boolean {
  return backend === "wasm" || backend === "cpu";
}

/** The compiled worker module, next to this one (in dist/). */
function workerFile(): string {
  const file = fileURLToPath(new URL("./worker.js", import.meta.url));
  if (!existsSync(file)) throw new Error(`cannot find the worker module ${file} (build the project: npm run build)`);
  return file;
}

/** The error a worker reported, as the parent throws it. */
function rebuild(error: WorkerError): Error {
  if (error.interrupted) return new RunInterrupted(error.interrupted.signal, error.interrupted.place);
  if (error.input) return new RemoteInputError(error.message);
  const e = new Error(error.message);
  if (error.stack) e.stack = error.stack;
  return e;
}

/** Groups of variant indices that share a stage key still to be computed (union-find over the keys). */
function groupByKeys(todo: readonly (readonly string[])[]): number[][] {
  const parent = todo.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const owner = new Map<string, number>();
  todo.forEach((keys, i) => {
    for (const key of keys) {
      const j = owner.get(key);
      if (j === undefined) owner.set(key, i);
      else parent[find(i)] = find(j);
    }
  });
  const groups = new Map<number, number[]>();
  todo.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group) group.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

/** A rough cost of the stages still to compute: optimizer steps (or items) times parameters. */
function cost(plan: Plan, keys: readonly string[]): number {
  let steps = 0;
  for (const s of plan.stages) if (keys.includes(s.cache_key)) steps += s.kind === "stage" ? (s.steps ?? 1) * (s.batch ?? 1) : 1;
  return steps * (plan.model.params.total ?? 1);
}

/** Makes the generated datasets and tokenizer a plan reads (workers would race to write them). */
async function prepareData(plan: Plan, ctx: VariantContext): Promise<void> {
  for (const stage of plan.stages) for (const d of stage.data) if (d.family === "synthetic_shapes") await syntheticFolder(d, ctx.data);
  await tokenizerWithFolder(plan, ctx.data);
}

export async function runInWorkers(ctx: VariantContext, variants: readonly VariantInput[], jobs: JobsOptions): Promise<VariantResult> {
  const dir = ctx.store.dir;
  const note = (message: string) => ctx.emit({ type: "note", message });
  const starts = variants.map((v) => startFingerprint(v.plan, ctx.data, dir));
  const todo = variants.map((v, i) => {
    const { first } = firstToCompute(ctx.store, v.plan, starts[i], note);
    return v.plan.stages.slice(first).map((s) => s.cache_key);
  });
  const results: VariantResult = { computed: [], cached: [] };
  // variants with nothing left to compute are reported here, as the sequential loop does
  for (const [i, v] of variants.entries()) {
    if (todo[i].length > 0) continue;
    const r = await runVariant(ctx, v, i, variants.length, starts[i]);
    results.cached.push(...r.cached);
  }
  const groups = groupByKeys(todo)
    .filter((g) => todo[g[0]].length > 0)
    .map((g) => ({ members: g, cost: g.reduce((c, i) => c + cost(variants[i].plan, todo[i]), 0) }))
    .sort((a, b) => b.cost - a.cost);
  if (groups.length === 0) return results;
  for (const g of groups) for (const i of g.members) await prepareData(variants[i].plan, ctx);

  const file = workerFile();
  const setup: WorkerSetup = { backend: jobs.backend, dir, data: ctx.data, stopAfter: ctx.stopAfter };
  const count = Math.min(jobs.count, groups.length);
  return new Promise<VariantResult>((resolve, reject) => {
    const queue = [...groups];
    const workers: Worker[] = [];
    const running = new Map<Worker, string[]>();
    const finished = new Set<Worker>();
    let failure: Error | undefined;
    let interrupted: RunInterrupted | undefined;
    let live = 0;
    const stopAll = (reason: string) => {
      for (const w of workers) if (!finished.has(w)) w.postMessage({ type: "stop", reason } satisfies ToWorker);
    };
    const onAbort = () => stopAll(String(ctx.stop?.reason ?? "SIGINT"));
    ctx.stop?.addEventListener("abort", onAbort, { once: true });
    const fail = (error: Error) => {
      if (error instanceof RunInterrupted) {
        // each worker stopped at its own step boundary: the first is the run's error, the others notes
        if (interrupted || failure) note(error.message.split("\n")[0]);
        else interrupted = error;
      } else if (!failure) {
        failure = error;
        // the others stop at their next step boundary, with a checkpoint; this error is the run's
        stopAll("an error in another variant");
      }
    };
    const retire = (w: Worker) => {
      if (finished.has(w)) return;
      finished.add(w);
      running.delete(w);
      void w.terminate();
    };
    const next = (w: Worker) => {
      const group = failure || interrupted || ctx.stop?.aborted ? undefined : queue.shift();
      if (!group) return retire(w);
      running.set(w, group.members.map((i) => variants[i].plan.id));
      const message: ToWorker = { type: "group", count: variants.length, variants: group.members.map((i) => ({ input: variants[i], index: i, start: starts[i] })) };
      w.postMessage(message);
    };
    for (let k = 0; k < count; k++) {
      const w = new Worker(file, { workerData: setup });
      workers.push(w);
      live++;
      w.on("message", (m: FromWorker) => {
        switch (m.type) {
          case "ready":
            return next(w);
          case "event":
            return ctx.emit(m.event);
          case "done":
            results.computed.push(...m.result.computed);
            results.cached.push(...m.result.cached);
            running.delete(w);
            return next(w);
          case "failed":
            fail(rebuild(m.error));
            return retire(w);
        }
      });
      w.on("error", (error) => {
        fail(error instanceof Error ? error : new Error(String(error)));
        retire(w);
      });
      w.on("exit", (code) => {
        if (!finished.has(w)) {
          const ids = running.get(w);
          fail(new Error(`the worker thread running ${ids?.length ? ids.join(", ") : "variants"} stopped unexpectedly (exit code ${code})`));
          finished.add(w);
        }
        if (--live > 0) return;
        ctx.stop?.removeEventListener("abort", onAbort);
        if (failure) reject(failure);
        else if (interrupted) reject(interrupted);
        else if (ctx.stop?.aborted) reject(new RunInterrupted(String(ctx.stop.reason), null));
        else resolve(results);
      });
    }
  });
}

/**
 * A training stage's checkpoints: writing one (weights, optimizer state, log, then the pointer) and
 * resuming from the newest one that loads. The latest checkpoint can be damaged outside mmfmc (a bad
 * disk, a hand edit, a file removed): then the run falls back on the one before it, which
 * `RunStore.commitCheckpoint` keeps, and says so; if none loads, the error names what to delete.
 * A checkpoint is read and checked completely before anything is assigned, so a damaged one leaves
 * the model and the optimizer as they were.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PretrainedModel } from "../models/index.js";
import { tf } from "../tf.js";
import type { Optimizer } from "../train/index.js";
import { SafetensorsError, type HostTensor } from "../weights/index.js";
import { FileError, fileError } from "../../core/files.js";
import type { LogLine, RunStore } from "./store.js";
import { assignHost, checkFits, readTensors, writeTensors } from "./tensors.js";

const PARAMS = "params.safetensors";
const OPTIMIZER = "optimizer.safetensors";
const LOG = "log.json";

/** What a checkpoint holds besides the optimizer: the model's variables (and a pretraining objective's own). */
export type Checkpointed = Pick<PretrainedModel, "parameters">;

/** Writes a complete checkpoint folder for `step`, then commits it (the pointer is written last). */
export async function saveCheckpoint(
  store: RunStore,
  key: string,
  step: number,
  state: { model: Checkpointed; optimizer: Optimizer; log: readonly LogLine[] },
): Promise<void> {
  const dir = store.checkpointDir(key, step);
  await writeTensors(join(dir, PARAMS), state.model.parameters);
  const exported = state.optimizer.exportState();
  try {
    await writeTensors(join(dir, OPTIMIZER), exported.tensors, { step: String(exported.step) });
  } finally {
    tf.dispose([...exported.tensors.values()]);
  }
  store.writeFile(key, `checkpoint-${step}/${LOG}`, JSON.stringify(state.log));
  store.commitCheckpoint(key, step);
}

interface Loaded {
  readonly params: Map<string, HostTensor>;
  readonly optimizer: Map<string, HostTensor>;
  readonly log: LogLine[];
}

/** A missing file in a checkpoint folder is damage too, not an environment problem. */
function readChecked<T>(path: string, read: (path: string) => T): T {
  try {
    return read(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new FileError(`${path} is missing`);
    throw fileError(error, "read", path);
  }
}

/** Reads one checkpoint folder and checks it against the model, assigning nothing. */
function readCheckpoint(dir: string, step: number, model: Checkpointed): Loaded {
  const params = readChecked(join(dir, PARAMS), readTensors);
  checkFits(params, model.parameters, join(dir, PARAMS));
  const optimizer = readChecked(join(dir, OPTIMIZER), readTensors);
  const text = readChecked(join(dir, LOG), (p) => readFileSync(p, "utf8"));
  let log: unknown;
  try {
    log = JSON.parse(text);
  } catch (error) {
    throw new FileError(`${join(dir, LOG)} is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(log) || log.length < step) {
    throw new FileError(`${join(dir, LOG)} holds ${Array.isArray(log) ? log.length : "no"} log lines for a checkpoint at step ${step}`);
  }
  return { params, optimizer, log: (log as LogLine[]).slice(0, step) };
}

export interface Resumed {
  readonly step: number;
  readonly log: LogLine[];
}

/**
 * Restores the newest checkpoint of stage `key` that loads into `model` and `optimizer`; undefined
 * when the stage has none. `note` hears about every checkpoint passed over.
 */
export async function resumeCheckpoint(
  store: RunStore,
  key: string,
  target: { model: Checkpointed; optimizer: Optimizer; stage: string },
  note: (message: string) => void,
): Promise<Resumed | undefined> {
  if (!store.hasCheckpointFiles(key)) return undefined;
  const candidates = store.checkpoints(key);
  const problems: string[] = [];
  for (const c of candidates) {
    const dir = store.checkpointDir(key, c.step);
    let loaded: Loaded;
    try {
      loaded = readCheckpoint(dir, c.step, target.model);
    } catch (error) {
      if (!(error instanceof FileError || error instanceof SafetensorsError)) throw error;
      problems.push(`${dir}: ${error.message}`);
      continue;
    }
    const tensors = new Map<string, tf.Tensor>();
    for (const [name, t] of loaded.optimizer) tensors.set(name, tf.tensor(t.data, t.shape as number[], t.dtype));
    try {
      await target.optimizer.importState({ step: c.step, tensors });
    } catch (error) {
      problems.push(`${join(dir, OPTIMIZER)}: ${(error as Error).message}`);
      continue;
    } finally {
      tf.dispose([...tensors.values()]);
    }
    assignHost(loaded.params, target.model.parameters);
    for (const p of problems) note(`stage \`${target.stage}\`: passed over a damaged checkpoint: ${p}`);
    if (store.committedStep(key) !== c.step) {
      note(`stage \`${target.stage}\`: resuming from the checkpoint at step ${c.step} instead`);
      store.repoint(key, c.step);
    }
    return { step: c.step, log: loaded.log };
  }
  const dir = store.stageDir(key);
  throw new FileError(
    `cannot resume stage \`${target.stage}\`: no checkpoint in ${dir} loads` +
      (problems.length ? `:\n  ${problems.join("\n  ")}` : ` (${join(dir, "checkpoint.json")} is damaged and no checkpoint folder is left)`) +
      `\n  help: delete ${join(dir, "checkpoint.json")} and the checkpoint-* folders in ${dir} to train the stage from the start`,
  );
}

/**
 * The runs folder of one experiment, where results live keyed by stage cache key, so variants that
 * share a prefix of stages share its results and a re-run of an unchanged spec does no work:
 *
 *   runs/EXPERIMENT/
 *     .lock                          held by the running `mmfmc run` (pid, host, boot id, start time: lock.ts)
 *     variants/VARIANT.json          the variant's plan and its stage keys (what `mmfmc report` reads)
 *     stages/KEY/stage.json          written last, when the stage is done: its record
 *     stages/KEY/model.safetensors   the weights the stage left (training stages)
 *     stages/KEY/log.jsonl           one line per optimizer step
 *     stages/KEY/checkpoint.json     the latest resumable checkpoint (pointer, replaced atomically)
 *     stages/KEY/checkpoint-STEP/    weights, optimizer state and log at STEP; the one before the
 *                                    latest is kept too, to fall back on if the latest is damaged
 *     stages/KEY/scores.json         evaluation stages: the scores per benchmark
 *     stages/KEY/NAME.answers.jsonl  evaluation stages: LLaVA's answers file, appended as answers come
 *     stages/KEY/start.json          written when the stage starts: the content fingerprint of the files
 *                                    the variant starts from (weights, tokenizer; fingerprint.ts)
 *     start-hashes.json              those files' digests by path, size and time (a cache)
 *
 * Every file is written through a temporary file, fsync and rename: a crash leaves the previous
 * version or the new one, never half of one. A file found damaged (changed outside mmfmc) is a
 * `FileError` naming it and what to delete.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FileError, fileError, writeAtomic } from "../../core/files.js";
import type { Fingerprint } from "./fingerprint.js";
import { takeLock } from "./lock.js";

export { LockError } from "./lock.js";

export interface StageRecord {
  readonly key: string;
  readonly name: string;
  readonly kind: "stage" | "eval";
  /** the variant that computed it first */
  readonly variant: string;
  readonly seconds: number;
  readonly finished: string;
  /** training: optimizer steps, final loss, whether it was resumed */
  readonly steps?: number;
  readonly finalLoss?: number;
  readonly resumedFrom?: number;
  /** evaluation: headline metrics, `benchmark.metric` -> value */
  readonly metrics?: Readonly<Record<string, number>>;
  /** evaluation: benchmarks without ground truth (VQAv2 test-dev) -> the upload file written instead of a score */
  readonly submissions?: Readonly<Record<string, string>>;
  /** the stage whose weights this one used (evaluation) or left (training: itself) */
  readonly weightsFrom: string | null;
}

export interface VariantRecord {
  readonly id: string;
  readonly folder: string;
  readonly hash: string;
  readonly axes: Readonly<Record<string, string>>;
  readonly stages: readonly { readonly name: string; readonly kind: "stage" | "eval"; readonly key: string }[];
  readonly params: { readonly total: number; readonly vision: number; readonly connector: number; readonly language: number };
}

export interface LogLine {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number | null;
  readonly seconds: number;
}

export interface CheckpointPointer {
  readonly step: number;
  readonly dir: string;
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw fileError(error, "read", path);
  }
}

/** A JSON file of the runs folder; a damaged one names itself and what to delete (`remedy`). */
function json(path: string, remedy: string): unknown {
  const text = read(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FileError(`${path} is damaged: not valid JSON (${(error as Error).message})\n  help: ${remedy}`);
  }
}

export class RunStore {
  constructor(readonly dir: string) {}

  stageDir(key: string): string {
    return join(this.dir, "stages", key);
  }

  // ---- lock ----------------------------------------------------------------------------------

  /** Takes the lock (lock.ts), or explains who holds it; a lock whose run is gone is taken over. */
  lock(onStale?: (message: string) => void): () => void {
    return takeLock(this.dir, onStale);
  }

  // ---- variants ------------------------------------------------------------------------------

  writeVariant(record: VariantRecord, plan: unknown): void {
    writeAtomic(join(this.dir, "variants", `${record.folder}.json`), JSON.stringify({ ...record, plan }, null, 2) + "\n");
  }

  variants(): (VariantRecord & { plan: unknown })[] {
    const dir = join(this.dir, "variants");
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => json(join(dir, f), `delete it; the next \`mmfmc run\` writes it again`) as VariantRecord & { plan: unknown });
  }

  // ---- stages --------------------------------------------------------------------------------

  record(key: string): StageRecord | undefined {
    const path = join(this.stageDir(key), "stage.json");
    return existsSync(path) ? (json(path, `delete the folder ${this.stageDir(key)} to compute the stage again`) as StageRecord) : undefined;
  }

  isDone(key: string): boolean {
    return this.record(key) !== undefined;
  }

  /** Marks a stage done: its record is the last file written, so a crash before it means "not done". */
  finish(record: StageRecord): void {
    writeAtomic(join(this.stageDir(record.key), "stage.json"), JSON.stringify(record, null, 2) + "\n");
    this.clearCheckpoints(record.key);
  }

  /** What the stage's variant started from when the stage began (fingerprint.ts), if recorded. */
  startRecord(key: string): Fingerprint | undefined {
    const path = join(this.stageDir(key), "start.json");
    return existsSync(path) ? (json(path, `delete the folder ${this.stageDir(key)} to compute the stage again`) as Fingerprint) : undefined;
  }

  writeStart(key: string, record: Fingerprint): void {
    writeAtomic(join(this.stageDir(key), "start.json"), JSON.stringify(record, null, 1) + "\n");
  }

  /** Removes a stage's folder (its result was computed from starting files that have changed since). */
  discard(key: string): boolean {
    const dir = this.stageDir(key);
    if (!existsSync(dir)) return false;
    rmSync(dir, { recursive: true, force: true });
    return true;
  }

  weightsPath(key: string): string {
    return join(this.stageDir(key), "model.safetensors");
  }

  writeFile(key: string, name: string, data: string | Uint8Array): void {
    writeAtomic(join(this.stageDir(key), name), data);
  }

  readFile(key: string, name: string): string | undefined {
    const path = join(this.stageDir(key), name);
    return existsSync(path) ? read(path) : undefined;
  }

  log(key: string): LogLine[] {
    const text = this.readFile(key, "log.jsonl");
    if (!text) return [];
    const path = join(this.stageDir(key), "log.jsonl");
    return text.split("\n").flatMap((line, i) => {
      if (!line.trim()) return [];
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        throw new FileError(`${path}:${i + 1} is damaged: not a JSON log line\n  help: delete the folder ${this.stageDir(key)} to train the stage again`);
      }
    });
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  /** The committed checkpoint (the pointer), or undefined if there is none or the pointer is damaged. */
  private pointer(key: string): CheckpointPointer | undefined {
    const text = this.readFile(key, "checkpoint.json");
    if (text === undefined) return undefined;
    try {
      const pointer = JSON.parse(text) as CheckpointPointer;
      return Number.isSafeInteger(pointer?.step) && pointer.dir === `checkpoint-${pointer.step}` ? pointer : undefined;
    } catch {
      return undefined;
    }
  }

  /** The steps of the checkpoint folders present, newest first. */
  private checkpointSteps(key: string): number[] {
    const dir = this.stageDir(key);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((e) => /^checkpoint-(\d+)$/.exec(e))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  /**
   * The checkpoints to resume from, best first: the committed one, then the older ones kept beside it
   * (to fall back on when the latest turns out damaged). Folders newer than the pointer were never
   * committed and are left out; with a damaged pointer every folder is a candidate, and loading decides.
   */
  checkpoints(key: string): CheckpointPointer[] {
    const pointer = this.pointer(key);
    const steps = this.checkpointSteps(key).filter((s) => pointer === undefined || s <= pointer.step);
    return steps.map((step) => ({ step, dir: `checkpoint-${step}` }));
  }

  /** The step of the committed checkpoint, if the pointer is intact. */
  committedStep(key: string): number | undefined {
    return this.pointer(key)?.step;
  }

  /** After a fall back: points at the checkpoint of `step` and removes the newer (damaged) ones. */
  repoint(key: string, step: number): void {
    this.writeFile(key, "checkpoint.json", JSON.stringify({ step, dir: `checkpoint-${step}` }) + "\n");
    for (const s of this.checkpointSteps(key)) if (s > step) rmSync(this.checkpointDir(key, s), { recursive: true, force: true });
  }

  /** Whether the stage has any checkpoint state (a pointer, even a damaged one, or folders). */
  hasCheckpointFiles(key: string): boolean {
    return existsSync(join(this.stageDir(key), "checkpoint.json")) || this.checkpointSteps(key).length > 0;
  }

  checkpointDir(key: string, step: number): string {
    return join(this.stageDir(key), `checkpoint-${step}`);
  }

  /**
   * Points at a completely written checkpoint folder, then removes the older ones but the one it
   * replaces: if the new one is later found damaged, the run falls back on that.
   */
  commitCheckpoint(key: string, step: number): void {
    const previous = this.pointer(key);
    this.writeFile(key, "checkpoint.json", JSON.stringify({ step, dir: `checkpoint-${step}` }) + "\n");
    for (const s of this.checkpointSteps(key)) {
      if (s !== step && s !== previous?.step) rmSync(this.checkpointDir(key, s), { recursive: true, force: true });
    }
  }

  clearCheckpoints(key: string): void {
    const dir = this.stageDir(key);
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith("checkpoint")) rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
}

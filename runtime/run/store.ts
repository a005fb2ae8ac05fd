/**
 * The runs folder of one experiment, where results live keyed by stage cache key, so variants that
 * share a prefix of stages share its results and a re-run of an unchanged spec does no work:
 *
 *   runs/EXPERIMENT/
 *     .lock                          held by the running `mmfmc run` (pid, host, start)
 *     variants/VARIANT.json          the variant's plan and its stage keys (what `mmfmc report` reads)
 *     stages/KEY/stage.json          written last, when the stage is done: its record
 *     stages/KEY/model.safetensors   the weights the stage left (training stages)
 *     stages/KEY/log.jsonl           one line per optimizer step
 *     stages/KEY/checkpoint.json     the latest resumable checkpoint (pointer, replaced atomically)
 *     stages/KEY/checkpoint-STEP/    weights, optimizer state and position at STEP
 *     stages/KEY/scores.json         evaluation stages: the scores per benchmark
 *     stages/KEY/NAME.answers.jsonl  evaluation stages: LLaVA's answers file, appended as answers come
 *
 * Every file is written through a temporary file, fsync and rename: a crash leaves the previous
 * version or the new one, never half of one.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeAtomic } from "../../core/files.js";

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

export class LockError extends Error {}

function json(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

export class RunStore {
  constructor(readonly dir: string) {}

  stageDir(key: string): string {
    return join(this.dir, "stages", key);
  }

  // ---- lock ----------------------------------------------------------------------------------

  private lockPath(): string {
    return join(this.dir, ".lock");
  }

  /** Takes the lock, or explains who holds it. A lock left by a dead process on this host is taken over. */
  lock(): () => void {
    mkdirSync(this.dir, { recursive: true });
    const path = this.lockPath();
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, "wx");
        writeSync(fd, mine);
        closeSync(fd);
        let released = false;
        return () => {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, "utf8") === mine) unlinkSync(path);
          } catch {
            // already gone
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        let holder: { pid?: number; host?: string; started?: string } = {};
        try {
          holder = JSON.parse(readFileSync(path, "utf8"));
        } catch {
          // unreadable lock: treat as stale
        }
        const alive = holder.host === hostname() && typeof holder.pid === "number" && isAlive(holder.pid);
        if (alive || (holder.host !== undefined && holder.host !== hostname())) {
          throw new LockError(
            `another mmfmc run (pid ${holder.pid ?? "?"} on ${holder.host ?? "?"}, started ${holder.started ?? "?"}) is using ${this.dir}; wait for it to finish` +
              (alive ? "" : `, or delete ${path} if that run is gone`),
          );
        }
        unlinkSync(path); // stale: its process is gone
      }
    }
    throw new LockError(`cannot take the lock ${path}`);
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
      .map((f) => json(join(dir, f)) as VariantRecord & { plan: unknown });
  }

  // ---- stages --------------------------------------------------------------------------------

  record(key: string): StageRecord | undefined {
    const path = join(this.stageDir(key), "stage.json");
    return existsSync(path) ? (json(path) as StageRecord) : undefined;
  }

  isDone(key: string): boolean {
    return this.record(key) !== undefined;
  }

  /** Marks a stage done: its record is the last file written, so a crash before it means "not done". */
  finish(record: StageRecord): void {
    writeAtomic(join(this.stageDir(record.key), "stage.json"), JSON.stringify(record, null, 2) + "\n");
    this.clearCheckpoints(record.key);
  }

  weightsPath(key: string): string {
    return join(this.stageDir(key), "model.safetensors");
  }

  writeFile(key: string, name: string, data: string | Uint8Array): void {
    writeAtomic(join(this.stageDir(key), name), data);
  }

  readFile(key: string, name: string): string | undefined {
    const path = join(this.stageDir(key), name);
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  }

  log(key: string): LogLine[] {
    const text = this.readFile(key, "log.jsonl");
    if (!text) return [];
    return text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as LogLine);
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  checkpoint(key: string): CheckpointPointer | undefined {
    const text = this.readFile(key, "checkpoint.json");
    if (!text) return undefined;
    const pointer = JSON.parse(text) as CheckpointPointer;
    return existsSync(join(this.stageDir(key), pointer.dir)) ? pointer : undefined;
  }

  checkpointDir(key: string, step: number): string {
    return join(this.stageDir(key), `checkpoint-${step}`);
  }

  /** Points at a completely written checkpoint folder, then removes the older ones. */
  commitCheckpoint(key: string, step: number): void {
    this.writeFile(key, "checkpoint.json", JSON.stringify({ step, dir: `checkpoint-${step}` }) + "\n");
    for (const entry of readdirSync(this.stageDir(key))) {
      if (entry.startsWith("checkpoint-") && entry !== `checkpoint-${step}`) rmSync(join(this.stageDir(key), entry), { recursive: true, force: true });
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

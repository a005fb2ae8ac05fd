/**
 * (d) The largest decoder that trains on the WebGPU device: sizes from `limitLadder` tried in turn,
 * each in its own process (a device lost to an allocation failure cannot take the check with it),
 * then a bisection on the layer count at the first size that failed. A trial is one training step
 * (forward, backward, AdamW: 16 bytes per parameter plus activations) with weights filled on the
 * device; Dawn's out-of-memory and validation errors are caught in error scopes around it.
 */
import { spawnSync } from "node:child_process";
import { tf } from "../../runtime/tf.js";
import { initBackend } from "../../runtime/backend/index.js";
import { createOptimizer, trainStep } from "../../runtime/train/index.js";
import { createDecoder, syntheticBatch, type DecoderConfig } from "../runtime/decoder.js";
import { formatParams, largestTensorBytes, parameterCount } from "./configs.js";

export interface Trial {
  config: DecoderConfig;
  params: number;
  largestTensorBytes: number;
  ok: boolean;
  stepMs?: number;
  loss?: number;
  /** GPU memory in use (nvidia-smi) after the step, MiB, where nvidia-smi exists. */
  gpuMemoryMiB?: number;
  error?: string;
  timedOut?: boolean;
  seconds: number;
}

export interface LimitResult {
  batch: number;
  seq: number;
  trials: Trial[];
  largestOk: Trial | null;
  firstFailure: Trial | null;
  /** What stopped the next size, in words. */
  limit: string;
}

const MARK = "MMFM_LIMIT_TRIAL ";

/** nvidia-smi's memory in use on the first GPU, MiB; undefined without nvidia-smi. */
export function gpuMemoryUsedMiB(): number | undefined {
  const r = spawnSync("nvidia-smi", ["--query-gpu=memory.used", "--format=csv,noheader,nounits"], { encoding: "utf8", timeout: 10_000 });
  const n = Number((r.stdout ?? "").split("\n")[0]);
  return r.status === 0 && Number.isFinite(n) ? n : undefined;
}

interface ErrorScopes {
  pushErrorScope(filter: string): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

/** The child's side: one training step of `c`; prints one marked JSON line. */
export async function runTrial(c: DecoderConfig, software: boolean): Promise<void> {
  const errors: string[] = [];
  let stepMs: number | undefined;
  let loss: number | undefined;
  try {
    await initBackend({ backend: "webgpu", webgpuSoftware: software, env: {} });
    const device = (tf.backend() as unknown as { device: ErrorScopes }).device;
    for (const f of ["internal", "validation", "out-of-memory"]) device.pushErrorScope(f);
    try {
      const model = createDecoder(c, 1, true, "fill");
      const { ids, targets } = syntheticBatch(c, 1);
      const optimizer = createOptimizer({ lr: 1e-4, weightDecay: 0.01 }, model.params);
      const t0 = performance.now();
      const r = trainStep({ params: model.params, trainable: new Set(model.params.keys()), microBatches: [{ ids, targets }], loss: (b) => model.loss(b.ids, b.targets), optimizer, lr: 1e-4, clip: 1 });
      tf.dispose(r.gradNorm as tf.Tensor);
      loss = (await r.loss.data())[0];
      stepMs = performance.now() - t0;
    } catch (e) {
      errors.push((e as Error).message);
    }
    for (const name of ["out-of-memory", "validation", "internal"]) {
      const e = await device.popErrorScope();
      if (e != null) errors.push(`${name}: ${e.message}`);
    }
  } catch (e) {
    errors.push((e as Error).message);
  }
  const finite = loss != null && Number.isFinite(loss);
  if (loss != null && !finite) errors.push(`the loss is ${loss}`);
  const ok = errors.length === 0 && finite;
  const out = { ok, stepMs, loss, gpuMemoryMiB: gpuMemoryUsedMiB(), error: errors.join("; ").slice(0, 2000) || undefined };
  process.stdout.write(`${MARK}${JSON.stringify(out)}\n`);
}

/** The parent's side: one trial in a child process of this script. */
function trialInChild(script: string, c: DecoderConfig, software: boolean, timeoutS: number): Trial {
  const t0 = performance.now();
  const args = [script, "--limit-trial", JSON.stringify(c), ...(software ? ["--software"] : [])];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: timeoutS * 1000, killSignal: "SIGKILL", maxBuffer: 64 * 2 ** 20 });
  const seconds = +((performance.now() - t0) / 1000).toFixed(1);
  const base = { config: c, params: parameterCount(c), largestTensorBytes: largestTensorBytes(c), seconds };
  const line = (r.stdout ?? "").split("\n").find((l) => l.startsWith(MARK));
  if (line != null) {
    const parsed = JSON.parse(line.slice(MARK.length)) as Omit<Trial, keyof typeof base>;
    return { ...base, ...parsed, stepMs: parsed.stepMs != null ? +parsed.stepMs.toFixed(1) : undefined };
  }
  const timedOut = r.error != null && /ETIMEDOUT/.test(String((r.error as NodeJS.ErrnoException).code ?? r.error.message));
  const tail = (r.stderr ?? "").trim().split("\n").slice(-5).join(" | ");
  const why = timedOut ? `no result within ${timeoutS} s` : `the trial process ended (${r.signal ?? `exit ${r.status}`}) without a result`;
  return { ...base, ok: false, timedOut, error: `${why}${tail ? `: ${tail}` : ""}`.slice(0, 2000) };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** Names what stopped `fail`, from the device's limits and the trial's error. */
export function nameLimit(fail: Trial | null, largestOk: Trial | null, limits: Record<string, number>): string {
  if (fail == null) {
    return largestOk == null ? "no size was tried" : `not reached: every size tried trains (largest ${formatParams(largestOk.params)} parameters)`;
  }
  const binding = limits.maxStorageBufferBindingSize;
  const buffer = limits.maxBufferSize;
  if (buffer != null && fail.largestTensorBytes > buffer) {
    return `maxBufferSize (${gib(buffer)}): the next size's largest tensor is ${gib(fail.largestTensorBytes)}`;
  }
  if (binding != null && fail.largestTensorBytes > binding) {
    return `maxStorageBufferBindingSize (${gib(binding)}): the next size's largest tensor is ${gib(fail.largestTensorBytes)}`;
  }
  const error = fail.error ?? "";
  if (/out.of.memory|outofmemory|\boom\b|allocation/i.test(error)) return `GPU memory: out of memory at ${formatParams(fail.params)} parameters (${error.slice(0, 200)})`;
  if (fail.timedOut) return `time: the step of ${formatParams(fail.params)} parameters did not finish in the trial's time (${error.slice(0, 200)})`;
  return `error at ${formatParams(fail.params)} parameters: ${error.slice(0, 300)}`;
}

/**
 * Tries the ladder smallest first until a size fails or time runs out, then bisects the failing
 * size's layer count (`refine` steps). `remainingS` says how much of the check's time is left.
 */
export function findLimit(o: {
  script: string;
  ladder: DecoderConfig[];
  software: boolean;
  limits: Record<string, number>;
  trialTimeoutS: number;
  refine: number;
  remainingS: () => number;
  log: (line: string) => void;
  /** Runs one size (default: in a child process of `script`). */
  trial?: (c: DecoderConfig) => Trial;
}): LimitResult {
  const trial = o.trial ?? ((c: DecoderConfig) => trialInChild(o.script, c, o.software, o.trialTimeoutS));
  const trials: Trial[] = [];
  let largestOk: Trial | null = null;
  let firstFailure: Trial | null = null;
  let stoppedForTime = false;
  const attempt = (c: DecoderConfig): Trial | null => {
    if (o.remainingS() < o.trialTimeoutS + 10) {
      stoppedForTime = true;
      return null;
    }
    o.log(`  trying ${c.layers} layers x width ${c.width}: ${formatParams(parameterCount(c))} parameters`);
    const t = trial(c);
    o.log(`    ${t.ok ? `trains: ${t.stepMs} ms per step${t.gpuMemoryMiB != null ? `, ${t.gpuMemoryMiB} MiB in use` : ""}` : `fails: ${t.error}`}`);
    trials.push(t);
    if (t.ok && (largestOk == null || t.params > largestOk.params)) largestOk = t;
    return t;
  };
  for (const c of o.ladder) {
    const t = attempt(c);
    if (t == null) break;
    if (!t.ok) {
      firstFailure = t;
      break;
    }
  }
  if (firstFailure != null) {
    const failing: Trial = firstFailure;
    let lo = 0;
    let hi = failing.config.layers;
    for (let i = 0; i < o.refine && hi - lo > 1; i++) {
      const mid = Math.floor((lo + hi) / 2);
      const t = attempt({ ...failing.config, layers: mid });
      if (t == null) break;
      if (t.ok) lo = mid;
      else [hi, firstFailure] = [mid, t];
    }
  }
  const ladder = o.ladder[0];
  const limit = stoppedForTime && firstFailure == null ? "not reached: the check ran out of time before a size failed" : nameLimit(firstFailure, largestOk, o.limits);
  return { batch: ladder?.batch ?? 0, seq: ladder?.seq ?? 0, trials, largestOk, firstFailure, limit };
}

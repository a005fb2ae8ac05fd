/**
 * Benchmark: one training step (forward, backward, clip, AdamW) of the tiny decoder on one backend.
 *
 *   npm run build && npx tsc -p tsconfig.bench.json && node bench/out/bench/runtime/decoder_step.js --backend wasm --threads 2
 *
 * Options: --backend NAME (as MMFM_BACKEND), --threads N, --steps N (timed steps, default 5),
 * --webgpu-software, --profile (per-kernel times of one step), --unfused (plain tfjs ops for RMSNorm
 * and GeGLU instead of the runtime's fused ones), --write DIR (write the initial weights
 * and the batch as safetensors, for decoder_step.py). Prints a human summary on stderr and one JSON
 * line on stdout: {backend, threads, stepMs: [...], medianMs, gflops, losses: [...]}.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tf } from "../../runtime/tf.js";
import { describeBackend, initBackend } from "../../runtime/backend/index.js";
import { createOptimizer, trainStep } from "../../runtime/train/index.js";
import { createDecoder, stepFlops, syntheticBatch, TINY_DECODER } from "./decoder.js";
import { writeSafetensors, type NamedArray } from "./safetensors_out.js";

interface Args {
  backend?: string;
  threads?: number;
  steps: number;
  software: boolean;
  profile: boolean;
  fused: boolean;
  write?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { steps: 5, software: false, profile: false, fused: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v == null) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--backend") args.backend = next();
    else if (a === "--threads") args.threads = Number(next());
    else if (a === "--steps") args.steps = Number(next());
    else if (a === "--webgpu-software") args.software = true;
    else if (a === "--profile") args.profile = true;
    else if (a === "--unfused") args.fused = false;
    else if (a === "--write") args.write = next();
    else throw new Error(`unknown option ${a}`);
  }
  return args;
}

export const LR = 1e-3;
export const WEIGHT_DECAY = 0.01;
export const MAX_GRAD_NORM = 1.0;
export const SEED = 1234;

async function writeInputs(dir: string, params: Map<string, tf.Variable>, ids: tf.Tensor, targets: tf.Tensor) {
  fs.mkdirSync(dir, { recursive: true });
  const weights = new Map<string, NamedArray>();
  for (const [name, v] of params) weights.set(name, { data: (await v.data()) as Float32Array, shape: v.shape });
  writeSafetensors(path.join(dir, "weights.safetensors"), weights);
  writeSafetensors(
    path.join(dir, "batch.safetensors"),
    new Map([
      ["ids", { data: (await ids.data()) as Int32Array, shape: ids.shape }],
      ["targets", { data: (await targets.data()) as Int32Array, shape: targets.shape }],
    ]),
  );
}

async function profileStep(run: () => Promise<void>): Promise<void> {
  const totals = new Map<string, { ms: number; calls: number }>();
  const info = await tf.profile(async () => {
    await run();
  });
  let sum = 0;
  for (const k of info.kernels) {
    const ms = await k.kernelTimeMs;
    const t = totals.get(k.name) ?? { ms: 0, calls: 0 };
    t.ms += typeof ms === "number" ? ms : 0;
    t.calls += 1;
    totals.set(k.name, t);
    sum += typeof ms === "number" ? ms : 0;
  }
  const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
  process.stderr.write(`kernel time ${sum.toFixed(1)} ms in ${info.kernels.length} kernels\n`);
  for (const [name, t] of rows.slice(0, 25)) {
    process.stderr.write(`  ${name.padEnd(22)} ${t.ms.toFixed(1).padStart(8)} ms ${((100 * t.ms) / sum).toFixed(1).padStart(5)}%  ${t.calls} calls\n`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const info = await initBackend({ backend: args.backend, threads: args.threads, webgpuSoftware: args.software });
  process.stderr.write(`backend: ${describeBackend(info)}\n`);
  const c = TINY_DECODER;
  const model = createDecoder(c, SEED, args.fused);
  const { ids, targets } = syntheticBatch(c, SEED);
  if (args.write != null) await writeInputs(args.write, model.params, ids, targets);
  const optimizer = createOptimizer({ lr: LR, weightDecay: WEIGHT_DECAY }, model.params);
  const trainable = new Set(model.params.keys());
  const step = async (): Promise<number> => {
    const r = trainStep({
      params: model.params,
      trainable,
      microBatches: [{ ids, targets }],
      loss: (b) => model.loss(b.ids, b.targets),
      optimizer,
      lr: LR,
      clip: MAX_GRAD_NORM,
    });
    const loss = (await r.loss.data())[0];
    tf.dispose([r.loss, r.gradNorm as tf.Tensor]);
    return loss;
  };

  const losses: number[] = [];
  const times: number[] = [];
  const flops = stepFlops(c);
  // Step 0 includes XNNPACK operator creation and shader compilation: reported, not counted.
  for (let i = 0; i <= args.steps; i++) {
    const t0 = performance.now();
    losses.push(await step());
    const ms = performance.now() - t0;
    if (i > 0) times.push(ms);
    process.stderr.write(`step ${i}: loss ${losses[i].toFixed(6)} ${ms.toFixed(0)} ms${i === 0 ? " (warm-up)" : ""}\n`);
  }
  if (args.profile) await profileStep(async () => void (await step()));
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  const result = {
    backend: info.name,
    threads: info.threads,
    device: info.device ?? null,
    stepMs: times.map((t) => Math.round(t)),
    medianMs: Math.round(median),
    bestMs: Math.round(sorted[0] ?? NaN),
    gflops: +(flops / (median * 1e6)).toFixed(2),
    flopsPerStep: flops,
    losses,
    numTensors: tf.memory().numTensors,
  };
  process.stderr.write(
    `median ${result.medianMs} ms (best ${result.bestMs}), ${result.gflops} GFLOP/s (${(flops / 1e9).toFixed(2)} GFLOP per step)\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
  optimizer.dispose();
  model.dispose();
  tf.dispose([ids, targets]);
}

main().catch((e: unknown) => {
  process.stderr.write(`decoder_step: ${(e as Error).message}\n`);
  if (process.env.MMFM_VERBOSE) process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});

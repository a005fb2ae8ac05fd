/**
 * The GPU check: mmfm's WebGPU runtime on a real GPU, measured against PyTorch on the same card.
 * Run through scripts/gpu-check.sh (which packs it with its own Node and unpacks it on the device);
 * see docs/benchmarks.md, "GPU check".
 *
 *   node bench/out/bench/gpu/check.js --out DIR [--size full|small] [--software] [--work DIR]
 *                                [--steps N] [--deadline-s S] [--python CMD]
 *
 * In one process, in order (each part is skipped, and says so, when the deadline is near):
 *   (a) parity   the tiny LLaVA's forward logits, loss and weights after one AdamW step on webgpu
 *                equal wasm's to 1e-4
 *   (b) decoder  the tiny decoder and a ~113M-parameter decoder (forward, backward, clipping,
 *                AdamW) timed on webgpu, fused and unfused ops, GPU readbacks counted, one step profiled
 *   (c) torch    the same steps in python3's PyTorch on the same weights and batch (safetensors
 *                written here), on CUDA in fp32 with TF32 off, for the ratio
 *   (d) limit    the largest decoder that trains (limit.ts), each size in a child process
 * Writes DIR/gpu-check.json and DIR/gpu-check.md, and prints a summary. Exit 0 when the parity
 * holds and nothing failed, 1 otherwise. `--size small` swaps in stand-ins that finish in seconds on
 * Mesa's software adapter; `--software` accepts that adapter.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { tf } from "../../runtime/tf.js";
import { describeBackend, initBackend } from "../../runtime/backend/index.js";
import { webGpuStart, type WebGpuStart } from "../../runtime/backend/webgpu.js";
import type { DecoderConfig } from "../runtime/decoder.js";
import { decodersFor, formatParams, limitLadder, parameterCount, type CheckSize } from "./configs.js";
import { findLimit, runTrial } from "./limit.js";
import { renderMarkdown } from "./report.js";
import { llavaParity, timeDecoderSteps, writeDecoderInputs } from "./steps.js";
import type { CheckResult, DecoderResult, TorchRun } from "./results.js";

export type { CheckResult, DecoderResult, TorchRun } from "./results.js";

interface Args {
  out?: string;
  size: CheckSize;
  software: boolean;
  work: string;
  steps?: number;
  deadlineS?: number;
  python: string;
  limitTrial?: string;
  adapters: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { size: "full", software: false, work: path.join(os.tmpdir(), "mmfm-gpu-work"), python: "python3", adapters: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v == null) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--out") args.out = next();
    else if (a === "--size") {
      const s = next();
      if (s !== "full" && s !== "small") throw new Error(`--size must be full or small, got \`${s}\``);
      args.size = s;
    } else if (a === "--software") args.software = true;
    else if (a === "--work") args.work = next();
    else if (a === "--steps") args.steps = Number(next());
    else if (a === "--deadline-s") args.deadlineS = Number(next());
    else if (a === "--python") args.python = next();
    else if (a === "--limit-trial") args.limitTrial = next();
    else if (a === "--adapters") args.adapters = true;
    else throw new Error(`unknown option \`${a}\``);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** nvidia-smi's name, driver and memory of the first GPU, or null. */
function nvidiaSmi(): string | null {
  const r = spawnSync("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], { encoding: "utf8", timeout: 20_000 });
  return r.status === 0 ? (r.stdout ?? "").trim().split("\n")[0] || null : null;
}

/** python3's torch version and CUDA, or why there is none. */
function torchInfo(python: string): { version: string; cuda: boolean } | { missing: string } {
  const code = "import json, torch; print(json.dumps({'version': torch.__version__, 'cuda': torch.cuda.is_available()}))";
  const r = spawnSync(python, ["-c", code], { encoding: "utf8", timeout: 180_000 });
  if (r.status !== 0) return { missing: `${python} has no usable torch: ${(r.stderr || String(r.error ?? "")).trim().split("\n").at(-1)}` };
  return JSON.parse((r.stdout ?? "").trim().split("\n").at(-1) ?? "{}") as { version: string; cuda: boolean };
}

/** (c) decoder_step.py on the weights and batch in `dir`. */
function runTorch(python: string, script: string, dir: string, steps: number, cuda: boolean, timeoutS: number): TorchRun | string {
  const args = [script, dir, "--config", path.join(dir, "config.json"), "--steps", String(steps), "--device", cuda ? "cuda" : "cpu", "--threads", String(cuda ? 1 : Math.max(1, os.cpus().length))];
  const r = spawnSync(python, args, { encoding: "utf8", timeout: timeoutS * 1000, killSignal: "SIGKILL", maxBuffer: 64 * 2 ** 20 });
  for (const line of (r.stderr ?? "").trim().split("\n")) if (line !== "") log(`  torch: ${line}`);
  if (r.status !== 0) return `decoder_step.py failed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr ?? "").trim().split("\n").at(-1) ?? ""}`;
  return JSON.parse((r.stdout ?? "").trim().split("\n").at(-1) ?? "{}") as TorchRun;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const script = fileURLToPath(import.meta.url);
  if (args.limitTrial != null) {
    await runTrial(JSON.parse(args.limitTrial) as DecoderConfig, args.software);
    return 0;
  }
  if (args.adapters) {
    const info = await initBackend({ backend: "webgpu", webgpuSoftware: args.software, env: process.env }).catch((e: Error) => e);
    process.stdout.write(`${JSON.stringify(info instanceof Error ? { ok: false, reason: info.message } : { ok: true, device: info.device, listed: webGpuStart()?.listed })}\n`);
    return info instanceof Error ? 1 : 0;
  }
  if (args.out == null) throw new Error("--out DIR is required");
  const full = args.size === "full";
  const steps = args.steps ?? (full ? 5 : 2);
  const deadlineS = args.deadlineS ?? (full ? 420 : 240);
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1000;
  const remainingS = () => deadlineS - elapsedS();
  const pyScript = path.resolve(path.dirname(script), "../../../bench/runtime/decoder_step.py");

  const result: CheckResult = {
    schema: "mmfm-gpu-check/1",
    date: new Date().toISOString(),
    size: args.size,
    host: { node: process.version, execPath: process.execPath, platform: `${process.platform}-${process.arch}`, cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1), gpu: nvidiaSmi() },
    decoders: [],
    skipped: [],
    errors: [],
    seconds: 0,
  };
  const skip = (what: string) => {
    result.skipped.push(what);
    log(`skipped: ${what}`);
  };
  log(`GPU check (${args.size}), deadline ${deadlineS} s; host ${result.host.platform}, ${result.host.cores} cores, GPU: ${result.host.gpu ?? "none seen by nvidia-smi"}`);

  const fail = (e: unknown) => {
    result.errors.push((e as Error).stack ?? String(e));
    log(`error: ${(e as Error).message}`);
  };
  try {
    await initBackend({ backend: "wasm", threads: 1, env: {} });
    const info = await initBackend({ backend: "webgpu", webgpuSoftware: args.software, env: process.env });
    const start = webGpuStart() as WebGpuStart;
    result.webgpu = { ...start, description: describeBackend(info) };
    log(`webgpu: ${start.adapter} (${start.reason}); maxBufferSize ${start.limits.maxBufferSize}, maxStorageBufferBindingSize ${start.limits.maxStorageBufferBindingSize}, timestamps ${start.timestamps}`);
  } catch (e) {
    fail(e); // PyTorch still runs, on weights written from wasm
  }

  if (result.webgpu != null) {
    log("(a) tiny LLaVA, webgpu against wasm");
    try {
      result.parity = await llavaParity();
      const p = result.parity;
      log(`  ${p.ok ? "equal" : "DIFFERENT"} to ${p.tolerance}: logits ${p.logitsMaxRel.toExponential(2)}, loss ${p.lossAbs.toExponential(2)}, weights ${p.paramsMaxRel.toExponential(2)} (${p.worstParam}), vision frozen ${p.visionFrozen}`);
      if (!p.ok) result.errors.push("the tiny LLaVA on webgpu differs from wasm by more than 1e-4");
    } catch (e) {
      fail(e);
    }
  } else skip("(a) parity: no WebGPU device");

  const torch = torchInfo(args.python);
  result.torch = torch;
  log(`torch: ${"missing" in torch ? torch.missing : `${torch.version}, CUDA ${torch.cuda}`}`);
  for (const { name, config } of decodersFor(args.size)) {
    const big = name.startsWith("100M");
    const need = full ? (big ? 150 : 40) : 20;
    if (remainingS() < need + 60) {
      skip(`decoder ${name}: ${Math.round(remainingS())} s left`);
      continue;
    }
    const d: DecoderResult = { name, config, params: parameterCount(config), skipped: [] };
    result.decoders.push(d);
    log(`(b) decoder ${name}: ${formatParams(d.params)} parameters, batch ${config.batch} x ${config.seq}`);
    const dir = path.join(args.work, name.split(" ")[0]);
    try {
      await writeDecoderInputs(dir, config);
    } catch (e) {
      fail(e);
      continue;
    }
    if (result.webgpu != null) {
      // A failure here (a lost device, say) still leaves PyTorch's step to measure.
      try {
        await tf.setBackend("webgpu");
        d.webgpu = await timeDecoderSteps(config, { fused: true, steps, profile: big, log });
        log(`  webgpu fused: median ${d.webgpu.medianMs} ms, ${d.webgpu.gflops} GFLOP/s, ${d.webgpu.readbacksPerStep.gpu} GPU readbacks per step`);
        if (remainingS() > need + 60) {
          d.webgpuUnfused = await timeDecoderSteps(config, { fused: false, steps, profile: false, log });
          log(`  webgpu unfused: median ${d.webgpuUnfused.medianMs} ms`);
        } else d.skipped!.push("unfused run: time");
      } catch (e) {
        fail(e);
      }
    } else d.skipped!.push("WebGPU: no device");
    if (!("missing" in torch)) {
      log(`(c) PyTorch, decoder ${name}`);
      const t = runTorch(args.python, pyScript, dir, steps, torch.cuda, full ? 240 : 120);
      if (typeof t === "string") result.errors.push(`decoder ${name}: ${t}`);
      else {
        d.torch = t;
        if (d.webgpu != null) {
          d.speedVsTorch = +(t.medianMs / d.webgpu.medianMs).toFixed(3);
          d.firstLossDiff = Math.abs(t.losses[0] - d.webgpu.losses[0]);
        }
        log(`  torch ${t.device}: median ${t.medianMs} ms${d.speedVsTorch != null ? `; mmfm at ${d.speedVsTorch}x PyTorch's speed; first losses differ by ${d.firstLossDiff?.toExponential(2)}` : ""}`);
      }
    } else d.skipped!.push(`PyTorch: ${torch.missing}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  if (result.webgpu != null) {
    try {
      // Free the parent's GPU memory (tfjs pools every buffer it ever made) before the trials.
      const device = (tf.findBackend("webgpu") as unknown as { device?: { destroy(): void } } | null)?.device;
      await tf.setBackend("wasm");
      tf.removeBackend("webgpu");
      device?.destroy();
    } catch (e) {
      fail(e);
    }
    log("(d) the largest decoder that trains (one AdamW step, batch 1 x 512 in full size)");
    result.limit = findLimit({
      script,
      ladder: limitLadder(args.size),
      software: args.software,
      limits: result.webgpu.limits,
      trialTimeoutS: full ? 90 : 60,
      refine: full ? 2 : 0,
      remainingS,
      log,
    });
    log(`  largest: ${result.limit.largestOk ? `${formatParams(result.limit.largestOk.params)} parameters` : "none"}; limit: ${result.limit.limit}`);
  } else skip("limit: no WebGPU device");

  result.seconds = +elapsedS().toFixed(1);
  fs.mkdirSync(args.out, { recursive: true });
  fs.writeFileSync(path.join(args.out, "gpu-check.json"), `${JSON.stringify(result, null, 2)}\n`);
  const md = renderMarkdown(result);
  fs.writeFileSync(path.join(args.out, "gpu-check.md"), md);
  process.stdout.write(`\n${md}\n`);
  log(`wrote ${path.join(args.out, "gpu-check.json")} and gpu-check.md in ${result.seconds} s`);
  return result.errors.length === 0 && result.parity?.ok === true ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`gpu-check: ${(e as Error).message}\n`);
    if (process.env.MMFM_VERBOSE) process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(2);
  },
);

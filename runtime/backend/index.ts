/**
 * Backend selection: which tfjs backend the runtime computes on, chosen once at start.
 *
 *   auto order:  tensorflow-gpu  @tensorflow/tfjs-node-gpu, if the user installed it and it loads
 *                webgpu          tfjs-backend-webgpu on Dawn, if a hardware adapter exists
 *                tensorflow      @tensorflow/tfjs-node, if installed and it loads
 *                wasm            tfjs-backend-wasm (SIMD) with this runtime's kernels: always works
 *   forced only: cpu             tfjs's plain JavaScript backend, a reference (about 300x slower)
 *
 * `options.backend` or `MMFM_BACKEND` forces one (an error says why it cannot start);
 * `options.threads` or `MMFM_THREADS` sets wasm threads (default 1; more uses the threaded build);
 * `options.webgpuSoftware` or `MMFM_WEBGPU_SOFTWARE=1` lets `webgpu` run on Mesa's software renderer
 * when there is no hardware adapter; `MMFM_WEBGPU_ADAPTER` narrows `webgpu` to adapters whose name
 * contains it.
 */
import { tf } from "../tf.js";
import { installCpuBatchMatMulFix } from "./cpu_kernels.js";
import { registerFusedOps, WEBGPU_FUSED_KERNELS } from "./fused/index.js";
import { registerGradients } from "./gradients.js";
import { installMatMulGradient } from "./matmul_grad.js";
import { loadNative, nativeHasGpu, startNative, type NativePackage } from "./tfjs_node.js";
import { MAX_WASM_THREADS } from "./wasm_threads.js";
import { startWasm } from "./wasm.js";
import { probeWebGpu, startWebGpu } from "./webgpu.js";

export const BACKEND_NAMES = ["tensorflow-gpu", "webgpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendOptions {
  /** Force a backend (else `MMFM_BACKEND`, else auto). */
  backend?: string;
  /** wasm threads, 1..8 (else `MMFM_THREADS`, else 1). */
  threads?: number;
  /** Accept a software WebGPU adapter (else `MMFM_WEBGPU_SOFTWARE`). */
  webgpuSoftware?: boolean;
  /** Receives one line per decision. */
  log?: (line: string) => void;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface BackendInfo {
  name: BackendName;
  /** tfjs's own name for it (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  tfName: string;
  forced: boolean;
  /** Why this one: "forced by MMFM_BACKEND", or the auto choice. */
  reason: string;
  /** Auto mode: the backends tried before this one and why each was passed over. */
  skipped: { name: BackendName; reason: string }[];
  /** wasm threads (1 for other backends). */
  threads: number;
  gpu: boolean;
  /** The adapter or device, where known. */
  device?: string;
  /** Kernels this runtime registered or replaced on the chosen backend. */
  patches: string[];
  /** webgpu: the device's limits the runtime requested from the adapter (maxBufferSize, ...). */
  limits?: Record<string, number>;
}

let current: BackendInfo | null = null;

/** The backend chosen by `initBackend`, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/** A one-line summary, e.g. `wasm (auto: ...; 2 threads)`. */
export function describeBackend(info: BackendInfo): string {
  const bits = [info.reason];
  if (info.name === "wasm") bits.push(`${info.threads} thread${info.threads === 1 ? "" : "s"}`);
  if (info.device != null) bits.push(info.device);
  return `${info.name} (${bits.join("; ")})`;
}

export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const forcedRaw = options.backend ?? nonEmpty(env.MMFM_BACKEND);
  const forcedBy = options.backend != null ? "--backend" : "MMFM_BACKEND";
  const threads = parseThreads(options.threads ?? nonEmpty(env.MMFM_THREADS));
  const software = options.webgpuSoftware ?? isTrue(env.MMFM_WEBGPU_SOFTWARE);
  const adapterName = nonEmpty(env.MMFM_WEBGPU_ADAPTER);
  await registerGradients();
  installMatMulGradient();
  installCpuBatchMatMulFix();
  registerFusedOps();

  let info: BackendInfo;
  if (forcedRaw != null) {
    const name = parseName(forcedRaw);
    info = await startForced(name, { threads, software, adapterName, reason: `forced by ${forcedBy}` });
  } else {
    info = await startAuto({ threads, software, adapterName, log });
  }
  current = info;
  log(`backend: ${describeBackend(info)}`);
  return info;
}

interface StartOptions {
  threads: number;
  software: boolean;
  adapterName: string | undefined;
  reason: string;
}

async function startForced(name: BackendName, o: StartOptions): Promise<BackendInfo> {
  const base = { forced: true, reason: o.reason, skipped: [] };
  switch (name) {
    case "tensorflow-gpu":
    case "tensorflow": {
      const pkg: NativePackage = name === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
      const load = await loadNative(pkg);
      if (!load.ok) throw new Error(`cannot use backend \`${name}\`: ${load.reason}`);
      await startNative();
      const gpu = nativeHasGpu();
      if (name === "tensorflow-gpu" && !gpu) throw new Error("cannot use backend `tensorflow-gpu`: libtensorflow found no CUDA GPU");
      return { ...base, name, tfName: "tensorflow", threads: 1, gpu, device: `${pkg} ${load.version}`, patches: [] };
    }
    case "webgpu": {
      const probe = await probeWebGpu(o.software, o.adapterName);
      if (!probe.ok) {
        const hint = o.software ? "" : " (set MMFM_WEBGPU_SOFTWARE=1 to accept a software adapter)";
        throw new Error(`cannot use backend \`webgpu\`: ${probe.reason}${hint}`);
      }
      const s = await startWebGpu(probe);
      return { ...base, name, tfName: "webgpu", threads: 1, gpu: !s.software, device: s.adapter, patches: [...WEBGPU_FUSED_KERNELS], limits: s.limits };
    }
    case "wasm": {
      const w = await startWasm(o.threads);
      return { ...base, name, tfName: "wasm", threads: w.threads, gpu: false, device: w.simd ? "SIMD" : "no SIMD", patches: w.patched };
    }
    case "cpu": {
      const ok = await tf.setBackend("cpu");
      if (!ok) throw new Error("the cpu backend failed to start");
      return { ...base, name, tfName: "cpu", threads: 1, gpu: false, patches: [] };
    }
    default:
      return assertNever(name);
  }
}

async function startAuto(o: { threads: number; software: boolean; adapterName: string | undefined; log: (line: string) => void }): Promise<BackendInfo> {
  const skipped: { name: BackendName; reason: string }[] = [];
  const skip = (name: BackendName, reason: string) => {
    skipped.push({ name, reason });
    o.log(`backend: skipping ${name}: ${reason}`);
  };
  const finish = async (name: BackendName, reason: string): Promise<BackendInfo> => {
    const info = await startForced(name, { threads: o.threads, software: o.software, adapterName: o.adapterName, reason });
    return { ...info, forced: false, skipped };
  };

  const gpuNative = await loadNative("@tensorflow/tfjs-node-gpu");
  if (gpuNative.ok) {
    await startNative();
    if (nativeHasGpu()) {
      return { name: "tensorflow-gpu", tfName: "tensorflow", forced: false, reason: "auto: tfjs-node-gpu sees a CUDA GPU", skipped, threads: 1, gpu: true, device: `@tensorflow/tfjs-node-gpu ${gpuNative.version}`, patches: [] };
    }
    skip("tensorflow-gpu", "tfjs-node-gpu loaded but libtensorflow sees no CUDA GPU");
  } else skip("tensorflow-gpu", gpuNative.reason);

  const probe = await probeWebGpu(false, o.adapterName);
  if (probe.ok) {
    const s = await startWebGpu(probe);
    return { name: "webgpu", tfName: "webgpu", forced: false, reason: "auto: a hardware WebGPU adapter", skipped, threads: 1, gpu: true, device: s.adapter, patches: [...WEBGPU_FUSED_KERNELS], limits: s.limits };
  }
  skip("webgpu", probe.reason);

  if (gpuNative.ok) {
    // tfjs-node-gpu without a GPU still runs TensorFlow on the CPU: as good as tfjs-node.
    return { name: "tensorflow", tfName: "tensorflow", forced: false, reason: "auto: tfjs-node-gpu on the CPU", skipped, threads: 1, gpu: false, device: `@tensorflow/tfjs-node-gpu ${gpuNative.version}`, patches: [] };
  }
  const cpuNative = await loadNative("@tensorflow/tfjs-node");
  if (cpuNative.ok) return finish("tensorflow", "auto: tfjs-node is installed");
  skip("tensorflow", cpuNative.reason);

  return finish("wasm", "auto: WebAssembly with SIMD");
}

function parseName(raw: string): BackendName {
  const name = raw.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new Error(`unknown backend \`${raw}\`; expected one of ${BACKEND_NAMES.join(", ")}`);
}

function parseThreads(raw: number | string | undefined): number {
  if (raw == null) return 1;
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new Error(`threads must be an integer from 1 to ${MAX_WASM_THREADS}, got \`${raw}\``);
  }
  return n;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s == null || s.trim() === "" ? undefined : s;
}

function isTrue(s: string | undefined): boolean {
  return s != null && /^(1|true|yes|on)$/i.test(s.trim());
}

function assertNever(x: never): never {
  throw new Error(`unhandled backend ${String(x)}`);
}

export { MAX_WASM_THREADS } from "./wasm_threads.js";
export { registerGradients } from "./gradients.js";
